package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// clock is the operations' injected clock: timeouts move with Add, not
// with the wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// opsNode is a server node with its operations layer: the engine's live
// updates feed the Manager, its Scheduler runs on a tick the test sends,
// and every stored change of an operation is seen on changes.
type opsNode struct {
	*node
	m       *fleet.Manager
	sched   *fleet.Scheduler
	tick    chan time.Time
	changes chan storage.Operation
}

func startOpsNode(t *testing.T, st storage.Store, clk *clock) *opsNode {
	t.Helper()
	o := &opsNode{tick: make(chan time.Time), changes: make(chan storage.Operation, 1024)}
	m, err := fleet.New(fleet.Options{Store: st, Now: clk.Now, OnChange: func(op *storage.Operation) {
		select {
		case o.changes <- *op:
		default:
			t.Error("operation change channel full")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	o.m = m
	o.node = startNode(t, st, func(so *server.Options, _ *dmhttp.HandlerOptions) { so.OnEvent = m.Observe })
	o.sched = fleet.NewScheduler(m, fleet.SchedulerOptions{Tick: o.tick})
	o.sched.Start()
	t.Cleanup(o.sched.Close)
	o.swept(t) // the sweep Start runs
	return o
}

// swept waits for the scheduler's next finished sweep.
func (o *opsNode) swept(t *testing.T) {
	t.Helper()
	select {
	case <-o.sched.Swept():
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduler did not sweep")
	}
}

// sweep runs one timeout sweep and waits for it.
func (o *opsNode) sweep(t *testing.T) {
	t.Helper()
	select {
	case o.tick <- time.Now():
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduler does not take its tick")
	}
	o.swept(t)
}

// waitState waits for operation id to reach state, as its change events say.
func (o *opsNode) waitState(t *testing.T, id int64, state storage.OpState) storage.Operation {
	t.Helper()
	deadline := time.After(30 * time.Second) // bounds a hang only
	for {
		select {
		case op := <-o.changes:
			if op.ID != id {
				continue
			}
			if op.State == state {
				return op
			}
			if op.State.Terminal() {
				t.Fatalf("operation %d ended %s (%s), want %s", id, op.State, op.Error, state)
			}
		case <-deadline:
			cur, _ := o.m.Get(context.Background(), id)
			t.Fatalf("operation %d did not reach %s; it is %+v", id, state, cur)
		}
	}
}

func (o *opsNode) create(t *testing.T, r fleet.Request) (*storage.Operation, *storage.Job) {
	t.Helper()
	op, j, err := o.m.Create(context.Background(), &r)
	if err != nil {
		t.Fatal(err)
	}
	return op, j
}

// An operation's life end to end (OMA-TS-DM-FUMO-V1_0: the device accepts
// the Exec with 202, updates after the session and reports the result in a
// 1226 generic alert with the Exec's correlator): the server follows the
// job to accepted and attaches the report to the operation and its job.
func TestE2E_FirmwareOperationIsAcceptedThenSucceedsWithTheReportAttached(t *testing.T) {
	image := bytes.Repeat([]byte("firmware image v3\n"), 1024)
	fw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(image) }))
	defer fw.Close()
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		release := make(chan struct{}) // the install ends after the first session: its report goes in the second
		installed := sync.OnceFunc(func() { close(release) })
		obj, err := fumo.Install(a.Tree(), "./FwUpdate/Default", fumo.Config{
			Dir: t.TempDir(), Servers: []string{serverID}, Report: a.Client().QueueAlert,
			Install: func(context.Context, string) fumo.Result { <-release; return fumo.ResultSuccessful },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		t.Cleanup(installed) // runs before obj.Close

		op, j := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "fumo", Params: map[string]any{"pkg_url": fw.URL + "/v3.bin"}})
		if op.State != storage.OpQueued || op.Name != "DownloadAndUpdate" || !strings.HasPrefix(op.Correlator, "fumo-") ||
			j.Spec.Command != "Sequence" || op.Deadline.IsZero() {
			t.Fatalf("created %+v, job %+v", op, j.Spec)
		}
		a.session(t)
		acc := n.waitState(t, op.ID, storage.OpAccepted)
		if acc.ExecStatus != int(syncml.StatusAccepted) {
			t.Fatalf("accepted with Exec status %d", acc.ExecStatus)
		}
		installed()
		obj.Wait()
		a.session(t) // carries the report
		done := n.waitState(t, op.ID, storage.OpSucceeded)
		if done.Result != int(fumo.ResultSuccessful) || done.ResultData != "200" || done.EventID == 0 || done.DoneAt.IsZero() {
			t.Fatalf("succeeded %+v: want the report's 200 and its event", done)
		}

		// The API shows the report on the operation and on its job.
		h, err := handler.New(handler.Options{Store: st, Token: "t", Operations: n.m})
		if err != nil {
			t.Fatal(err)
		}
		api1 := httptest.NewServer(h)
		defer api1.Close()
		var gotOp api.Operation
		getJSON(t, api1.URL+"/api/v1/operations/"+strconv.FormatInt(op.ID, 10), &gotOp)
		if gotOp.State != "succeeded" || gotOp.Result != 200 || gotOp.Meaning != "successful" || gotOp.Job != j.ID {
			t.Errorf("GET operation %+v", gotOp)
		}
		var gotJob api.Job
		getJSON(t, api1.URL+"/api/v1/jobs/"+strconv.FormatInt(j.ID, 10), &gotJob)
		if gotJob.Operation == nil || gotJob.Operation.ID != op.ID || gotJob.Operation.Result != 200 || gotJob.Operation.Event != done.EventID {
			t.Errorf("GET job's operation %+v", gotJob.Operation)
		}
	})
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// A LAWMO wipe naming a wipe-list item the device lacks: the Sequence's
// Replace fails, the Exec is not executed (OMA-TS-DM_RepPro-V1_2:
// Sequence members after a failed one are answered 215), so the operation
// fails at once, without waiting for a report that cannot come.
func TestE2E_WipeOperationWithAnItemTheDeviceLacksFails(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{
			Servers: []string{serverID}, WipeList: []string{"SD card"}, Report: a.Client().QueueAlert,
			Wipe: func(context.Context, []string, bool) error { t.Error("the device wiped"); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		op, _ := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "lawmo", Operation: "wipe",
			Params: map[string]any{"wipe_items": []any{"1", "7"}}})
		a.session(t)
		failed := n.waitState(t, op.ID, storage.OpFailed)
		if !strings.Contains(failed.Error, "refused the operation's parameters") || failed.EventID != 0 || failed.DoneAt.IsZero() {
			t.Fatalf("failed %+v", failed)
		}
	})
}

