package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/syncml"
)

// scomoOp queues a SCOMO operation through the API, lets the device accept
// it in one session, waits for the object, lets the device report in the
// next session and returns the operation as the server then shows it.
func scomoOp(t *testing.T, n *dlNode, a *agent, obj func() *scomo.Object, op string, params map[string]any, during func()) *api.Operation {
	t.Helper()
	ctx := context.Background()
	o, err := n.api.CreateOperation(ctx, a.ID(), api.OperationRequest{MO: "scomo", Operation: op, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.session(t); r.Err != nil {
		t.Fatal(r.Err)
	}
	if during != nil {
		during()
	}
	obj().Wait()
	if r := a.session(t); r.Err != nil {
		t.Fatal(r.Err)
	}
	got, err := n.api.GetOperation(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A component from the server's own catalogue, the way an operator
// installs it: upload the package, queue a SCOMO install with
// package=<id>; the server Adds Download/<x> with PkgURL set to the
// package's download descriptor bound to the device (OMA-TS-DM-SCOMO-V1_0
// §5: PkgURL names the package or its descriptor; OMA-Download-OTA-V1_0
// descriptor). The agent is stopped mid-download and resumes with an HTTP
// Range request (RFC 9110 §14.2), verifies size and SHA-256, posts "900
// Success" to installNotifyURI (recorded as an event of the device), then
// installs the component and reports 1200 (§8.7) in its 1226
// OperationComplete alert.
func TestE2E_SCOMOCataloguePackageResumesInstallsAndRecordsInstallNotify(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startDownloadNode(t, st)
		a := newAgent(t, st, n.base+"/dm", enc)
		ctx := context.Background()
		pkg := componentPackage(t, "3.1.0")
		p, err := n.api.UploadPackage(ctx, "maps", "3.1.0", "application/gzip", bytes.NewReader(pkg))
		if err != nil {
			t.Fatal(err)
		}
		obj := "/dl/" + p.ID
		var ranges []string
		var codes []int
		gets := 0
		n.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != obj {
				return false
			}
			n.mu.Lock()
			gets++
			first := gets == 1
			ranges = append(ranges, r.Header.Get("Range"))
			n.mu.Unlock()
			if first { // half the package, then hold until the agent goes away
				w.Header().Set("Content-Length", strconv.Itoa(len(pkg)))
				w.Write(pkg[:len(pkg)/2])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}
			rec := &statusRecorder{ResponseWriter: w}
			handler.Downloads(n.cat, st, nil).ServeHTTP(rec, r)
			n.mu.Lock()
			codes = append(codes, rec.code)
			n.mu.Unlock()
			return true
		})
		sig := &signalTransport{path: obj, n: int64(len(pkg) / 4), reached: make(chan struct{})}
		apps, dir := t.TempDir(), t.TempDir()
		cfg := scomo.Config{Dir: dir, Servers: []string{serverID}, Report: a.Client().QueueAlert,
			HTTPClient: &http.Client{Transport: sig}, Installer: &scomo.DirInstaller{Dir: apps}}
		cur, err := scomo.Install(a.Tree(), "./SCOMO", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cur.Close() })
		var part os.FileInfo
		done := scomoOp(t, n, a, func() *scomo.Object { return cur }, "install", map[string]any{"id": "maps", "package": p.ID}, func() {
			waitFor(t, sig.reached, "the first half of the package")
			cur.Close() // the agent stops mid-download …
			var err error
			part, err = os.Stat(filepath.Join(dir, "download", "package.part"))
			if err != nil || part.Size() < int64(len(pkg)/4) {
				t.Fatalf("partial package after the stop: %v, %v", part, err)
			}
			cur, err = scomo.Install(a.Tree(), "./SCOMO", cfg) // … and starts again
			if err != nil {
				t.Fatal(err)
			}
		})
		if done.State != "succeeded" || done.Result != 1200 {
			t.Fatalf("operation %+v, want succeeded with 1200", done)
		}
		n.mu.Lock()
		gotRanges, gotCodes := append([]string(nil), ranges...), append([]int(nil), codes...)
		n.mu.Unlock()
		if len(gotRanges) != 2 || gotRanges[0] != "" || gotRanges[1] != "bytes="+strconv.FormatInt(part.Size(), 10)+"-" {
			t.Errorf("package requests with Range %q, want none then bytes=%d-", gotRanges, part.Size())
		}
		if len(gotCodes) != 1 || gotCodes[0] != http.StatusPartialContent {
			t.Errorf("resumed request answered %v, want 206", gotCodes)
		}
		if v, err := os.ReadFile(filepath.Join(apps, "maps", "VERSION")); err != nil || string(v) != "3.1.0\n" {
			t.Errorf("installed component's VERSION %q, %v", v, err)
		}
		notes := n.events(t, a.ID(), api.InstallNotifyKind)
		if len(notes) != 1 || notes[0].Data != "900 Success" || notes[0].Type != p.ID {
			t.Fatalf("install-notify events %+v, want one 900 Success for %s", notes, p.ID)
		}
	})
}

