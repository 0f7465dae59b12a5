package diagmon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/syncml"
)

const (
	srv  = "srv"
	node = "./DiagMon"
)

type device struct {
	t      *testing.T
	tree   *dmtree.Tree
	obj    *diagmon.Object
	mu     sync.Mutex
	alerts []*syncml.Alert
}

func newDevice(t *testing.T, tree *dmtree.Tree, fns ...diagmon.Function) *device {
	t.Helper()
	d := &device{t: t, tree: tree}
	o, err := diagmon.Install(tree, node, diagmon.Config{Servers: []string{srv}, Functions: fns, Report: func(a *syncml.Alert) {
		d.mu.Lock()
		d.alerts = append(d.alerts, a)
		d.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.obj = o
	t.Cleanup(o.Close)
	return d
}

func (d *device) get(uri string) string {
	d.t.Helper()
	rs, err := d.tree.Get(srv, uri)
	if err != nil {
		d.t.Fatalf("Get %s: %v", uri, err)
	}
	return string(rs[0].Data)
}

func (d *device) last() *diagmon.Report {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.alerts) == 0 {
		d.t.Fatal("no alert sent")
	}
	a := d.alerts[len(d.alerts)-1]
	it := a.Items[0]
	r, ok, err := diagmon.ParseAlert(it.Meta.Type, it.Data.String())
	if !ok || err != nil {
		d.t.Fatalf("alert %s %q: ok=%v err=%v", it.Meta.Type, it.Data.String(), ok, err)
	}
	return r
}

var machine = diagmon.Machine{Proc: "testdata/proc", Sys: "testdata/sys"}

func battery(t *testing.T) diagmon.Function {
	f, ok := machine.Battery()
	if !ok {
		t.Fatal("the test battery is not found")
	}
	return f
}

// OMA-TS-DiagMon-V1_0 (OMNA alert type OperationComplete): an executed
// function answers 202 and reports its result in a 1226 alert carrying the
// Exec's correlator.
func TestDiagMon_ExecReportsReadingsWithCorrelator(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(log, []byte("first line\nsecond line\nthird line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		fn    diagmon.Function
		key   string
		value string
	}{
		{"memory", machine.Memory(), "available_percent", "25.0"},
		{"load", machine.Load(), "processes_total", "345"},
		{"battery", battery(t), "capacity_percent", "87"},
		{"storage", diagmon.Storage(t.TempDir()), "path", ""},
		{"log tail", diagmon.LogTail(log, 20), "tail", "third line\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, dmtree.New(nil), tc.fn)
			start := node + "/Functions/" + tc.fn.Name + "/Operations/Start"
			st, err := d.tree.Exec(context.Background(), srv, start, nil, "corr-1")
			if err != nil || st != syncml.StatusAccepted {
				t.Fatalf("Exec = %d, %v; want 202", st, err)
			}
			d.obj.Wait()
			a := d.alerts[0]
			if a.Data != syncml.AlertGeneric || a.Correlator != "corr-1" || a.Items[0].Source.LocURI != start || a.Items[0].Meta.Type != diagmon.AlertOperationComplete {
				t.Fatalf("alert %+v", a)
			}
			r := d.last()
			if r.ResultCode != diagmon.ResultSuccessful || r.Identifier != tc.fn.Name {
				t.Fatalf("report %+v", r)
			}
			v, ok := r.Readings.Get(tc.key)
			if !ok || tc.value != "" && v != tc.value {
				t.Fatalf("reading %s = %q (%v), want %q", tc.key, v, ok, tc.value)
			}
			if got := d.get(node + "/Functions/" + tc.fn.Name + "/Result"); got != "1200" {
				t.Fatalf("Result = %q", got)
			}
		})
	}
}

func TestDiagMon_FailingFunctionReportsClientError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.log")
	d := newDevice(t, dmtree.New(nil), diagmon.LogTail(missing, 0))
	if _, err := d.tree.Exec(context.Background(), srv, node+"/Functions/LogTail/Operations/Start", nil, "c"); err != nil {
		t.Fatal(err)
	}
	d.obj.Wait()
	r := d.last()
	if r.ResultCode != diagmon.ResultClientError || !strings.Contains(r.Message, "absent.log") {
		t.Fatalf("report %+v, want 1400 naming the file", r)
	}
	if d.alerts[0].Items[0].Meta.Mark != "critical" {
		t.Fatalf("a failure's Mark = %q", d.alerts[0].Items[0].Meta.Mark)
	}
	if got := d.get(node + "/Functions/LogTail/Result"); got != "1400" {
		t.Fatalf("Result = %q", got)
	}
	// A Get of the live report fails with 500 (the reading cannot be taken).
	if _, err := d.tree.Get(srv, node+"/Functions/LogTail/Report"); syncml.StatusOf(err) != syncml.StatusCommandFailed {
		t.Fatalf("Get Report: %v, want 500", err)
	}
}

func TestDiagMon_ReportNodeIsALiveReading(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), machine.Memory())
	got := d.get(node + "/Functions/Memory/Report")
	if !strings.Contains(got, "total_kb=8000000\n") || !strings.Contains(got, "available_percent=25.0") {
		t.Fatalf("Report = %q", got)
	}
}

