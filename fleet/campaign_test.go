package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/sqlite"
)

// clock is a test clock the scheduler goroutine reads and the test moves.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time                  { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Add(d time.Duration)             { c.t.Add(int64(d)) }
func (c *clock) Set(t time.Time)                 { c.t.Store(t.UnixNano()) }
func (c *clock) After(d time.Duration) time.Time { return c.Now().Add(d) }

// notifier records package 0 requests.
type notifier struct {
	mu    sync.Mutex
	sent  map[string]int
	total atomic.Int64
}

func (n *notifier) Notify(_ context.Context, id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sent == nil {
		n.sent = map[string]int{}
	}
	n.sent[id]++
	n.total.Add(1)
	return nil
}

func (n *notifier) count(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[id]
}

// node is one server process's operations layer: a Manager, its
// Campaigns and a Scheduler run by ticks.
type node struct {
	st    storage.Store
	m     *fleet.Manager
	c     *fleet.Campaigns
	sched *fleet.Scheduler
	tick  chan time.Time
	clk   *clock
	n     *notifier
}

// campaignStores opens a fresh store per backend: SQLite always,
// PostgreSQL when OMADM_TEST_POSTGRES is set. open returns another handle
// on the same database (a second server process).
type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

func campaignBackends(t *testing.T) []backend {
	dir := t.TempDir()
	bs := []backend{{"sqlite", func(t *testing.T) storage.Store {
		st, err := sqlite.Open(filepath.Join(dir, "omadm.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}}}
	if dsn := os.Getenv("OMADM_TEST_POSTGRES"); dsn != "" {
		dsn := freshSchema(t, dsn)
		bs = append(bs, backend{"postgres", func(t *testing.T) storage.Store {
			st, err := postgres.OpenWith(bg, dsn, &postgres.Options{SecretKeyFile: filepath.Join(dir, "secret.key")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}})
	}
	return bs
}

// freshSchema creates a schema of its own for the test and returns a DSN
// whose search_path points at it.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	scoped, drop, err := postgres.TempSchema(bg, dsn, "fleet_test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() })
	return scoped
}

func newNode(t *testing.T, st storage.Store, clk *clock, name string, n *notifier) *node {
	t.Helper()
	return newNodeWith(t, fleet.Options{Store: st, Now: clk.Now}, clk, name, n)
}

// newNodeWith is newNode with the Manager's options given (o.Store and
// o.Now must be set).
func newNodeWith(t *testing.T, o fleet.Options, clk *clock, name string, n *notifier) *node {
	t.Helper()
	st := o.Store
	m, err := fleet.New(o)
	if err != nil {
		t.Fatal(err)
	}
	c := fleet.NewCampaigns(m, fleet.CampaignOptions{Notifier: n, Node: name, LeaseTTL: 30 * time.Second})
	tick := make(chan time.Time)
	s := fleet.NewScheduler(m, fleet.SchedulerOptions{Tick: tick, Campaigns: c})
	s.Start()
	t.Cleanup(s.Close)
	x := &node{st: st, m: m, c: c, sched: s, tick: tick, clk: clk, n: n}
	x.wait(t) // the start-up sweep
	return x
}

func (x *node) wait(t *testing.T) {
	t.Helper()
	select {
	case <-x.sched.Swept():
	case <-time.After(20 * time.Second): // bounds a hang only
		t.Fatal("the scheduler did not sweep")
	}
}

// step moves the clock by d and runs one scheduler pass.
func (x *node) step(t *testing.T, d time.Duration) {
	t.Helper()
	x.clk.Add(d)
	select {
	case x.tick <- x.clk.Now():
	case <-time.After(20 * time.Second):
		t.Fatal("the scheduler took no tick")
	}
	x.wait(t)
}

func mkDevices(t *testing.T, st storage.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev%04d", i)
		if err := st.CreateDevice(bg, &storage.Device{ID: ids[i], AuthScheme: "md5", Username: ids[i], Password: "p", NotifyAddr: "udp://127.0.0.1:9"}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

var rebootTemplate = fleet.Template{MO: "exec", Node: "./Vendor/Sim/Ops/Reboot", Timeout: time.Minute}

// finish answers the device's open operation's Exec with status, as the
// engine would store it, and tells the Manager.
func (x *node) finish(t *testing.T, deviceID string, status int) {
	t.Helper()
	ops, err := x.st.ListOperations(bg, storage.OperationFilter{DeviceID: deviceID, States: storage.OpOpen})
	if err != nil || len(ops) != 1 {
		t.Fatalf("device %s: %d open operations (%v), want 1", deviceID, len(ops), err)
	}
	j, err := x.st.GetJob(bg, ops[0].JobID)
	if err != nil {
		t.Fatal(err)
	}
	j.State, j.Status = storage.JobDone, status
	if status >= 300 {
		j.State = storage.JobFailed
	}
	if err := x.st.UpdateJob(bg, j); err != nil {
		t.Fatal(err)
	}
	x.m.Observe(server.Update{Kind: "job", JobID: j.ID})
}

func (x *node) get(t *testing.T, id int64) (*storage.Campaign, map[storage.TargetState]int) {
	t.Helper()
	c, counts, err := x.c.Get(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	return c, counts
}

func (x *node) opCount(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for after := int64(0); ; {
		ops, err := x.st.ListOperations(bg, storage.OperationFilter{AfterID: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			out[op.DeviceID]++
			after = op.ID
		}
		if len(ops) < 500 {
			return out
		}
	}
}

func (x *node) startedDevices(t *testing.T, id int64, states ...storage.TargetState) []string {
	t.Helper()
	ds, err := x.c.Devices(bg, storage.CampaignDeviceFilter{CampaignID: id, States: states, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.DeviceID)
	}
	return out
}

func create(t *testing.T, x *node, r fleet.CampaignRequest) *storage.Campaign {
	t.Helper()
	c, err := x.c.Create(bg, &r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func forBackends(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range campaignBackends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

func TestCampaign_RunsWavesInOrderAndCompletes(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		ids := mkDevices(t, st, 20)
		camp := create(t, x, fleet.CampaignRequest{Name: "reboot", Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{Waves: []string{"25%", "10"}, MaxInFlight: -1, NotifyRate: 1000}})
		if camp.State != storage.CampaignRunning || camp.Total != 20 {
			t.Fatalf("created %s with %d devices, want running with 20", camp.State, camp.Total)
		}
		for wave, want := range [][2]int{{0, 5}, {5, 10}, {10, 20}} {
			x.step(t, time.Second)
			started := x.startedDevices(t, camp.ID, storage.TargetNotified)
			if len(started) != want[1]-want[0] || started[0] != ids[want[0]] {
				t.Fatalf("wave %d started %v, want devices %d..%d", wave, started, want[0], want[1]-1)
			}
			for _, id := range started {
				if x.n.count(id) != 1 {
					t.Fatalf("device %s notified %d times, want 1", id, x.n.count(id))
				}
				x.finish(t, id, 200)
			}
			x.step(t, time.Second) // the wave ends
		}
		c, counts := x.get(t, camp.ID)
		if c.State != storage.CampaignCompleted || counts[storage.TargetSucceeded] != 20 {
			t.Fatalf("campaign %s with %v, want completed with 20 succeeded", c.State, counts)
		}
		for _, id := range ids {
			if n := x.opCount(t)[id]; n != 1 {
				t.Fatalf("device %s has %d operations, want 1", id, n)
			}
		}
	})
}

func TestCampaign_PausesOnFailuresAndResumes(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		mkDevices(t, st, 10)
		camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{MaxInFlight: 4, NotifyRate: 1000, MaxFailures: 1}})
		x.step(t, time.Second)
		first := x.startedDevices(t, camp.ID, storage.TargetNotified)
		if len(first) != 4 {
			t.Fatalf("started %d devices, want max_in_flight 4", len(first))
		}
		x.finish(t, first[0], 500)
		x.finish(t, first[1], 500)
		x.step(t, time.Second)
		c, _ := x.get(t, camp.ID)
		if c.State != storage.CampaignPaused || !strings.Contains(c.Reason, "max_failures") {
			t.Fatalf("after 2 failures: %s (%q), want paused naming max_failures", c.State, c.Reason)
		}
		x.step(t, time.Second)
		if _, counts := x.get(t, camp.ID); counts[storage.TargetPending] != 6 {
			t.Fatalf("a paused campaign started devices: %v", counts)
		}
		if _, err := x.c.Resume(bg, camp.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := x.c.Resume(bg, camp.ID); !errors.Is(err, fleet.ErrCampaignState) {
			t.Fatalf("resuming a running campaign: %v, want ErrCampaignState", err)
		}
		for range 4 {
			x.step(t, time.Second)
			for _, id := range x.startedDevices(t, camp.ID, storage.TargetNotified) {
				x.finish(t, id, 200)
			}
		}
		x.step(t, time.Second)
		c, counts := x.get(t, camp.ID)
		if c.State != storage.CampaignCompleted || counts[storage.TargetSucceeded] != 8 || counts[storage.TargetFailed] != 2 {
			t.Fatalf("campaign %s with %v, want completed, 8 succeeded and 2 failed", c.State, counts)
		}
	})
}

func TestCampaign_CancelCancelsOpenOperationsAndPendingDevices(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		mkDevices(t, st, 10)
		camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{MaxInFlight: 3, NotifyRate: 1000}})
		x.step(t, time.Second)
		if _, err := x.c.Cancel(bg, camp.ID); err != nil {
			t.Fatal(err)
		}
		c, counts := x.get(t, camp.ID)
		if c.State != storage.CampaignCancelled || counts[storage.TargetCancelled] != 10 {
			t.Fatalf("campaign %s with %v, want cancelled with 10 cancelled devices", c.State, counts)
		}
		ops, err := st.ListOperations(bg, storage.OperationFilter{States: storage.OpOpen})
		if err != nil || len(ops) != 0 {
			t.Fatalf("%d operations still open (%v)", len(ops), err)
		}
		if _, err := x.c.Cancel(bg, camp.ID); !errors.Is(err, fleet.ErrCampaignState) {
			t.Fatalf("cancelling a cancelled campaign: %v, want ErrCampaignState", err)
		}
		x.step(t, time.Second)
		if n := len(x.opCount(t)); n != 3 {
			t.Fatalf("%d devices got operations, want the 3 in flight at the cancel", n)
		}
	})
}

func TestCampaign_RenotifiesUntilMaxThenTimesOut(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		ids := mkDevices(t, st, 1)
		tmpl := rebootTemplate
		tmpl.Timeout = time.Minute
		camp := create(t, x, fleet.CampaignRequest{Template: tmpl, Target: fleet.Target{Devices: ids},
			Policy: fleet.Policy{RenotifyInterval: 10 * time.Second, MaxNotifies: 3}})
		x.step(t, time.Second)
		for want := 1; want <= 3; want++ {
			if got := x.n.count(ids[0]); got != want {
				t.Fatalf("notifications %d, want %d", got, want)
			}
			x.step(t, 10*time.Second)
		}
		x.step(t, 10*time.Second)
		if got := x.n.count(ids[0]); got != 3 {
			t.Fatalf("notifications %d, want max_notifies 3", got)
		}
		x.step(t, time.Minute) // past the operation's deadline
		x.step(t, time.Second)
		c, counts := x.get(t, camp.ID)
		if c.State != storage.CampaignCompleted || counts[storage.TargetTimedOut] != 1 {
			t.Fatalf("campaign %s with %v, want completed with the device timed_out", c.State, counts)
		}
	})
}

// A device whose command went out in a session that ended without its
// Status (a server killed mid-session) is notified again, so the command,
// still queued for it, goes out in a new session; once the device accepted
// the operation (202, OMA-TS-DM_RepPro-V1_2) it reports by itself and is
// left alone.
func TestCampaign_RenotifiesADeviceWhoseCommandWasSentButNeverAnswered(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		ids := mkDevices(t, st, 1)
		tmpl := rebootTemplate
		tmpl.Timeout = time.Hour
		camp := create(t, x, fleet.CampaignRequest{Template: tmpl, Target: fleet.Target{Devices: ids},
			Policy: fleet.Policy{RenotifyInterval: 10 * time.Second, MaxNotifies: 5}})
		x.step(t, time.Second)
		setJob := func(state storage.JobState, status int) {
			t.Helper()
			ops, err := st.ListOperations(bg, storage.OperationFilter{DeviceID: ids[0], States: storage.OpOpen})
			if err != nil || len(ops) != 1 {
				t.Fatalf("%d open operations (%v), want 1", len(ops), err)
			}
			j, err := st.GetJob(bg, ops[0].JobID)
			if err != nil {
				t.Fatal(err)
			}
			j.State, j.Status = state, status
			if err := st.UpdateJob(bg, j); err != nil {
				t.Fatal(err)
			}
			x.m.Observe(server.Update{Kind: "job", JobID: j.ID})
		}
		setJob(storage.JobSent, 0)
		x.step(t, time.Second)
		if _, counts := x.get(t, camp.ID); counts[storage.TargetInProgress] != 1 {
			t.Fatalf("counts %v, want the device in progress", counts)
		}
		x.step(t, 10*time.Second)
		if got := x.n.count(ids[0]); got != 2 {
			t.Fatalf("notifications %d, want 2: the sent command needs a new session", got)
		}
		setJob(storage.JobDone, 202)
		for range 3 {
			x.step(t, 10*time.Second)
		}
		if got := x.n.count(ids[0]); got != 2 {
			t.Fatalf("notifications %d after the device accepted, want still 2", got)
		}
	})
}

