package handler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
)

// countingSender accepts every package 0 and counts them.
type countingSender struct {
	mu   sync.Mutex
	sent int
}

func (s *countingSender) Send(context.Context, string, []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	return nil
}

// liveEnv wires what omadm serve wires: the engine's live updates go to the
// relay as they are, the relay publishes on the hub the API streams from.
type liveEnv struct {
	store  *memStore
	sender *countingSender
	srv    *httptest.Server
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	le := &liveEnv{store: newMemStore(), sender: &countingSender{}}
	hub := handler.NewHub()
	relay := handler.NewRelay(le.store, hub, nil, 0)
	go relay.Run(ctx)
	eng, err := server.New(server.Options{Store: le.store, Senders: map[string]notification.Sender{"udp": le.sender},
		OnEvent: relay.Push})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	h, err := handler.New(handler.Options{Store: le.store, Notifier: eng, Token: testToken, Hub: hub, Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	le.srv = httptest.NewServer(h) // 127.0.0.1:0
	t.Cleanup(le.srv.Close)
	t.Cleanup(hub.Close) // ends open streams before the server waits for them
	if err := le.store.CreateDevice(ctx, &storage.Device{ID: "d1", NotifyAddr: "udp://127.0.0.1:2948"}); err != nil {
		t.Fatal(err)
	}
	return le
}

func (le *liveEnv) post(t *testing.T, path, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", le.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := le.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

// notifications lists the stored notification events of d1, oldest first.
func (le *liveEnv) notifications(t *testing.T) []*storage.Event {
	t.Helper()
	es, err := le.store.ListEvents(context.Background(), "d1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*storage.Event
	for _, e := range es {
		if e.Kind == "notification" {
			out = append(out, e)
		}
	}
	return out
}

type sseMsg struct {
	id, event string
	u         api.Update
}

// sseStream is an open /events/stream response.
type sseStream struct {
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openStream opens the stream (resuming after lastID when it is not empty)
// and returns once the server has registered the subscription (its opening
// comment arrived). The context bounds a hang, it is not a timing assertion.
func (le *liveEnv) openStream(t *testing.T, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", le.srv.URL+"/api/v1/events/stream?device=d1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := le.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	s := &sseStream{r: bufio.NewReader(resp.Body), cancel: func() { cancel(); resp.Body.Close() }}
	t.Cleanup(s.cancel)
	if line, err := s.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("opening line %q: %v", line, err)
	}
	return s
}

// next reads the next message of the given SSE event name, skipping others
// and comments.
func (s *sseStream) next(t *testing.T, event string) sseMsg {
	t.Helper()
	var m sseMsg
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && m.event != "":
			if m.event == event {
				return m
			}
			m = sseMsg{}
		case strings.HasPrefix(line, "id: "):
			m.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			m.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m.u); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		}
	}
}

func TestStream_NotificationsArriveWithTheirEventIDAndResumeWithoutLossOrDuplicates(t *testing.T) {
	le := newLiveEnv(t)

	// A notification sent through the API reaches an open stream, with the
	// stored event's ID as the SSE id and in the update.
	a := le.openStream(t, "")
	le.post(t, "/api/v1/devices/d1/notify", "")
	got := a.next(t, api.UpdateEvent)
	stored := le.notifications(t)
	if len(stored) != 1 {
		t.Fatalf("stored notifications: %d", len(stored))
	}
	n1 := stored[0].ID
	if got.id != strconv.FormatInt(n1, 10) || got.u.EventID != n1 || got.u.Event == nil ||
		got.u.Event.Kind != "notification" || got.u.Event.ID != n1 || got.u.Event.Target != "udp://127.0.0.1:2948" {
		t.Fatalf("first notification: id %q update %+v (stored id %d)", got.id, got.u, n1)
	}
	a.cancel()

	// While no stream is open: one notification by the notify endpoint, one
	// by a job's notify flag.
	le.post(t, "/api/v1/devices/d1/notify", "")
	le.post(t, "/api/v1/devices/d1/jobs", `{"command":"Get","items":[{"uri":"./DevInfo/Mod"}],"notify":true}`)

	// Reconnecting with the last ID seen replays exactly the two missed
	// notifications, then live ones follow, none twice.
	b := le.openStream(t, got.id)
	le.post(t, "/api/v1/devices/d1/notify", "")
	stored = le.notifications(t)
	if len(stored) != 4 {
		t.Fatalf("stored notifications: %d", len(stored))
	}
	for i, want := range stored[1:] {
		m := b.next(t, api.UpdateEvent)
		if m.id != strconv.FormatInt(want.ID, 10) || m.u.EventID != want.ID || m.u.Event == nil || m.u.Event.Kind != "notification" {
			t.Fatalf("message %d after resume: id %q update %+v, want event %d", i, m.id, m.u, want.ID)
		}
	}
	if n := le.sender.sent; n != 4 {
		t.Errorf("package 0 sent %d times, want 4", n)
	}
}

func TestStream_RejectsMalformedLastEventID(t *testing.T) {
	e := newEnv(t)
	for _, v := range []string{"abc", "-1", "1.5"} {
		t.Run(v, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/events/stream", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Last-Event-ID", v)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body api.Error
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(body), "Last-Event-ID") {
				t.Fatalf("%d %+v", resp.StatusCode, body)
			}
		})
	}
}

func TestStream_SSEIDIsTheHighestEventIDSentSoFar(t *testing.T) {
	// Concurrent sessions may emit their events slightly out of ID order; a
	// client resuming from the id of the last message would get the higher
	// one again, so the id never goes down.
	e := newEnv(t)
	le := &liveEnv{srv: e.srv}
	s := le.openStream(t, "")
	for _, id := range []int64{11, 10, 12} {
		e.h.Hub().Publish(api.Update{Kind: api.UpdateEvent, Device: "d1", EventID: id, Event: &api.Event{ID: id, Kind: "x"}})
	}
	var ids []string
	var events []int64
	for range 3 {
		m := s.next(t, api.UpdateEvent)
		ids, events = append(ids, m.id), append(events, m.u.EventID)
	}
	if fmt.Sprint(ids) != "[11 11 12]" || fmt.Sprint(events) != "[11 10 12]" {
		t.Fatalf("ids %v for events %v, want [11 11 12] for [11 10 12]", ids, events)
	}
}
