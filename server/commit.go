package server

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// commit stores everything the message changed and returns the reply. All of
// it happens in one storage batch (one transaction, one commit, when the store
// is a storage.Batcher):
//
//  1. the jobs whose commands the reply carries are marked sent, each with the
//     store's terminal guard, so a job cancelled after its command was built
//     is taken out of the reply again instead of going out;
//  2. the reply is encoded and the session state saved with its optimistic
//     version check: a node that lost the race for this session gets
//     ErrConflict and, with a Batcher, stores nothing at all (503, the device
//     retries);
//  3. the device record, finished jobs, tree cache, events and wire traces.
//
// Live updates are emitted only after the batch committed.
func (x *exchange) commit(ctx context.Context) (*Outbound, error) {
	e := x.e
	for _, it := range x.alerts1225 {
		x.cmdN++
		x.reply.Body = append(x.reply.Body, &syncml.Alert{CmdID: strconv.Itoa(x.cmdN), Data: syncml.AlertNoEndOfData, Items: []syncml.Item{it}})
	}
	if x.newSess {
		x.milestones = append(x.milestones, &storage.Event{Kind: "session-start", DeviceID: x.dev.ID,
			SessionID: x.msg.Header.SessionID, CreatedAt: x.now})
	}
	// The reply is encoded before the batch, so that the batch (on SQLite
	// the single writer's critical section) only runs statements; it is
	// encoded again only when a job is withdrawn from it.
	out, err := x.seal()
	if err != nil {
		return nil, err
	}
	var updates []Update
	writeStart := time.Now()
	_, atomic := e.store.(storage.Batcher)
	slow := !atomic
	if atomic {
		// Fast path: everything in one atomic WriteEffects (one pipelined
		// round trip on PostgreSQL, one group-committed transaction on
		// SQLite). Should a job of the reply have been cancelled meanwhile,
		// nothing is stored and the careful path below withdraws it.
		version := x.sess.Version
		err = x.storeAll(ctx, e.store, out, &updates)
		if errors.Is(err, storage.ErrGuard) {
			x.sess.Version = version
			slow, updates = true, nil
		} else if err != nil {
			since(e.m.storeWrite, writeStart)
			return nil, err
		}
	}
	if slow {
		err = storage.InBatch(ctx, e.store, func(st storage.Store) error {
			withdrawn, err := x.checkSent(ctx, st, atomic, &updates)
			if err != nil {
				return err
			}
			if withdrawn {
				if out, err = x.seal(); err != nil {
					return err
				}
			}
			if err := st.SaveSession(ctx, x.sess); err != nil {
				x.log().Warn("saving session failed", "err", err)
				return storageErr("saving session", err)
			}
			if !atomic {
				if err := x.storeSent(ctx, st, &updates); err != nil {
					return err
				}
			}
			return x.storeEffects(ctx, st, out, &updates)
		})
	}
	since(e.m.storeWrite, writeStart)
	if err != nil {
		return nil, err
	}
	if x.newSess {
		e.m.started.Inc()
	}
	if x.closing {
		e.m.ended.WithLabelValues(x.result()).Inc()
	}
	for _, u := range updates {
		e.emit(u)
	}
	if x.late != nil {
		e.behind.add(x.late.Traces, x.late.Events)
	}
	return out, nil
}

// checkSent makes sure no job whose command the reply carries was cancelled
// after fill read it (through the API, on any node): such a command is
// withdrawn from the reply, with its pending entries and open large object,
// and when nothing is left to send the session ends as if the queue had been
// empty. In a batch (atomic) the jobs are marked sent right here with the
// store's terminal guard, which makes check and mark one step; otherwise
// their state is re-read now and storeSent marks them after the session save.
func (x *exchange) checkSent(ctx context.Context, st storage.Store, atomic bool, updates *[]Update) (withdrawn bool, err error) {
	if len(x.sent) == 0 {
		return false, nil
	}
	errs := make([]error, len(x.sent))
	if atomic {
		eff := &storage.Effects{Jobs: make([]*storage.Job, len(x.sent))}
		for i, s := range x.sent {
			eff.Jobs[i] = s.job
		}
		if err := storage.WriteEffects(ctx, st, eff); err != nil {
			return false, storageErr("marking jobs sent", err)
		}
		copy(errs, eff.JobErrs)
	} else {
		for i, s := range x.sent {
			cur, err := st.GetJob(ctx, s.job.ID)
			switch {
			case err == nil && cur.State.Terminal():
				errs[i] = storage.ErrConflict
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				return false, storageErr("reading job", err)
			default:
				errs[i] = err
			}
		}
	}
	kept, removed := x.sent[:0], 0
	for i, s := range x.sent {
		j := s.job
		if errs[i] != nil {
			x.log().Info("job cancelled while being sent: command withdrawn", "job", j.ID)
			x.withdraw(s)
			removed++
			continue
		}
		kept = append(kept, s)
		if atomic {
			*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
		}
	}
	x.sent = kept
	if removed > 0 && removed == x.added && x.reply.Final && len(x.alerts1225) == 0 {
		x.closing = true // only Statuses and Final are left: the session ends (OMA-TS-DM_Protocol-V1_2 §8)
	}
	return removed > 0, nil
}

// storeSent marks the reply's jobs sent when the store has no batches. A job
// cancelled in the short moment since checkSent stays cancelled (the store's
// guard answers ErrConflict).
func (x *exchange) storeSent(ctx context.Context, st storage.Store, updates *[]Update) error {
	for _, s := range x.sent {
		j := s.job
		if err := st.UpdateJob(ctx, j); err != nil {
			if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
				x.log().Info("job cancelled while being sent", "job", j.ID)
				continue
			}
			return storageErr("marking job sent", err)
		}
		*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
	}
	return nil
}