func TestCampaign_NotificationRateIsATokenBucket(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		mkDevices(t, st, 10)
		camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{MaxInFlight: -1, NotifyRate: 2, NotifyBurst: 3}})
		x.step(t, 0)
		want := []int{3, 5, 7, 8, 10} // the burst, then 2 per second, then half a second's worth
		steps := []time.Duration{time.Second, time.Second, 500 * time.Millisecond, time.Second}
		for i, w := range want {
			if got := x.n.total.Load(); int(got) != w {
				t.Fatalf("step %d: %d notifications, want %d", i, got, w)
			}
			if i < len(steps) {
				x.step(t, steps[i])
			}
		}
		_ = camp
	})
}

func TestCampaign_ManualGatePausesAfterEachWave(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		mkDevices(t, st, 4)
		camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{Waves: []string{"1"}, WaveGate: "manual", NotifyRate: 100}})
		x.step(t, time.Second)
		for _, id := range x.startedDevices(t, camp.ID, storage.TargetNotified) {
			x.finish(t, id, 200)
		}
		x.step(t, time.Second)
		c, _ := x.get(t, camp.ID)
		if c.State != storage.CampaignPaused || c.Wave != 1 {
			t.Fatalf("after wave 1: %s at wave %d, want paused before wave 2", c.State, c.Wave)
		}
		x.step(t, time.Second)
		if got := len(x.startedDevices(t, camp.ID, storage.TargetNotified)); got != 0 {
			t.Fatalf("%d devices started behind the gate", got)
		}
		if _, err := x.c.Resume(bg, camp.ID); err != nil {
			t.Fatal(err)
		}
		x.step(t, time.Second)
		if got := len(x.startedDevices(t, camp.ID, storage.TargetNotified)); got != 3 {
			t.Fatalf("wave 2 started %d devices, want 3", got)
		}
	})
}

