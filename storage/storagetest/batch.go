package storagetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage"
)

// batcher returns s as a storage.Batcher or skips the test: the ability is
// optional, but a backend that has it must pass every test below.
func batcher(t *testing.T, s storage.Store) storage.Batcher {
	t.Helper()
	b, ok := s.(storage.Batcher)
	if !ok {
		t.Skip("store does not implement storage.Batcher")
	}
	return b
}

var errBoom = errors.New("storagetest: planned failure")

var batchTests = []test{
	{"CommitsEveryWriteTogether", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		var job *storage.Job
		err := b.Batch(bg, func(tx storage.Store) error {
			job = &storage.Job{DeviceID: "dev", Spec: getSpec("./A")}
			if err := tx.CreateJob(bg, job); err != nil {
				return err
			}
			if err := tx.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok"}); err != nil {
				return err
			}
			if err := tx.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "session-start"}); err != nil {
				return err
			}
			if err := tx.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A", Value: "1"}}); err != nil {
				return err
			}
			return tx.AddTrace(bg, &storage.TraceEntry{DeviceID: "dev", SessionID: "1", Direction: "in", MsgID: "1", Body: []byte("x")})
		})
		check(t, "Batch", err)
		if job.ID == 0 {
			t.Fatal("CreateJob inside a batch assigned no ID")
		}
		_, err = s.GetJob(bg, job.ID)
		check(t, "GetJob after commit", err)
		_, err = s.GetSessionByToken(bg, "tok")
		check(t, "GetSessionByToken after commit", err)
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		nodes, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "ListTreeNodes", err)
		trs, err := s.ListTraces(bg, "dev", "", 0)
		check(t, "ListTraces", err)
		if len(evs) != 1 || len(nodes) != 1 || len(trs) != 1 {
			t.Fatalf("after commit: %d events, %d nodes, %d traces; want 1 each", len(evs), len(nodes), len(trs))
		}
	}},
	{"ErrorRollsBackEveryWriteAndIsReturnedUnchanged", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		queued := mustJob(t, s, "dev", getSpec("./A"))
		err := b.Batch(bg, func(tx storage.Store) error {
			if err := tx.CreateJob(bg, &storage.Job{DeviceID: "dev", Spec: getSpec("./B")}); err != nil {
				return err
			}
			j := *queued
			j.State, j.SessionID, j.Attempts = storage.JobSent, "1", 1
			if err := tx.UpdateJob(bg, &j); err != nil {
				return err
			}
			if err := tx.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok"}); err != nil {
				return err
			}
			if err := tx.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "session-start"}); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "Batch", err, errBoom)
		jobs, err := s.ListJobs(bg, storage.JobFilter{DeviceID: "dev"})
		check(t, "ListJobs", err)
		if len(jobs) != 1 || jobs[0].State != storage.JobQueued || jobs[0].Attempts != 0 {
			t.Fatalf("after rollback: jobs %+v, want only the queued job unchanged", jobs)
		}
		_, err = s.GetSession(bg, "dev", "1")
		wantErr(t, "GetSession after rollback", err, storage.ErrNotFound)
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if len(evs) != 0 {
			t.Fatalf("after rollback: %d events, want 0", len(evs))
		}
	}},
	{"PanicRollsBackAndPropagates", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic inside Batch was swallowed")
				}
			}()
			_ = b.Batch(bg, func(tx storage.Store) error {
				if err := tx.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "x"}); err != nil {
					return err
				}
				panic("planned")
			})
		}()
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if len(evs) != 0 {
			t.Fatalf("after panic: %d events, want 0", len(evs))
		}
		// The store is still usable for writes (the transaction was released).
		check(t, "AddEvent after panic", s.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "y"}))
	}},
	{"ReadsInsideSeeTheBatchsOwnWrites", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		err := b.Batch(bg, func(tx storage.Store) error {
			j := &storage.Job{DeviceID: "dev", Spec: getSpec("./A")}
			if err := tx.CreateJob(bg, j); err != nil {
				return err
			}
			got, err := tx.GetJob(bg, j.ID)
			if err != nil {
				return err
			}
			pend, err := tx.PendingJobs(bg, "dev", "1")
			if err != nil {
				return err
			}
			list, err := tx.ListJobs(bg, storage.JobFilter{DeviceID: "dev"})
			if err != nil {
				return err
			}
			if got.ID != j.ID || len(pend) != 1 || len(list) != 1 {
				t.Errorf("inside batch: GetJob %d, %d pending, %d listed; want the new job everywhere", got.ID, len(pend), len(list))
			}
			ss := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok"}
			if err := tx.SaveSession(bg, ss); err != nil {
				return err
			}
			if _, err := tx.GetSessionByToken(bg, "tok"); err != nil {
				t.Errorf("GetSessionByToken inside batch: %v", err)
			}
			return nil
		})
		check(t, "Batch", err)
	}},
	{"SessionVersionConflictInsideRollsBackTheBatch", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		job := mustJob(t, s, "dev", getSpec("./A"))
		ss := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok", State: []byte("v1")}
		check(t, "SaveSession", s.SaveSession(bg, ss))
		stale := *ss
		ss.State = []byte("v2 by another node")
		check(t, "SaveSession v2", s.SaveSession(bg, ss))

		err := b.Batch(bg, func(tx storage.Store) error {
			j := *job
			j.State, j.SessionID = storage.JobSent, "1"
			if err := tx.UpdateJob(bg, &j); err != nil {
				return err
			}
			stale.State = []byte("loser")
			return tx.SaveSession(bg, &stale)
		})
		wantErr(t, "Batch with a stale session", err, storage.ErrConflict)
		got, err := s.GetJob(bg, job.ID)
		check(t, "GetJob", err)
		if got.State != storage.JobQueued {
			t.Errorf("job state %s after the losing batch, want queued", got.State)
		}
		cur, err := s.GetSession(bg, "dev", "1")
		check(t, "GetSession", err)
		if string(cur.State) != "v2 by another node" || cur.Version != 2 {
			t.Errorf("session %q v%d, want the winner's v2", cur.State, cur.Version)
		}
	}},
	{"NewSessionRaceInsideIsErrConflictAndLeavesBatchUsable", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		check(t, "SaveSession", s.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1", Token: "a"}))
		err := b.Batch(bg, func(tx storage.Store) error {
			err := tx.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1", Token: "b"})
			if !errors.Is(err, storage.ErrConflict) {
				t.Errorf("inserting an existing session inside a batch: %v, want ErrConflict", err)
			}
			return tx.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "after-conflict"})
		})
		check(t, "Batch continuing after a conflict", err)
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if len(evs) != 1 {
			t.Fatalf("%d events, want the one stored after the conflict", len(evs))
		}
	}},
	{"TerminalJobGuardInsideLeavesBatchUsable", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		job := mustJob(t, s, "dev", getSpec("./A"))
		other := mustJob(t, s, "dev", getSpec("./B"))
		_, err := s.CancelJob(bg, job.ID)
		check(t, "CancelJob", err)
		err = b.Batch(bg, func(tx storage.Store) error {
			j := *job
			j.State = storage.JobSent
			if err := tx.UpdateJob(bg, &j); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("UpdateJob of a cancelled job inside a batch: %v, want ErrConflict", err)
			}
			o := *other
			o.State, o.SessionID = storage.JobSent, "1"
			return tx.UpdateJob(bg, &o)
		})
		check(t, "Batch", err)
		got, err := s.GetJob(bg, job.ID)
		check(t, "GetJob", err)
		if got.State != storage.JobCancelled {
			t.Errorf("cancelled job became %s", got.State)
		}
		got, err = s.GetJob(bg, other.ID)
		check(t, "GetJob", err)
		if got.State != storage.JobSent {
			t.Errorf("other job is %s, want sent", got.State)
		}
	}},
	{"NestedBatchJoinsTheOuterOne", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		err := b.Batch(bg, func(tx storage.Store) error {
			inner, ok := tx.(storage.Batcher)
			if !ok {
				return nil
			}
			if err := inner.Batch(bg, func(tx2 storage.Store) error {
				return tx2.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "inner"})
			}); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "Batch", err, errBoom)
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if len(evs) != 0 {
			t.Fatalf("the inner batch's write survived the outer rollback")
		}
	}},
	{"CloseInsideIsRefused", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		err := b.Batch(bg, func(tx storage.Store) error { return tx.Close() })
		wantErr(t, "Close inside Batch", err, storage.ErrInBatch)
		check(t, "Ping after", s.Ping(bg))
	}},
	{"ConcurrentBatchesOnOneSessionVersionLetExactlyOneWin", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		mustDevice(t, s, "dev")
		base := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok"}
		check(t, "SaveSession", s.SaveSession(bg, base))
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = b.Batch(bg, func(tx storage.Store) error {
					if err := tx.AddEvent(bg, &storage.Event{DeviceID: "dev", Kind: "racer"}); err != nil {
						return err
					}
					mine := *base
					mine.State = []byte{byte(i)}
					return tx.SaveSession(bg, &mine)
				})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrConflict):
				t.Errorf("losing batch: %v, want ErrConflict", err)
			}
		}
		evs, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if won != 1 || len(evs) != 1 {
			t.Fatalf("%d winners and %d events stored, want exactly 1 of each", won, len(evs))
		}
	}},
}
