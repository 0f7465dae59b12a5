package lawmo_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/syncml"
)

const (
	srv  = "srv"
	node = "./LAWMO"
)

type device struct {
	t    *testing.T
	tree *dmtree.Tree
	obj  *lawmo.Object

	mu      sync.Mutex
	alerts  []*syncml.Alert
	locks   []lawmo.State
	wiped   [][]string
	notify  []bool
	lockErr error
}

func newDevice(t *testing.T, tree *dmtree.Tree, tweak func(*lawmo.Config)) *device {
	t.Helper()
	d := &device{t: t, tree: tree}
	cfg := lawmo.Config{
		Servers:  []string{srv},
		WipeList: []string{"SD card", "Contacts"},
		Report: func(a *syncml.Alert) {
			d.mu.Lock()
			d.alerts = append(d.alerts, a)
			d.mu.Unlock()
		},
		Lock: func(_ context.Context, s lawmo.State, notify bool) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.locks = append(d.locks, s)
			d.notify = append(d.notify, notify)
			return d.lockErr
		},
		Wipe: func(_ context.Context, items []string, _ bool) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.wiped = append(d.wiped, items)
			return nil
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	o, err := lawmo.Install(tree, node, cfg)
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

func (d *device) exec(op string, corr string) syncml.StatusCode {
	d.t.Helper()
	code, _ := d.tree.Exec(context.Background(), srv, node+"/Operations/"+op, nil, corr)
	return code
}

// report waits for the operation and checks its alert.
func (d *device) report(op lawmo.Op, corr string, want lawmo.Result) {
	d.t.Helper()
	d.obj.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.alerts) == 0 {
		d.t.Fatal("no alert")
	}
	a := d.alerts[len(d.alerts)-1]
	it := a.Items[0]
	if a.Data != syncml.AlertGeneric || a.Correlator != corr || it.Meta.Type != lawmo.AlertOperationComplete ||
		it.Source.LocURI != node+"/Operations/"+string(op) || it.Data.String() != strconv.Itoa(int(want)) {
		d.t.Fatalf("alert %+v item source %s type %s data %s; want %s %s %d", a, it.Source.LocURI, it.Meta.Type, it.Data.String(), op, corr, want)
	}
	if (it.Meta.Mark == "critical") == want.Successful() {
		d.t.Errorf("mark %q for result %d", it.Meta.Mark, want)
	}
	o, ok, err := lawmo.ParseAlert(it.Meta.Type, it.Source.LocURI, it.Data.String())
	if !ok || err != nil || o.Op != op || o.Result != want {
		d.t.Errorf("ParseAlert = %+v %v %v", o, ok, err)
	}
}

func TestInstall_CreatesTheObjectUnlockedWithItsWipeList(t *testing.T) {
	tree := dmtree.New(nil)
	d := newDevice(t, tree, nil)
	if got := d.get(node + "/State"); got != "30" {
		t.Errorf("State %q, want 30 (unlocked)", got)
	}
	if got := d.get(node + "?prop=Type"); got != lawmo.MOID {
		t.Errorf("Type %q", got)
	}
	if got := d.get(node + "/AvailableWipeList"); got != "1/2" {
		t.Errorf("AvailableWipeList children %q, want 1/2", got)
	}
	if got := d.get(node + "/AvailableWipeList/2/ListItemName"); got != "Contacts" {
		t.Errorf("ListItemName %q", got)
	}
	if got := d.get(node + "/LAWMOConfig/NotifyUser"); got != "false" {
		t.Errorf("NotifyUser %q", got)
	}
	if err := tree.Replace(srv, node+"/State", dmtree.Value{Format: "int", Data: []byte("10")}); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Errorf("Replace State: %v, want 405", err)
	}
	if code := d.exec("Reboot", ""); code != syncml.StatusNotFound {
		t.Errorf("Exec of an unknown operation: %d, want 404", code)
	}
	// Next start with a shorter list: the stale item goes.
	d.obj.Close()
	d2 := newDevice(t, tree, func(c *lawmo.Config) { c.WipeList = []string{"SD card"} })
	if got := d2.get(node + "/AvailableWipeList"); got != "1" {
		t.Errorf("AvailableWipeList after a restart with one item %q", got)
	}
	d2.obj.Close()
	newDevice(t, tree, func(c *lawmo.Config) { c.WipeList = nil })
	if _, err := tree.Get(srv, node+"/AvailableWipeList"); syncml.StatusOf(err) != syncml.StatusNotFound {
		t.Errorf("AvailableWipeList without items: %v, want gone", err)
	}
}

