package fumo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/syncml"
)

const (
	srv  = "srv"
	node = "./FwUpdate/Default"
)

// device is a tree with a FUMO node and everything the tests look at.
type device struct {
	t    *testing.T
	tree *dmtree.Tree
	obj  *fumo.Object
	dir  string

	mu        sync.Mutex
	alerts    []*syncml.Alert
	installed [][]byte
}

func newDevice(t *testing.T, dir string, tweak func(*fumo.Config)) *device {
	t.Helper()
	d := &device{t: t, tree: dmtree.New(nil), dir: dir}
	d.install(tweak)
	return d
}

func (d *device) install(tweak func(*fumo.Config)) {
	d.t.Helper()
	cfg := fumo.Config{
		Dir:     d.dir,
		Servers: []string{srv},
		Report: func(a *syncml.Alert) {
			d.mu.Lock()
			d.alerts = append(d.alerts, a)
			d.mu.Unlock()
		},
		Install: func(_ context.Context, p string) fumo.Result {
			b, err := os.ReadFile(p)
			if err != nil {
				return fumo.ResultCorruptedPackage
			}
			d.mu.Lock()
			d.installed = append(d.installed, b)
			d.mu.Unlock()
			return fumo.ResultSuccessful
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	o, err := fumo.Install(d.tree, node, cfg)
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

func (d *device) replace(uri, value string) {
	d.t.Helper()
	if err := d.tree.Replace(srv, uri, dmtree.Value{Format: "chr", Data: []byte(value)}); err != nil {
		d.t.Fatalf("Replace %s: %v", uri, err)
	}
}

func (d *device) exec(op fumo.Op, corr string) syncml.StatusCode {
	d.t.Helper()
	code, _ := d.tree.Exec(context.Background(), srv, node+"/"+string(op), nil, corr)
	return code
}

// lastAlert waits for the running operation and returns its alert.
func (d *device) lastAlert() *syncml.Alert {
	d.t.Helper()
	d.obj.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.alerts) == 0 {
		d.t.Fatal("no alert reported")
	}
	return d.alerts[len(d.alerts)-1]
}

func (d *device) alertCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.alerts)
}

func checkAlert(t *testing.T, a *syncml.Alert, typ, corr string, r fumo.Result) {
	t.Helper()
	if a.Data != syncml.AlertGeneric || a.Correlator != corr || len(a.Items) != 1 {
		t.Fatalf("alert %d correlator %q with %d items, want 1226 %q with 1", a.Data, a.Correlator, len(a.Items), corr)
	}
	it := a.Items[0]
	if it.Source == nil || it.Source.LocURI != node || it.Meta == nil || it.Meta.Type != typ || it.Meta.Format != "int" {
		t.Fatalf("alert item %+v meta %+v, want source %s type %s format int", it.Source, it.Meta, node, typ)
	}
	if got := it.Data.String(); got != strconv.Itoa(int(r)) {
		t.Errorf("alert result %s, want %d (%s)", got, r, r)
	}
	if wantMark := map[bool]string{true: "", false: "critical"}[r.Successful()]; it.Meta.Mark != wantMark {
		t.Errorf("mark %q, want %q", it.Meta.Mark, wantMark)
	}
}

