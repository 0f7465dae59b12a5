package scomo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/syncml"
)

const (
	srv  = "srv"
	root = "./SCOMO"
)

// tarGz builds a package holding files.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

type device struct {
	t       *testing.T
	tree    *dmtree.Tree
	obj     *scomo.Object
	dir     string // Config.Dir
	apps    string // DirInstaller.Dir
	pkgs    map[string][]byte
	hookErr map[string]error // by action
	hooks   []string

	mu     sync.Mutex
	alerts []*syncml.Alert
}

func newDevice(t *testing.T, tree *dmtree.Tree, dir string, tweak func(*scomo.Config)) *device {
	t.Helper()
	d := &device{t: t, tree: tree, dir: dir, apps: filepath.Join(dir, "apps"), pkgs: map[string][]byte{}, hookErr: map[string]error{}}
	d.install(tweak)
	return d
}

func (d *device) install(tweak func(*scomo.Config)) {
	d.t.Helper()
	cfg := scomo.Config{
		Dir:     d.dir,
		Servers: []string{srv},
		Report: func(a *syncml.Alert) {
			d.mu.Lock()
			d.alerts = append(d.alerts, a)
			d.mu.Unlock()
		},
		Fetch: func(_ context.Context, url string, w io.Writer) error {
			b, ok := d.pkgs[url]
			if !ok {
				return errors.New("no such package")
			}
			_, err := w.Write(b)
			return err
		},
		Installer: &scomo.DirInstaller{Dir: d.apps, Hook: func(_ context.Context, action, id, _ string) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.hooks = append(d.hooks, action+" "+id)
			return d.hookErr[action]
		}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	o, err := scomo.Install(d.tree, root, cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	d.obj = o
	d.t.Cleanup(o.Close)
}

func (d *device) get(uri string) string {
	d.t.Helper()
	rs, err := d.tree.Get(srv, uri)
	if err != nil {
		d.t.Fatalf("Get %s: %v", uri, err)
	}
	return string(rs[0].Data)
}

func (d *device) absent(uri string) {
	d.t.Helper()
	if _, err := d.tree.Get(srv, uri); syncml.StatusOf(err) != syncml.StatusNotFound {
		d.t.Errorf("Get %s: %v, want 404", uri, err)
	}
}

// addPackage is what a server sends to have a package fetched: an Add of
// Download/<x> with its PkgID, PkgURL and Name.
func (d *device) addPackage(id, url string) {
	d.t.Helper()
	n := root + "/Download/" + id
	for _, a := range []struct {
		uri string
		v   dmtree.Value
	}{
		{n, dmtree.Value{Format: "node"}},
		{n + "/PkgID", dmtree.Value{Format: "chr", Data: []byte(id)}},
		{n + "/PkgURL", dmtree.Value{Format: "chr", Data: []byte(url)}},
		{n + "/Name", dmtree.Value{Format: "chr", Data: []byte("App " + id)}},
	} {
		if err := d.tree.Add(srv, a.uri, a.v); err != nil {
			d.t.Fatalf("Add %s: %v", a.uri, err)
		}
	}
}

func (d *device) exec(uri, corr string) syncml.StatusCode {
	d.t.Helper()
	code, err := d.tree.Exec(context.Background(), srv, uri, nil, corr)
	if err != nil {
		d.t.Logf("Exec %s: %v", uri, err)
	}
	return code
}

// report waits for the operation and checks its alert (OMA-TS-DM-SCOMO-V1_0:
// 1226, Type OperationComplete, Source the executed Operations node, Target
// the component, Data ResultCode and Identifier, the Exec's Correlator).
func (d *device) report(source, target, corr string, want scomo.Result) {
	d.t.Helper()
	d.obj.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.alerts) == 0 {
		d.t.Fatal("no alert")
	}
	a := d.alerts[len(d.alerts)-1]
	it := a.Items[0]
	if a.Data != syncml.AlertGeneric || a.Correlator != corr || it.Meta.Type != scomo.AlertOperationComplete || it.Meta.Format != "xml" ||
		it.Source.LocURI != source || it.Target == nil || it.Target.LocURI != target {
		d.t.Fatalf("alert %+v item %+v meta %+v target %+v; want source %s target %s corr %s", a, it, it.Meta, it.Target, source, target, corr)
	}
	o, ok, err := scomo.ParseAlert(it.Meta.Type, it.Source.LocURI, it.Data.String())
	if !ok || err != nil || o.Result != want {
		d.t.Fatalf("alert data %q: %+v %v %v, want result %d", it.Data.String(), o, ok, err, want)
	}
	if (it.Meta.Mark == "critical") == want.Successful() {
		d.t.Errorf("mark %q for result %d", it.Meta.Mark, want)
	}
}

func (d *device) alertCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.alerts)
}

