package e2e_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// componentPackage is a tar.gz component with a VERSION file.
func componentPackage(t *testing.T, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range map[string]string{"VERSION": version + "\n", "bin/run": "#!/bin/sh\necho hi\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// scomoEnv is a server with its operations layer and API, a device with a
// SCOMO object installing into a directory, and a package server.
type scomoEnv struct {
	n    *opsNode
	a    *agent
	api  *httptest.Server
	apps string
	obj  *scomo.Object
	cfg  scomo.Config
	pkgs *httptest.Server
}

// hookFunc is the DirInstaller hook of a test.
type hookFunc func(ctx context.Context, action, id, dir string) error

func newSCOMOEnv(t *testing.T, b backend, enc syncml.Encoding, hook hookFunc) *scomoEnv {
	t.Helper()
	st := b.open(t)
	e := &scomoEnv{n: startOpsNode(t, st, newClock()), apps: t.TempDir()}
	e.a = newAgent(t, st, e.n.url, enc)
	pkg := componentPackage(t, "1.4.2")
	e.pkgs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(pkg) }))
	t.Cleanup(e.pkgs.Close)
	h, err := handler.New(handler.Options{Store: st, Token: "t", Operations: e.n.m})
	if err != nil {
		t.Fatal(err)
	}
	e.api = httptest.NewServer(h)
	t.Cleanup(e.api.Close)
	e.cfg = scomo.Config{Dir: t.TempDir(), Servers: []string{serverID}, Report: e.a.Client().QueueAlert,
		Installer: &scomo.DirInstaller{Dir: e.apps, Hook: hook}}
	e.start(t)
	return e
}

// start installs the object, as the agent does at every start.
func (e *scomoEnv) start(t *testing.T) {
	t.Helper()
	obj, err := scomo.Install(e.a.Tree(), "./SCOMO", e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.obj = obj
	t.Cleanup(obj.Close)
}

// run creates an operation, lets the device accept it in one session and
// report it in the next, and returns it as it ended.
func (e *scomoEnv) run(t *testing.T, op string, params map[string]any, want storage.OpState) storage.Operation {
	t.Helper()
	o, _ := e.n.create(t, fleet.Request{DeviceID: e.a.ID(), MO: "scomo", Operation: op, Params: params})
	e.a.session(t)
	e.n.waitState(t, o.ID, storage.OpAccepted)
	e.obj.Wait()
	e.a.session(t)
	return e.n.waitState(t, o.ID, want)
}

// inventory reads the device's inventory again through the API and
// returns what GET then shows.
func (e *scomoEnv) inventory(t *testing.T) api.SCOMOInventory {
	t.Helper()
	req, _ := http.NewRequest("POST", e.api.URL+"/api/v1/devices/"+e.a.ID()+"/scomo/inventory", bytes.NewReader([]byte(`{}`)))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var j api.Job
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST inventory: %d", resp.StatusCode)
	}
	e.a.session(t)
	var got api.Job
	getJSON(t, e.api.URL+"/api/v1/jobs/"+itoa(j.ID), &got)
	if got.State != "done" {
		t.Fatalf("inventory Get job %+v", got)
	}
	var inv api.SCOMOInventory
	getJSON(t, e.api.URL+"/api/v1/devices/"+e.a.ID()+"/scomo/inventory", &inv)
	return inv
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Install, deactivate and remove a component the way an operator does,
// through operations built from the SCOMO descriptor: the server Adds
// Download/<x> and Execs DownloadInstall, the device answers 202, installs
// after the session and reports 1200 in a 1226 OperationComplete alert
// with the Exec's correlator (OMA-TS-DM-SCOMO-V1_0 §5, §8.7); the
// inventory the server reads back shows each step.
func TestE2E_SCOMOInstallDeactivateRemoveThroughOperations(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		e := newSCOMOEnv(t, b, enc, nil)
		done := e.run(t, "install", map[string]any{"id": "app1", "url": e.pkgs.URL + "/app1.tgz", "name": "App One"}, storage.OpSucceeded)
		if done.Result != 1200 || done.EventID == 0 {
			t.Fatalf("install %+v", done)
		}
		if _, err := os.Stat(filepath.Join(e.apps, "app1", "bin", "run")); err != nil {
			t.Errorf("component not unpacked: %v", err)
		}
		// The server reads the inventory again by itself once the
		// operation ended: the device's next session answers that Get.
		e.a.session(t)
		var inv api.SCOMOInventory
		getJSON(t, e.api.URL+"/api/v1/devices/"+e.a.ID()+"/scomo/inventory", &inv)
		if len(inv.Deployed) != 1 || inv.Deployed[0].Version != "1.4.2" {
			t.Fatalf("inventory read after the install %+v", inv)
		}
		inv = e.inventory(t)
		if len(inv.Deployed) != 1 || inv.ReadAt == nil {
			t.Fatalf("inventory %+v", inv)
		}
		if c := inv.Deployed[0]; c.ID != "app1" || c.Name != "App One" || c.Version != "1.4.2" || c.State != "active" || c.Status != 10 {
			t.Errorf("deployed %+v", c)
		}

		if done := e.run(t, "deactivate", map[string]any{"id": "app1"}, storage.OpSucceeded); done.Result != 1200 {
			t.Fatalf("deactivate %+v", done)
		}
		if inv := e.inventory(t); len(inv.Deployed) != 1 || inv.Deployed[0].State != "inactive" {
			t.Errorf("inventory after deactivate %+v", inv.Deployed)
		}

		if done := e.run(t, "remove", map[string]any{"id": "app1"}, storage.OpSucceeded); done.Result != 1200 {
			t.Fatalf("remove %+v", done)
		}
		if inv := e.inventory(t); len(inv.Deployed) != 0 {
			t.Errorf("inventory after remove %+v", inv.Deployed)
		}
		if _, err := os.Stat(filepath.Join(e.apps, "app1")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("removed component's directory: %v", err)
		}
	})
}