func TestDiagMon_RejectsUnknownExecAndBadPolicies(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), machine.Memory())
	// OMA-TS-DM_Protocol-V1_2 §6.6.5 / RepPro status 405: an Exec on a node that is not an operation.
	if _, err := d.tree.Exec(context.Background(), srv, node+"/Functions/Memory", nil, ""); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Fatalf("Exec of the function node: %v, want 405", err)
	}
	for _, tc := range []struct{ uri, v string }{
		{node + "/Policy/Interval", "-1"},
		{node + "/Policy/Interval", "soon"},
		{node + "/Functions/Memory/Trap/Threshold", "ten"},
	} {
		err := d.tree.Replace(srv, tc.uri, dmtree.Value{Format: "chr", Data: []byte(tc.v)})
		if err == nil {
			t.Fatalf("Replace %s = %q accepted", tc.uri, tc.v)
		}
	}
	// Metric and Direction are the device's: Get only (DDF AccessType).
	if err := d.tree.Replace(srv, node+"/Functions/Memory/Trap/Metric", dmtree.Value{Data: []byte("x")}); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Fatalf("Replace Metric: %v, want 405", err)
	}
}

// OMNA DM alert types (DiagMon trap MO): TrapNotification when a trap turns
// active, TrapInactiveNotification when it turns inactive; nothing while it
// stays where it is.
func TestDiagMon_TrapFiresOnceWhenThresholdCrossedAndClears(t *testing.T) {
	var mu sync.Mutex
	level := "50"
	fn := diagmon.Function{Name: "Battery", Metric: "capacity_percent", Run: func(context.Context) (diagmon.Readings, error) {
		mu.Lock()
		defer mu.Unlock()
		return diagmon.Readings{{Name: "capacity_percent", Value: level}}, nil
	}}
	d := newDevice(t, dmtree.New(nil), fn)
	set := func(rel, v string) {
		t.Helper()
		if err := d.tree.Replace(srv, node+"/Functions/Battery/Trap/"+rel, dmtree.Value{Data: []byte(v)}); err != nil {
			t.Fatalf("Replace %s: %v", rel, err)
		}
	}
	if n := d.obj.CheckTraps(); n != 0 {
		t.Fatalf("a disabled trap sent %d alerts", n)
	}
	set("Threshold", "20")
	set("Enabled", "true")
	if n := d.obj.CheckTraps(); n != 0 {
		t.Fatalf("above the threshold: %d alerts", n)
	}
	mu.Lock()
	level = "10"
	mu.Unlock()
	if n := d.obj.CheckTraps(); n != 1 {
		t.Fatalf("crossing: %d alerts, want 1", n)
	}
	r := d.last()
	if r.Kind != "trap" || r.Metric != "capacity_percent" || r.Threshold != "20" {
		t.Fatalf("trap %+v", r)
	}
	if d.get(node+"/Functions/Battery/Trap/Active") != "true" {
		t.Fatal("Active not set")
	}
	if n := d.obj.CheckTraps(); n != 0 {
		t.Fatalf("still active: %d alerts, want 0", n)
	}
	mu.Lock()
	level = "90"
	mu.Unlock()
	if n := d.obj.CheckTraps(); n != 1 || d.last().Kind != "trap-inactive" {
		t.Fatalf("clearing: %d alerts", n)
	}
}

func TestDiagMon_InstallAgainKeepsPoliciesAndDropsRemovedFunctions(t *testing.T) {
	tree := dmtree.New(nil)
	d := newDevice(t, tree, machine.Memory(), machine.Load())
	if err := d.tree.Replace(srv, node+"/Functions/Memory/Trap/Threshold", dmtree.Value{Data: []byte("5")}); err != nil {
		t.Fatal(err)
	}
	d.obj.Close()
	d2 := newDevice(t, tree, machine.Memory())
	if got := d2.get(node + "/Functions/Memory/Trap/Threshold"); got != "5" {
		t.Fatalf("Threshold after reinstall = %q", got)
	}
	if got := d2.get(node + "/Functions"); got != "Memory" {
		t.Fatalf("Functions = %q", got)
	}
}

