package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// retryWait ends op's first attempt: retry_wait until next, with the
// attempt recorded.
func retryWait(t *testing.T, s storage.Store, op *storage.Operation, next time.Time) {
	t.Helper()
	ended := &storage.OperationAttempt{OperationID: op.ID, Attempt: op.Attempt, DeviceID: op.DeviceID, JobID: op.JobID,
		Correlator: op.Correlator, State: storage.OpTimedOut, Error: "no report", StartedAt: op.AttemptAt, EndedAt: time.Now()}
	from := op.State
	op.State, op.Deadline, op.Error = storage.OpRetryWait, next, "attempt 1 timed out"
	check(t, "ReattemptOperation to retry_wait", storage.InBatch(bg, s, func(s storage.Store) error {
		if err := s.ReattemptOperation(bg, op, from); err != nil {
			return err
		}
		return s.AddOperationAttempt(bg, ended)
	}))
}

// nextAttempt starts op's next attempt from retry_wait with a new job and
// correlator, in one batch.
func nextAttempt(s storage.Store, op *storage.Operation, correlator string) error {
	return storage.InBatch(bg, s, func(s storage.Store) error {
		j := &storage.Job{DeviceID: op.DeviceID, State: storage.JobQueued,
			Spec: storage.JobSpec{Command: "Exec", Correlator: correlator, Items: []storage.JobItem{{URI: "./FwUpdate/Default/Update"}}}}
		if err := s.CreateJob(bg, j); err != nil {
			return err
		}
		n := *op
		n.State, n.Attempt, n.AttemptAt, n.JobID, n.Correlator = storage.OpQueued, op.Attempt+1, time.Now(), j.ID, correlator
		n.Error, n.ExecStatus, n.Result, n.EventID, n.Deadline = "", 0, 0, 0, time.Now().Add(time.Hour)
		if err := s.ReattemptOperation(bg, &n, storage.OpRetryWait); err != nil {
			return err
		}
		*op = n
		return nil
	})
}