// An operation whose device never reports times out at its deadline (the
// scheduler's sweep, on an injected clock); its report cannot revive it.
func TestE2E_OperationWithoutReportTimesOut(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		clk := newClock()
		n := startOpsNode(t, st, clk)
		a := newAgent(t, st, n.url, enc)
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{Servers: []string{serverID},
			Report: func(*syncml.Alert) {}, // the report is lost
			Lock:   func(context.Context, lawmo.State, bool) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		op, _ := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "lawmo", Operation: "lock", Timeout: time.Minute,
			Retry: &fleet.RetryOverride{MaxAttempts: 1}}) // no retry: the timeout ends it
		if got := op.Deadline.Sub(clk.Now()); got > time.Minute || got < time.Minute-time.Millisecond { // stored to the microsecond
			t.Fatalf("deadline in %s, want the request's 1m", got)
		}
		a.session(t)
		n.waitState(t, op.ID, storage.OpAccepted)
		n.sweep(t) // not yet due
		if cur, _ := n.m.Get(t.Context(), op.ID); cur.State != storage.OpAccepted {
			t.Fatalf("timed out early: %+v", cur)
		}
		clk.Add(time.Minute + time.Second)
		n.sweep(t)
		to := n.waitState(t, op.ID, storage.OpTimedOut)
		if !strings.Contains(to.Error, "no report") {
			t.Errorf("timed out with %q", to.Error)
		}
	})
}