// A failing install hook fails the operation with the report's 1405
// "install failed"; a hook that names its own result (user cancelled) has
// that code reported instead (OMA-TS-DM-SCOMO-V1_0 §8.7).
func TestE2E_SCOMOFailingHookReportsTheFailureCode(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		var mu sync.Mutex
		var hookErr error
		e := newSCOMOEnv(t, b, enc, func(_ context.Context, action, _, _ string) error {
			mu.Lock()
			defer mu.Unlock()
			if action == "install" {
				return hookErr
			}
			return nil
		})
		for i, tc := range []struct {
			err  error
			want int
		}{
			{errors.New("exit status 1"), 1405},
			{&moframe.ResultError{Code: 1401, Err: errors.New("declined")}, 1401},
		} {
			mu.Lock()
			hookErr = tc.err
			mu.Unlock()
			id := "bad" + itoa(int64(i))
			done := e.run(t, "install", map[string]any{"id": id, "url": e.pkgs.URL + "/bad.tgz"}, storage.OpFailed)
			if done.Result != tc.want || done.EventID == 0 {
				t.Errorf("failed install %+v, want result %d", done, tc.want)
			}
			var got api.Operation
			getJSON(t, e.api.URL+"/api/v1/operations/"+itoa(done.ID), &got)
			if got.Meaning != scomo.Result(tc.want).String() {
				t.Errorf("meaning %q", got.Meaning)
			}
			if _, err := os.Stat(filepath.Join(e.apps, id)); err == nil {
				t.Errorf("failed install left %s", id)
			}
		}
	})
}

// The agent stops while an install runs: the saved operation runs again
// at the next start and the server gets exactly one report, with the
// Exec's correlator, that ends the operation.
func TestE2E_SCOMOAgentRestartMidInstallIsReportedOnce(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		started := make(chan struct{})
		var once sync.Once
		block := true
		var mu sync.Mutex
		e := newSCOMOEnv(t, b, enc, func(ctx context.Context, action, _, _ string) error {
			mu.Lock()
			blocking := block
			mu.Unlock()
			if action == "install" && blocking {
				once.Do(func() { close(started) })
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
		o, _ := e.n.create(t, fleet.Request{DeviceID: e.a.ID(), MO: "scomo", Operation: "install",
			Params: map[string]any{"id": "r1", "url": e.pkgs.URL + "/r1.tgz"}})
		e.a.session(t)
		e.n.waitState(t, o.ID, storage.OpAccepted)
		<-started
		e.obj.Close() // the agent stops mid-install
		if n := e.a.Client().PendingAlerts(); n != 0 {
			t.Fatalf("%d alerts queued by a stopped install", n)
		}
		mu.Lock()
		block = false
		mu.Unlock()
		e.start(t) // and starts again
		e.obj.Wait()
		if n := e.a.Client().PendingAlerts(); n != 1 {
			t.Fatalf("%d alerts after the restart, want 1", n)
		}
		e.a.session(t)
		done := e.n.waitState(t, o.ID, storage.OpSucceeded)
		if done.Result != 1200 {
			t.Errorf("operation %+v", done)
		}
	})
}
