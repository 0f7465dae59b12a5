package fleet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

var bg = context.Background()

type env struct {
	st      *memstore.Store
	m       *fleet.Manager
	now     time.Time
	changes chan storage.Operation
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{st: memstore.New(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), changes: make(chan storage.Operation, 256)}
	m, err := fleet.New(fleet.Options{Store: e.st, Now: func() time.Time { return e.now },
		OnChange: func(op *storage.Operation) { e.changes <- *op }})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	if err := e.st.CreateDevice(bg, &storage.Device{ID: "d1", AuthScheme: "md5", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) create(t *testing.T, r fleet.Request) (*storage.Operation, *storage.Job) {
	t.Helper()
	r.DeviceID = "d1"
	op, j, err := e.m.Create(bg, &r)
	if err != nil {
		t.Fatal(err)
	}
	return op, j
}

// waitState waits for op id's change event to state.
func (e *env) waitState(t *testing.T, id int64, state storage.OpState) storage.Operation {
	t.Helper()
	timeout := time.After(10 * time.Second) // bounds a hang only
	for {
		select {
		case op := <-e.changes:
			if op.ID == id && op.State == state {
				return op
			}
		case <-timeout:
			t.Fatalf("operation %d did not reach %s", id, state)
		}
	}
}

func TestPlan_RefusesBadRequestsNamingTheField(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		r     fleet.Request
		field string
	}{
		{"unknown mo", fleet.Request{MO: "nosuchmo"}, "mo"},
		{"unknown operation", fleet.Request{MO: "fumo", Operation: "reboot", Params: map[string]any{"pkg_url": "http://x"}}, "operation"},
		{"lawmo needs an operation", fleet.Request{MO: "lawmo"}, "operation"},
		{"missing required parameter", fleet.Request{MO: "fumo"}, "params.pkg_url"},
		{"parameter the operation does not take", fleet.Request{MO: "fumo", Operation: "update", Params: map[string]any{"pkg_url": "http://x"}}, "params.pkg_url"},
		{"unknown parameter", fleet.Request{MO: "lawmo", Operation: "lock", Params: map[string]any{"colour": "red"}}, "params.colour"},
		{"bool parameter not a bool", fleet.Request{MO: "lawmo", Operation: "lock", Params: map[string]any{"notify_user": "yes"}}, "params.notify_user"},
		{"list parameter not a list", fleet.Request{MO: "lawmo", Operation: "wipe", Params: map[string]any{"wipe_items": "1"}}, "params.wipe_items"},
		{"list item with a slash", fleet.Request{MO: "lawmo", Operation: "wipe", Params: map[string]any{"wipe_items": []any{"1/../x"}}}, "params.wipe_items[0]"},
		{"relative node", fleet.Request{MO: "fumo", Node: "FwUpdate", Params: map[string]any{"pkg_url": "http://x"}}, "node"},
		{"node with dot segment", fleet.Request{MO: "fumo", Node: "./A/../B", Params: map[string]any{"pkg_url": "http://x"}}, "node"},
		{"exec without node", fleet.Request{MO: "exec"}, "node"},
		{"exec with unknown parameter", fleet.Request{MO: "exec", Node: "./X", Params: map[string]any{"pkg_url": "x"}}, "params.pkg_url"},
		{"negative timeout", fleet.Request{MO: "lawmo", Operation: "lock", Timeout: -time.Second}, "timeout"},
		{"timeout too long", fleet.Request{MO: "lawmo", Operation: "lock", Timeout: 31 * 24 * time.Hour}, "timeout"},
		{"correlator with a bidi override", fleet.Request{MO: "lawmo", Operation: "lock", Correlator: "c\u202e1"}, "correlator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.DeviceID = "d1"
			_, _, err := e.m.Create(bg, &r)
			var fe *fleet.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want a FieldError on %s", err, tc.field)
			}
			if err := fleet.Validate(r); err == nil {
				t.Fatal("Validate accepts what Create refuses")
			}
		})
	}
	ops, _ := e.st.ListOperations(bg, storage.OperationFilter{})
	js, _ := e.st.ListJobs(bg, storage.JobFilter{})
	if len(ops) != 0 || len(js) != 0 {
		t.Fatalf("refused requests stored %d operations and %d jobs", len(ops), len(js))
	}
}

