package e2e_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/fleet/content"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

const dlToken = "download-e2e-token"

// dlNode is the server side `omadm serve` runs for packages: the DM
// endpoint, the REST API with the catalogue, and /dl/ for devices, on one
// loopback HTTP server. hook, when set, sees /dl/ and test-only requests
// first and says whether it answered.
type dlNode struct {
	st   storage.Store
	base string
	cat  *content.Catalogue
	api  *apiclient.Client
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func startDownloadNode(t *testing.T, st storage.Store) *dlNode {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	cat, err := content.Open(t.TempDir(), content.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := &dlNode{st: st, cat: cat}
	hs := httptest.NewUnstartedServer(nil)
	n.base = "http://" + hs.Listener.Addr().String()
	ops, err := fleet.New(fleet.Options{Store: st, Logger: log, Packages: cat.ResolvePackage(func() string { return n.base })})
	if err != nil {
		t.Fatal(err)
	}
	e, err := server.New(server.Options{Store: st, ServerID: serverID, Logger: log,
		Senders:         map[string]notification.Sender{"udp": &notification.UDPSender{}},
		FirmwareRequest: cat.FirmwareRequests(ops, st, log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	h, err := handler.New(handler.Options{Store: st, Token: dlToken, Operations: ops, Content: cat, Logger: log, ServerID: serverID})
	if err != nil {
		t.Fatal(err)
	}
	dl := handler.Downloads(cat, st, h)
	mux := http.NewServeMux()
	mux.Handle("/dm", dmhttp.NewHandler(e, &dmhttp.HandlerOptions{Logger: log}))
	mux.Handle("/api/", h)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		hook := n.hook
		n.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		dl.ServeHTTP(w, r)
	}))
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(hs.Close)
	n.api = apiclient.New(hs.URL, dlToken)
	return n
}

func (n *dlNode) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	n.mu.Lock()
	n.hook = h
	n.mu.Unlock()
}

// events returns the device's events of one kind.
func (n *dlNode) events(t *testing.T, devID, kind string) []*storage.Event {
	t.Helper()
	evs, err := n.st.ListEvents(context.Background(), devID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*storage.Event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// fumoReport is the data of the device's FUMO report, "" when none came.
func (n *dlNode) fumoReport(t *testing.T, devID string) string {
	t.Helper()
	for _, e := range n.events(t, devID, "generic-alert") {
		if e.Type == fumo.AlertDownloadAndUpdate {
			return e.Data
		}
	}
	return ""
}

func image(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// signalBody closes reached once n bytes of a response body have been read
// by the downloader: the bytes are then written before its next read.
type signalTransport struct {
	path    string
	n       int64
	once    sync.Once
	reached chan struct{}
}

func (s *signalTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.URL.Path == s.path {
		resp.Body = &signalBody{ReadCloser: resp.Body, s: s}
	}
	return resp, err
}

type signalBody struct {
	io.ReadCloser
	s   *signalTransport
	got int64
}

func (b *signalBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	if b.got >= b.s.n {
		b.s.once.Do(func() { close(b.s.reached) })
	}
	return n, err
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second): // bounds a hang only
		t.Fatalf("timed out waiting for %s", what)
	}
}

// A firmware update from the server's own catalogue, the way an operator
// runs it: upload the package, queue FUMO with package=<id>; the server
// sets PkgURL to the package's download descriptor bound to the device
// (OMA-TS-DM-FUMO-V1_0: PkgURL may name a descriptor; OMA-Download-OTA-V1_0
// descriptor). The agent is restarted mid-download and resumes with an HTTP
// Range request (RFC 9110 §14.2), verifies size and SHA-256, posts "900
// Success" to installNotifyURI (recorded as an event of the device), then
// installs and reports 200 in its 1226 alert.
func TestE2E_CatalogueFirmwareResumesAfterRestartAndRecordsInstallNotify(t *testing.T) {
	img := image(256 << 10)
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startDownloadNode(t, st)
		a := newAgent(t, st, n.base+"/dm", enc)
		ctx := context.Background()
		p, err := n.api.UploadPackage(ctx, "fw", "2.0", "application/x-omadm-fw", bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		obj := "/dl/" + p.ID
		var gets int
		var ranges []string
		var codes []int
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
				w.Header().Set("Content-Length", strconv.Itoa(len(img)))
				w.Write(img[:len(img)/2])
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
		sig := &signalTransport{path: obj, n: int64(len(img) / 4), reached: make(chan struct{})}
		var mu sync.Mutex
		var installed []byte
		dir := t.TempDir()
		cfg := fumo.Config{Dir: dir, Servers: []string{serverID}, Report: a.Client().QueueAlert,
			HTTPClient: &http.Client{Transport: sig},
			Install: func(_ context.Context, path string) fumo.Result {
				b, _ := os.ReadFile(path)
				mu.Lock()
				installed = b
				mu.Unlock()
				return fumo.ResultSuccessful
			}}
		fw, err := fumo.Install(a.Tree(), "./FwUpdate/Default", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.api.FUMO(ctx, a.ID(), api.FUMORequest{Package: p.ID}); err != nil {
			t.Fatal(err)
		}
		if r := a.session(t); r.Err != nil {
			t.Fatal(r.Err)
		}
		waitFor(t, sig.reached, "the first half of the package")
		fw.Close() // the agent stops mid-download …
		if fw.State() != fumo.StateDownloading {
			t.Fatalf("state after the stop %d, want %d", fw.State(), fumo.StateDownloading)
		}
		fi, err := os.Stat(filepath.Join(dir, "package.part"))
		if err != nil || fi.Size() < int64(len(img)/4) {
			t.Fatalf("partial package after the stop: %v, %v", fi, err)
		}
		fw2, err := fumo.Install(a.Tree(), "./FwUpdate/Default", cfg) // … and starts again
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fw2.Close)
		fw2.Wait()
		n.mu.Lock()
		gotRanges, gotCodes := append([]string(nil), ranges...), append([]int(nil), codes...)
		n.mu.Unlock()
		if len(gotRanges) != 2 || gotRanges[0] != "" || gotRanges[1] != "bytes="+strconv.FormatInt(fi.Size(), 10)+"-" {
			t.Errorf("package requests with Range %q, want none then bytes=%d-", gotRanges, fi.Size())
		}
		if len(gotCodes) != 1 || gotCodes[0] != http.StatusPartialContent {
			t.Errorf("resumed request answered %v, want 206", gotCodes)
		}
		mu.Lock()
		if !bytes.Equal(installed, img) {
			t.Errorf("installed %d bytes, want the %d uploaded", len(installed), len(img))
		}
		mu.Unlock()
		notes := n.events(t, a.ID(), api.InstallNotifyKind)
		if len(notes) != 1 || notes[0].Data != "900 Success" || notes[0].Type != p.ID {
			t.Fatalf("install-notify events %+v, want one 900 Success for %s", notes, p.ID)
		}
		if r := a.session(t); r.Err != nil {
			t.Fatal(r.Err)
		}
		if got := n.fumoReport(t, a.ID()); got != "200" {
			t.Errorf("FUMO report %q, want 200", got)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// A descriptor the device cannot use is reported to installNotifyURI with
// the OMA DL status that says why (OMA-Download-OTA-V1_0 status codes) and
// to the DM server with the FUMO result (OMA-TS-DM-FUMO-V1_0 result codes);
// the package is not installed.
func TestE2E_BadDescriptorsAreReportedWithTheirStatusAndFUMOResult(t *testing.T) {
	img := image(4096)
	tests := []struct {
		name   string
		dd     func(obj, notify string) string
		accept []string
		status string // install-notify report
		result string // FUMO 1226 Data
	}{
		{"unknown DDVersion", func(obj, notify string) string {
			return ddDoc("2.0", "application/x-omadm-fw", strconv.Itoa(len(img)), obj, notify)
		}, nil, "951 Invalid DDVersion", "405"},
		{"no size", func(obj, notify string) string {
			return ddDoc("1.0", "application/x-omadm-fw", "", obj, notify)
		}, nil, "906 Invalid descriptor", "405"},
		{"type the object does not take", func(obj, notify string) string {
			return ddDoc("1.0", "application/x-omadm-fw", strconv.Itoa(len(img)), obj, notify)
		}, []string{"application/vnd.other"}, "953 Non-Acceptable Content", "405"},
		{"media larger than announced", func(obj, notify string) string {
			return ddDoc("1.0", "application/x-omadm-fw", strconv.Itoa(len(img)-1), obj, notify)
		}, nil, "905 Attribute mismatch", "402"},
	}
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startDownloadNode(t, st)
		ctx := context.Background()
		p, err := n.api.UploadPackage(ctx, "fw", "2.0", "application/x-omadm-fw", bytes.NewReader(img))
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
				installed := false
				fw, err := fumo.Install(a.Tree(), "./FwUpdate/Default", fumo.Config{Dir: t.TempDir(), Servers: []string{serverID},
					Report: a.Client().QueueAlert, AcceptTypes: tc.accept,
					Install: func(context.Context, string) fumo.Result { installed = true; return fumo.ResultSuccessful }})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(fw.Close)
				if _, err := n.api.FUMO(ctx, a.ID(), api.FUMORequest{PkgURL: n.base + "/bad.dd"}); err != nil {
					t.Fatal(err)
				}
				if r := a.session(t); r.Err != nil {
					t.Fatal(r.Err)
				}
				fw.Wait()
				if r := a.session(t); r.Err != nil {
					t.Fatal(r.Err)
				}
				notes := n.events(t, a.ID(), api.InstallNotifyKind)
				if len(notes) != 1 || notes[0].Data != tc.status {
					t.Errorf("install-notify events %+v, want one %q", notes, tc.status)
				}
				if got := n.fumoReport(t, a.ID()); got != tc.result {
					t.Errorf("FUMO report %q, want %s", got, tc.result)
				}
				if installed || fw.State() != fumo.StateDownloadFailed {
					t.Errorf("installed %v, state %d; want nothing installed, state %d", installed, fw.State(), fumo.StateDownloadFailed)
				}
			})
		}
	})
}