func TestInstall_CreatesTheObjectWithItsBranches(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
	if got := d.get(root + "?prop=Type"); got != scomo.MOID {
		t.Errorf("Type %q", got)
	}
	for _, n := range []string{"/Download", "/Inventory/Delivered", "/Inventory/Deployed"} {
		if got := d.get(root + n); got != "" {
			t.Errorf("%s lists %q, want no children", n, got)
		}
	}
	if _, err := scomo.Install(dmtree.New(nil), ".", scomo.Config{Dir: t.TempDir(), Report: func(*syncml.Alert) {}}); err == nil {
		t.Error("Install at the root: no error")
	}
	if _, err := scomo.Install(dmtree.New(nil), root, scomo.Config{}); err == nil {
		t.Error("Install without Dir and Report: no error")
	}
}

// The server adds Download/<x> and its parameters; the device completes it
// with Status and the Operations it may Exec (OMA-TS-DM-SCOMO-V1_0 §5).
func TestDownload_ServerAddedPackageGetsItsStatusAndOperations(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
	d.addPackage("app1", "http://pkg/app1")
	if got := d.get(root + "/Download/app1/Status"); got != "10" {
		t.Errorf("Status %q, want 10 (idle)", got)
	}
	if got := d.get(root + "/Download/app1/Operations"); got != "Download/DownloadInstall/DownloadInstallInactive" {
		t.Errorf("Operations %q", got)
	}
	err := d.tree.Replace(srv, root+"/Download/app1/Status", dmtree.Value{Format: "int", Data: []byte("40")})
	if syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Errorf("server Replace of Status: %v, want 405", err)
	}
}

func TestDownloadInstall_InstallsTheComponentAndReportsItDeployed(t *testing.T) {
	for _, tc := range []struct {
		op    string
		state string
		hook  string
	}{
		{"DownloadInstall", "20", "install app1"},
		{"DownloadInstallInactive", "10", "install-inactive app1"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
			d.pkgs["http://pkg/app1"] = tarGz(t, map[string]string{"VERSION": "2.1.0\n", "bin/app": "#!/bin/sh\n"})
			d.addPackage("app1", "http://pkg/app1")
			src := root + "/Download/app1/Operations/" + tc.op
			if code := d.exec(src, "c-1"); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d, want 202", code)
			}
			dep := root + "/Inventory/Deployed/app1"
			d.report(src, dep, "c-1", scomo.ResultSuccessful)
			for uri, want := range map[string]string{dep + "/ID": "app1", dep + "/Name": "App app1", dep + "/Version": "2.1.0",
				dep + "/State": tc.state, dep + "/Status": "10", dep + "/Operations": "Activate/Deactivate/Remove"} {
				if got := d.get(uri); got != want {
					t.Errorf("%s = %q, want %q", uri, got, want)
				}
			}
			d.absent(root + "/Download/app1")
			if b, err := os.ReadFile(filepath.Join(d.apps, "app1", "bin", "app")); err != nil || string(b) != "#!/bin/sh\n" {
				t.Errorf("installed file: %q %v", b, err)
			}
			if len(d.hooks) != 1 || d.hooks[0] != tc.hook {
				t.Errorf("hooks %q", d.hooks)
			}
		})
	}
}

func TestDownloadInstall_FailuresReportTheirResultCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pkg     []byte
		hookErr error
		want    scomo.Result
		status  string
	}{
		{"download fails", nil, nil, scomo.ResultDownloadFailed, "20"},
		{"hook fails", []byte("plain file"), errors.New("exit 1"), scomo.ResultInstallFailed, "60"},
		{"user cancels", []byte("plain file"), &moframe.ResultError{Code: 1401, Err: errors.New("no")}, scomo.ResultUserCancelled, "60"},
		{"escaping tar", tarGz(t, map[string]string{"../evil": "x"}), nil, scomo.ResultValidationFailed, "60"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
			if tc.pkg != nil {
				d.pkgs["http://pkg/a"] = tc.pkg
			}
			d.hookErr["install"] = tc.hookErr
			d.addPackage("a", "http://pkg/a")
			src := root + "/Download/a/Operations/DownloadInstall"
			if code := d.exec(src, "k"); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d", code)
			}
			d.report(src, root+"/Download/a", "k", tc.want)
			if got := d.get(root + "/Download/a/Status"); got != tc.status {
				t.Errorf("Status %q, want %s", got, tc.status)
			}
			d.absent(root + "/Inventory/Deployed/a")
			if _, err := os.Stat(filepath.Join(d.apps, "a")); err == nil {
				t.Error("a failed install left the component's directory")
			}
			// The server may delete the package node it added and add it
			// again to retry.
			if err := d.tree.Delete(srv, root+"/Download/a"); err != nil {
				t.Fatalf("server Delete of the package node: %v", err)
			}
			d.addPackage("a", "http://pkg/a")
		})
	}
}