var operationAttemptTests = []test{
	{"RetryPolicyIsStoredWithTheOperation", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		j := mustJob(t, s, "d1", storage.JobSpec{Command: "Exec", Correlator: "c1", Items: []storage.JobItem{{URI: "./X"}}})
		op := &storage.Operation{DeviceID: "d1", MO: "fumo", Name: "Update", Node: "./FwUpdate/Default", Correlator: "c1",
			JobID: j.ID, MaxAttempts: 3, Timeout: time.Hour, Backoff: 90 * time.Second, MaxBackoff: 10 * time.Minute}
		check(t, "CreateOperation", s.CreateOperation(bg, op))
		got, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		if got.Attempt != 1 || got.MaxAttempts != 3 || got.Timeout != time.Hour || got.Backoff != 90*time.Second ||
			got.MaxBackoff != 10*time.Minute || got.AttemptAt.IsZero() {
			t.Fatalf("read back %+v: want attempt 1 of 3, timeout 1h, backoff 90s up to 10m and an attempt time", got)
		}
		plain := newOp(t, s, "d1", "c2", time.Time{})
		got, err = s.GetOperation(bg, plain.ID)
		check(t, "GetOperation", err)
		if got.Attempt != 1 || got.MaxAttempts != 1 {
			t.Fatalf("an operation created without a policy: attempt %d of %d, want 1 of 1", got.Attempt, got.MaxAttempts)
		}
	}},
	{"RetryWaitIsOpenAndExpiresAtTheNextAttemptsTime", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		next := time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond)
		retryWait(t, s, op, next)
		got, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		if got.State != storage.OpRetryWait || got.State.Terminal() || got.Error != "attempt 1 timed out" {
			t.Fatalf("state %s (%q): want retry_wait, open, with the attempt's error", got.State, got.Error)
		}
		checkTime(t, "deadline", got.Deadline, next)
		open, err := s.ListOperations(bg, storage.OperationFilter{States: storage.OpOpen})
		check(t, "ListOperations", err)
		deepEqual(t, "open operations", opIDs(open), []int64{op.ID})
		exp, err := s.ExpiredOperations(bg, next.Add(-time.Second), 0)
		check(t, "ExpiredOperations before", err)
		deepEqual(t, "expired before the next attempt's time", opIDs(exp), []int64{})
		exp, err = s.ExpiredOperations(bg, next.Add(time.Second), 0)
		check(t, "ExpiredOperations after", err)
		deepEqual(t, "expired after the next attempt's time", opIDs(exp), []int64{op.ID})
	}},
	{"NextAttemptMovesJobAndCorrelatorAndKeepsTheHistory", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		first := *op
		retryWait(t, s, op, time.Now())
		check(t, "next attempt", nextAttempt(s, op, "c1-2"))
		got, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		if got.State != storage.OpQueued || got.Attempt != 2 || got.Correlator != "c1-2" || got.JobID == first.JobID || got.Error != "" {
			t.Fatalf("after the next attempt: %+v; want queued, attempt 2, correlator c1-2, a new job, no error", got)
		}
		byCorr, err := s.OperationByCorrelator(bg, "d1", "c1-2")
		check(t, "OperationByCorrelator (new)", err)
		byJob, err := s.OperationByJob(bg, got.JobID)
		check(t, "OperationByJob (new)", err)
		if byCorr.ID != op.ID || byJob.ID != op.ID {
			t.Fatalf("by correlator %d, by job %d: want %d", byCorr.ID, byJob.ID, op.ID)
		}
		_, err = s.OperationByCorrelator(bg, "d1", "c1")
		wantErr(t, "OperationByCorrelator of the first attempt's correlator", err, storage.ErrNotFound)
		a, err := s.AttemptByCorrelator(bg, "d1", "c1")
		check(t, "AttemptByCorrelator", err)
		if a.OperationID != op.ID || a.Attempt != 1 || a.JobID != first.JobID || a.State != storage.OpTimedOut || a.Error != "no report" || a.Late {
			t.Fatalf("attempt by the old correlator: %+v", a)
		}
		_, err = s.AttemptByCorrelator(bg, "d2", "c1")
		wantErr(t, "AttemptByCorrelator of another device", err, storage.ErrNotFound)
		list, err := s.OperationAttempts(bg, op.ID)
		check(t, "OperationAttempts", err)
		if len(list) != 1 || list[0].Attempt != 1 || list[0].StartedAt.IsZero() || list[0].EndedAt.IsZero() {
			t.Fatalf("history %+v: want attempt 1 with its start and end", list)
		}
		err = s.AddOperationAttempt(bg, &storage.OperationAttempt{OperationID: op.ID, Attempt: 1, DeviceID: "d1", Correlator: "c1", State: storage.OpFailed})
		wantErr(t, "AddOperationAttempt of a recorded attempt", err, storage.ErrExists)
		none, err := s.OperationAttempts(bg, op.ID+100)
		check(t, "OperationAttempts of an unknown operation", err)
		if len(none) != 0 {
			t.Fatalf("history of an unknown operation: %+v", none)
		}
	}},
	{"LateReportIsStoredOnceOnItsAttempt", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		retryWait(t, s, op, time.Now())
		check(t, "SetLateReport", s.SetLateReport(bg, op.ID, 1, 77, 200))
		wantErr(t, "a second SetLateReport", s.SetLateReport(bg, op.ID, 1, 78, 500), storage.ErrConflict)
		wantErr(t, "SetLateReport of an unrecorded attempt", s.SetLateReport(bg, op.ID, 2, 78, 500), storage.ErrNotFound)
		list, err := s.OperationAttempts(bg, op.ID)
		check(t, "OperationAttempts", err)
		if len(list) != 1 || list[0].EventID != 77 || list[0].Result != 200 || !list[0].Late {
			t.Fatalf("history %+v: want attempt 1 with late report 77 (200)", list)
		}
	}},
	{"NextAttemptStartsOnceAmongRacingNodes", func(t *testing.T, s storage.Store) {
		// Several nodes find the same operation due: one conditional
		// transition (in a batch with its job) wins.
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		retryWait(t, s, op, time.Now())
		const nodes = 4
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		for i := range nodes {
			wg.Go(func() {
				c := *op
				errs[i] = nextAttempt(s, &c, "c1-2-"+string(rune('a'+i)))
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrConflict):
			default:
				t.Fatalf("node %d: %v", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d nodes started the next attempt, want 1", won)
		}
		if _, ok := s.(storage.Batcher); ok {
			jobs, err := s.ListJobs(bg, storage.JobFilter{DeviceID: "d1"})
			check(t, "ListJobs", err)
			if len(jobs) != 2 {
				t.Fatalf("%d jobs: want the first attempt's and one for the second (the losers' batches roll back)", len(jobs))
			}
		}
	}},
	{"ReattemptRefusesAnotherOperationsCorrelator", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		newOp(t, s, "d1", "taken", time.Time{})
		retryWait(t, s, op, time.Now())
		err := nextAttempt(s, op, "taken")
		wantErr(t, "a next attempt with a correlator in use", err, storage.ErrExists)
	}},
	{"DeletingTheDeviceDeletesTheHistory", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		retryWait(t, s, op, time.Now())
		check(t, "DeleteDevice", s.DeleteDevice(bg, "d1"))
		_, err := s.AttemptByCorrelator(bg, "d1", "c1")
		wantErr(t, "AttemptByCorrelator after the device was deleted", err, storage.ErrNotFound)
	}},
	{"FailedBatchUndoesTheAttemptWrites", func(t *testing.T, s storage.Store) {
		b, ok := s.(storage.Batcher)
		if !ok {
			t.Skip("the store has no batches")
		}
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Now().Add(time.Hour))
		retryWait(t, s, op, time.Now())
		before, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		boom := errors.New("boom")
		err = b.Batch(bg, func(tx storage.Store) error {
			if err := tx.SetLateReport(bg, op.ID, 1, 99, 200); err != nil {
				return err
			}
			if err := tx.AddOperationAttempt(bg, &storage.OperationAttempt{OperationID: op.ID, Attempt: 2, DeviceID: "d1",
				Correlator: "c1-2", State: storage.OpFailed}); err != nil {
				return err
			}
			n := *op
			n.State, n.Attempt, n.JobID, n.Correlator = storage.OpQueued, 2, op.JobID+1000, "c1-2"
			if err := tx.ReattemptOperation(bg, &n, storage.OpRetryWait); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, "the failed batch", err, boom)
		after, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		if after.State != before.State || after.Attempt != before.Attempt || after.Correlator != before.Correlator || after.JobID != before.JobID {
			t.Fatalf("after the failed batch %+v, want %+v", after, before)
		}
		if _, err := s.OperationByCorrelator(bg, "d1", "c1"); err != nil {
			t.Fatalf("OperationByCorrelator of the kept correlator: %v", err)
		}
		_, err = s.OperationByCorrelator(bg, "d1", "c1-2")
		wantErr(t, "OperationByCorrelator of the undone correlator", err, storage.ErrNotFound)
		as, err := s.OperationAttempts(bg, op.ID)
		check(t, "OperationAttempts", err)
		if len(as) != 1 || as[0].EventID != 0 || as[0].Late {
			t.Fatalf("history after the failed batch: %+v", as)
		}
	}},
}
