package server_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// cancelOnRead keeps every optional ability of the store it wraps
// (Batcher, MessageReader, EffectsWriter) and cancels job victim right after
// the engine's first read, as an operator on another node would, so that
// the engine's one-shot atomic write meets a refused guard.
type cancelOnRead struct {
	storage.Store
	victim int64
}

func (s *cancelOnRead) ReadMessage(ctx context.Context, r *storage.MessageRead) error {
	err := storage.ReadMessage(ctx, s.Store, r)
	if err == nil && s.victim != 0 {
		if _, err := s.Store.CancelJob(ctx, s.victim); err != nil {
			return err
		}
		s.victim = 0
	}
	return err
}

func (s *cancelOnRead) GetJobs(ctx context.Context, ids []int64) ([]*storage.Job, error) {
	return storage.GetJobs(ctx, s.Store, ids)
}

func (s *cancelOnRead) WriteEffects(ctx context.Context, e *storage.Effects) error {
	return storage.WriteEffects(ctx, s.Store, e)
}

func (s *cancelOnRead) Batch(ctx context.Context, fn func(storage.Store) error) error {
	return s.Store.(storage.Batcher).Batch(ctx, fn)
}

func TestEngine_CancelledJobIsWithdrawnWhenTheAtomicWriteRefusesIt(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) storage.Store
	}{
		{"sqlite", func(tb testing.TB) storage.Store { return openSQLite(tb) }},
		{"postgres", openPostgres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := tc.open(t)
			base := newHarness(t, inner)
			base.addDevice(t, "md5")
			keep := base.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Keep"}}})
			victim := base.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Gone", Data: "x"}}})
			h := newHarness(t, &cancelOnRead{Store: inner, victim: victim})
			d := newDevice(h.e, "md5")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if got := names(commands(r)); len(got) != 1 || got[0] != "Get" {
				t.Fatalf("reply commands %v, want only the Get of the job still queued", got)
			}
			if j := base.job(t, victim); j.State != storage.JobCancelled || j.Attempts != 0 {
				t.Errorf("cancelled job is %s after %d attempts", j.State, j.Attempts)
			}
			if j := base.job(t, keep); j.State != storage.JobSent || j.Attempts != 1 {
				t.Errorf("kept job is %s after %d attempts, want sent once", j.State, j.Attempts)
			}
			r = d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
			if !r.Final || len(commands(r)) != 0 {
				t.Fatalf("package 4 %v final=%v", names(commands(r)), r.Final)
			}
			if j := base.job(t, keep); j.State != storage.JobDone || len(j.Results) != 1 {
				t.Errorf("kept job %s with %d results, want done with 1", j.State, len(j.Results))
			}
			s, err := inner.GetSession(context.Background(), devID, "1")
			if err != nil || !s.Closed || s.Version != 2 {
				t.Errorf("session %+v (err %v): want closed at version 2", s, err)
			}
		})
	}
}
