package download_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/internal/download"
)

// A file holding the start of the body is completed with a Range request
// (RFC 9110 §14.2) when the server supports it; a server that ignores the
// Range (200) or refuses it (416) gets the file rewritten from the start.
func TestGetFile_ResumesWithRangeOrStartsOver(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 1000)
	tests := []struct {
		name      string
		have      []byte // what the file holds before
		handler   func(w http.ResponseWriter, r *http.Request)
		wantRange []string
		resumed   bool
	}{
		{"range supported", body[:3000], func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		}, []string{"bytes=3000-"}, true},
		{"range ignored", body[:3000], func(w http.ResponseWriter, r *http.Request) {
			w.Write(body)
		}, []string{"bytes=3000-"}, false},
		{"range refused", []byte(strings.Repeat("x", len(body)+5)), func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		}, []string{"bytes=10005-", ""}, false},
		{"nothing yet", nil, func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		}, []string{""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var ranges []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				ranges = append(ranges, r.Header.Get("Range"))
				mu.Unlock()
				tc.handler(w, r)
			}))
			defer ts.Close()
			name := filepath.Join(t.TempDir(), "part")
			if tc.have != nil {
				os.WriteFile(name, tc.have, 0o600)
			}
			res, size, err := download.New(download.Options{}).GetFile(context.Background(), ts.URL, name)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(name)
			if !bytes.Equal(got, body) || size != int64(len(body)) {
				t.Errorf("file holds %d bytes (size %d), want the %d of the body", len(got), size, len(body))
			}
			if res.Resumed != tc.resumed {
				t.Errorf("Resumed = %v, want %v", res.Resumed, tc.resumed)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(ranges, ",") != strings.Join(tc.wantRange, ",") {
				t.Errorf("Range headers %q, want %q", ranges, tc.wantRange)
			}
		})
	}
}

// A 206 that does not start where the file ends is refused rather than
// appended out of place.
func TestGetFile_RefusesAMisplacedRange(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "bytes 0-9/10")
		w.WriteHeader(http.StatusPartialContent)
		w.Write([]byte("0123456789"))
	}))
	defer ts.Close()
	name := filepath.Join(t.TempDir(), "part")
	os.WriteFile(name, []byte("01234"), 0o600)
	_, _, err := download.New(download.Options{}).GetFile(context.Background(), ts.URL, name)
	if download.KindOf(err) != download.KindNetwork || !strings.Contains(err.Error(), "Content-Range") {
		t.Fatalf("err = %v, want a network failure naming Content-Range", err)
	}
}
