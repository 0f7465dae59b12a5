package dmhttp_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/testpki"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// certEngine records the client certificate digest of each message.
type certEngine struct {
	mu  sync.Mutex
	got []string
}

func (e *certEngine) Handle(_ context.Context, in *server.Inbound) (*server.Outbound, error) {
	e.mu.Lock()
	e.got = append(e.got, in.ClientCertSHA256)
	e.mu.Unlock()
	return &server.Outbound{Body: []byte("<SyncML/>"), ContentType: syncml.ContentTypeXML}, nil
}

func (e *certEngine) last() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.got) == 0 {
		return "<none>"
	}
	return e.got[len(e.got)-1]
}

// startTLS serves the DM handler over TLS on 127.0.0.1 with the server's TLS
// configuration built from files, as `omadm serve` does.
func startTLS(t *testing.T, eng dmhttp.Engine, o dmhttp.ServerTLSOptions) string {
	t.Helper()
	tc, err := dmhttp.ServerTLSConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := dmhttp.Listen("127.0.0.1:0", dmhttp.ServerLimits{}, tc)
	if err != nil {
		t.Fatal(err)
	}
	srv := dmhttp.NewServer(dmhttp.NewHandler(eng, &dmhttp.HandlerOptions{Logger: quiet()}), dmhttp.ServerLimits{}, quiet())
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String() + "/dm"
}

func roundTrip(t *testing.T, o dmhttp.ClientOptions, url string) error {
	t.Helper()
	tp, err := dmhttp.NewClientTransport(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.RoundTrip(context.Background(), &client.Request{URL: url, Body: []byte("<SyncML/>"), ContentType: syncml.ContentTypeXML})
	return err
}

// OMA-TS-DM_Security-V1_2 §5.1.3: the server supports transport-level client
// authentication; the verified leaf reaches the engine as its SHA-256.
func TestServerTLS_PassesTheClientCertificateDigestToTheEngine(t *testing.T) {
	ca, devCA, otherCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "device CA"), testpki.NewCA(t, "stranger CA")
	srv := ca.Server(t)
	dev := devCA.Client(t, "IMEI:1")
	stranger := otherCA.Client(t, "IMEI:2")
	expired, expiredDev := otherCA.ExpiredClient(t, "IMEI:3"), devCA.ExpiredClient(t, "IMEI:4")
	tests := []struct {
		name     string
		auth, ca string
		cert     *testpki.Leaf
		want     string // digest the engine sees; "" none; "refused" = handshake fails
	}{
		{"request with CA, device cert", dmhttp.ClientAuthRequest, devCA.CertFile, dev, dev.SHA256},
		{"request with CA, no cert", dmhttp.ClientAuthRequest, devCA.CertFile, nil, ""},
		// The server names its CAs; a client holding none of theirs sends
		// no certificate, so the stranger's digest never reaches the engine.
		{"request with CA, cert of another CA", dmhttp.ClientAuthRequest, devCA.CertFile, stranger, ""},
		{"require with CA, cert of another CA", dmhttp.ClientAuthRequire, devCA.CertFile, stranger, "refused"},
		{"require with CA, device cert", dmhttp.ClientAuthRequire, devCA.CertFile, dev, dev.SHA256},
		{"require with CA, no cert", dmhttp.ClientAuthRequire, devCA.CertFile, nil, "refused"},
		{"default (request) without CA, any cert is pinned by digest", "", "", stranger, stranger.SHA256},
		{"require without CA, no cert", dmhttp.ClientAuthRequire, "", nil, "refused"},
		{"default (request) without CA, expired cert", "", "", expired, "refused"},
		{"request with CA, expired cert", dmhttp.ClientAuthRequest, devCA.CertFile, expiredDev, "refused"},
		{"none, cert not asked for", dmhttp.ClientAuthNone, "", dev, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := &certEngine{}
			url := startTLS(t, eng, dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: tc.ca, ClientAuth: tc.auth})
			o := dmhttp.ClientOptions{PinnedCAFile: ca.CertFile}
			if tc.cert != nil {
				o.CertFile, o.KeyFile = tc.cert.CertFile, tc.cert.KeyFile
			}
			err := roundTrip(t, o, url)
			if tc.want == "refused" {
				if err == nil {
					t.Fatalf("handshake accepted; engine saw %q", eng.last())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.last(); got != tc.want {
				t.Errorf("engine saw client cert %q, want %q", got, tc.want)
			}
		})
	}
}