// Two nodes on one database drive one campaign: one holds the lease and
// drives it; when it stops, its lease runs out and the other one goes on.
// No device gets two operations or two first notifications.
func TestCampaign_TwoNodesShareACampaignThroughTheLease(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		clk := newClock()
		n := &notifier{}
		a := newNode(t, b.open(t), clk, "node-a", n)
		bn := newNode(t, b.open(t), clk, "node-b", n)
		mkDevices(t, a.st, 30)
		camp := create(t, a, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{MaxInFlight: 10, NotifyRate: 1000, MaxNotifies: 1}})
		a.step(t, time.Second)
		bn.step(t, 0) // b sees the lease held
		if got := len(a.opCount(t)); got != 10 {
			t.Fatalf("%d devices started, want 10 (node b must not start any)", got)
		}
		for _, id := range a.startedDevices(t, camp.ID, storage.TargetNotified) {
			a.finish(t, id, 200)
		}
		a.sched.Close() // node a dies holding the lease
		bn.step(t, 10*time.Second)
		if got := len(a.opCount(t)); got != 10 {
			t.Fatalf("%d devices started while the lease was held, want 10", got)
		}
		bn.step(t, 30*time.Second) // the lease ran out
		for range 4 {
			for _, id := range bn.startedDevices(t, camp.ID, storage.TargetNotified) {
				bn.finish(t, id, 200)
			}
			bn.step(t, time.Second)
		}
		c, counts := bn.get(t, camp.ID)
		if c.State != storage.CampaignCompleted || counts[storage.TargetSucceeded] != 30 {
			t.Fatalf("campaign %s with %v, want completed with 30 succeeded", c.State, counts)
		}
		for id, k := range bn.opCount(t) {
			if k != 1 || n.count(id) != 1 {
				t.Fatalf("device %s: %d operations, %d notifications; want 1 and 1", id, k, n.count(id))
			}
		}
	})
}

