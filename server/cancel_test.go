package server_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
)

// cancelAfterRead cancels job victim right after the engine read the queue,
// as an operator's API call on another node would, between the moment the
// engine built the command and the moment it stores the job as sent.
type cancelAfterRead struct {
	storage.Store
	victim int64
}

func (s *cancelAfterRead) PendingJobs(ctx context.Context, dev, sess string) ([]*storage.Job, error) {
	jobs, err := s.Store.PendingJobs(ctx, dev, sess)
	if err == nil && s.victim != 0 {
		if _, err := s.Store.CancelJob(ctx, s.victim); err != nil {
			return nil, err
		}
		s.victim = 0
	}
	return jobs, err
}

// batchingCancelAfterRead is the same over a store with batches.
type batchingCancelAfterRead struct{ *cancelAfterRead }

func (s batchingCancelAfterRead) Batch(ctx context.Context, fn func(storage.Store) error) error {
	return s.Store.(storage.Batcher).Batch(ctx, fn)
}

func TestEngine_JobCancelledAfterItsCommandWasBuiltDoesNotGoOut(t *testing.T) {
	tests := []struct {
		name  string
		store func(t *testing.T) storage.Store
		wrap  func(c *cancelAfterRead) storage.Store
	}{
		{"sqlite with batches", func(t *testing.T) storage.Store { return openSQLite(t) },
			func(c *cancelAfterRead) storage.Store { return batchingCancelAfterRead{c} }},
		{"store without batches", func(*testing.T) storage.Store { return memstore.New() },
			func(c *cancelAfterRead) storage.Store { return c }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, alone := range []bool{false, true} {
				inner := tc.store(t)
				base := newHarness(t, inner)
				base.addDevice(t, "basic")
				keep := int64(0)
				if !alone {
					keep = base.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Keep"}}})
				}
				victim := base.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Gone", Data: "x"}}})
				h := newHarness(t, tc.wrap(&cancelAfterRead{Store: inner, victim: victim}))
				d := newDevice(h.e, "basic")
				r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
				for _, c := range commands(r) {
					for _, it := range syncml.ItemsOf(c) {
						if it.Target != nil && it.Target.LocURI == "./Gone" {
							t.Fatalf("alone=%v: the cancelled job's %s went out", alone, c.CommandName())
						}
					}
				}
				if j := base.job(t, victim); j.State != storage.JobCancelled || j.Attempts != 0 {
					t.Errorf("alone=%v: cancelled job is %s after %d attempts", alone, j.State, j.Attempts)
				}
				if alone {
					// Nothing else to send: the reply ends the session.
					if !r.Final || len(commands(r)) != 0 {
						t.Errorf("reply %v final=%v, want a bare Final", names(commands(r)), r.Final)
					}
					continue
				}
				if got := names(commands(r)); len(got) != 1 || got[0] != "Get" {
					t.Fatalf("reply commands %v, want only the other job's Get", got)
				}
				d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
				if j := base.job(t, keep); j.State != storage.JobDone {
					t.Errorf("other job %s, want done", j.State)
				}
			}
		})
	}
}

// conflictBatcher is a store with batches whose session saves always lose
// the race, as when another node handled the same message first.
type conflictBatcher struct{ storage.Store }

func (s conflictBatcher) Batch(ctx context.Context, fn func(storage.Store) error) error {
	return s.Store.(storage.Batcher).Batch(ctx, func(in storage.Store) error { return fn(conflictStore{in}) })
}

func TestEngine_LostSessionRaceInABatchStoresNothing(t *testing.T) {
	inner := openSQLite(t)
	base := newHarness(t, inner)
	base.addDevice(t, "basic")
	id := base.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	h := newHarness(t, conflictBatcher{inner})
	d := newDevice(h.e, "basic")
	body, err := syncml.Encode(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), d.enc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Handle(context.Background(), inbound(d, body)); syncml.StatusOf(err) != syncml.StatusServiceUnavailable {
		t.Fatalf("error %v, want 503", err)
	}
	if j := base.job(t, id); j.State != storage.JobQueued || j.Attempts != 0 {
		t.Errorf("job %s after %d attempts: the losing node stored its sending", j.State, j.Attempts)
	}
	h.e.Flush(context.Background())
	if evs, _ := inner.ListEvents(context.Background(), devID, 0, 10); len(evs) != 0 {
		t.Errorf("%d events stored by the losing node", len(evs))
	}
	if dev := base.device(t); len(dev.DevInfo) != 0 || !dev.LastSeen.IsZero() {
		t.Errorf("device updated by the losing node: %+v", dev)
	}
	if upd := h.updates(); len(upd) != 0 {
		t.Errorf("live updates emitted for nothing stored: %+v", upd)
	}
}