// Download failures map to SCOMO's download result codes
// (OMA-TS-DM-SCOMO-V1_0 §8.7: 1402 download failed, 1403 authentication,
// 1500 server error).
func TestDownload_HTTPFailuresMapToDownloadResultCodes(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth":
			w.WriteHeader(http.StatusUnauthorized)
		case "/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hs.Close()
	for _, tc := range []struct {
		path string
		want scomo.Result
	}{{"/auth", scomo.ResultDownloadAuthFailed}, {"/boom", scomo.ResultDownloadServerError}, {"/missing", scomo.ResultDownloadFailed}} {
		t.Run(tc.path, func(t *testing.T) {
			d := newDevice(t, dmtree.New(nil), t.TempDir(), func(c *scomo.Config) { c.Fetch = nil })
			d.addPackage("p", hs.URL+tc.path)
			src := root + "/Download/p/Operations/Download"
			if code := d.exec(src, ""); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d", code)
			}
			d.report(src, root+"/Download/p", "", tc.want)
		})
	}
}

func TestDownloadThenInstall_DeliveredPackageIsInstalledOrRemoved(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
	d.pkgs["http://pkg/b"] = []byte("binary")
	d.pkgs["http://pkg/c"] = []byte("binary")
	d.addPackage("b", "http://pkg/b")
	d.addPackage("c", "http://pkg/c")
	del := root + "/Inventory/Delivered/"
	for _, id := range []string{"b", "c"} {
		src := root + "/Download/" + id + "/Operations/Download"
		if code := d.exec(src, "d-"+id); code != syncml.StatusAccepted {
			t.Fatalf("Exec: %d", code)
		}
		d.report(src, del+id, "d-"+id, scomo.ResultSuccessful)
		if got := d.get(del + id + "/State"); got != "10" {
			t.Errorf("Delivered State %q, want 10", got)
		}
	}
	src := del + "b/Operations/InstallInactive"
	if code := d.exec(src, "i"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	d.report(src, root+"/Inventory/Deployed/b", "i", scomo.ResultSuccessful)
	if got := d.get(del + "b/State"); got != "20" {
		t.Errorf("Delivered State after install %q, want 20 (installed)", got)
	}
	if got := d.get(root + "/Inventory/Deployed/b/State"); got != "10" {
		t.Errorf("Deployed State %q, want 10 (inactive)", got)
	}
	src = del + "c/Operations/Remove"
	if code := d.exec(src, "r"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	d.report(src, del+"c", "r", scomo.ResultSuccessful)
	d.absent(del + "c")
	if code := d.exec(del+"b/Operations/Install", ""); code != syncml.StatusCommandNotAllowed {
		t.Errorf("Install of an installed package without data: %d, want 405", code)
	}
}

func TestDeployed_ActivateDeactivateRemove(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
	d.pkgs["http://pkg/x"] = []byte("binary")
	d.addPackage("x", "http://pkg/x")
	d.exec(root+"/Download/x/Operations/DownloadInstallInactive", "")
	d.obj.Wait()
	dep := root + "/Inventory/Deployed/x"
	steps := []struct {
		op      string
		hookErr error
		want    scomo.Result
		state   string
		status  string
	}{
		{"Activate", nil, scomo.ResultSuccessful, "20", "10"},
		{"Deactivate", errors.New("busy"), scomo.ResultDeactivateFailed, "20", "60"},
		{"Deactivate", nil, scomo.ResultSuccessful, "10", "10"},
		{"Remove", errors.New("in use"), scomo.ResultRemoveFailed, "10", "20"},
	}
	for _, s := range steps {
		d.hookErr[strings.ToLower(s.op)] = s.hookErr
		src := dep + "/Operations/" + s.op
		if code := d.exec(src, s.op); code != syncml.StatusAccepted {
			t.Fatalf("Exec %s: %d", s.op, code)
		}
		d.report(src, dep, s.op, s.want)
		if got := d.get(dep + "/State"); got != s.state {
			t.Errorf("after %s: State %q, want %s", s.op, got, s.state)
		}
		if got := d.get(dep + "/Status"); got != s.status {
			t.Errorf("after %s: Status %q, want %s", s.op, got, s.status)
		}
	}
	d.hookErr["remove"] = nil
	src := dep + "/Operations/Remove"
	d.exec(src, "rm")
	d.report(src, dep, "rm", scomo.ResultSuccessful)
	d.absent(dep)
	if _, err := os.Stat(filepath.Join(d.apps, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("removed component's directory: %v", err)
	}
}

func TestExec_RefusesWhatCannotRun(t *testing.T) {
	d := newDevice(t, dmtree.New(nil), t.TempDir(), nil)
	n := root + "/Download/e"
	d.tree.Add(srv, n, dmtree.Value{Format: "node"})
	d.tree.Add(srv, n+"/PkgID", dmtree.Value{Format: "chr", Data: []byte("e")})
	if code := d.exec(n+"/Operations/DownloadInstall", ""); code != syncml.StatusIncompleteCommand {
		t.Errorf("Exec without PkgURL: %d, want 412", code)
	}
	if code := d.exec(root+"/Download", ""); code != syncml.StatusCommandNotAllowed {
		t.Errorf("Exec of Download: %d, want 405", code)
	}
	if code := d.exec(root+"/Inventory/Deployed/none/Operations/Remove", ""); code != syncml.StatusNotFound {
		t.Errorf("Exec on a missing component: %d, want 404", code)
	}
}

// A restart during an install runs it again from the saved operation and
// reports it once, with the Exec's correlator.
func TestRestart_InterruptedInstallRunsAgainAndIsReportedOnce(t *testing.T) {
	dir := t.TempDir()
	tree := dmtree.New(nil)
	d := newDevice(t, tree, dir, nil)
	d.pkgs["http://pkg/r"] = []byte("binary")
	started := make(chan struct{})
	d.obj.Close()
	d.install(func(c *scomo.Config) {
		c.Installer = blockingInstaller{started}
	})
	d.addPackage("r", "http://pkg/r")
	src := root + "/Download/r/Operations/DownloadInstall"
	if code := d.exec(src, "corr-r"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	<-started
	if got := d.get(root + "/Download/r/Status"); got != "50" {
		t.Errorf("Status during the install %q, want 50", got)
	}
	d.obj.Close() // the agent stops
	if n := d.alertCount(); n != 0 {
		t.Fatalf("%d alerts before the restart", n)
	}
	d.install(nil) // the agent starts again
	d.report(src, root+"/Inventory/Deployed/r", "corr-r", scomo.ResultSuccessful)
	if n := d.alertCount(); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
}

type blockingInstaller struct{ started chan struct{} }

func (b blockingInstaller) Install(ctx context.Context, _ *scomo.Component, _ bool) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}
func (blockingInstaller) Remove(context.Context, string) error     { return nil }
func (blockingInstaller) Activate(context.Context, string) error   { return nil }
func (blockingInstaller) Deactivate(context.Context, string) error { return nil }

func TestParseAlert(t *testing.T) {
	for _, tc := range []struct {
		name, typ, src, data string
		ok, err              bool
		want                 scomo.Outcome
	}{
		{"document", scomo.AlertOperationComplete, "./SCOMO/Download/a/Operations/DownloadInstall",
			"<ResultCode>1200</ResultCode><Identifier>a</Identifier>", true, false, scomo.Outcome{Op: scomo.OpDownloadInstall, Result: 1200, Identifier: "a"}},
		{"bare code", scomo.AlertOperationComplete, "./S/Inventory/Deployed/a/Operations/Remove", "1408", true, false, scomo.Outcome{Op: scomo.OpRemove, Result: 1408}},
		{"prefixed type", "Reversed-Domain-Name: " + scomo.AlertOperationComplete, "", "1200", true, false, scomo.Outcome{Result: 1200}},
		{"other type", "urn:oma:at:lawmo:1.0:OperationComplete", "", "1200", false, false, scomo.Outcome{}},
		{"garbage", scomo.AlertOperationComplete, "", "<ResultCode>x", true, true, scomo.Outcome{}},
		{"3-digit", scomo.AlertOperationComplete, "", "200", true, true, scomo.Outcome{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ok, err := scomo.ParseAlert(tc.typ, tc.src, tc.data)
			if ok != tc.ok || (err != nil) != tc.err || (!tc.err && o != tc.want) {
				t.Errorf("= %+v %v %v", o, ok, err)
			}
		})
	}
	if got := scomo.AlertData(1405, "a<b"); got != "<ResultCode>1405</ResultCode><Identifier>a&lt;b</Identifier>" {
		t.Errorf("AlertData %q", got)
	}
}
