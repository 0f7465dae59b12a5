package handler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/api"
)

// subscriberBuffer is how many updates a stream may fall behind before it is
// dropped: a stuck browser must not make the engine wait or memory grow.
const subscriberBuffer = 256

// writeGrace is added to every stream write deadline: a client that cannot
// take a few hundred bytes in this long is gone.
const writeGrace = 10 * time.Second

// Hub fans live updates out to event-stream subscribers. Publish never
// blocks: a subscriber that cannot keep up is closed (its stream tells the
// client it lagged, and the client catches up through the REST cursors).
type Hub struct {
	mu     sync.Mutex
	seq    uint64
	subs   map[*subscription]struct{}
	closed bool
}

type subscription struct {
	ch     chan api.Update
	lagged bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[*subscription]struct{})} }

// Publish numbers u, stamps its time when zero, and hands it to every
// subscriber without blocking.
func (h *Hub) Publish(u api.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	u.Seq = h.seq
	if u.Time.IsZero() {
		u.Time = time.Now().UTC()
	}
	for s := range h.subs {
		select {
		case s.ch <- u:
		default:
			s.lagged = true
			close(s.ch)
			delete(h.subs, s)
		}
	}
}

// LagAll ends every open stream as lagged (its client is told to
// resynchronise), for when updates could not be relayed.
func (h *Hub) LagAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.lagged = true
		close(s.ch)
		delete(h.subs, s)
	}
}

// Subscribe registers a subscriber; cancel must be called when done.
func (h *Hub) Subscribe() (updates <-chan api.Update, lagged func() bool, cancel func()) {
	s := &subscription{ch: make(chan api.Update, subscriberBuffer)}
	h.mu.Lock()
	if h.closed {
		close(s.ch)
	} else {
		h.subs[s] = struct{}{}
	}
	h.mu.Unlock()
	lagged = func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return s.lagged
	}
	cancel = func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	}
	return s.ch, lagged, cancel
}

// Close ends every open stream and refuses new ones. A graceful shutdown
// calls it first: streams never go idle, so http.Server.Shutdown would
// otherwise wait for them until its deadline.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
		delete(h.subs, s)
	}
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Subscribers reports how many streams are open (for tests and metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// replayPage is how many stored events one store read of a replay fetches;
// maxReplay bounds the events one connection replays.
const (
	replayPage = 500
	maxReplay  = 10_000
)

// stream serves GET /events/stream as server-sent events. Optional filters:
// ?device=ID and ?kinds=job,event,session,trace,operation. It sends a heartbeat comment
// every Heartbeat and ends when the client disconnects.
//
// Updates that report a stored event carry an SSE id: the highest event ID
// the stream has sent. A request with a Last-Event-ID header first gets the
// stored events after that ID (filters applied, in ID order, at most
// maxReplay, then the stream ends for the client to reconnect from where it
// got to), then the live updates; an event that arrives both ways is sent
// once.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming not supported by this connection")
		return
	}
	device := r.URL.Query().Get("device")
	var kinds map[string]bool
	if k := r.URL.Query().Get("kinds"); k != "" {
		kinds = map[string]bool{}
		for s := range strings.SplitSeq(k, ",") {
			switch s {
			case api.UpdateJob, api.UpdateEvent, api.UpdateSession, api.UpdateTrace, api.UpdateOperation, api.UpdateCampaign:
				kinds[s] = true
			default:
				h.fail(w, r, &api.ValidationError{Field: "kinds", Msg: fmt.Sprintf("unknown kind %q (want job, event, session, trace, operation or campaign)", s)})
				return
			}
		}
	}
	var lastID int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			h.fail(w, r, &api.ValidationError{Field: "Last-Event-ID", Msg: fmt.Sprintf("%q is not an event id (a non-negative integer from an earlier stream's id: field)", v)})
			return
		}
		lastID = n
	}
	// Subscribe before reading the replay: an event stored after the read
	// then arrives live, one stored before it is in the replay, and one in
	// both is sent once.
	updates, lagged, cancel := h.o.Hub.Subscribe()
	defer cancel()
	if h.o.Hub.isClosed() {
		writeError(w, http.StatusServiceUnavailable, "server is shutting down")
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Connection", "keep-alive")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The opening comment lets clients know the subscription is live.
	fmt.Fprint(w, ": omadm event stream\nretry: 3000\n\n")
	fl.Flush()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(writeGrace + 2*h.o.Heartbeat))
	cursor := lastID
	send := func(u api.Update) bool {
		if device != "" && u.Device != device || kinds != nil && !kinds[u.Kind] {
			return true
		}
		b, err := json.Marshal(u)
		if err != nil {
			h.o.Logger.Error("encoding stream update", "err", err)
			return true
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeGrace + 2*h.o.Heartbeat))
		// Only stored events get an SSE id: a message without one leaves
		// the client's last event ID where it was. The id is the highest
		// event ID this stream has sent, not always this event's own:
		// concurrent sessions can emit their events a little out of ID
		// order, and a client resuming from a lower ID than one it already
		// has would get that one twice.
		if u.EventID > 0 {
			cursor = max(cursor, u.EventID)
			_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", cursor, u.Kind, b)
		} else {
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", u.Kind, b)
		}
		if err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	// The replay: stored events after Last-Event-ID, at most maxReplay of
	// them per connection (then the stream ends and the client reconnects
	// from the last id it got). replayed holds their IDs, so that one of
	// them that also arrives live is not sent twice.
	var replayed map[int64]struct{}
	if r.Header.Get("Last-Event-ID") != "" && (kinds == nil || kinds[api.UpdateEvent] || kinds[api.UpdateSession]) {
		replayed = map[int64]struct{}{}
		after := lastID
		for {
			es, err := h.o.Store.ListEvents(r.Context(), device, after, replayPage)
			if err != nil {
				h.o.Logger.Warn("replaying events to a stream", "after", after, "err", err)
				fmt.Fprint(w, "event: lagged\ndata: {\"error\":\"could not replay stored events; resynchronise through the REST API and reconnect\"}\n\n")
				fl.Flush()
				return
			}
			for _, ev := range es {
				after = ev.ID
				replayed[ev.ID] = struct{}{}
				if !send(EventUpdate(ev)) {
					return
				}
			}
			if len(es) < replayPage {
				break
			}
			if len(replayed) >= maxReplay {
				return
			}
		}
	}
	tick := time.NewTicker(h.o.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			_ = rc.SetWriteDeadline(time.Now().Add(writeGrace + 2*h.o.Heartbeat))
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
			fl.Flush()
		case u, ok := <-updates:
			if !ok {
				if lagged() {
					fmt.Fprint(w, "event: lagged\ndata: {\"error\":\"stream fell behind; resynchronise through the REST API and reconnect\"}\n\n")
					fl.Flush()
				}
				return
			}
			if _, dup := replayed[u.EventID]; dup && u.EventID > 0 {
				continue // sent by the replay already
			}
			if !send(u) {
				return
			}
		}
	}
}