func TestParseAlert_RefusesBadData(t *testing.T) {
	for _, data := range []string{"<ResultCode>x</ResultCode>", "<ResultCode>200</ResultCode>", "<a>"} {
		if _, ok, err := diagmon.ParseAlert(diagmon.AlertOperationComplete, data); !ok || err == nil {
			t.Fatalf("%q: ok=%v err=%v, want an error", data, ok, err)
		}
	}
	if _, ok, _ := diagmon.ParseAlert("urn:oma:at:lawmo:1.0:OperationComplete", "1200"); ok {
		t.Fatal("another MO's alert read as DiagMon's")
	}
}

// A function the agent's restart cut short runs again at the next start and
// is reported once, with the Exec's correlator (moframe.Runner state file).
func TestDiagMon_RestartRunsAnInterruptedFunctionAgainAndReportsOnce(t *testing.T) {
	dir := t.TempDir()
	tree := dmtree.New(nil)
	started := make(chan struct{})
	blocking := diagmon.Function{Name: "Load", Run: func(ctx context.Context) (diagmon.Readings, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	var first []*syncml.Alert
	var mu sync.Mutex
	o, err := diagmon.Install(tree, node, diagmon.Config{Dir: dir, Functions: []diagmon.Function{blocking}, Report: func(a *syncml.Alert) {
		mu.Lock()
		first = append(first, a)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := tree.Exec(context.Background(), "", node+"/Functions/Load/Operations/Start", nil, "corr-r"); err != nil || st != syncml.StatusAccepted {
		t.Fatalf("Exec = %d, %v", st, err)
	}
	<-started
	o.Close() // the agent stops mid-run
	if len(first) != 0 {
		t.Fatalf("a stopped run was reported: %+v", first)
	}
	d := newDeviceDir(t, tree, dir, machine.Load())
	d.obj.Wait()
	d.mu.Lock()
	n := len(d.alerts)
	d.mu.Unlock()
	if n != 1 || d.alerts[0].Correlator != "corr-r" || d.last().ResultCode != diagmon.ResultSuccessful {
		t.Fatalf("after restart %d alerts (%+v), want one successful report with correlator corr-r", n, d.alerts)
	}
	d.obj.Close()
	d2 := newDeviceDir(t, tree, dir, machine.Load())
	d2.obj.Wait()
	if len(d2.alerts) != 0 {
		t.Fatalf("the report was sent again after a second restart")
	}
}

func newDeviceDir(t *testing.T, tree *dmtree.Tree, dir string, fns ...diagmon.Function) *device {
	t.Helper()
	d := &device{t: t, tree: tree}
	o, err := diagmon.Install(tree, node, diagmon.Config{Dir: dir, Servers: []string{srv}, Functions: fns, Report: func(a *syncml.Alert) {
		d.mu.Lock()
		d.alerts = append(d.alerts, a)
		d.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.obj = o
	t.Cleanup(o.Close)
	return d
}

// The trap policies are collected every Policy/Interval seconds once a
// server sets one (virtual time: testing/synctest).
func TestDiagMon_RunCollectsEveryIntervalOnceSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fn := diagmon.Function{Name: "Load", Metric: "load1", Above: true, Run: func(context.Context) (diagmon.Readings, error) {
			return diagmon.Readings{{Name: "load1", Value: "9.5"}}, nil
		}}
		d := newDevice(t, dmtree.New(nil), fn)
		for _, kv := range [][2]string{{"/Functions/Load/Trap/Threshold", "4"}, {"/Functions/Load/Trap/Enabled", "true"}} {
			if err := d.tree.Replace(srv, node+kv[0], dmtree.Value{Data: []byte(kv[1])}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.obj.Run(ctx)
		time.Sleep(time.Hour) // virtual time (synctest): moves the bubble's clock
		synctest.Wait()
		if d.count() != 0 {
			t.Fatalf("collected with Interval 0: %d alerts", len(d.alerts))
		}
		if err := d.tree.Replace(srv, node+"/Policy/Interval", dmtree.Value{Format: "int", Data: []byte("60")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(59 * time.Second) // virtual time (synctest): just short of the interval
		synctest.Wait()
		if d.count() != 0 {
			t.Fatal("collected before the interval passed")
		}
		time.Sleep(2 * time.Second) // virtual time (synctest): past the interval
		synctest.Wait()
		if n := d.count(); n != 1 || d.last().Kind != "trap" {
			t.Fatalf("%d alerts after one interval, want the trap", d.count())
		}
		cancel()
		d.obj.Close()
	})
}

func (d *device) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.alerts)
}
