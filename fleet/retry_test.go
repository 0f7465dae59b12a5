package fleet_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// noJitter makes every retry's pause the policy's own.
func noJitter(d time.Duration) time.Duration { return d }

// retryNode is a node whose retries have no jitter, with one device d1.
func retryNode(t *testing.T, st storage.Store, clk *clock) *node {
	t.Helper()
	if _, err := st.GetDevice(bg, "d1"); errors.Is(err, storage.ErrNotFound) {
		if err := st.CreateDevice(bg, &storage.Device{ID: "d1", AuthScheme: "md5", Username: "u", Password: "p", NotifyAddr: "udp://127.0.0.1:9"}); err != nil {
			t.Fatal(err)
		}
	}
	return newNodeWith(t, fleet.Options{Store: st, Now: clk.Now, Jitter: noJitter}, clk, "n", &notifier{})
}

func (x *node) op(t *testing.T, id int64) *storage.Operation {
	t.Helper()
	op, err := x.st.GetOperation(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// answer stores the device's status for the Exec of op's current attempt
// (inside its Sequence when it has one) and tells the Manager.
func (x *node) answer(t *testing.T, id int64, status int) {
	t.Helper()
	x.m.Observe(server.Update{Kind: "job", JobID: x.storeAnswer(t, id, status)})
}

// storeAnswer stores what answer does without telling the Manager, and
// returns the job's ID.
func (x *node) storeAnswer(t *testing.T, id int64, status int) int64 {
	t.Helper()
	op := x.op(t, id)
	j, err := x.st.GetJob(bg, op.JobID)
	if err != nil {
		t.Fatal(err)
	}
	j.State, j.Status = storage.JobDone, status
	if j.Spec.Command == "Sequence" {
		j.Status, j.ChildStatus = 200, []int{200, status}
	}
	if status >= 300 {
		j.State = storage.JobFailed
	}
	if err := x.st.UpdateJob(bg, j); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// reportWith stores a 1226 report carrying correlator and tells the
// Manager, as the engine does.
func (x *node) reportWith(t *testing.T, correlator, typ, data string) {
	t.Helper()
	ev := &storage.Event{DeviceID: "d1", Kind: "generic-alert", Type: typ, Data: data, Correlator: correlator}
	if err := x.st.AddEvent(bg, ev); err != nil {
		t.Fatal(err)
	}
	x.m.Observe(server.Update{Kind: "event", DeviceID: "d1", EventID: ev.ID, EventKind: "generic-alert"})
}

func (x *node) attempts(t *testing.T, id int64) []*storage.OperationAttempt {
	t.Helper()
	as, err := x.st.OperationAttempts(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (x *node) create1(t *testing.T, r fleet.Request) *storage.Operation {
	t.Helper()
	r.DeviceID = "d1"
	op, _, err := x.m.Create(bg, &r)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func wantState(t *testing.T, op *storage.Operation, state storage.OpState, attempt int) {
	t.Helper()
	if op.State != state || op.Attempt != attempt {
		t.Fatalf("operation %s at attempt %d (%q), want %s at attempt %d", op.State, op.Attempt, op.Error, state, attempt)
	}
}

var fumoUpdate = fleet.Request{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw.example/2.bin"}, Timeout: time.Hour}

// A FUMO update whose report never came is made again after the policy's
// backoff, with a new job and correlator; the second attempt's report ends
// it (OMA-TS-DM-FUMO-V1_0: the device does not retry by itself).
func TestRetry_TimeoutThenRetryThenSuccess(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		clk := newClock()
		x := retryNode(t, b.open(t), clk)
		op := x.create1(t, fumoUpdate)
		if op.MaxAttempts != 3 || op.Backoff != 5*time.Minute || op.Timeout != time.Hour {
			t.Fatalf("created with %d attempts, backoff %s, timeout %s: want FUMO's 3, 5m and the request's 1h", op.MaxAttempts, op.Backoff, op.Timeout)
		}
		first := *op
		x.answer(t, op.ID, 202)
		x.step(t, 0)
		wantState(t, x.op(t, op.ID), storage.OpAccepted, 1)

		x.step(t, time.Hour+time.Second)
		w := x.op(t, op.ID)
		wantState(t, w, storage.OpRetryWait, 1)
		if !w.Deadline.Equal(clk.Now().Add(5 * time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("next attempt at %s, want the backoff 5m after %s", w.Deadline, clk.Now())
		}
		if !strings.Contains(w.Error, "attempt 1 of 3 timed out") {
			t.Errorf("retry_wait error %q", w.Error)
		}
		if j, _ := x.st.GetJob(bg, first.JobID); j.State != storage.JobDone {
			t.Errorf("the accepted attempt's job is %s, want it left done", j.State)
		}

		x.step(t, 5*time.Minute-time.Second)
		wantState(t, x.op(t, op.ID), storage.OpRetryWait, 1) // not yet due
		x.step(t, 2*time.Second)
		a2 := x.op(t, op.ID)
		wantState(t, a2, storage.OpQueued, 2)
		if a2.Correlator != first.Correlator+"#2" || a2.JobID == first.JobID || a2.ExecStatus != 0 || a2.Error != "" {
			t.Fatalf("attempt 2: %+v", a2)
		}
		j2, err := x.st.GetJob(bg, a2.JobID)
		if err != nil || j2.State != storage.JobQueued || j2.Spec.Children[1].Correlator != a2.Correlator ||
			j2.Spec.Children[0].Items[0].Data != "http://fw.example/2.bin" {
			t.Fatalf("attempt 2's job: %+v, %v", j2, err)
		}

		x.answer(t, op.ID, 202)
		x.reportWith(t, a2.Correlator, fumo.AlertDownloadAndUpdate, "200")
		x.step(t, 0)
		done := x.op(t, op.ID)
		wantState(t, done, storage.OpSucceeded, 2)
		if done.Result != 200 || done.MaxAttempts != 3 {
			t.Fatalf("succeeded with %+v", done)
		}
		as := x.attempts(t, op.ID)
		if len(as) != 1 || as[0].Attempt != 1 || as[0].State != storage.OpTimedOut || as[0].JobID != first.JobID ||
			as[0].Correlator != first.Correlator || as[0].ExecStatus != 202 {
			t.Fatalf("history %+v: want attempt 1 timed out after its 202", as)
		}
	})
}

// A download that failed for a transient reason (FUMO 503, download failed
// because of the network: OMA-TS-DM-FUMO-V1_0 Result Codes) is retried
// with a doubling backoff until the attempts are spent; then it fails.
func TestRetry_TransientResultRetriedUntilExhaustedThenFailed(t *testing.T) {
	clk := newClock()
	st := memstore.New()
	if err := st.CreateDevice(bg, &storage.Device{ID: "d1", AuthScheme: "md5", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string // every change the Manager announced, in order
	x := newNodeWith(t, fleet.Options{Store: st, Now: clk.Now, Jitter: noJitter, OnChange: func(op *storage.Operation) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s/%d", op.State, op.Attempt))
		mu.Unlock()
	}}, clk, "n", &notifier{})
	op := x.create1(t, fumoUpdate)
	backoff := 5 * time.Minute
	for attempt := 1; attempt <= 3; attempt++ {
		cur := x.op(t, op.ID)
		wantState(t, cur, storage.OpQueued, attempt)
		// The Exec's 202 and the report are both stored before the
		// Manager hears of either, so that it never sees the one without
		// the other (it would announce accepted first).
		job := x.storeAnswer(t, op.ID, 202)
		x.reportWith(t, cur.Correlator, fumo.AlertDownloadAndUpdate, "503")
		x.m.Observe(server.Update{Kind: "job", JobID: job})
		x.step(t, 0)
		if attempt == 3 {
			break
		}
		w := x.op(t, op.ID)
		wantState(t, w, storage.OpRetryWait, attempt)
		if got := w.Deadline.Sub(clk.Now()); got != backoff {
			t.Fatalf("pause before attempt %d: %s, want %s", attempt+1, got, backoff)
		}
		x.step(t, backoff+time.Second)
		backoff *= 2
	}
	end := x.op(t, op.ID)
	wantState(t, end, storage.OpFailed, 3)
	if end.Result != 503 || !strings.Contains(end.Error, "503") || end.DoneAt.IsZero() {
		t.Fatalf("ended %+v", end)
	}
	as := x.attempts(t, op.ID)
	if len(as) != 2 || as[0].Result != 503 || as[1].Result != 503 || as[0].State != storage.OpFailed || as[0].EventID == 0 {
		t.Fatalf("history %+v: want attempts 1 and 2 failed with 503", as)
	}
	x.step(t, 24*time.Hour)
	if js, _ := x.st.ListJobs(bg, storage.JobFilter{DeviceID: "d1"}); len(js) != 3 {
		t.Fatalf("%d jobs, want one per attempt (3)", len(js))
	}
	mu.Lock()
	defer mu.Unlock()
	want := "queued/1 retry_wait/1 queued/2 retry_wait/2 queued/3 failed/3" // the report moves each attempt on at once
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("announced changes\n%s\nwant\n%s", got, want)
	}
}

// What the policy does not list ends the operation at the first attempt:
// a device's explicit refusal or a failure the same request would meet
// again.
func TestRetry_NonRetryableOutcomesFailAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		r     fleet.Request
		do    func(t *testing.T, x *node, op *storage.Operation)
		state storage.OpState
	}{
		{"fumo update failed (410)", fumoUpdate, func(t *testing.T, x *node, op *storage.Operation) {
			x.answer(t, op.ID, 202)
			x.reportWith(t, op.Correlator, fumo.AlertDownloadAndUpdate, "410")
		}, storage.OpFailed},
		{"fumo exec refused (405)", fumoUpdate, func(t *testing.T, x *node, op *storage.Operation) {
			x.answer(t, op.ID, 405)
		}, storage.OpFailed},
		{"lawmo wipe reported failed (1405)", fleet.Request{MO: "lawmo", Operation: "wipe"}, func(t *testing.T, x *node, op *storage.Operation) {
			x.answer(t, op.ID, 202)
			x.reportWith(t, op.Correlator, lawmo.AlertOperationComplete, "1405")
		}, storage.OpFailed},
		{"lawmo with max_attempts 1 times out", fleet.Request{MO: "lawmo", Operation: "lock", Timeout: time.Minute,
			Retry: &fleet.RetryOverride{MaxAttempts: 1}}, func(t *testing.T, x *node, op *storage.Operation) {
			x.step(t, 2*time.Minute)
		}, storage.OpTimedOut},
		{"generic exec times out (not retried by default)", fleet.Request{MO: "exec", Node: "./Vendor/Reboot", Timeout: time.Minute},
			func(t *testing.T, x *node, op *storage.Operation) { x.step(t, 2*time.Minute) }, storage.OpTimedOut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := retryNode(t, memstore.New(), newClock())
			op := x.create1(t, tc.r)
			tc.do(t, x, op)
			x.step(t, 0)
			wantState(t, x.op(t, op.ID), tc.state, 1)
			if as := x.attempts(t, op.ID); len(as) != 0 {
				t.Fatalf("history %+v, want none", as)
			}
		})
	}
}

// An operation waiting for its next attempt can be cancelled; no attempt
// starts after that.
func TestRetry_CancelDuringRetryWait(t *testing.T) {
	x := retryNode(t, memstore.New(), newClock())
	op := x.create1(t, fleet.Request{MO: "lawmo", Operation: "lock", Timeout: time.Minute})
	x.step(t, 2*time.Minute)
	wantState(t, x.op(t, op.ID), storage.OpRetryWait, 1)
	c, err := x.m.Cancel(bg, op.ID)
	if err != nil || c.State != storage.OpCancelled {
		t.Fatalf("cancel in retry_wait: %+v, %v", c, err)
	}
	x.step(t, time.Hour)
	wantState(t, x.op(t, op.ID), storage.OpCancelled, 1)
	if js, _ := x.st.ListJobs(bg, storage.JobFilter{DeviceID: "d1"}); len(js) != 1 {
		t.Fatalf("%d jobs after the cancel, want the first attempt's only", len(js))
	}
}

// A report of an attempt that already ended (it came after the timeout)
// is kept on that attempt, whether it comes while the operation waits for
// its next attempt or after that started; it never changes the operation,
// so one device's outcome is counted once.
func TestRetry_LateReportOfAnEarlierAttemptIsKeptAndNotCounted(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		x := retryNode(t, b.open(t), newClock())
		op := x.create1(t, fumoUpdate)
		x.answer(t, op.ID, 202)
		x.step(t, time.Hour+time.Second)
		wantState(t, x.op(t, op.ID), storage.OpRetryWait, 1)

		x.reportWith(t, op.Correlator, fumo.AlertDownloadAndUpdate, "200") // attempt 1's, late
		x.step(t, 0)
		wantState(t, x.op(t, op.ID), storage.OpRetryWait, 1)
		as := x.attempts(t, op.ID)
		if len(as) != 1 || !as[0].Late || as[0].Result != 200 || as[0].EventID == 0 {
			t.Fatalf("history after the late report: %+v", as)
		}

		x.step(t, 5*time.Minute+time.Second)
		a2 := x.op(t, op.ID)
		wantState(t, a2, storage.OpQueued, 2)
		x.reportWith(t, op.Correlator, fumo.AlertDownloadAndUpdate, "410") // attempt 1's again
		x.step(t, 0)
		wantState(t, x.op(t, op.ID), storage.OpQueued, 2)
		if as := x.attempts(t, op.ID); as[0].Result != 200 {
			t.Fatalf("a second late report replaced the first: %+v", as[0])
		}

		x.answer(t, op.ID, 202)
		x.reportWith(t, a2.Correlator, fumo.AlertDownloadAndUpdate, "200")
		x.step(t, 0)
		done := x.op(t, op.ID)
		wantState(t, done, storage.OpSucceeded, 2)
		if done.EventID == as[0].EventID {
			t.Fatal("the operation took attempt 1's late report as its result")
		}
	})
}

// Two server nodes on one database both find the operation due: one
// starts its next attempt (one job), the other's batch rolls back.
func TestRetry_TwoNodesNeverBothStartTheNextAttempt(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		clk := newClock()
		x1 := retryNode(t, b.open(t), clk)
		x2 := retryNode(t, b.open(t), clk)
		op := x1.create1(t, fleet.Request{MO: "exec", Node: "./Vendor/Reboot", Timeout: time.Minute,
			Retry: &fleet.RetryOverride{MaxAttempts: 3, Backoff: time.Minute}})
		both := func(d time.Duration) {
			clk.Add(d)
			var wg sync.WaitGroup
			for _, x := range []*node{x1, x2} {
				wg.Go(func() {
					select {
					case x.tick <- clk.Now():
					case <-time.After(20 * time.Second): // bounds a hang only
						t.Error("the scheduler took no tick")
						return
					}
					x.wait(t)
				})
			}
			wg.Wait()
		}
		both(2 * time.Minute)
		wantState(t, x1.op(t, op.ID), storage.OpRetryWait, 1)
		both(2 * time.Minute)
		wantState(t, x1.op(t, op.ID), storage.OpQueued, 2)
		js, err := x1.st.ListJobs(bg, storage.JobFilter{DeviceID: "d1"})
		if err != nil || len(js) != 2 {
			t.Fatalf("%d jobs (%v), want attempt 1's and one for attempt 2", len(js), err)
		}
		if as := x1.attempts(t, op.ID); len(as) != 1 {
			t.Fatalf("history %+v, want attempt 1 once", as)
		}
	})
}