func TestServerTLSConfig_RefusesBadSettings(t *testing.T) {
	ca := testpki.NewCA(t, "ca")
	srv := ca.Server(t)
	tests := []struct {
		name string
		o    dmhttp.ServerTLSOptions
		want string
	}{
		{"no key", dmhttp.ServerTLSOptions{CertFile: srv.CertFile}, "certificate and its key"},
		{"unknown policy", dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientAuth: "maybe"}, "want none, request or require"},
		{"CA with none", dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: ca.CertFile, ClientAuth: "none"}, "never be used"},
		{"CA file without PEM", dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: srv.KeyFile}, "no PEM certificates"},
		{"missing CA file", dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: "/nonexistent"}, "reading client CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := dmhttp.ServerTLSConfig(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestClientTransport_PinsTheServerCAOrCertificate(t *testing.T) {
	ca, other := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "other CA")
	srv := ca.Server(t)
	url := startTLS(t, &certEngine{}, dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientAuth: dmhttp.ClientAuthNone})
	colons := strings.ToUpper(srv.SHA256[:2]) + ":" + srv.SHA256[2:]
	tests := []struct {
		name string
		o    dmhttp.ClientOptions
		ok   bool
	}{
		{"system roots only", dmhttp.ClientOptions{}, false},
		{"pinned CA is the server's", dmhttp.ClientOptions{PinnedCAFile: ca.CertFile}, true},
		{"pinned CA is another", dmhttp.ClientOptions{PinnedCAFile: other.CertFile}, false},
		{"pinned certificate alone", dmhttp.ClientOptions{ServerCertSHA256: []string{srv.SHA256}}, true},
		{"pinned certificate with colons and capitals", dmhttp.ClientOptions{ServerCertSHA256: []string{colons}}, true},
		{"pinned certificate is another", dmhttp.ClientOptions{ServerCertSHA256: []string{strings.Repeat("ab", 32)}}, false},
		{"pinned CA and certificate", dmhttp.ClientOptions{PinnedCAFile: ca.CertFile, ServerCertSHA256: []string{srv.SHA256}}, true},
		{"pinned CA right, certificate wrong", dmhttp.ClientOptions{PinnedCAFile: ca.CertFile, ServerCertSHA256: []string{strings.Repeat("ab", 32)}}, false},
		{"certificate right, pinned CA wrong", dmhttp.ClientOptions{PinnedCAFile: other.CertFile, ServerCertSHA256: []string{srv.SHA256}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := roundTrip(t, tc.o, url)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want success %v", err, tc.ok)
			}
		})
	}
	if _, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{ServerCertSHA256: []string{"abc"}}); err == nil {
		t.Fatal("a short pin was accepted")
	}
}

// A hostile server cannot make the device hold more than MaxResponse: an
// endless body is cut at the limit.
func TestClientTransport_EndlessAnswerIsCutAtTheLimit(t *testing.T) {
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", syncml.ContentTypeXML)
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	err := roundTrip(t, dmhttp.ClientOptions{MaxResponse: 1 << 20}, base+"/dm")
	if err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("err = %v", err)
	}
}

// A client that pushes a certificate the client CA did not issue is refused
// in the handshake, even in request mode.
func TestServerTLS_RefusesAForcedCertificateOfAnotherCA(t *testing.T) {
	ca, devCA, otherCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "device CA"), testpki.NewCA(t, "stranger CA")
	srv := ca.Server(t)
	stranger := otherCA.Client(t, "IMEI:2")
	eng := &certEngine{}
	url := startTLS(t, eng, dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: devCA.CertFile})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger.TLS, nil }}}}
	if err := roundTrip(t, dmhttp.ClientOptions{HTTPClient: hc}, url); err == nil {
		t.Fatalf("handshake accepted; engine saw %q", eng.last())
	}
}

// A client that opens a TLS connection and never starts the handshake is
// cut by the header timeout too.
func TestServerTLS_SilentConnectionIsCutBeforeTheHandshake(t *testing.T) {
	ca := testpki.NewCA(t, "server CA")
	srv := ca.Server(t)
	tc, err := dmhttp.ServerTLSConfig(dmhttp.ServerTLSOptions{CertFile: srv.CertFile, KeyFile: srv.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	limits := dmhttp.ServerLimits{ReadHeaderTimeout: 50 * time.Millisecond}
	ln, err := dmhttp.Listen("127.0.0.1:0", limits, tc)
	if err != nil {
		t.Fatal(err)
	}
	hs := dmhttp.NewServer(dmhttp.NewHandler(&certEngine{}, &dmhttp.HandlerOptions{Logger: quiet()}), limits, quiet())
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	waitClosed(t, dial(t, ln.Addr().String()))
}
