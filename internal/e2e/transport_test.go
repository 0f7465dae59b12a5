package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/testpki"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// dsTypes rewrites each request's DM media type into the DS one, as several
// real device libraries send, and records the reply types.
type dsTypes struct {
	next    http.RoundTripper
	mu      sync.Mutex
	replies []string
}

func (d *dsTypes) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	switch r.Header.Get("Content-Type") {
	case syncml.ContentTypeXML:
		r.Header.Set("Content-Type", "application/vnd.syncml+xml; charset=UTF-8")
	case syncml.ContentTypeWBXML:
		r.Header.Set("Content-Type", "application/vnd.syncml+wbxml")
	}
	resp, err := d.next.RoundTrip(r)
	if err == nil {
		d.mu.Lock()
		d.replies = append(d.replies, resp.Header.Get("Content-Type"))
		d.mu.Unlock()
	}
	return resp, err
}

// A device that posts with the DS media types gets a whole session, every
// reply in the DS family and the device's encoding.
func TestE2E_DSMediaTypeDeviceCompletesASession(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		rw := &dsTypes{next: http.DefaultTransport}
		tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: &http.Client{Transport: rw}})
		if err != nil {
			t.Fatal(err)
		}
		a.route.tp = tp
		id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/Mod")})
		a.session(t)
		if j := job(t, st, id); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != a.Identity().Mod {
			t.Fatalf("job %s %+v", j.State, j.Results)
		}
		want := dmhttp.ContentTypeDSXML
		if enc == syncml.EncodingWBXML {
			want = dmhttp.ContentTypeDSWBXML
		}
		rw.mu.Lock()
		defer rw.mu.Unlock()
		for i, ct := range rw.replies {
			if mt, _, _ := mime.ParseMediaType(ct); mt != want {
				t.Errorf("reply %d Content-Type %q, want %s", i+1, ct, want)
			}
		}
	})
}

// tlsNode is a server node behind the real HTTP binding over TLS on
// 127.0.0.1, requesting client certificates issued by clientCA.
func startTLSNode(t *testing.T, st storage.Store, serverCert *testpki.Leaf, clientCA *testpki.CA) *node {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := server.New(server.Options{Store: st, ServerID: serverID, Logger: log,
		Senders: map[string]notification.Sender{"udp": &notification.UDPSender{}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	tc, err := dmhttp.ServerTLSConfig(dmhttp.ServerTLSOptions{CertFile: serverCert.CertFile, KeyFile: serverCert.KeyFile,
		ClientCAFile: clientCA.CertFile, ClientAuth: dmhttp.ClientAuthRequest})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := dmhttp.Listen("127.0.0.1:0", dmhttp.ServerLimits{}, tc)
	if err != nil {
		t.Fatal(err)
	}
	srv := dmhttp.NewServer(dmhttp.NewHandler(e, &dmhttp.HandlerOptions{Logger: log}), dmhttp.ServerLimits{}, log)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &node{store: st, engine: e, url: "https://" + ln.Addr().String() + "/dm"}
}

// withMemstore adds the in-memory store to the backends, so the
// certificate wiring runs even where a SQL backend does not keep the
// device's certificate fields yet.
func withMemstore(bs []backend) []backend {
	st := map[*testing.T]storage.Store{}
	var mu sync.Mutex
	return append(slices.Clone(bs), backend{"memstore", func(t *testing.T) storage.Store {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := st[t]; ok {
			return s
		}
		s := memstore.New()
		st[t] = s
		return s
	}})
}

// OMA-TS-DM_Security-V1_2 §5.1.3: a device authenticated by its TLS client
// certificate needs no DM-level credentials when its account says so
// ("cert"); "cert+dm" requires both; a device presenting another certificate
// is refused.
func TestE2E_TLSClientCertificateDevice(t *testing.T) {
	for _, b := range withMemstore(backends(t)) {
		for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
			t.Run(b.name+"/"+enc.String(), func(t *testing.T) { tlsCertDevice(t, b, enc) })
		}
	}
}

func tlsCertDevice(t *testing.T, b backend, enc syncml.Encoding) {
	st := b.open(t)
	serverCA, deviceCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "device CA")
	n := startTLSNode(t, st, serverCA.Server(t), deviceCA)
	ctx := context.Background()
	tests := []struct {
		name          string
		transportAuth string
		wrongPassword bool // the server holds another DM password than the device sends
		otherCert     bool // the device presents a certificate not bound to it
		ok            bool
	}{
		{"cert: credentials relaxed", server.TransportAuthCert, true, false, true},
		{"cert+dm: both right", server.TransportAuthCertDM, false, false, true},
		{"cert+dm: wrong DM password", server.TransportAuthCertDM, true, false, false},
		{"cert: another certificate", server.TransportAuthCert, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAgent(t, st, n.url, enc)
			leaf := deviceCA.Client(t, a.ID())
			presented := leaf
			if tc.otherCert {
				presented = deviceCA.Client(t, a.ID())
			}
			tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{PinnedCAFile: serverCA.CertFile,
				CertFile: presented.CertFile, KeyFile: presented.KeyFile})
			if err != nil {
				t.Fatal(err)
			}
			a.route.tp = tp
			d, err := st.GetDevice(ctx, a.ID())
			if err != nil {
				t.Fatal(err)
			}
			d.CertSHA256, d.TransportAuth = leaf.SHA256, tc.transportAuth
			if tc.wrongPassword {
				d.Password = "not-what-the-device-sends"
			}
			if err := st.UpdateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			if got, err := st.GetDevice(ctx, a.ID()); err != nil || got.CertSHA256 != leaf.SHA256 || got.TransportAuth != tc.transportAuth {
				t.Fatalf("the %s backend did not keep CertSHA256/TransportAuth: %+v, %v", b.name, got, err)
			}
			nonce := storedNonce(t, st, a.ID())
			id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/Mod")})
			runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			res, err := a.Run(runCtx)
			j := job(t, st, id)
			if !tc.ok {
				if err == nil && res.State == client.StateCompleted {
					t.Fatalf("session completed (%s); want it refused", res)
				}
				if j.State != storage.JobQueued {
					t.Errorf("job %s after a refused session", j.State)
				}
				if tc.otherCert && !slices.Equal(storedNonce(t, st, a.ID()), nonce) {
					t.Error("a refused certificate rotated the server nonce")
				}
				return
			}
			if err != nil || res.State != client.StateCompleted {
				t.Fatalf("session: %v (%s)", err, res)
			}
			if j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != a.Identity().Mod {
				t.Fatalf("job %s %+v", j.State, j.Results)
			}
		})
	}
}