// firmware serves body at /fw.bin on 127.0.0.1.
func firmware(t *testing.T, body []byte) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fw.bin":
			w.Write(body)
		case "/auth":
			http.Error(w, "no", http.StatusUnauthorized)
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestInstall_CreatesTheNodeWithTheFUMODDFAndIdleState(t *testing.T) {
	d := newDevice(t, t.TempDir(), nil)
	if got := d.get(node + "/State"); got != "10" {
		t.Errorf("State %q, want 10", got)
	}
	if got := d.get(node + "?prop=Type"); got != fumo.MOID {
		t.Errorf("Type %q, want %s", got, fumo.MOID)
	}
	for _, uri := range []string{node + "/Download/PkgURL", node + "/DownloadAndUpdate/PkgURL"} {
		d.get(uri) // exists
	}
	if err := d.tree.Replace(srv, node+"/State", dmtree.Value{Format: "int", Data: []byte("50")}); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Errorf("Replace State: %v, want 405", err)
	}
	if code, _ := d.tree.Exec(context.Background(), srv, node+"/State", nil, ""); code != syncml.StatusCommandNotAllowed {
		t.Errorf("Exec State: %d, want 405", code)
	}
	if code, _ := d.tree.Exec(context.Background(), "intruder", node+"/Update", nil, ""); code != syncml.StatusPermissionDenied {
		t.Errorf("Exec by a server without rights: %d, want 425", code)
	}
	// Install again (next start): nothing changes, nothing breaks.
	d.obj.Close()
	d.install(nil)
	if got := d.get(node + "/State"); got != "10" {
		t.Errorf("State after a second Install %q", got)
	}
	if _, err := fumo.Install(dmtree.New(nil), "./FwUpdate", fumo.Config{Dir: t.TempDir(), Report: func(*syncml.Alert) {}}); err != nil {
		t.Errorf("a package node right below the root: %v", err)
	}
	if _, err := fumo.Install(dmtree.New(nil), ".", fumo.Config{Dir: t.TempDir(), Report: func(*syncml.Alert) {}}); err == nil {
		t.Error("Install at the root: no error")
	}
	if _, err := fumo.Install(dmtree.New(nil), node, fumo.Config{}); err == nil {
		t.Error("Install without Dir and Report: no error")
	}
}

func TestDownloadAndUpdate_InstallsAndReportsWithTheCorrelator(t *testing.T) {
	body := bytes.Repeat([]byte("firmware v2 "), 10000)
	url := firmware(t, body)
	d := newDevice(t, t.TempDir(), nil)
	d.replace(node+"/PkgName", "acme-fw")
	d.replace(node+"/DownloadAndUpdate/PkgURL", url+"/fw.bin")
	if code := d.exec(fumo.OpDownloadAndUpdate, "job-42"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d, want 202", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownloadAndUpdate, "job-42", fumo.ResultSuccessful)
	if len(d.installed) != 1 || !bytes.Equal(d.installed[0], body) {
		t.Fatalf("installed %d packages, want the downloaded one", len(d.installed))
	}
	if got := d.get(node + "/State"); got != "100" {
		t.Errorf("State %s, want 100 (update successful, no data)", got)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "package.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("package kept after a successful update: %v", err)
	}
	// A new operation may start from the final state.
	if code := d.exec(fumo.OpDownloadAndUpdate, "job-43"); code != syncml.StatusAccepted {
		t.Fatalf("second Exec: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownloadAndUpdate, "job-43", fumo.ResultSuccessful)
}

func TestDownload_FailuresReportTheirResultAndLeaveDownloadFailed(t *testing.T) {
	url := firmware(t, []byte("0123456789"))
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name, url string
		max       int64
		want      fumo.Result
	}{
		{"not found", url + "/missing", 0, fumo.ResultBadURL},
		{"authentication", url + "/auth", 0, fumo.ResultDownloadAuthFailed},
		{"server error", url + "/down", 0, fumo.ResultServerError},
		{"unsupported scheme", "ftp://127.0.0.1/fw.bin", 0, fumo.ResultBadURL},
		{"garbage URL", "http://%zz", 0, fumo.ResultBadURL},
		{"server unavailable", closedURL + "/fw.bin", 0, fumo.ResultServerUnavailable},
		{"too large", url + "/fw.bin", 5, fumo.ResultDownloadOutOfMemory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, t.TempDir(), func(c *fumo.Config) { c.MaxSize = tc.max })
			d.replace(node+"/Download/PkgURL", tc.url)
			if code := d.exec(fumo.OpDownload, "c"); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d", code)
			}
			checkAlert(t, d.lastAlert(), fumo.AlertDownload, "c", tc.want)
			if got := d.get(node + "/State"); got != "20" {
				t.Errorf("State %s, want 20", got)
			}
			if matches, _ := filepath.Glob(filepath.Join(d.dir, "package.*")); len(matches) != 0 {
				t.Errorf("files left behind: %v", matches)
			}
			if code := d.exec(fumo.OpUpdate, ""); code != syncml.StatusCommandNotAllowed {
				t.Errorf("Update without a package: %d, want 405", code)
			}
		})
	}
}