// The descriptors decide what is Replaced and Executed: a Sequence of the
// parameters' Replaces and the Exec (OMA-TS-DM_RepPro-V1_2, Sequence:
// members run in order, so the Exec never runs after a refused Replace).
func TestCreate_BuildsTheJobFromTheMODescriptor(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		r       fleet.Request
		replace []string // Replace targets, in order
		exec    string
		timeout time.Duration
	}{
		{"fumo default", fleet.Request{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw/2.bin"}},
			[]string{"./FwUpdate/Default/DownloadAndUpdate/PkgURL"}, "./FwUpdate/Default/DownloadAndUpdate", 24 * time.Hour},
		{"fumo update alone on another node", fleet.Request{MO: "FUMO", Operation: "update", Node: "./FwUpdate/Main/"},
			nil, "./FwUpdate/Main/Update", 24 * time.Hour},
		{"lawmo wipe", fleet.Request{MO: "lawmo", Operation: "Wipe", Params: map[string]any{"notify_user": true, "wipe_items": []string{"1", "2"}}},
			[]string{"./LAWMO/LAWMOConfig/NotifyUser", "./LAWMO/AvailableWipeList/1/ToBeWiped", "./LAWMO/AvailableWipeList/2/ToBeWiped"},
			"./LAWMO/Operations/Wipe", time.Hour},
		{"lawmo lock with a timeout", fleet.Request{MO: "lawmo", Operation: "lock", Timeout: 5 * time.Minute}, nil, "./LAWMO/Operations/FullyLock", 5 * time.Minute},
		{"generic exec", fleet.Request{MO: "exec", Node: "./Vendor/Reboot", Params: map[string]any{"data": "now"}}, nil, "./Vendor/Reboot", time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, j := e.create(t, tc.r)
			exec := j.Spec
			if len(tc.replace) > 0 {
				if j.Spec.Command != "Sequence" || len(j.Spec.Children) != 2 || j.Spec.Children[0].Command != "Replace" {
					t.Fatalf("job %+v: want a Sequence of a Replace and the Exec", j.Spec)
				}
				var got []string
				for _, it := range j.Spec.Children[0].Items {
					got = append(got, it.URI)
				}
				if strings.Join(got, " ") != strings.Join(tc.replace, " ") {
					t.Fatalf("Replaces %v, want %v", got, tc.replace)
				}
				exec = j.Spec.Children[1]
			}
			if exec.Command != "Exec" || exec.Items[0].URI != tc.exec || exec.Correlator != op.Correlator || op.Correlator == "" {
				t.Fatalf("exec %+v, operation correlator %q", exec, op.Correlator)
			}
			if got := op.Deadline.Sub(e.now); got != tc.timeout {
				t.Errorf("timeout %s, want %s", got, tc.timeout)
			}
			if op.JobID != j.ID || op.State != storage.OpQueued {
				t.Errorf("operation %+v", op)
			}
		})
	}
	_, _, err := e.m.Create(bg, &fleet.Request{DeviceID: "nope", MO: "lawmo", Operation: "lock"})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown device: %v", err)
	}
	e.create(t, fleet.Request{MO: "lawmo", Operation: "lock", Correlator: "same"})
	_, _, err = e.m.Create(bg, &fleet.Request{DeviceID: "d1", MO: "lawmo", Operation: "unlock", Correlator: "same"})
	if !errors.Is(err, storage.ErrExists) {
		t.Errorf("second operation with a correlator: %v", err)
	}
}

// finish stores what the engine would after the device answered op's job:
// the Exec's status (and, in a Sequence, the Replaces').
func finish(t *testing.T, st storage.Store, j *storage.Job, state storage.JobState, statuses ...int) {
	t.Helper()
	j.State, j.DoneAt = state, time.Now()
	if j.Spec.Command == "Sequence" {
		j.Status, j.ChildStatus = 200, statuses
		if state == storage.JobFailed {
			j.Status = 500
		}
	} else {
		j.Status = statuses[0]
	}
	if err := st.UpdateJob(bg, j); err != nil {
		t.Fatal(err)
	}
}

func report(t *testing.T, st storage.Store, op *storage.Operation, typ, data string) {
	t.Helper()
	if err := st.AddEvent(bg, &storage.Event{DeviceID: op.DeviceID, Kind: "generic-alert", Type: typ, Data: data, Correlator: op.Correlator}); err != nil {
		t.Fatal(err)
	}
}