// Even two nodes that both believe they hold the lease (the same node name,
// a clock far off) give no device two operations: each start is a
// conditional write in the transaction that creates the operation.
func TestCampaign_ConcurrentDriversNeverStartADeviceTwice(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		clk := newClock()
		n := &notifier{}
		var nodes []*node
		for range 3 {
			nodes = append(nodes, newNode(t, b.open(t), clk, "same-node", n))
		}
		mkDevices(t, nodes[0].st, 200)
		camp := create(t, nodes[0], fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
			Policy: fleet.Policy{MaxInFlight: -1, NotifyRate: 1e6}})
		var wg sync.WaitGroup
		for _, x := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := x.c.Drive(bg); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		ops := nodes[0].opCount(t)
		if len(ops) != 200 {
			t.Fatalf("%d devices got operations, want 200", len(ops))
		}
		for id, k := range ops {
			if k != 1 {
				t.Fatalf("device %s got %d operations", id, k)
			}
		}
		if _, counts := nodes[0].get(t, camp.ID); counts[storage.TargetNotified] != 200 {
			t.Fatalf("counts %v, want 200 notified", counts)
		}
		if got := n.total.Load(); got != 200 {
			t.Fatalf("%d notifications, want 200", got)
		}
	})
}

func TestCampaign_CreateRefusesBadRequestsNamingTheField(t *testing.T) {
	st := campaignBackends(t)[0].open(t)
	x := newNode(t, st, newClock(), "n1", nil)
	mkDevices(t, st, 3)
	tests := []struct {
		name  string
		r     fleet.CampaignRequest
		field string
	}{
		{"no target", fleet.CampaignRequest{Template: rebootTemplate}, "target"},
		{"two targets", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true, Devices: []string{"a"}}}, "target"},
		{"bad template", fleet.CampaignRequest{Template: fleet.Template{MO: "fumo"}, Target: fleet.Target{All: true}}, "template.params.pkg_url"},
		{"unknown mo", fleet.CampaignRequest{Template: fleet.Template{MO: "nope"}, Target: fleet.Target{All: true}}, "template.mo"},
		{"bad wave", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true}, Policy: fleet.Policy{Waves: []string{"120%"}}}, "policy.waves[0]"},
		{"shrinking waves", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true}, Policy: fleet.Policy{Waves: []string{"50%", "10%"}}}, "policy.waves[1]"},
		{"bad gate", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true}, Policy: fleet.Policy{WaveGate: "sometimes"}}, "policy.wave_gate"},
		{"bad selector", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Selector: "colour=red"}}, "target.selector"},
		{"unknown group", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Query: &storage.DeviceQuery{Group: "nope"}}}, "target"},
		{"empty device id", fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Devices: []string{"a", ""}}}, "target.devices[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.c.Create(bg, &tc.r)
			var fe *fleet.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
	cs, err := x.c.List(bg, storage.CampaignFilter{})
	if err != nil || len(cs) != 0 {
		t.Fatalf("refused requests left %d campaigns (%v)", len(cs), err)
	}
}