// A campaign counts a device failed or timed out only once its retries are
// spent: in retry_wait it is in progress, and its next attempt notifies
// the device again.
func TestRetry_CampaignCountsFinalOutcomesOnly(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		clk := newClock()
		st := b.open(t)
		n := &notifier{}
		x := newNodeWith(t, fleet.Options{Store: st, Now: clk.Now, Jitter: noJitter}, clk, "n1", n)
		ids := mkDevices(t, st, 1)
		tmpl := rebootTemplate
		tmpl.Retry = &fleet.RetryOverride{MaxAttempts: 2, Backoff: time.Minute}
		camp := create(t, x, fleet.CampaignRequest{Template: tmpl, Target: fleet.Target{Devices: ids},
			Policy: fleet.Policy{RenotifyInterval: time.Hour, MaxNotifies: 5}})
		x.step(t, time.Second)
		if got := n.count(ids[0]); got != 1 {
			t.Fatalf("notifications %d, want 1", got)
		}
		x.step(t, 2*time.Minute) // attempt 1 times out
		x.step(t, time.Second)
		c, counts := x.get(t, camp.ID)
		if c.State != storage.CampaignRunning || counts[storage.TargetInProgress] != 1 || counts[storage.TargetTimedOut] != 0 {
			t.Fatalf("campaign %s with %v during retry_wait, want running with the device in progress", c.State, counts)
		}
		x.step(t, time.Minute) // attempt 2 starts
		x.step(t, time.Second)
		if got := n.count(ids[0]); got != 2 {
			t.Fatalf("notifications %d, want a second for attempt 2", got)
		}
		x.finish(t, ids[0], 200)
		x.step(t, time.Second)
		x.step(t, time.Second)
		c, counts = x.get(t, camp.ID)
		if c.State != storage.CampaignCompleted || counts[storage.TargetSucceeded] != 1 {
			t.Fatalf("campaign %s with %v, want completed with the device succeeded", c.State, counts)
		}
		if got := x.opCount(t)[ids[0]]; got != 1 {
			t.Fatalf("%d operations for the device, want 1 (attempts are not operations)", got)
		}
	})
}

