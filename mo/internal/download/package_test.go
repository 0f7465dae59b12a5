package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/mo/internal/download"
)

// Package follows a download descriptor (OMA-Download-OTA-V1_0): it checks
// the descriptor before the media, the media against the descriptor, and
// reports each outcome to installNotifyURI; a package whose 900 report is
// not confirmed is discarded.
func TestPackage_DescriptorChecksAndStatusReports(t *testing.T) {
	media := bytes.Repeat([]byte("fw"), 5000)
	sum := sha256.Sum256(media)
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name     string
		size     int
		sha      string
		notifyOK bool
		free     int64
		wantKind download.Kind // -1 = success
		report   string
	}{
		{"valid", len(media), good, true, 1 << 30, -1, "900 Success"},
		{"checksum mismatch", len(media), hex.EncodeToString(make([]byte, 32)), true, 1 << 30, download.KindChecksum, "905 Attribute mismatch"},
		{"size mismatch", len(media) + 1, "", true, 1 << 30, download.KindMismatch, "905 Attribute mismatch"},
		{"too little room", len(media), good, true, 100, download.KindTooLarge, "901 Insufficient memory"},
		{"report not confirmed", len(media), good, false, 1 << 30, download.KindNotConfirmed, "900 Success"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var reports []string
			mux := http.NewServeMux()
			var base string
			mux.HandleFunc("/fw.dd", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", dlota.DDContentType)
				w.Write(dlota.Generate(&dlota.Descriptor{Types: []string{"application/octet-stream"}, Size: int64(tc.size),
					ObjectURI: base + "/fw.bin", InstallNotifyURI: base + "/notify", SHA256: tc.sha}))
			})
			mux.HandleFunc("/fw.bin", func(w http.ResponseWriter, r *http.Request) { w.Write(media) })
			mux.HandleFunc("/notify", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				reports = append(reports, string(b))
				mu.Unlock()
				if !tc.notifyOK {
					w.WriteHeader(http.StatusInternalServerError)
				}
			})
			ts := httptest.NewServer(mux)
			defer ts.Close()
			base = ts.URL
			dir := t.TempDir()
			dst := filepath.Join(dir, "package.bin")
			err := download.New(download.Options{}).Package(context.Background(), context.Background(), ts.URL+"/fw.dd", dst,
				download.PackageOptions{Dir: dir, FreeSpace: func() (int64, bool) { return tc.free, true }})
			if tc.wantKind == -1 {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(dst); !bytes.Equal(got, media) {
					t.Errorf("package holds %d bytes, want %d", len(got), len(media))
				}
			} else {
				if download.KindOf(err) != tc.wantKind {
					t.Fatalf("err = %v (kind %d), want kind %d", err, download.KindOf(err), tc.wantKind)
				}
				if _, serr := os.Stat(dst); serr == nil {
					t.Error("a failed download left the package")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 1 || reports[0] != tc.report {
				t.Errorf("status reports %q, want [%q]", reports, tc.report)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if e.Name() != "package.bin" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}

// A PkgURL that serves the package itself (no descriptor) is downloaded as
// it is, with no status report.
func TestPackage_PlainURL(t *testing.T) {
	media := []byte("plain package " + strconv.Itoa(42))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(media) }))
	defer ts.Close()
	dir := t.TempDir()
	dst := filepath.Join(dir, "package.bin")
	if err := download.New(download.Options{}).Package(context.Background(), context.Background(), ts.URL+"/fw.bin", dst, download.PackageOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, media) {
		t.Errorf("package %q", got)
	}
}
