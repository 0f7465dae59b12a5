package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

func newOp(t *testing.T, s storage.Store, deviceID, correlator string, deadline time.Time) *storage.Operation {
	t.Helper()
	j := mustJob(t, s, deviceID, storage.JobSpec{Command: "Exec", Correlator: correlator, Items: []storage.JobItem{{URI: "./FwUpdate/Default/Update"}}})
	op := &storage.Operation{DeviceID: deviceID, MO: "fumo", Name: "Update", Node: "./FwUpdate/Default",
		Params: map[string]string{"pkg_url": "http://fw.example/ü.bin"}, Correlator: correlator, JobID: j.ID, Deadline: deadline}
	check(t, "CreateOperation", s.CreateOperation(bg, op))
	return op
}

func opIDs(ops []*storage.Operation) []int64 {
	out := []int64{}
	for _, o := range ops {
		out = append(out, o.ID)
	}
	return out
}

var operationTests = []test{
	{"CreateAssignsIDAndReadsBackByIDCorrelatorAndJob", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		deadline := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		op := newOp(t, s, "d1", "c1", deadline)
		if op.ID == 0 || op.State != storage.OpQueued || op.CreatedAt.IsZero() {
			t.Fatalf("created %+v: want an ID, state queued and CreatedAt", op)
		}
		for name, get := range map[string]func() (*storage.Operation, error){
			"GetOperation":          func() (*storage.Operation, error) { return s.GetOperation(bg, op.ID) },
			"OperationByCorrelator": func() (*storage.Operation, error) { return s.OperationByCorrelator(bg, "d1", "c1") },
			"OperationByJob":        func() (*storage.Operation, error) { return s.OperationByJob(bg, op.JobID) },
		} {
			got, err := get()
			check(t, name, err)
			checkTime(t, name+" deadline", got.Deadline, deadline)
			checkTime(t, name+" created", got.CreatedAt, op.CreatedAt)
			got.Deadline, got.CreatedAt, got.UpdatedAt = op.Deadline, op.CreatedAt, op.UpdatedAt
			deepEqual(t, name, got, op)
		}
		_, err := s.GetOperation(bg, op.ID+100)
		wantErr(t, "GetOperation of an unknown id", err, storage.ErrNotFound)
		_, err = s.OperationByCorrelator(bg, "d1", "other")
		wantErr(t, "OperationByCorrelator of an unknown correlator", err, storage.ErrNotFound)
		_, err = s.OperationByCorrelator(bg, "d2", "c1")
		wantErr(t, "OperationByCorrelator of another device", err, storage.ErrNotFound)
	}},
	{"CorrelatorIsUniquePerDevice", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		mustDevice(t, s, "d2")
		newOp(t, s, "d1", "c1", time.Time{})
		err := s.CreateOperation(bg, &storage.Operation{DeviceID: "d1", MO: "exec", Name: "Exec", Correlator: "c1"})
		wantErr(t, "second operation with the correlator", err, storage.ErrExists)
		newOp(t, s, "d2", "c1", time.Time{}) // another device may use it
		err = s.CreateOperation(bg, &storage.Operation{DeviceID: "nope", MO: "exec", Name: "Exec", Correlator: "c9"})
		wantErr(t, "operation of an unknown device", err, storage.ErrNotFound)
	}},
	{"ListFiltersByDeviceAndStateInIDOrderWithPaging", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		mustDevice(t, s, "d2")
		a := newOp(t, s, "d1", "a", time.Time{})
		b := newOp(t, s, "d2", "b", time.Time{})
		c := newOp(t, s, "d1", "c", time.Time{})
		c.State, c.DoneAt = storage.OpSucceeded, time.Now()
		check(t, "TransitionOperation", s.TransitionOperation(bg, c, storage.OpOpen...))
		cases := []struct {
			name string
			f    storage.OperationFilter
			want []int64
		}{
			{"all", storage.OperationFilter{}, []int64{a.ID, b.ID, c.ID}},
			{"device", storage.OperationFilter{DeviceID: "d1"}, []int64{a.ID, c.ID}},
			{"open", storage.OperationFilter{States: storage.OpOpen}, []int64{a.ID, b.ID}},
			{"device and state", storage.OperationFilter{DeviceID: "d1", States: []storage.OpState{storage.OpSucceeded}}, []int64{c.ID}},
			{"page", storage.OperationFilter{AfterID: a.ID, Limit: 1}, []int64{b.ID}},
		}
		for _, tc := range cases {
			got, err := s.ListOperations(bg, tc.f)
			check(t, tc.name, err)
			deepEqual(t, tc.name, opIDs(got), tc.want)
		}
	}},
	{"TransitionIsConditionalOnTheStoredState", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Time{})
		op.State, op.ExecStatus = storage.OpAccepted, 202
		check(t, "queued → accepted", s.TransitionOperation(bg, op, storage.OpQueued, storage.OpSent))
		op.State, op.Result, op.ResultData, op.EventID, op.DoneAt = storage.OpSucceeded, 200, "200", 7, time.Now()
		check(t, "accepted → succeeded", s.TransitionOperation(bg, op, storage.OpOpen...))
		again := *op
		again.State = storage.OpTimedOut
		wantErr(t, "succeeded → timed_out", s.TransitionOperation(bg, &again, storage.OpOpen...), storage.ErrConflict)
		got, err := s.GetOperation(bg, op.ID)
		check(t, "GetOperation", err)
		if got.State != storage.OpSucceeded || got.ExecStatus != 202 || got.Result != 200 || got.ResultData != "200" ||
			got.EventID != 7 || got.DoneAt.IsZero() {
			t.Fatalf("stored %+v", got)
		}
		gone := storage.Operation{ID: op.ID + 100, State: storage.OpFailed}
		wantErr(t, "unknown operation", s.TransitionOperation(bg, &gone, storage.OpOpen...), storage.ErrNotFound)
	}},
	{"ConcurrentTransitionsOfOneOperationLetExactlyOneWin", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Time{})
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := *op
				c.State, c.Error = storage.OpTimedOut, "no report"
				errs[i] = s.TransitionOperation(bg, &c, storage.OpOpen...)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("transition: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d transitions won, want exactly 1", won)
		}
	}},
	{"ExpiredReturnsOpenOperationsPastTheirDeadline", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		base := time.Now().UTC().Truncate(time.Second)
		late := newOp(t, s, "d1", "late", base.Add(-time.Minute))
		early := newOp(t, s, "d1", "early", base.Add(-time.Hour))
		newOp(t, s, "d1", "future", base.Add(time.Hour))
		newOp(t, s, "d1", "none", time.Time{})
		done := newOp(t, s, "d1", "done", base.Add(-time.Hour))
		done.State = storage.OpFailed
		check(t, "TransitionOperation", s.TransitionOperation(bg, done, storage.OpOpen...))
		got, err := s.ExpiredOperations(bg, base, 0)
		check(t, "ExpiredOperations", err)
		deepEqual(t, "expired", opIDs(got), []int64{early.ID, late.ID})
		got, err = s.ExpiredOperations(bg, base, 1)
		check(t, "ExpiredOperations limit 1", err)
		deepEqual(t, "expired limit 1", opIDs(got), []int64{early.ID})
	}},
	{"EventsByCorrelatorFindsTheDevicesReports", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		mustDevice(t, s, "d2")
		var want []int64
		for i, e := range []*storage.Event{
			{DeviceID: "d1", Kind: "generic-alert", Correlator: "c1", Data: "200"},
			{DeviceID: "d1", Kind: "generic-alert", Correlator: "c2"},
			{DeviceID: "d2", Kind: "generic-alert", Correlator: "c1"},
			{DeviceID: "d1", Kind: "generic-alert"},
			{DeviceID: "d1", Kind: "generic-alert", Correlator: "c1", Data: "410"},
		} {
			check(t, "AddEvent", s.AddEvent(bg, e))
			if i == 0 || i == 4 {
				want = append(want, e.ID)
			}
		}
		got, err := s.EventsByCorrelator(bg, "d1", "c1")
		check(t, "EventsByCorrelator", err)
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		deepEqual(t, "events", ids, want)
		if got[1].Data != "410" {
			t.Errorf("second report data %q", got[1].Data)
		}
		none, err := s.EventsByCorrelator(bg, "d1", "")
		check(t, "EventsByCorrelator empty", err)
		if len(none) != 0 {
			t.Errorf("empty correlator matched %d events", len(none))
		}
	}},
	{"DeleteDeviceRemovesItsOperations", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		op := newOp(t, s, "d1", "c1", time.Time{})
		check(t, "DeleteDevice", s.DeleteDevice(bg, "d1"))
		_, err := s.GetOperation(bg, op.ID)
		wantErr(t, "GetOperation after DeleteDevice", err, storage.ErrNotFound)
		mustDevice(t, s, "d1")
		newOp(t, s, "d1", "c1", time.Time{}) // the correlator is free again
	}},
	{"InsideABatchOperationsAreWrittenAndReadInTheUnit", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d1")
		var id int64
		err := storage.InBatch(bg, s, func(in storage.Store) error {
			j := &storage.Job{DeviceID: "d1", Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./X"}}}}
			if err := in.CreateJob(bg, j); err != nil {
				return err
			}
			op := &storage.Operation{DeviceID: "d1", MO: "exec", Name: "Exec", Correlator: "c1", JobID: j.ID}
			if err := in.CreateOperation(bg, op); err != nil {
				return err
			}
			id = op.ID
			got, err := in.OperationByJob(bg, j.ID)
			if err != nil || got.ID != op.ID {
				t.Errorf("OperationByJob inside the batch: %v %v", got, err)
			}
			return nil
		})
		check(t, "Batch", err)
		_, err = s.GetOperation(bg, id)
		check(t, "GetOperation after the batch", err)
	}},
}