// Cancelling a queued operation cancels its job: the command never goes
// out. A finished operation cannot be cancelled.
func TestE2E_CancelledOperationNeverReachesTheDevice(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		locked := false
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{Servers: []string{serverID}, Report: a.Client().QueueAlert,
			Lock: func(context.Context, lawmo.State, bool) error { locked = true; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		op, j := n.create(t, fleet.Request{DeviceID: a.ID(), MO: "lawmo", Operation: "lock"})
		c, err := n.m.Cancel(t.Context(), op.ID)
		if err != nil || c.State != storage.OpCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		if got := job(t, st, j.ID); got.State != storage.JobCancelled {
			t.Fatalf("job %s, want cancelled", got.State)
		}
		a.session(t)
		obj.Wait()
		if locked {
			t.Fatal("the device ran a cancelled operation")
		}
		if _, err := n.m.Cancel(t.Context(), op.ID); !errors.Is(err, fleet.ErrFinished) {
			t.Fatalf("second cancel: %v, want ErrFinished", err)
		}
	})
}

// Two server nodes share one database and both run the scheduler: an
// operation past its deadline is timed out by exactly one of them (the
// transition is one conditional update), and its job is cancelled.
func TestE2E_TwoSchedulersOnOneStoreTimeOutAnOperationOnce(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		clk := newClock()
		nodeA := startOpsNode(t, b.open(t), clk)
		nodeB := startOpsNode(t, b.open(t), clk)
		a := newAgent(t, nodeA.store, nodeA.url, enc)
		op, j := nodeA.create(t, fleet.Request{DeviceID: a.ID(), MO: "exec", Node: "./Vendor/Reboot", Timeout: time.Minute})
		<-nodeA.changes // its creation
		clk.Add(2 * time.Minute)
		var wg sync.WaitGroup
		for _, n := range []*opsNode{nodeA, nodeB} {
			wg.Add(1)
			go func() { defer wg.Done(); n.sweep(t) }()
		}
		wg.Wait()
		timedOut := 0
		for _, n := range []*opsNode{nodeA, nodeB} {
		drain:
			for {
				select {
				case c := <-n.changes:
					if c.ID == op.ID && c.State == storage.OpTimedOut {
						timedOut++
					}
				default:
					break drain
				}
			}
		}
		if timedOut != 1 {
			t.Fatalf("the operation timed out %d times, want exactly once", timedOut)
		}
		cur, err := nodeB.m.Get(t.Context(), op.ID)
		if err != nil || cur.State != storage.OpTimedOut || !strings.Contains(cur.Error, "did not take") {
			t.Fatalf("stored %+v %v", cur, err)
		}
		if got := job(t, nodeB.store, j.ID); got.State != storage.JobCancelled {
			t.Fatalf("job %s, want cancelled with its operation", got.State)
		}
	})
}

// Nothing about an operation lives only in a node's memory: a report stored
// by a node without the operations layer (as after a crash between storing
// the report and moving the operation) is attached when a node with it
// starts on the same database.
func TestE2E_ReportStoredWhileNoSchedulerRanIsAttachedAfterARestart(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		clk := newClock()
		first := startOpsNode(t, b.open(t), clk)
		plain := startNode(t, b.open(t)) // a node that does not follow operations
		a := newAgent(t, first.store, first.url, enc)
		release := make(chan struct{}) // the lock ends after the first session: its report goes in the second
		done := sync.OnceFunc(func() { close(release) })
		obj, err := lawmo.Install(a.Tree(), "./LAWMO", lawmo.Config{Servers: []string{serverID}, Report: a.Client().QueueAlert,
			Lock: func(context.Context, lawmo.State, bool) error { <-release; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(obj.Close)
		t.Cleanup(done) // runs before obj.Close
		op, _ := first.create(t, fleet.Request{DeviceID: a.ID(), MO: "lawmo", Operation: "lock"})
		a.session(t)
		first.waitState(t, op.ID, storage.OpAccepted)
		first.sched.Close() // the node's operations layer is gone
		done()
		obj.Wait()
		a.route.target = func(_ int, url string) string { return rehost(url, first.node, plain) }
		a.session(t) // the report reaches a node that does not follow operations
		if cur, _ := first.m.Get(t.Context(), op.ID); cur.State != storage.OpAccepted {
			t.Fatalf("moved without a scheduler: %+v", cur)
		}
		restarted := startOpsNode(t, b.open(t), clk)
		got, err := restarted.m.Get(t.Context(), op.ID)
		if err != nil || got.State != storage.OpSucceeded || got.Result != int(lawmo.ResultSuccessful) || got.EventID == 0 {
			t.Fatalf("after the restart: %+v %v", got, err)
		}
	})
}