// A request may change the attempts and pauses within bounds; a bad value
// is refused naming its field.
func TestPlan_RetryOverrideBounds(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		retry fleet.RetryOverride
		field string
	}{
		{"too many attempts", fleet.RetryOverride{MaxAttempts: 11}, "retry.max_attempts"},
		{"negative attempts", fleet.RetryOverride{MaxAttempts: -1}, "retry.max_attempts"},
		{"backoff below a second", fleet.RetryOverride{Backoff: time.Millisecond}, "retry.backoff"},
		{"backoff above a day", fleet.RetryOverride{Backoff: 25 * time.Hour}, "retry.backoff"},
		{"cap below the backoff", fleet.RetryOverride{Backoff: time.Hour, MaxBackoff: time.Minute}, "retry.max_backoff"},
		{"backoff above the MO's cap", fleet.RetryOverride{Backoff: 2 * time.Hour}, "retry.backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fleet.Request{DeviceID: "d1", MO: "fumo", Params: map[string]any{"pkg_url": "http://x"}, Retry: &tc.retry}
			_, _, err := e.m.Create(bg, &r)
			var fe *fleet.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
	op, _ := e.create(t, fleet.Request{MO: "lawmo", Operation: "lock", Retry: &fleet.RetryOverride{MaxAttempts: 5, Backoff: 10 * time.Second, MaxBackoff: 2 * time.Hour}})
	if op.MaxAttempts != 5 || op.Backoff != 10*time.Second || op.MaxBackoff != 2*time.Hour {
		t.Fatalf("override stored as %d attempts, backoff %s up to %s", op.MaxAttempts, op.Backoff, op.MaxBackoff)
	}
}
