package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/omadm/omadm/storage"
)

// Write-behind of the records that describe a session rather than make it:
// wire traces and the session-start/-end/-abort events. They are written
// behind the messages, many sessions' worth per write, instead of inside
// each message's atomic write, where on the single SQLite writer they cost
// about as much as everything else a message stores together (as profiled
// under the session benchmark). What a message changes in the protocol's state (session, jobs,
// device, tree cache, generic alerts) is still stored before its reply
// leaves.
//
// The price: a process killed (not stopped) loses at most the last
// TraceFlush of traces and session milestones; Engine.Close and Flush write
// everything out.

// Defaults of the write-behind.
const (
	// DefaultTraceFlush is how long a trace may wait before it is stored.
	DefaultTraceFlush = 50 * time.Millisecond
	// behindKick is the backlog that starts a write at once, and
	// behindMax the backlog at which adding waits for a write (back
	// pressure instead of unbounded memory when the store falls behind).
	behindKick = 512
	behindMax  = 8192
)

type behind struct {
	e     *Engine
	every time.Duration

	mu     sync.Mutex
	traces []*storage.TraceEntry
	events []*storage.Event
	closed bool // after close every add writes at once

	flushMu sync.Mutex // one write at a time, in order
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newBehind(e *Engine, every time.Duration) *behind {
	b := &behind{e: e, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// add queues a message's traces and milestone events. At behindMax queued
// records, or once the engine is closed, the caller writes the backlog
// itself.
func (b *behind) add(ts []*storage.TraceEntry, evs []*storage.Event) {
	if len(ts) == 0 && len(evs) == 0 {
		return
	}
	b.mu.Lock()
	b.traces = append(b.traces, ts...)
	b.events = append(b.events, evs...)
	n := len(b.traces) + len(b.events)
	closed := b.closed
	b.mu.Unlock()
	b.e.m.behind.Set(float64(n))
	switch {
	case closed || n >= behindMax:
		b.flush(context.Background())
	case n >= behindKick:
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func (b *behind) run() {
	defer close(b.done)
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.kick:
		}
		b.flush(context.Background())
	}
}

// flush writes everything queued so far: one atomic write for all of it
// (one transaction on SQLite, one pipelined round trip on PostgreSQL), and
// record by record when that fails, so that one device deleted meanwhile
// does not cost the others their traces. Records that cannot be written are
// dropped with a log line: they are diagnostics, and keeping them would let
// a broken store grow the backlog without bound.
func (b *behind) flush(ctx context.Context) {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	ts, evs := b.traces, b.events
	b.traces, b.events = nil, nil
	b.mu.Unlock()
	if len(ts) == 0 && len(evs) == 0 {
		return
	}
	e := b.e
	eff := &storage.Effects{Traces: ts, Events: evs, TraceKeep: e.o.TraceKeep}
	start := time.Now()
	err := storage.WriteEffects(ctx, e.store, eff)
	if err != nil {
		e.log.Warn("writing traces and session events failed; writing them one by one", "err", err,
			"traces", len(ts), "events", len(evs))
		b.oneByOne(ctx, eff)
	}
	since(e.m.storeBehind, start)
	e.m.behind.Set(0)
	for _, u := range recordUpdates(nil, evs, ts) {
		e.emit(u)
	}
}

func (b *behind) oneByOne(ctx context.Context, eff *storage.Effects) {
	e := b.e
	dropped := 0
	for _, ev := range eff.Events {
		ev.ID = 0
		if err := e.store.AddEvent(ctx, ev); err != nil {
			dropped++
			if !errors.Is(err, storage.ErrNotFound) {
				e.log.Warn("storing a session event failed", "device", ev.DeviceID, "kind", ev.Kind, "err", err)
			}
		}
	}
	devices := map[string]bool{}
	for _, t := range eff.Traces {
		t.ID = 0
		if err := e.store.AddTrace(ctx, t); err != nil {
			dropped++
			if !errors.Is(err, storage.ErrNotFound) {
				e.log.Warn("storing a trace failed", "device", t.DeviceID, "err", err)
			}
			continue
		}
		devices[t.DeviceID] = true
	}
	for id := range devices {
		if _, err := storage.PruneDeviceTraces(ctx, e.store, id, e.o.TraceKeep); err != nil {
			e.log.Warn("pruning traces failed", "device", id, "err", err)
		}
	}
	if dropped > 0 {
		e.m.behindDropped.Add(float64(dropped))
	}
}

// close writes the backlog and stops the background writer.
func (b *behind) close(ctx context.Context) {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.flush(ctx)
}
