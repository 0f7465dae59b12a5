package scomo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/mo/internal/download"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/syncml"
)

// Each kind of download failure maps to one SCOMO result code
// (OMA-TS-DM-SCOMO-V1_0 §8.7: 1402 download failed, 1403 download
// authentication failed, 1404 out of memory, 1407 failed package
// validation, 1500 / 1501 download server error / unavailable).
func TestResultOfDownload_MapsEveryDownloadKind(t *testing.T) {
	for _, tc := range []struct {
		kind download.Kind
		want scomo.Result
	}{
		{download.KindNetwork, scomo.ResultDownloadFailed},
		{download.KindTimeout, scomo.ResultDownloadFailed},
		{download.KindBadURL, scomo.ResultDownloadFailed},
		{download.KindAuth, scomo.ResultDownloadAuthFailed},
		{download.KindUnavailable, scomo.ResultDownloadServerUnavail},
		{download.KindServer, scomo.ResultDownloadServerError},
		{download.KindTooLarge, scomo.ResultDownloadOutOfMemory},
		{download.KindStorage, scomo.ResultDownloadOutOfMemory},
		{download.KindRange, scomo.ResultDownloadFailed},
		{download.KindDescriptor, scomo.ResultDownloadFailed},
		{download.KindNotAcceptable, scomo.ResultValidationFailed},
		{download.KindMismatch, scomo.ResultValidationFailed},
		{download.KindChecksum, scomo.ResultValidationFailed},
		{download.KindNotConfirmed, scomo.ResultDownloadFailed},
	} {
		t.Run(strconv.Itoa(int(tc.kind)), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &download.Error{Kind: tc.kind, Err: errors.New("x")})
			if got := scomo.ResultOfDownload(err); got != tc.want {
				t.Errorf("kind %d: %d, want %d", tc.kind, got, tc.want)
			}
		})
	}
	if got := scomo.ResultOfDownload(&moframe.ResultError{Code: 1401, Err: errors.New("no")}); got != scomo.ResultUserCancelled {
		t.Errorf("a ResultError keeps its code: %d", got)
	}
	if got := scomo.ResultOfDownload(errors.New("other")); got != scomo.ResultDownloadFailed {
		t.Errorf("an unclassified error: %d, want 1402", got)
	}
}

// descriptorServer serves a package and its OMA download descriptor
// (OMA-Download-OTA-V1_0) and records the status reports posted to the
// descriptor's installNotifyURI.
type descriptorServer struct {
	*httptest.Server
	pkg []byte
	dd  func(base string) string
	mu  sync.Mutex
	got []string
}

func newDescriptorServer(t *testing.T, pkg []byte, dd func(base string) string) *descriptorServer {
	s := &descriptorServer{pkg: pkg, dd: dd}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app.dd":
			w.Header().Set("Content-Type", dlota.DDContentType)
			io.WriteString(w, s.dd(s.URL))
		case "/app.bin":
			w.Write(s.pkg)
		case "/notify":
			b, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.got = append(s.got, string(b))
			s.mu.Unlock()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *descriptorServer) reports() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func dd(typ string, size int, sum string) func(base string) string {
	return func(base string) string {
		ext := ""
		if sum != "" {
			ext = `<sha256 xmlns="` + dlota.ExtNamespace + `">` + sum + `</sha256>`
		}
		return `<?xml version="1.0"?><media xmlns="` + dlota.DDNamespace + `"><DDVersion>1.0</DDVersion>` +
			`<type>` + typ + `</type><size>` + strconv.Itoa(size) + `</size><objectURI>` + base + `/app.bin</objectURI>` +
			`<installNotifyURI>` + base + `/notify</installNotifyURI>` + ext + `</media>`
	}
}

// A PkgURL naming a download descriptor (OMA-TS-DM-SCOMO-V1_0: PkgURL is
// the package's or its descriptor's URL) has its media fetched, checked
// against the descriptor's size and SHA-256 and its type against
// AcceptTypes, and the OMA DL status posted to installNotifyURI
// (OMA-Download-OTA-V1_0 status report: 900 on success, 905 attribute
// mismatch, 953 non-acceptable content); the failures report their SCOMO
// result code (§8.7) and install nothing.
func TestDownloadInstall_ThroughADescriptor(t *testing.T) {
	pkg := tarGz(t, map[string]string{"VERSION": "2.1\n"})
	sum := sha256.Sum256(pkg)
	good := hex.EncodeToString(sum[:])
	bad := hex.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name   string
		dd     func(string) string
		accept []string
		want   scomo.Result
		report string
	}{
		{"verified", dd("application/x-tar", len(pkg), good), nil, scomo.ResultSuccessful, "900"},
		{"size differs", dd("application/x-tar", len(pkg)+1, ""), nil, scomo.ResultValidationFailed, "905"},
		{"SHA-256 differs", dd("application/x-tar", len(pkg), bad), nil, scomo.ResultValidationFailed, "905"},
		{"type not accepted", dd("application/x-tar", len(pkg), good), []string{"application/vnd.other"}, scomo.ResultValidationFailed, "953"},
		{"invalid descriptor", func(string) string { return "<media/>" }, nil, scomo.ResultDownloadFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDescriptorServer(t, pkg, tc.dd)
			d := newDevice(t, dmtree.New(nil), t.TempDir(), func(c *scomo.Config) { c.Fetch = nil; c.AcceptTypes = tc.accept })
			d.addPackage("a", s.URL+"/app.dd")
			src := root + "/Download/a/Operations/DownloadInstall"
			if code := d.exec(src, "k"); code != syncml.StatusAccepted {
				t.Fatalf("Exec: %d", code)
			}
			target := root + "/Download/a"
			if tc.want.Successful() {
				target = root + "/Inventory/Deployed/a"
			}
			d.report(src, target, "k", tc.want)
			got := s.reports()
			if tc.report == "" {
				if len(got) != 0 {
					t.Errorf("status reports %q, want none", got)
				}
			} else if len(got) != 1 || got[0][:3] != tc.report {
				t.Errorf("status reports %q, want one %s", got, tc.report)
			}
			_, err := os.Stat(d.apps + "/a/VERSION")
			if tc.want.Successful() != (err == nil) {
				t.Errorf("installed: %v; want installed %v", err, tc.want.Successful())
			}
		})
	}
}