func TestCampaign_ExplicitListKeepsOrderDropsRepeatsAndSkipsUnknownDevices(t *testing.T) {
	st := campaignBackends(t)[0].open(t)
	x := newNode(t, st, newClock(), "n1", &notifier{})
	mkDevices(t, st, 3)
	camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate,
		Target: fleet.Target{Devices: []string{"dev0002", "ghost", "dev0000", "dev0002"}}, Policy: fleet.Policy{NotifyRate: 100}})
	if camp.Total != 3 {
		t.Fatalf("total %d, want 3 (the repeat dropped)", camp.Total)
	}
	x.step(t, time.Second)
	ds, err := x.c.Devices(bg, storage.CampaignDeviceFilter{CampaignID: camp.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(ds[0].DeviceID, ds[0].State, ds[1].DeviceID, ds[1].State, ds[2].DeviceID, ds[2].State)
	if want := fmt.Sprint("dev0002", storage.TargetNotified, "ghost", storage.TargetSkipped, "dev0000", storage.TargetNotified); got != want {
		t.Fatalf("devices %s, want %s", got, want)
	}
}

func TestCampaign_WaitsBetweenWaves(t *testing.T) {
	st := campaignBackends(t)[0].open(t)
	x := newNode(t, st, newClock(), "n1", &notifier{})
	mkDevices(t, st, 4)
	camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{All: true},
		Policy: fleet.Policy{Waves: []string{"2"}, WaveWait: time.Hour, NotifyRate: 100}})
	x.step(t, time.Second)
	for _, id := range x.startedDevices(t, camp.ID, storage.TargetNotified) {
		x.finish(t, id, 200)
	}
	x.step(t, time.Second) // the wave ends
	x.step(t, 30*time.Minute)
	if got := len(x.startedDevices(t, camp.ID, storage.TargetNotified)); got != 0 {
		t.Fatalf("%d devices of wave 2 started within wave_wait", got)
	}
	x.step(t, 31*time.Minute) // the wait is over: the next wave begins
	x.step(t, time.Second)
	if got := len(x.startedDevices(t, camp.ID, storage.TargetNotified)); got != 2 {
		t.Fatalf("wave 2 started %d devices after wave_wait, want 2", got)
	}
	if c, _ := x.get(t, camp.ID); c.Wave != 1 {
		t.Fatalf("wave index %d, want 1", c.Wave)
	}
}