// How the job's outcome and the device's report move an operation
// (OMA-TS-DM_RepPro-V1_2: 202 to an Exec means accepted for processing, the
// result follows in a 1226 generic alert; 200 means done).
func TestAdvance_FollowsTheJobAndTheReport(t *testing.T) {
	fumoReq := fleet.Request{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw/2.bin"}}
	tests := []struct {
		name   string
		r      fleet.Request
		do     func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job)
		state  storage.OpState
		result int
		errHas string
	}{
		{"sent", fumoReq, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			j.State = storage.JobSent
			st.UpdateJob(bg, j)
		}, storage.OpSent, 0, ""},
		{"accepted 202", fumoReq, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 200, 202)
		}, storage.OpAccepted, 0, ""},
		{"synchronous 200", fleet.Request{MO: "exec", Node: "./Vendor/Reboot"}, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 200)
		}, storage.OpSucceeded, 0, ""},
		{"exec refused", fleet.Request{MO: "lawmo", Operation: "lock"}, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobFailed, 405)
		}, storage.OpFailed, 0, "refused the Exec (status 405)"},
		{"parameter refused", fumoReq, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobFailed, 404, 215)
		}, storage.OpFailed, 0, "refused the operation's parameters"},
		{"job cancelled directly", fumoReq, func(t *testing.T, st storage.Store, _ *storage.Operation, j *storage.Job) {
			st.CancelJob(bg, j.ID)
		}, storage.OpCancelled, 0, "cancelled"},
		{"successful report", fumoReq, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 200, 202)
			report(t, st, op, fumo.AlertDownloadAndUpdate, "200")
		}, storage.OpSucceeded, 200, ""},
		{"failed report", fumoReq, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 200, 202)
			report(t, st, op, fumo.AlertDownloadAndUpdate, "410")
		}, storage.OpFailed, 410, "410 (firmware update failed)"},
		{"report before the Exec's status", fleet.Request{MO: "lawmo", Operation: "lock"}, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			report(t, st, op, lawmo.AlertOperationComplete, "1200")
		}, storage.OpSucceeded, 1200, ""},
		{"an alert with the correlator that is not a report", fumoReq, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 200, 202)
			report(t, st, op, fumo.AlertDeviceRequest, "")
		}, storage.OpAccepted, 0, ""},
		{"report without a result code", fleet.Request{MO: "lawmo", Operation: "lock"}, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 202)
			report(t, st, op, lawmo.AlertOperationComplete, "done")
		}, storage.OpFailed, 0, "not a result code"},
		{"generic exec report", fleet.Request{MO: "exec", Node: "./Vendor/Reboot"}, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 202)
			report(t, st, op, "com.vendor.reboot", "1200")
		}, storage.OpSucceeded, 1200, ""},
		{"generic exec failure report", fleet.Request{MO: "exec", Node: "./Vendor/Reboot"}, func(t *testing.T, st storage.Store, op *storage.Operation, j *storage.Job) {
			finish(t, st, j, storage.JobDone, 202)
			report(t, st, op, "com.vendor.reboot", "500")
		}, storage.OpFailed, 500, "reported 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			op, j := e.create(t, tc.r)
			tc.do(t, e.st, op, j)
			if err := e.m.JobChanged(bg, j.ID); err != nil {
				t.Fatal(err)
			}
			got, err := e.m.Get(bg, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.state || got.Result != tc.result || !strings.Contains(got.Error, tc.errHas) {
				t.Fatalf("operation %s result %d error %q, want %s %d %q", got.State, got.Result, got.Error, tc.state, tc.result, tc.errHas)
			}
			if got.State.Terminal() && got.DoneAt.IsZero() {
				t.Error("ended without DoneAt")
			}
			if tc.result != 0 && got.EventID == 0 {
				t.Error("a report without its event")
			}
		})
	}
}