func TestDownloadThenUpdate_FailedUpdateKeepsThePackageForARetry(t *testing.T) {
	url := firmware(t, []byte("fw"))
	fail := true
	d := newDevice(t, t.TempDir(), func(c *fumo.Config) {
		inner := c.Install
		c.Install = func(ctx context.Context, p string) fumo.Result {
			if fail {
				return fumo.ResultPackageMismatch
			}
			return inner(ctx, p)
		}
	})
	if code := d.exec(fumo.OpUpdate, ""); code != syncml.StatusCommandNotAllowed {
		t.Errorf("Update while idle: %d, want 405", code)
	}
	if code := d.exec(fumo.OpDownload, ""); code != syncml.StatusIncompleteCommand {
		t.Errorf("Download without PkgURL: %d, want 412", code)
	}
	d.replace(node+"/Download/PkgURL", url+"/fw.bin")
	if code := d.exec(fumo.OpDownload, "d1"); code != syncml.StatusAccepted {
		t.Fatalf("Exec Download: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownload, "d1", fumo.ResultSuccessful)
	if got := d.get(node + "/State"); got != "50" {
		t.Fatalf("State after download %s, want 50", got)
	}
	if code := d.exec(fumo.OpUpdate, "u1"); code != syncml.StatusAccepted {
		t.Fatalf("Exec Update: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertUpdate, "u1", fumo.ResultPackageMismatch)
	if got := d.get(node + "/State"); got != "70" {
		t.Fatalf("State after a failed update %s, want 70 (failed, have data)", got)
	}
	fail = false
	if code := d.exec(fumo.OpUpdate, "u2"); code != syncml.StatusAccepted {
		t.Fatalf("retried Update: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertUpdate, "u2", fumo.ResultSuccessful)
	if got := d.get(node + "/State"); got != "100" {
		t.Errorf("State %s, want 100", got)
	}
}

func TestPkgData_PushedPackageIsInstalledAndCleared(t *testing.T) {
	d := newDevice(t, t.TempDir(), nil)
	pkg := []byte{0, 1, 2, 0xff, 'f', 'w'}
	if err := d.tree.Replace(srv, node+"/Update/PkgData", dmtree.Value{Format: "bin", Data: pkg}); err != nil {
		t.Fatal(err)
	}
	if got := d.get(node + "/State"); got != "50" {
		t.Fatalf("State after PkgData %s, want 50", got)
	}
	if code := d.exec(fumo.OpUpdate, "p"); code != syncml.StatusAccepted {
		t.Fatalf("Exec Update: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertUpdate, "p", fumo.ResultSuccessful)
	if !bytes.Equal(d.installed[0], pkg) {
		t.Errorf("installed %x, want %x", d.installed[0], pkg)
	}
	if info, err := d.tree.Info(node + "/Update/PkgData"); err != nil || info.Size != 0 {
		t.Errorf("PkgData after the update: %+v %v, want empty", info, err)
	}
}

// blockingFetch holds a download until released.
type blockingFetch struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingFetch) fetch(ctx context.Context, _ string, w io.Writer) error {
	b.started <- struct{}{}
	select {
	case <-b.release:
		_, err := w.Write([]byte("late firmware"))
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestRestart_InterruptedDownloadIsResumedAndReportedOnce(t *testing.T) {
	dir := t.TempDir()
	bf := &blockingFetch{started: make(chan struct{}, 2), release: make(chan struct{})}
	d := newDevice(t, dir, func(c *fumo.Config) { c.Fetch = bf.fetch })
	d.replace(node+"/DownloadAndUpdate/PkgURL", "http://127.0.0.1:1/fw.bin")
	if code := d.exec(fumo.OpDownloadAndUpdate, "r1"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	<-bf.started
	if got := d.get(node + "/State"); got != "30" {
		t.Errorf("State while downloading %s, want 30", got)
	}
	if code := d.exec(fumo.OpDownload, "x"); code != syncml.StatusCommandNotAllowed {
		t.Errorf("Exec while busy: %d, want 405", code)
	}
	d.obj.Close() // the agent stops mid-download
	if n := d.alertCount(); n != 0 {
		t.Fatalf("%d alerts from an interrupted download", n)
	}
	// Next start, same tree and directory: the download starts again.
	d.install(func(c *fumo.Config) { c.Fetch = bf.fetch })
	<-bf.started
	close(bf.release)
	checkAlert(t, d.lastAlert(), fumo.AlertDownloadAndUpdate, "r1", fumo.ResultSuccessful)
	if n := d.alertCount(); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
	if string(d.installed[0]) != "late firmware" {
		t.Errorf("installed %q", d.installed[0])
	}
}

func TestRestart_DuringUpdateAsksResume(t *testing.T) {
	for _, tc := range []struct {
		name      string
		resume    func(context.Context, string) fumo.Result
		want      fumo.Result
		wantState string
	}{
		{"new firmware running", func(context.Context, string) fumo.Result { return fumo.ResultSuccessful }, fumo.ResultSuccessful, "100"},
		{"no resume hook", nil, fumo.ResultUpdateFailed, "70"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "package.bin"), []byte("fw"), 0o600)
			os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"state":60,"op":"Update","correlator":"u9"}`), 0o600)
			d := newDevice(t, dir, func(c *fumo.Config) { c.Resume = tc.resume })
			checkAlert(t, d.lastAlert(), fumo.AlertUpdate, "u9", tc.want)
			if got := d.get(node + "/State"); got != tc.wantState {
				t.Errorf("State %s, want %s", got, tc.wantState)
			}
		})
	}
}

func TestInstall_DamagedStateFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"state":33}`), 0o600)
	_, err := fumo.Install(dmtree.New(nil), node, fumo.Config{Dir: dir, Report: func(*syncml.Alert) {}})
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("err %v, want a damaged-state error", err)
	}
}

func TestParseAlert(t *testing.T) {
	tests := []struct {
		typ, data string
		want      fumo.Outcome
		ok, err   bool
	}{
		{fumo.AlertDownload, "200", fumo.Outcome{Op: fumo.OpDownload, Result: 200}, true, false},
		{fumo.AlertUpdate, " 410 ", fumo.Outcome{Op: fumo.OpUpdate, Result: 410}, true, false},
		{"Reversed-Domain-Name: " + fumo.AlertDownloadAndUpdate, "503", fumo.Outcome{Op: fumo.OpDownloadAndUpdate, Result: 503}, true, false},
		{fumo.AlertDeviceRequest, "", fumo.Outcome{Request: true}, true, false},
		{fumo.AlertUserRequest, "x", fumo.Outcome{Request: true}, true, false},
		{"com.example.other", "200", fumo.Outcome{}, false, false},
		{fumo.AlertUpdate, "ok", fumo.Outcome{Op: fumo.OpUpdate}, true, true},
		{fumo.AlertUpdate, "99", fumo.Outcome{Op: fumo.OpUpdate}, true, true},
	}
	for _, tc := range tests {
		got, ok, err := fumo.ParseAlert(tc.typ, tc.data)
		if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("ParseAlert(%q, %q) = %+v, %v, %v; want %+v, %v, err %v", tc.typ, tc.data, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
	if fumo.Result(402).String() != "corrupted firmware update package" || fumo.Result(260).String() != "successful (vendor 260)" ||
		!fumo.Result(260).Successful() || fumo.Result(450).Successful() {
		t.Error("Result names")
	}
	if op, err := fumo.ParseOp("downloadandupdate"); err != nil || op != fumo.OpDownloadAndUpdate {
		t.Errorf("ParseOp: %v %v", op, err)
	}
	if _, err := fumo.ParseOp("reboot"); err == nil {
		t.Error("ParseOp(reboot): no error")
	}
}

// FuzzParseAlert: whatever a device sends as the type and data of a 1226
// item, the server's reading of it neither panics nor accepts a result
// outside 100..999.
func FuzzParseAlert(f *testing.F) {
	f.Add(fumo.AlertDownloadAndUpdate, "200")
	f.Add("Reversed-Domain-Name: "+fumo.AlertUpdate, "410")
	f.Add(fumo.AlertDeviceRequest, "")
	f.Add("x: y z", "-1")
	f.Fuzz(func(t *testing.T, typ, data string) {
		o, ok, err := fumo.ParseAlert(typ, data)
		if ok && err == nil && !o.Request && (o.Result < 100 || o.Result > 999 || o.Op.AlertType() == "") {
			t.Fatalf("ParseAlert(%q, %q) = %+v", typ, data, o)
		}
		_ = o.Result.String()
	})
}

func TestRestart_AfterACompleteDownloadFinishesTheOperation(t *testing.T) {
	for _, tc := range []struct {
		op        fumo.Op
		typ       string
		wantState string
		installs  int
	}{
		{fumo.OpDownload, fumo.AlertDownload, "50", 0},
		{fumo.OpDownloadAndUpdate, fumo.AlertDownloadAndUpdate, "100", 1},
	} {
		t.Run(string(tc.op), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "package.bin"), []byte("fw"), 0o600)
			os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"state":40,"op":"`+string(tc.op)+`","correlator":"k"}`), 0o600)
			d := newDevice(t, dir, nil)
			checkAlert(t, d.lastAlert(), tc.typ, "k", fumo.ResultSuccessful)
			if got := d.get(node + "/State"); got != tc.wantState {
				t.Errorf("State %s, want %s", got, tc.wantState)
			}
			if len(d.installed) != tc.installs {
				t.Errorf("%d installs, want %d", len(d.installed), tc.installs)
			}
		})
	}
}

func TestDownload_HangingServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	d := newDevice(t, t.TempDir(), func(c *fumo.Config) { c.DownloadTimeout = 200 * time.Millisecond })
	d.replace(node+"/Download/PkgURL", ts.URL+"/fw.bin")
	if code := d.exec(fumo.OpDownload, "t"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownload, "t", fumo.ResultDownloadTimeout)
}

// The report starts a session at once (omadm-agent), and that session may
// carry the server's next Exec: the object must already be free for it.
func TestReport_AnExecInTheReportingSessionIsAccepted(t *testing.T) {
	url := firmware(t, []byte("fw"))
	var d *device
	var again syncml.StatusCode
	d = newDevice(t, t.TempDir(), func(c *fumo.Config) {
		inner := c.Report
		c.Report = func(a *syncml.Alert) {
			inner(a)
			if a.Correlator == "first" {
				again, _ = d.tree.Exec(context.Background(), srv, node+"/Download", nil, "second")
			}
		}
	})
	d.replace(node+"/Download/PkgURL", url+"/fw.bin")
	if code := d.exec(fumo.OpDownload, "first"); code != syncml.StatusAccepted {
		t.Fatalf("Exec: %d", code)
	}
	checkAlert(t, d.lastAlert(), fumo.AlertDownload, "second", fumo.ResultSuccessful)
	if again != syncml.StatusAccepted {
		t.Errorf("Exec from the reporting session: %d, want 202", again)
	}
}
