package server

import (
	"context"
	"fmt"
	"time"
)

// maintEvery is how often Handle deletes expired sessions.
const maintEvery = time.Minute

// sweepEvery is how often Handle trims the traces of every device and
// applies the event retention. Each session trims its own device's traces
// when it ends (Effects.TraceKeep), so the trace sweep only catches devices
// whose last session never ended; it is rare because its cost grows with
// the number of devices.
const sweepEvery = time.Hour

// maintain starts the deletion of expired sessions at most once per
// maintEvery, with the table-wide trace sweep and the event retention at
// most once per sweepEvery, whichever message gets there first. It runs in
// a goroutine of its own: a busy server's minute of expired sessions is
// hundreds of thousands of rows, which the device whose message happened
// to trigger the sweep must not wait for.
func (e *Engine) maintain() {
	last := e.lastMaint.Load()
	now := time.Now()
	if now.Sub(time.Unix(0, last)) < maintEvery || !e.lastMaint.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	sw := e.lastSweep.Load()
	full := now.Sub(time.Unix(0, sw)) >= sweepEvery && e.lastSweep.CompareAndSwap(sw, now.UnixNano())
	e.maintMu.Lock()
	defer e.maintMu.Unlock()
	if e.maintClosed || e.maintBusy {
		// A sweep longer than maintEvery is still running: no second one
		// beside it (a skipped hourly part is tried again next minute).
		if full {
			e.lastSweep.Store(sw)
		}
		return
	}
	e.maintBusy = true
	e.maintWG.Add(1)
	go func() {
		defer e.maintWG.Done()
		start := time.Now()
		e.sweep(e.maintCtx, now, full) // failures are logged; the next round retries
		since(e.m.storeMaintenance, start)
		e.maintMu.Lock()
		e.maintBusy = false
		e.maintMu.Unlock()
	}()
}

// Sweep runs the storage housekeeping now instead of waiting for Handle to
// do it: it deletes sessions idle for twice the SessionTTL and sessions
// that ended over a minute ago, trims every device's traces to TraceKeep
// (looking at the traces added since the last sweep), deletes traces older
// than TraceMaxAge when set, the oldest traces while all of them take more
// than TraceMaxBytes when set, events older than EventKeep and, when JobKeep
// is set, finished jobs older than that.
// Handle does the first every minute and the others hourly by itself; Sweep
// is for operators' tools and tests. The first failure is returned (and
// every failure logged); the remaining steps still run.
func (e *Engine) Sweep(ctx context.Context) error {
	return e.sweep(ctx, time.Now(), true)
}

