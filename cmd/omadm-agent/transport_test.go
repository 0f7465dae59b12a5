package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/internal/kannel"
)

func TestAgent_TransportFlagIsChecked(t *testing.T) {
	tests := []struct{ value, msg string }{
		{"wsp://", "want wsp://HOST[:PORT]"},
		{"http://gw:9201", "want wsp://HOST[:PORT]"},
		{"wsp://gw:9201/path", "want wsp://HOST[:PORT]"},
		{"wsp://user@gw", "want wsp://HOST[:PORT]"},
		{"wsp://gw:0", "bad port"},
		{"wsp://gw:99999", "bad port"},
		{"gw:9201", "want wsp://HOST[:PORT]"},
	}
	for _, tt := range tests {
		var e syncBuf
		args := []string{"--state", t.TempDir(), "--once", "--transport", tt.value}
		if code := run(context.Background(), args, nil, io.Discard, &e); code != 2 || !strings.Contains(e.String(), tt.msg) {
			t.Errorf("--transport %q: exit %d, %q", tt.value, code, e.String())
		}
	}
	for _, ok := range []string{"", "http", "wsp://127.0.0.1", "wsp://gw.example:9201", "wsp://[::1]:9201"} {
		if _, err := wspGateway(ok); err != nil {
			t.Errorf("--transport %q: %v", ok, err)
		}
	}
	if gw, _ := wspGateway("wsp://127.0.0.1"); gw != "127.0.0.1:9201" {
		t.Errorf("default port: %s", gw)
	}
}

// The TLS flags belong to HTTP: with a WSP gateway the agent refuses them
// rather than silently ignore a pin.
func TestAgent_TLSFlagsWithWSPAreRefused(t *testing.T) {
	var e syncBuf
	args := []string{"--state", t.TempDir(), "--once", "--server", "http://dm.test/dm", "--server-id", "srv.test",
		"--device-id", "IMEI:1", "--transport", "wsp://127.0.0.1:9201", "--tls-server-sha256", strings.Repeat("ab", 32)}
	if code := run(context.Background(), args, nil, io.Discard, &e); code != 1 || !strings.Contains(e.String(), "TLS flags do not apply") {
		t.Fatalf("exit %d: %s", code, e.String())
	}
}

// viaRecorder wraps the DM server and records the Via header of each
// request: Kannel names itself there.
type viaRecorder struct {
	next http.Handler
	mu   sync.Mutex
	via  []string
}

func (v *viaRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	v.via = append(v.via, r.Header.Get("Via"))
	v.mu.Unlock()
	v.next.ServeHTTP(w, r)
}

// omadm-agent --transport wsp://127.0.0.1:9201 runs its session through a
// real WAP gateway (Kannel) to the --server URL, in both encodings.
func TestAgent_OnceThroughAWAPGateway(t *testing.T) {
	kannel.Start(t, kannel.Options{WAPBox: true})
	for _, enc := range []string{"xml", "wbxml"} {
		t.Run(enc, func(t *testing.T) {
			rec := &viaRecorder{next: &dmServer{}}
			ts := httptest.NewServer(rec)
			defer ts.Close()
			var out, errb syncBuf
			args := []string{"--state", t.TempDir(), "--server", ts.URL + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:42",
				"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--encoding", enc,
				"--transport", fmt.Sprintf("wsp://127.0.0.1:%d", kannel.WSPCOPort), "--once"}
			if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			if !strings.Contains(out.String(), "completed") {
				t.Fatalf("stdout = %q", out.String())
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.via) == 0 || !strings.Contains(rec.via[0], "Kannel") {
				t.Errorf("server saw Via %q: not through the gateway", rec.via)
			}
		})
	}
}