func ddDoc(version, typ, size, obj, notify string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><media xmlns="` + dlota.DDNamespace + `">`)
	b.WriteString("<DDVersion>" + version + "</DDVersion><type>" + typ + "</type>")
	if size != "" {
		b.WriteString("<size>" + size + "</size>")
	}
	b.WriteString("<objectURI>" + obj + "</objectURI><installNotifyURI>")
	b.WriteString(strings.ReplaceAll(notify, "&", "&amp;"))
	b.WriteString("</installNotifyURI></media>")
	return b.String()
}

// OMA-TS-DM-FUMO-V1_0, client-initiated firmware update: the device asks
// with a generic alert of type …firmwareupdate.devicerequest; the server
// looks its model and firmware version up in the release policy, queues the
// update and answers 200, and the Replace of PkgURL and the Exec arrive in
// that same session. A device already at the package's version, or of a
// model the policy does not name, gets 202 and nothing.
func TestE2E_DeviceRequestIsAnsweredFromTheReleasePolicyInTheSameSession(t *testing.T) {
	img := image(8192)
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startDownloadNode(t, st)
		ctx := context.Background()
		p, err := n.api.UploadPackage(ctx, "fw", "2.0", "", bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		a := newAgent(t, st, n.base+"/dm", enc)
		if _, err := n.api.SetReleasePolicy(ctx, api.ReleasePolicy{Rules: []api.Release{{Model: a.Identity().Mod, Package: p.ID}}}); err != nil {
			t.Fatal(err)
		}
		var installed []byte
		fw, err := fumo.Install(a.Tree(), "./FwUpdate/Default", fumo.Config{Dir: t.TempDir(), Servers: []string{serverID},
			Report: a.Client().QueueAlert,
			Install: func(_ context.Context, path string) fumo.Result {
				installed, _ = os.ReadFile(path)
				return fumo.ResultSuccessful
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fw.Close)
		for _, tc := range []struct {
			version string
			want    syncml.StatusCode
		}{{"2.0", syncml.StatusAccepted}, {"1.0", syncml.StatusOK}} {
			r, err := a.Run(ctx, deviceRequest(tc.version))
			if err != nil {
				t.Fatal(err)
			}
			var got syncml.StatusCode
			for _, s := range r.ServerStatuses {
				if s.Cmd == "Alert" && s.Data == syncml.StatusOK || s.Cmd == "Alert" && s.Data == syncml.StatusAccepted {
					got = s.Data // the request's is the last Alert status
				}
			}
			if got != tc.want {
				t.Fatalf("running %s: request answered %d, want %d", tc.version, got, tc.want)
			}
			execd, ok := r.StatusOf("Exec", "./FwUpdate/Default/DownloadAndUpdate")
			if tc.want == syncml.StatusAccepted {
				if ok {
					t.Fatalf("running %s: got an Exec", tc.version)
				}
				continue
			}
			if !ok || execd != syncml.StatusAccepted {
				t.Fatalf("running %s: Exec in the same session %v (%d), want 202", tc.version, ok, execd)
			}
		}
		fw.Wait()
		if !bytes.Equal(installed, img) {
			t.Errorf("installed %d bytes, want the package's %d", len(installed), len(img))
		}
		if r := a.session(t); r.Err != nil {
			t.Fatal(r.Err)
		}
		if got := n.fumoReport(t, a.ID()); got != "200" {
			t.Errorf("FUMO report %q, want 200", got)
		}
		ops, err := st.ListOperations(ctx, storage.OperationFilter{DeviceID: a.ID()})
		if err != nil || len(ops) != 1 || ops[0].Params["pkg_url"] == "" {
			t.Errorf("operations %+v (%v), want the one the policy queued", ops, err)
		}
	})
}

func deviceRequest(version string) *syncml.Alert {
	return &syncml.Alert{Data: syncml.AlertGeneric, Items: []syncml.Item{{
		Source: &syncml.Location{LocURI: "./FwUpdate/Default"},
		Meta:   &syncml.Meta{Type: fumo.AlertDeviceRequest, Format: "chr"},
		Data:   syncml.TextData(version),
	}}}
}