func TestLockOperations_ChangeStateAndReport(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), nil)
	if err := d.tree.Replace(srv, node+"/LAWMOConfig/NotifyUser", dmtree.Value{Format: "bool", Data: []byte("true")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		op    lawmo.Op
		state string
	}{
		{lawmo.OpFullyLock, "10"}, {lawmo.OpPartiallyLock, "20"}, {lawmo.OpUnLock, "30"},
	} {
		if code := d.exec(string(tc.op), "c-"+string(tc.op)); code != syncml.StatusAccepted {
			t.Fatalf("Exec %s: %d", tc.op, code)
		}
		d.report(tc.op, "c-"+string(tc.op), lawmo.ResultSuccessful)
		if got := d.get(node + "/State"); got != tc.state {
			t.Errorf("after %s State %s, want %s", tc.op, got, tc.state)
		}
	}
	if len(d.notify) != 3 || !d.notify[0] {
		t.Errorf("hooks saw NotifyUser %v, want true", d.notify)
	}
	// A failing lock keeps the state and reports the operation's code.
	d.lockErr = errors.New("keyguard service down")
	d.exec("FullyLock", "f")
	d.report(lawmo.OpFullyLock, "f", lawmo.ResultFullyLockFailed)
	if got := d.get(node + "/State"); got != "30" {
		t.Errorf("State after a failed lock %s, want 30", got)
	}
	d.lockErr = &moframe.ResultError{Code: int(lawmo.ResultUserCancelled), Err: errors.New("user said no")}
	d.exec("UnLock", "u")
	d.report(lawmo.OpUnLock, "u", lawmo.ResultUserCancelled)
}

func TestWipe_ErasesTheItemsMarkedToBeWiped(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), nil)
	d.exec("Wipe", "w1")
	d.report(lawmo.OpWipe, "w1", lawmo.ResultWipeSuccessful)
	if err := d.tree.Replace(srv, node+"/AvailableWipeList/2/ToBeWiped", dmtree.Value{Format: "bool", Data: []byte("true")}); err != nil {
		t.Fatal(err)
	}
	d.exec("Wipe", "w2")
	d.report(lawmo.OpWipe, "w2", lawmo.ResultWipeListSuccessful)
	if len(d.wiped) != 2 || len(d.wiped[0]) != 0 || len(d.wiped[1]) != 1 || d.wiped[1][0] != "Contacts" {
		t.Errorf("wiped %q", d.wiped)
	}
}

func TestUnsupportedAndBusyOperations(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	d := newDevice(t, dmtree.New(nil), func(c *lawmo.Config) {
		c.Wipe = nil
		c.Lock = func(ctx context.Context, _ lawmo.State, _ bool) error {
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}
	})
	if code := d.exec("FactoryReset", ""); code != syncml.StatusOptionalNotSupported {
		t.Errorf("FactoryReset without a hook: %d, want 406", code)
	}
	if code := d.exec("Wipe", ""); code != syncml.StatusOptionalNotSupported {
		t.Errorf("Wipe without a hook: %d, want 406", code)
	}
	if code := d.exec("FullyLock", "a"); code != syncml.StatusAccepted {
		t.Fatalf("FullyLock: %d", code)
	}
	<-started
	if code := d.exec("UnLock", "b"); code != syncml.StatusCommandNotAllowed {
		t.Errorf("UnLock while locking: %d, want 405", code)
	}
	close(release)
	d.report(lawmo.OpFullyLock, "a", lawmo.ResultSuccessful)
	if code, _ := d.tree.Exec(context.Background(), "intruder", node+"/Operations/UnLock", nil, ""); code != syncml.StatusPermissionDenied {
		t.Errorf("Exec by another server: %d, want 425", code)
	}
}

func TestParseAlert(t *testing.T) {
	for _, tc := range []struct {
		typ, source, data string
		want              lawmo.Outcome
		ok, err           bool
	}{
		{lawmo.AlertOperationComplete, "./LAWMO/Operations/Wipe", "1202", lawmo.Outcome{Op: lawmo.OpWipe, Result: 1202}, true, false},
		{"Reversed-Domain-Name: " + lawmo.AlertOperationComplete, "", "1404", lawmo.Outcome{Result: 1404}, true, false},
		{lawmo.AlertOperationComplete, "./L/Operations/unlock", "200", lawmo.Outcome{Op: lawmo.OpUnLock}, true, true},
		{"org.openmobilealliance.dm.firmwareupdate.update", "", "200", lawmo.Outcome{}, false, false},
	} {
		got, ok, err := lawmo.ParseAlert(tc.typ, tc.source, tc.data)
		if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("ParseAlert(%q, %q, %q) = %+v %v %v", tc.typ, tc.source, tc.data, got, ok, err)
		}
	}
	if lawmo.Result(1403).String() != "partially lock failed" || !lawmo.ResultWipeSuccessful.Successful() || lawmo.Result(1400).Successful() {
		t.Error("Result names")
	}
}

func FuzzParseAlert(f *testing.F) {
	f.Add(lawmo.AlertOperationComplete, "./LAWMO/Operations/Wipe", "1201")
	f.Add("a: b", "/", "x")
	f.Fuzz(func(t *testing.T, typ, source, data string) {
		o, ok, err := lawmo.ParseAlert(typ, source, data)
		if ok && err == nil && (o.Result < 1000 || o.Result > 1999) {
			t.Fatalf("ParseAlert(%q, %q, %q) = %+v", typ, source, data, o)
		}
		_ = o.Result.String()
	})
}
