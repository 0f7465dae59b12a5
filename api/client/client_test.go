package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
)

const token = "tok"

func newServer(t testing.TB) (*client.Client, storage.Store, *handler.Handler) {
	t.Helper()
	c, st, h, _ := newObservedServer(t)
	return c, st, h
}

// newObservedServer is newServer whose served channel receives
// "METHOD path" of every request the handler has finished (dropped when
// nobody reads), for tests that wait on the server instead of sleeping.
func newObservedServer(t testing.TB) (*client.Client, storage.Store, *handler.Handler, <-chan string) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := handler.New(handler.Options{Store: st, Token: token, Heartbeat: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		select {
		case served <- r.Method + " " + r.URL.Path:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, token), st, h, served
}

func TestClient_DeviceLifecycleAndPaging(t *testing.T) {
	c, _, _ := newServer(t)
	ctx := context.Background()
	for _, id := range []string{"b", "a", "c"} {
		created, err := c.CreateDevice(ctx, api.DeviceCreate{ID: id, Username: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if created.ServerPassword == "" {
			t.Fatal("no generated server password")
		}
	}
	page, err := c.ListDevices(ctx, "", 2)
	if err != nil || len(page.Devices) != 2 || page.Next != "b" {
		t.Fatalf("page = %+v, %v", page, err)
	}
	all, err := c.AllDevices(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("all = %v, %v", all, err)
	}
	addr := "sms:+15551234"
	d, err := c.UpdateDevice(ctx, "a", api.DeviceUpdate{NotifyAddr: &addr})
	if err != nil || d.NotifyAddr != addr {
		t.Fatalf("update = %+v, %v", d, err)
	}
	if err := c.DeleteDevice(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetDevice(ctx, "a")
	if !client.IsNotFound(err) || !strings.Contains(err.Error(), `unknown device "a"`) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestClient_ReportsBadTokenUnreachableServerAndValidation(t *testing.T) {
	c, _, _ := newServer(t)
	ctx := context.Background()
	bad := client.New(c.BaseURL(), "wrong")
	_, err := bad.ListDevices(ctx, "", 0)
	if !client.IsUnauthorized(err) || !strings.Contains(err.Error(), "OMADM_API_TOKEN") {
		t.Fatalf("bad token: %v", err)
	}
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	_, err = client.New(dead, token).ListDevices(ctx, "", 0)
	if err == nil || !strings.Contains(err.Error(), "cannot reach omadm server at "+dead) {
		t.Fatalf("unreachable: %v", err)
	}
	_, err = c.CreateDevice(ctx, api.DeviceCreate{ID: "x", Username: "u", Password: "p", Auth: "kerberos"})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "unknown scheme") {
		t.Fatalf("validation: %v", err)
	}
}

func TestClient_WaitJobReturnsWhenTheEngineFinishesIt(t *testing.T) {
	c, st, _, served := newObservedServer(t)
	ctx := context.Background()
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: "d", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	j, err := c.CreateJob(ctx, "d", api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevInfo/Mod"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Finish the job as the engine would, once WaitJob has seen it queued.
	go func() {
		for p := range served {
			if p == "GET /api/v1/jobs/"+strconv.FormatInt(j.ID, 10) {
				break
			}
		}
		sj, err := st.GetJob(ctx, j.ID)
		if err != nil {
			return
		}
		sj.State, sj.Status = storage.JobDone, 200
		sj.Results = []storage.ResultItem{{URI: "./DevInfo/Mod", Format: "chr", Data: "X1"}}
		_ = st.UpdateJob(ctx, sj)
	}()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second) // bounds a hang only
	defer cancel()
	done, err := c.WaitJob(wctx, j.ID)
	if err != nil || done.State != "done" || done.Status != 200 || done.Results[0].Data != "X1" {
		t.Fatalf("wait = %+v, %v", done, err)
	}
	// A job that never finishes: the deadline wins and the last state is returned.
	j2, _ := c.CreateJob(ctx, "d", api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./A"}}})
	sctx, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	last, err := c.WaitJob(sctx, j2.ID)
	if !errors.Is(err, context.DeadlineExceeded) || last == nil || last.State != "queued" {
		t.Fatalf("timed-out wait = %+v, %v", last, err)
	}
}

func TestClient_StreamDeliversUpdates(t *testing.T) {
	c, _, h := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // bounds a hang only
	defer cancel()
	got := make(chan api.Update, 1)
	errc := make(chan error, 1)
	opened := make(chan struct{})
	go func() {
		errc <- c.Stream(ctx, client.StreamOptions{Kinds: []string{"event"}, OnOpen: func() { close(opened) }}, func(u api.Update) error {
			got <- u
			return errors.New("stop")
		})
	}()
	select {
	case <-opened: // the server subscribed before it answered
	case err := <-errc:
		t.Fatalf("stream ended before it opened: %v", err)
	}
	h.Hub().Publish(api.Update{Kind: api.UpdateJob, Job: &api.Job{ID: 1}})
	h.Hub().Publish(api.Update{Kind: api.UpdateEvent, Device: "d", Event: &api.Event{Kind: "generic-alert", Data: "200"}})
	u := <-got
	if u.Kind != "event" || u.Event.Data != "200" {
		t.Fatalf("update = %+v", u)
	}
	if err := <-errc; err == nil || err.Error() != "stop" {
		t.Fatalf("stream ended with %v", err)
	}
}

func TestClient_StreamResumesAfterLastEventID(t *testing.T) {
	c, st, _ := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: "d", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, data := range []string{"1", "2", "3"} {
		ev := &storage.Event{DeviceID: "d", Kind: "generic-alert", Data: data}
		if err := st.AddEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	var got []int64
	err := c.Stream(ctx, client.StreamOptions{LastEventID: ids[0]}, func(u api.Update) error {
		got = append(got, u.EventID)
		if len(got) == 2 {
			return errors.New("stop")
		}
		return nil
	})
	if err == nil || err.Error() != "stop" || len(got) != 2 || got[0] != ids[1] || got[1] != ids[2] {
		t.Fatalf("replayed %v (%v), want %v", got, err, ids[1:])
	}
}
