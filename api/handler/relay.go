package handler

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// Change is a live notification from the engine, naming what changed by id
// (it mirrors server.Update field for field, so the serve command converts
// one into the other without this package depending on the engine).
type Change struct {
	Kind      string // api.UpdateJob, UpdateEvent, UpdateSession or UpdateTrace
	DeviceID  string
	SessionID string
	JobID     int64
	EventID   int64
	EventKind string // Kind event: the event's kind; Kind session: "session-start" / "session-end"
	TraceID   int64
	Time      time.Time
}

// Relay turns engine changes into full API updates on a Hub. Push never
// blocks the engine: changes wait in a bounded queue, and one goroutine (Run)
// loads the records they name and publishes them. Nothing is loaded while no
// stream is open.
type Relay struct {
	store   storage.Store
	hub     *Hub
	log     *slog.Logger
	queue   chan Change
	dropped atomic.Int64
}

// NewRelay returns a relay with room for buffer pending changes (default 4096).
func NewRelay(store storage.Store, hub *Hub, logger *slog.Logger, buffer int) *Relay {
	if buffer <= 0 {
		buffer = 4096
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{store: store, hub: hub, log: logger, queue: make(chan Change, buffer)}
}

// Push queues a change; when the queue is full the change is dropped and
// counted (streams are best effort; the REST API is the record).
func (r *Relay) Push(c Change) {
	if r.hub.Subscribers() == 0 {
		return
	}
	select {
	case r.queue <- c:
	default:
		r.dropped.Add(1)
	}
}

// Dropped reports how many changes were dropped because the queue was full.
func (r *Relay) Dropped() int64 { return r.dropped.Load() }

// Run publishes queued changes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-r.queue:
			if u, ok := r.load(ctx, c); ok {
				r.hub.Publish(u)
			}
		}
	}
}

// load fetches the record a change names. A record deleted meanwhile (say,
// with its device) is skipped.
func (r *Relay) load(ctx context.Context, c Change) (api.Update, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := api.Update{Kind: c.Kind, Device: c.DeviceID, Time: c.Time}
	switch c.Kind {
	case api.UpdateJob:
		j, err := r.store.GetJob(ctx, c.JobID)
		if err != nil {
			r.skip(c, err)
			return u, false
		}
		aj := api.JobFrom(j)
		u.Job = &aj
	case api.UpdateEvent:
		es, err := r.store.ListEvents(ctx, c.DeviceID, c.EventID-1, 1)
		if err != nil || len(es) == 0 || es[0].ID != c.EventID {
			r.skip(c, err)
			return u, false
		}
		ae := api.EventFrom(es[0])
		u.Event = &ae
	case api.UpdateSession:
		state := c.EventKind
		switch c.EventKind {
		case "session-start":
			state = "started"
		case "session-end":
			state = "ended"
		}
		u.Session = &api.Session{ID: c.SessionID, State: state}
	case api.UpdateTrace:
		ts, err := r.store.ListTraces(ctx, c.DeviceID, c.SessionID, 8)
		if err != nil {
			r.skip(c, err)
			return u, false
		}
		for _, t := range ts {
			if t.ID == c.TraceID {
				at := api.TraceFrom(t)
				u.Trace = &at
				return u, true
			}
		}
		// Pruned already: still tell watchers a message crossed the wire.
		u.Trace = &api.Trace{ID: c.TraceID, Device: c.DeviceID, Session: c.SessionID}
	default:
		r.log.Warn("relay: unknown change kind", "kind", c.Kind)
		return u, false
	}
	return u, true
}

func (r *Relay) skip(c Change, err error) {
	if err != nil {
		r.log.Debug("relay: record not loaded", "kind", c.Kind, "device", c.DeviceID, "err", err)
	}
}