// Cancelling an accepted operation marks it cancelled; the device may still
// report, which is kept as an event but does not change the operation.
func TestCancel_AcceptedOperationStaysCancelledWhenALateReportComes(t *testing.T) {
	e := newEnv(t)
	op, j := e.create(t, fleet.Request{MO: "lawmo", Operation: "lock"})
	finish(t, e.st, j, storage.JobDone, 202)
	if err := e.m.JobChanged(bg, j.ID); err != nil {
		t.Fatal(err)
	}
	c, err := e.m.Cancel(bg, op.ID)
	if err != nil || c.State != storage.OpCancelled || c.ExecStatus != 202 {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	report(t, e.st, op, lawmo.AlertOperationComplete, "1200")
	if err := e.m.JobChanged(bg, j.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.m.Refresh(bg, op.ID); got.State != storage.OpCancelled || got.Result != 0 {
		t.Fatalf("after a late report: %+v", got)
	}
	if _, err := e.m.Cancel(bg, op.ID); !errors.Is(err, fleet.ErrFinished) {
		t.Fatalf("cancel of a cancelled operation: %v", err)
	}
	if _, err := e.m.Cancel(bg, op.ID+99); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("cancel of an unknown operation: %v", err)
	}
}

// Nothing lives only in memory: what happened while no scheduler followed
// (a node crashed between storing a report and moving its operation) is
// found from storage when a scheduler starts.
func TestScheduler_ReconcilesWhatHappenedWhileNoNodeFollowed(t *testing.T) {
	e := newEnv(t)
	op, j := e.create(t, fleet.Request{MO: "lawmo", Operation: "lock"})
	finish(t, e.st, j, storage.JobDone, 202)
	report(t, e.st, op, lawmo.AlertOperationComplete, "1200")
	s := fleet.NewScheduler(e.m, fleet.SchedulerOptions{Tick: make(chan time.Time)})
	s.Start()
	defer s.Close()
	got := e.waitState(t, op.ID, storage.OpSucceeded)
	if got.Result != 1200 || got.ExecStatus != 202 {
		t.Fatalf("reconciled %+v", got)
	}
}

// The engine's live updates move operations through the scheduler's loop.
func TestScheduler_AppliesTheEnginesUpdates(t *testing.T) {
	e := newEnv(t)
	s := fleet.NewScheduler(e.m, fleet.SchedulerOptions{Tick: make(chan time.Time)})
	s.Start()
	defer s.Close()
	op, j := e.create(t, fleet.Request{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw/2.bin"}})
	finish(t, e.st, j, storage.JobDone, 200, 202)
	e.m.Observe(server.Update{Kind: "job", DeviceID: "d1", JobID: j.ID, State: storage.JobDone})
	e.waitState(t, op.ID, storage.OpAccepted)
	ev := &storage.Event{DeviceID: "d1", Kind: "generic-alert", Type: fumo.AlertDownloadAndUpdate, Data: "200", Correlator: op.Correlator}
	if err := e.st.AddEvent(bg, ev); err != nil {
		t.Fatal(err)
	}
	e.m.Observe(server.Update{Kind: "event", DeviceID: "d1", EventID: ev.ID, EventKind: "generic-alert"})
	if got := e.waitState(t, op.ID, storage.OpSucceeded); got.EventID != ev.ID {
		t.Fatalf("succeeded with event %d, want %d", got.EventID, ev.ID)
	}
}

// Observe is called on the engine's path: it never blocks, even when no
// scheduler drains its queue.
func TestObserve_NeverBlocksTheEngine(t *testing.T) {
	e := newEnv(t)
	for i := range 10000 {
		e.m.Observe(server.Update{Kind: "job", JobID: int64(i + 1)})
	}
}

// An accepted operation whose finished job was pruned by job retention
// keeps waiting for its report.
func TestAdvance_AcceptedOperationSurvivesItsJobsRetention(t *testing.T) {
	e := newEnv(t)
	op, j := e.create(t, fleet.Request{MO: "lawmo", Operation: "lock"})
	finish(t, e.st, j, storage.JobDone, 202)
	if err := e.m.JobChanged(bg, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DeleteJobsBefore(bg, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.m.Refresh(bg, op.ID); got.State != storage.OpAccepted {
		t.Fatalf("after its job was pruned: %+v", got)
	}
	report(t, e.st, op, lawmo.AlertOperationComplete, "1402")
	if got, _ := e.m.Refresh(bg, op.ID); got.State != storage.OpFailed || got.Result != 1402 {
		t.Fatalf("after the report: %+v", got)
	}
}

// A report whose live update was lost (the node that stored it crashed)
// is picked up by a running scheduler's sweep.
func TestScheduler_SweepPicksUpAReportWhoseUpdateWasLost(t *testing.T) {
	e := newEnv(t)
	tick := make(chan time.Time)
	s := fleet.NewScheduler(e.m, fleet.SchedulerOptions{Tick: tick})
	s.Start()
	defer s.Close()
	swept(t, s)
	op, j := e.create(t, fleet.Request{MO: "lawmo", Operation: "unlock"})
	finish(t, e.st, j, storage.JobDone, 202)
	report(t, e.st, op, lawmo.AlertOperationComplete, "1200") // no Observe: the update is lost
	tick <- time.Now()
	swept(t, s)
	if got, _ := e.m.Get(bg, op.ID); got.State != storage.OpSucceeded || got.Result != 1200 {
		t.Fatalf("after a sweep: %+v", got)
	}
}

// swept waits for the scheduler's next finished sweep.
func swept(t *testing.T, s *fleet.Scheduler) {
	t.Helper()
	select {
	case <-s.Swept():
	case <-time.After(10 * time.Second): // bounds a hang only
		t.Fatal("no sweep")
	}
}