func (e *Engine) sweep(ctx context.Context, now time.Time, full bool) error {
	var errs []error
	fail := func(what string, err error) {
		if ctx.Err() == nil { // not the sweep Close interrupted
			e.log.Warn(what+" failed", "err", err)
		}
		errs = append(errs, fmt.Errorf("server: %s: %w", what, err))
	}
	if full {
		if err := e.pruneAllTraces(ctx); err != nil {
			fail("pruning traces", err)
		}
		if e.o.TraceMaxAge > 0 {
			if n, err := e.deleteOldTraces(ctx, now.Add(-e.o.TraceMaxAge)); err != nil {
				fail("deleting old traces", err)
			} else if n > 0 {
				e.log.Info("deleted old traces", "count", n, "older_than", e.o.TraceMaxAge)
			}
		}
		if e.o.JobKeep > 0 {
			if n, err := e.store.DeleteJobsBefore(ctx, now.Add(-e.o.JobKeep)); err != nil {
				fail("deleting old jobs", err)
			} else if n > 0 {
				e.log.Info("deleted finished jobs", "count", n, "older_than", e.o.JobKeep)
			}
		}
		if e.o.EventKeep > 0 {
			if n, err := e.store.DeleteEventsBefore(ctx, now.Add(-e.o.EventKeep)); err != nil {
				fail("deleting old events", err)
			} else if n > 0 {
				e.log.Info("deleted old events", "count", n, "older_than", e.o.EventKeep)
			}
		}
	}
	if e.o.TraceMaxBytes > 0 {
		if n, freed, err := e.trimTraceBytes(ctx, e.o.TraceMaxBytes); err != nil {
			fail("deleting traces over the size bound", err)
		} else if n > 0 {
			e.log.Info("deleted the oldest traces over the size bound", "count", n, "bytes", freed, "max_bytes", e.o.TraceMaxBytes)
		}
	}
	if _, err := e.store.DeleteSessionsBefore(ctx, now.Add(-2*e.o.SessionTTL)); err != nil {
		fail("deleting expired sessions", err)
	}
	if err := e.deleteClosedSessions(ctx, now.Add(-closedSessionKeep)); err != nil {
		fail("deleting closed sessions", err)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Housekeeping steps: how many rows one step visits (trace IDs, closed
// sessions). Each step is one short read and at most one short write, so
// housekeeping interleaves with the sessions' writes instead of holding
// the single SQLite writer (a sweep of a million devices used to be a
// million writes, one per device).
const (
	traceSweepStep   = 2000
	sessionSweepStep = 1000
)

// closedSessionKeep is how long a session stays stored after it ended:
// long enough for a device that lost our last reply to send its message
// again and get the stored reply (not a new session), short enough that
// ended sessions never pile up (the minute's sweep deletes them).
const closedSessionKeep = time.Minute

// pruneAllTraces trims every device's traces to TraceKeep. The traces
// added since the last pass are visited in ID ranges; for each device
// among them that has more than TraceKeep traces, its oldest are deleted
// (storage.Housekeeper: one read of the range, one write of the cuts).
// Sessions that end trim their own device already, so the pass mostly
// reads; it catches devices whose last session never ended.
func (e *Engine) pruneAllTraces(ctx context.Context) error {
	e.traceMu.Lock()
	defer e.traceMu.Unlock()
	for {
		cuts, last, err := e.store.TraceCuts(ctx, e.traceCursor, traceSweepStep, e.o.TraceKeep)
		if err != nil || last == 0 {
			return err
		}
		if _, err := e.store.DeleteTraceCuts(ctx, cuts); err != nil {
			return err
		}
		e.traceCursor = last
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// deleteOldTraces deletes traces created before t, oldest first, one ID
// range per step, and stops at the first range holding a newer trace.
func (e *Engine) deleteOldTraces(ctx context.Context, t time.Time) (int, error) {
	var after int64
	total := 0
	for {
		n, last, newer, err := e.store.DeleteTracesBefore(ctx, after, traceSweepStep, t)
		total += n
		if err != nil || last == 0 || newer {
			return total, err
		}
		after = last
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// TraceBytesStepsPerRound bounds the work of one round of the trace size
// bound: at most this many steps of traceSweepStep traces each. A store
// far over the bound (the bound was just lowered) is brought under it over
// several rounds instead of by one long run.
const TraceBytesStepsPerRound = 16

// TraceSweepStep is how many traces one housekeeping step visits.
const TraceSweepStep = traceSweepStep

// trimTraceBytes deletes the oldest traces while the stored trace bytes
// are over max: one read of the running total, then steps of at most
// traceSweepStep of the oldest traces, each one write, at most
// TraceBytesStepsPerRound of them.
func (e *Engine) trimTraceBytes(ctx context.Context, max int64) (int, int64, error) {
	e.traceMu.Lock()
	defer e.traceMu.Unlock()
	total, err := e.store.TraceBytes(ctx)
	if err != nil {
		return 0, 0, err
	}
	deleted, freed := 0, int64(0)
	for range TraceBytesStepsPerRound {
		if total <= max {
			break
		}
		n, f, err := e.store.DeleteOldestTraces(ctx, traceSweepStep, total-max)
		deleted, freed, total = deleted+n, freed+f, total-f
		if err != nil || n == 0 {
			return deleted, freed, err
		}
		if err := ctx.Err(); err != nil {
			return deleted, freed, err
		}
	}
	return deleted, freed, nil
}

// deleteClosedSessions deletes sessions that ended before t, a step at a time.
func (e *Engine) deleteClosedSessions(ctx context.Context, t time.Time) error {
	for {
		n, err := e.store.DeleteClosedSessionsBefore(ctx, t, sessionSweepStep)
		if err != nil || n < sessionSweepStep {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