// withdraw takes a sent job's command back out of the reply.
func (x *exchange) withdraw(s sentCmd) {
	for i, c := range x.reply.Body {
		if c == s.cmd {
			x.reply.Body = append(x.reply.Body[:i:i], x.reply.Body[i+1:]...)
			break
		}
	}
	x.dropJob(s.job.ID)
	if x.st.OutLO != nil && x.st.OutLO.Job == s.job.ID {
		x.st.OutLO = nil
	}
}

// storeEffects stores what follows the session save: device, finished jobs,
// tree cache, events and traces.
func (x *exchange) storeEffects(ctx context.Context, st storage.Store, out *Outbound, updates *[]Update) error {
	eff := x.effects(out)
	if err := storage.WriteEffects(ctx, st, eff); err != nil {
		return storageErr("storing the message's effects", err)
	}
	x.effectUpdates(eff, updates)
	return nil
}

// storeAll is the fast path of commit: the session, the jobs the reply
// carries (marked sent, guarded: a cancelled one fails the whole write with
// storage.ErrGuard) and every other effect in one atomic WriteEffects.
func (x *exchange) storeAll(ctx context.Context, st storage.Store, out *Outbound, updates *[]Update) error {
	eff := x.effects(out)
	eff.Session = x.sess
	n := len(x.sent)
	jobs := make([]*storage.Job, 0, n+len(eff.Jobs))
	for _, s := range x.sent {
		jobs = append(jobs, s.job)
	}
	eff.Jobs, eff.Guarded = append(jobs, eff.Jobs...), n
	if err := storage.WriteEffects(ctx, st, eff); err != nil {
		switch {
		case errors.Is(err, storage.ErrGuard):
			return err
		case errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrExists):
			x.log().Warn("saving session failed", "err", err)
			return storageErr("saving session", err)
		case errors.Is(err, storage.ErrNotFound):
			return storageErr("updating device", err)
		}
		return storageErr("storing the message", err)
	}
	x.effectUpdates(eff, updates)
	return nil
}

// effects is what the message stores besides its session and the jobs its
// reply carries: the device record, finished jobs, tree cache, events
// (with the session's end) and the two wire traces.
func (x *exchange) effects(out *Outbound) *storage.Effects {
	milestones := x.milestones[:len(x.milestones):len(x.milestones)]
	if x.closing {
		kind := "session-end"
		if x.failed {
			kind = "session-abort"
		}
		milestones = append(milestones, &storage.Event{Kind: kind, DeviceID: x.dev.ID, SessionID: x.msg.Header.SessionID, CreatedAt: x.now})
	}
	if len(milestones) > 0 && !x.e.events.takeN(x.dev.ID, len(milestones), x.now) {
		x.e.m.eventsRefused.Add(float64(len(milestones)))
		milestones = nil
	}
	traces := []*storage.TraceEntry{
		x.traceEntry("in", x.msg.Header.MsgID, x.in.ContentType, redactCred(x.in.Body, x.msg, x.enc)),
		x.traceEntry("out", x.reply.Header.MsgID, out.ContentType, redactCred(out.Body, x.reply, x.enc)),
	}
	eff := &storage.Effects{Nodes: x.nodes, Events: x.events[:len(x.events):len(x.events)]}
	if x.closing && x.st.InLO != nil && x.st.InLO.Stored {
		x.dropChunks, x.chunks = true, nil // the session ends with the object incomplete
	}
	if x.dropChunks {
		eff.DropChunks = []storage.SessionRef{{DeviceID: x.sess.DeviceID, SessionID: x.sess.SessionID}}
	}
	eff.Chunks = x.chunks
	if x.e.behind != nil {
		// Written behind the message once it is stored (see behind.go).
		x.late = &storage.Effects{Traces: traces, Events: milestones}
	} else {
		eff.Events, eff.Traces = append(eff.Events, milestones...), traces
	}
	if x.closing && eff.Traces != nil {
		// The session's end trims its device's traces to the retention
		// (one index read of this device, in the same write).
		eff.TraceKeep = x.e.o.TraceKeep
	}
	if x.newSess || x.devDirty {
		// LastSeen moves once per session (and with nonce changes), not
		// with every message.
		x.dev.LastSeen = x.now
		eff.Device, eff.DeviceContact, eff.DeviceInfo = x.dev, true, x.infoDirty
	}
	for _, id := range x.jobOrder {
		eff.Jobs = append(eff.Jobs, x.jobUpdates[id])
	}
	return eff
}

// effectUpdates lists the live updates of stored effects.
func (x *exchange) effectUpdates(eff *storage.Effects, updates *[]Update) {
	for i, j := range eff.Jobs {
		if err := eff.JobErrs[i]; err != nil {
			x.log().Info("job changed meanwhile; result not stored", "job", j.ID, "err", err)
			continue
		}
		*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
	}
	*updates = recordUpdates(*updates, eff.Events, eff.Traces)
}

// recordUpdates appends the live updates of stored events and traces (those
// with an ID: a record the store refused has none).
func recordUpdates(updates []Update, evs []*storage.Event, ts []*storage.TraceEntry) []Update {
	for _, ev := range evs {
		if ev.ID == 0 {
			continue
		}
		kind := "event"
		if ev.Kind == "session-start" || ev.Kind == "session-end" || ev.Kind == "session-abort" {
			kind = "session"
		}
		updates = append(updates, Update{Kind: kind, DeviceID: ev.DeviceID, SessionID: ev.SessionID, EventID: ev.ID, EventKind: ev.Kind})
	}
	for _, t := range ts {
		if t.ID != 0 {
			updates = append(updates, Update{Kind: "trace", DeviceID: t.DeviceID, SessionID: t.SessionID, TraceID: t.ID})
		}
	}
	return updates
}
