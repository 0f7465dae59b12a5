package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/internal/testpki"
	"github.com/omadm/omadm/transport/dmhttp"
)

// certRecorder serves the DM stub and records the client certificate
// digests it was shown.
type certRecorder struct {
	next http.Handler
	mu   sync.Mutex
	seen []string
}

func (c *certRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.seen = append(c.seen, dmhttp.ClientCertSHA256(r.TLS))
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func TestAgent_TLSClientCertificateAndServerPinning(t *testing.T) {
	serverCA, deviceCA, otherCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "device CA"), testpki.NewCA(t, "other CA")
	srvLeaf := serverCA.Server(t)
	dev := deviceCA.Client(t, "IMEI:42")
	tc, err := dmhttp.ServerTLSConfig(dmhttp.ServerTLSOptions{CertFile: srvLeaf.CertFile, KeyFile: srvLeaf.KeyFile,
		ClientCAFile: deviceCA.CertFile, ClientAuth: dmhttp.ClientAuthRequire})
	if err != nil {
		t.Fatal(err)
	}
	rec := &certRecorder{next: &dmServer{}}
	ts := httptest.NewUnstartedServer(rec)
	ts.TLS = tc
	ts.StartTLS()
	defer ts.Close()
	tests := []struct {
		name string
		tls  []string
		code int
	}{
		{"pinned CA and client certificate", []string{"--tls-ca", serverCA.CertFile, "--tls-cert", dev.CertFile, "--tls-key", dev.KeyFile}, 0},
		{"pinned server certificate alone", []string{"--tls-server-sha256", srvLeaf.SHA256, "--tls-cert", dev.CertFile, "--tls-key", dev.KeyFile}, 0},
		{"old flag names still work", []string{"--ca", serverCA.CertFile, "--cert", dev.CertFile, "--key", dev.KeyFile}, 0},
		{"pinned CA is another", []string{"--tls-ca", otherCA.CertFile, "--tls-cert", dev.CertFile, "--tls-key", dev.KeyFile}, 1},
		{"pinned server certificate is another", []string{"--tls-server-sha256", strings.Repeat("0", 64), "--tls-cert", dev.CertFile, "--tls-key", dev.KeyFile}, 1},
		{"no client certificate", []string{"--tls-ca", serverCA.CertFile}, 1},
		{"--ca with --tls-ca", []string{"--ca", serverCA.CertFile, "--tls-ca", serverCA.CertFile}, 2},
		{"--tls-cert without --tls-key", []string{"--tls-ca", serverCA.CertFile, "--tls-cert", dev.CertFile}, 2},
		{"malformed pin", []string{"--tls-server-sha256", "abc"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.seen = nil
			rec.mu.Unlock()
			args := append([]string{"--state", t.TempDir(), "--server", ts.URL + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:42",
				"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--once",
				"--retries", "0", "--timeout", "20s"}, tc.tls...)
			var errb syncBuf
			if code := run(context.Background(), args, nil, io.Discard, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, errb.String())
			}
			if tc.code != 0 {
				return
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.seen) == 0 || rec.seen[0] != dev.SHA256 {
				t.Fatalf("server saw client certificates %v, want %s", rec.seen, dev.SHA256)
			}
		})
	}
}
