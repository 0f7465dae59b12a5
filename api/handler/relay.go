package handler

import (
	"context"
	"log/slog"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
)

// Relay turns the engine's live updates (server.Update, the one live-update
// type from engine to stream) into full API updates on a Hub: the serve
// command passes Push as server.Options.OnEvent. Push never blocks the
// engine: updates wait in a bounded queue, and one goroutine (Run) loads the
// records they name and publishes them. Nothing is loaded while no stream is
// open.
type Relay struct {
	store storage.Store
	hub   *Hub
	log   *slog.Logger
	queue chan server.Update
}

// NewRelay returns a relay with room for buffer pending updates (default 4096).
func NewRelay(store storage.Store, hub *Hub, logger *slog.Logger, buffer int) *Relay {
	if buffer <= 0 {
		buffer = 4096
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{store: store, hub: hub, log: logger, queue: make(chan server.Update, buffer)}
}

// Push queues an update. When the queue is full the update cannot be
// relayed, so every open stream is ended as lagged instead of silently
// missing it: its client reconnects with Last-Event-ID (stored events are
// replayed from the store) and re-reads the rest through the REST API.
func (r *Relay) Push(u server.Update) {
	if r.hub.Subscribers() == 0 {
		return
	}
	select {
	case r.queue <- u:
	default:
		r.log.Warn("relay queue full: ending live streams as lagged", "queued", cap(r.queue))
		r.hub.LagAll()
	}
}

// Run publishes queued updates until ctx ends.
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

// load fetches the record an engine update names. A record deleted meanwhile
// (say, with its device) is skipped.
func (r *Relay) load(ctx context.Context, c server.Update) (api.Update, bool) {
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
	case api.UpdateEvent, api.UpdateSession:
		if c.EventID <= 0 {
			// Every stored event has an ID; an update without one names
			// nothing that a stream could resume from.
			r.log.Warn("relay: event update without an event id", "device", c.DeviceID, "event_kind", c.EventKind)
			return u, false
		}
		es, err := r.store.ListEvents(ctx, c.DeviceID, c.EventID-1, 1)
		if err != nil || len(es) == 0 || es[0].ID != c.EventID {
			r.skip(c, err)
			return u, false
		}
		eu := EventUpdate(es[0])
		eu.Time = cmpTime(c.Time, eu.Time)
		return eu, true
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
		r.log.Warn("relay: unknown update kind", "kind", c.Kind)
		return u, false
	}
	return u, true
}

func cmpTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

// EventUpdate is the stream update of a stored event: session milestones
// (session-start, session-end, session-abort) are Kind session, anything else
// Kind event. Both carry the event's ID in EventID, which is also the stream's
// SSE id, the cursor a reconnecting client resumes from.
func EventUpdate(ev *storage.Event) api.Update {
	u := api.Update{Kind: api.UpdateEvent, Device: ev.DeviceID, Time: ev.CreatedAt, EventID: ev.ID}
	switch ev.Kind {
	case "session-start", "session-end", "session-abort":
		u.Kind = api.UpdateSession
		state := ev.Kind
		switch ev.Kind {
		case "session-start":
			state = "started"
		case "session-end":
			state = "ended"
		case "session-abort":
			state = "aborted"
		}
		u.Session = &api.Session{ID: ev.SessionID, State: state}
	default:
		ae := api.EventFrom(ev)
		u.Event = &ae
	}
	return u
}

func (r *Relay) skip(c server.Update, err error) {
	if err != nil {
		r.log.Debug("relay: record not loaded", "kind", c.Kind, "device", c.DeviceID, "err", err)
	}
}