func TestCampaign_SelectorTargetsTheMatchingDevicesInIDOrder(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		st := b.open(t)
		x := newNode(t, st, newClock(), "n1", &notifier{})
		ids := mkDevices(t, st, 6)
		for _, id := range []string{ids[4], ids[1], ids[3]} {
			d, err := st.GetDevice(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			d.Labels = map[string]string{"ring": "canary"}
			if err := st.UpdateDevice(bg, d); err != nil {
				t.Fatal(err)
			}
		}
		camp := create(t, x, fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Selector: "label.ring=canary"}})
		ds, err := x.c.Devices(bg, storage.CampaignDeviceFilter{CampaignID: camp.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.DeviceID)
		}
		if want := []string{ids[1], ids[3], ids[4]}; fmt.Sprint(got) != fmt.Sprint(want) || camp.Total != 3 {
			t.Fatalf("targets %v (total %d), want %v", got, camp.Total, want)
		}
	})
}

func TestCampaign_FinishedCampaignsAreDeletedAfterKeep(t *testing.T) {
	st := campaignBackends(t)[0].open(t)
	clk := newClock()
	m, err := fleet.New(fleet.Options{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := fleet.NewCampaigns(m, fleet.CampaignOptions{Node: "n1", Keep: 24 * time.Hour})
	ids := mkDevices(t, st, 2)
	done, err := c.Create(bg, &fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Devices: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(bg, done.ID); err != nil {
		t.Fatal(err)
	}
	running, err := c.Create(bg, &fleet.CampaignRequest{Template: rebootTemplate, Target: fleet.Target{Devices: ids}, Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(23 * time.Hour)
	if _, err := c.Drive(bg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(bg, done.ID); err != nil {
		t.Fatalf("a campaign finished 23h ago is gone: %v", err)
	}
	clk.Add(2 * time.Hour)
	if _, err := c.Drive(bg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(bg, done.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a campaign finished 25h ago: %v, want ErrNotFound", err)
	}
	if _, _, err := c.Get(bg, running.ID); err != nil {
		t.Fatalf("an unfinished campaign was deleted: %v", err)
	}
}