// A descriptor the device cannot use is reported to installNotifyURI with
// the OMA DL status that says why (OMA-Download-OTA-V1_0 status codes) and
// to the DM server with the SCOMO result it maps to (OMA-TS-DM-SCOMO-V1_0
// §8.7: 1402 download failed for an unusable descriptor, 1407 failed
// package validation for media that does not match it); nothing is
// installed.
func TestE2E_SCOMOBadDescriptorsReportTheirStatusAndSCOMOResult(t *testing.T) {
	pkg := componentPackage(t, "1.0")
	tests := []struct {
		name   string
		dd     func(obj, notify string) string
		status string // install-notify report
		result int    // SCOMO result code
	}{
		{"unknown DDVersion", func(obj, notify string) string {
			return ddDoc("2.0", "application/gzip", strconv.Itoa(len(pkg)), obj, notify)
		}, "951 Invalid DDVersion", 1402},
		{"no size", func(obj, notify string) string {
			return ddDoc("1.0", "application/gzip", "", obj, notify)
		}, "906 Invalid descriptor", 1402},
		{"media larger than announced", func(obj, notify string) string {
			return ddDoc("1.0", "application/gzip", strconv.Itoa(len(pkg)-1), obj, notify)
		}, "905 Attribute mismatch", 1407},
	}
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startDownloadNode(t, st)
		ctx := context.Background()
		p, err := n.api.UploadPackage(ctx, "app", "1.0", "application/gzip", bytes.NewReader(pkg))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a := newAgent(t, st, n.base+"/dm", enc)
				notify := n.base + "/dl/" + p.ID + "/notify?" + url.Values{"device": {a.ID()}, "tag": {n.cat.NotifyMAC(p.ID, a.ID())}}.Encode()
				doc := tc.dd(n.base+"/dl/"+p.ID, notify)
				n.setHook(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/bad.dd" {
						return false
					}
					w.Header().Set("Content-Type", dlota.DDContentType)
					io.WriteString(w, doc)
					return true
				})
				apps := t.TempDir()
				o, err := scomo.Install(a.Tree(), "./SCOMO", scomo.Config{Dir: t.TempDir(), Servers: []string{serverID},
					Report: a.Client().QueueAlert, Installer: &scomo.DirInstaller{Dir: apps}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(o.Close)
				done := scomoOp(t, n, a, func() *scomo.Object { return o }, "install", map[string]any{"id": "app", "url": n.base + "/bad.dd"}, nil)
				if done.State != "failed" || done.Result != tc.result {
					t.Errorf("operation %s result %d (%s), want failed with %d", done.State, done.Result, done.Meaning, tc.result)
				}
				notes := n.events(t, a.ID(), api.InstallNotifyKind)
				if len(notes) != 1 || notes[0].Data != tc.status {
					t.Errorf("install-notify events %+v, want one %q", notes, tc.status)
				}
				if _, err := os.Stat(filepath.Join(apps, "app")); err == nil {
					t.Error("a failed download installed the component")
				}
			})
		}
	})
}
