package dmhttp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func TestClientTransport_PostsWithDMHeadersAndReturnsTheAnswer(t *testing.T) {
	tests := []struct {
		name string
		req  client.Request
	}{
		{"xml with hmac", client.Request{ContentType: syncml.ContentTypeXML, HMAC: `algorithm=MD5, username="dev", mac=abc=`, Body: []byte("<SyncML/>")}},
		{"wbxml", client.Request{ContentType: syncml.ContentTypeWBXML, Body: []byte{3, 0xa4, 1, 0x6a, 0, 0x6d, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *http.Request
			var gotBody []byte
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				gotBody, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", tc.req.ContentType)
				w.Header().Set(auth.HeaderHMAC, `username="srv", mac=xyz=`)
				_, _ = w.Write([]byte("answer"))
			}))
			defer ts.Close()
			tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			req := tc.req
			req.URL = ts.URL + "/dm"
			resp, err := tp.RoundTrip(context.Background(), &req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got.Method != http.MethodPost || got.URL.Path != "/dm" || !bytes.Equal(gotBody, tc.req.Body) {
				t.Fatalf("request %s %s body %q", got.Method, got.URL.Path, gotBody)
			}
			h := got.Header
			if h.Get("Content-Type") != tc.req.ContentType || !strings.Contains(h.Get("Accept"), "application/vnd.syncml.dm+") ||
				h.Get("Cache-Control") != "no-store" || h.Get(auth.HeaderHMAC) != tc.req.HMAC {
				t.Fatalf("request headers = %v", h)
			}
			if string(resp.Body) != "answer" || resp.ContentType != tc.req.ContentType || resp.HMAC == "" || resp.SecureSession {
				t.Fatalf("response = %+v", resp)
			}
		})
	}
}

func TestClientTransport_FailsOnNon2xxAndOversizedAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{"HTTP 500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) },
			func(err error) bool { var se *dmhttp.HTTPStatusError; return errors.As(err, &se) && se.Code == 500 }},
		{"HTTP 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			func(err error) bool { var se *dmhttp.HTTPStatusError; return errors.As(err, &se) && se.Code == 404 }},
		{"declared too large", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(make([]byte, 2000)) },
			func(err error) bool { return errors.Is(err, dmhttp.ErrResponseTooLarge) }},
		{"streamed too large", func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 4; i++ {
				_, _ = w.Write(make([]byte, 600))
				w.(http.Flusher).Flush()
			}
		}, func(err error) bool { return errors.Is(err, dmhttp.ErrResponseTooLarge) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			tp, _ := dmhttp.NewClientTransport(dmhttp.ClientOptions{MaxResponse: 1024})
			_, err := tp.RoundTrip(context.Background(), &client.Request{URL: ts.URL, Body: []byte("x")})
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// httpStatuser is how a caller that does not import dmhttp (sim) classifies a
// failed session.
type httpStatuser interface{ HTTPStatus() int }

func TestClientTransport_HTTPStatusSurvivesTheEngineWrapping(t *testing.T) {
	tests := []struct {
		name string
		code int
	}{
		{"server refuses", http.StatusForbidden},
		{"server fails", http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "no", tc.code)
			}))
			defer ts.Close()
			tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = runOnce(t, tp, ts.URL)
			var hs httpStatuser
			if !errors.Is(err, client.ErrTransport) || !errors.As(err, &hs) || hs.HTTPStatus() != tc.code {
				t.Fatalf("session error %v: HTTP status not reachable", err)
			}
		})
	}
}

func TestClientTransport_FollowsRedirectWithTheBody(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("got:"), b...))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	tp, _ := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	resp, err := tp.RoundTrip(context.Background(), &client.Request{URL: ts.URL + "/old", Body: []byte("msg")})
	if err != nil || string(resp.Body) != "got:msg" {
		t.Fatalf("resp %v err %v", resp, err)
	}
}

func writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientTransport_TLSWithCustomCAAndClientCertificate(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client cert", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	ts.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	ts.StartTLS()
	defer ts.Close()
	srvCert := ts.TLS.Certificates[0]
	ca := writePEM(t, "ca.pem", "CERTIFICATE", ts.Certificate().Raw)
	key, err := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, "cert.pem", "CERTIFICATE", srvCert.Certificate[0])
	keyFile := writePEM(t, "key.pem", "PRIVATE KEY", key)

	// Without our CA the server is not trusted.
	plain, _ := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if _, err := plain.RoundTrip(context.Background(), &client.Request{URL: ts.URL, Body: []byte("x")}); err == nil {
		t.Fatal("untrusted server accepted")
	}
	// With the CA but no client certificate the server refuses.
	noCert, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noCert.RoundTrip(context.Background(), &client.Request{URL: ts.URL, Body: []byte("x")}); err == nil {
		t.Fatal("server without client certificate answered")
	}
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{CAFile: ca, CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tp.RoundTrip(context.Background(), &client.Request{URL: ts.URL, Body: []byte("x")})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("resp %v err %v", resp, err)
	}
	// OMA-TS-DM_Security-V1_2 §5.3: TLS authenticates the session, which
	// the transport tells the engine.
	if !resp.SecureSession {
		t.Fatal("an answer over TLS is not reported as SecureSession")
	}
	if _, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{CAFile: keyFile}); err == nil {
		t.Fatal("a key file was accepted as CA bundle")
	}
}

// TestClientTransport_CarriesAFullSessionFollowingRespURI runs the engine over
// HTTP on loopback against a scripted server that moves the session to RespURI.
func TestClientTransport_CarriesAFullSessionFollowingRespURI(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.RequestURI())
		b, _ := io.ReadAll(r.Body)
		m, enc, err := syncml.Decode(b, r.Header.Get("Content-Type"), nil)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		out := &syncml.Message{
			Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: m.Header.SessionID, MsgID: m.Header.MsgID,
				Target: m.Header.Source, Source: m.Header.Target, RespURI: "http://" + r.Host + "/dm?s=" + m.Header.SessionID},
			Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: m.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 212}},
			Final: true,
		}
		if m.Header.MsgID == "1" {
			out.Body = append(out.Body, &syncml.Get{CmdID: "2", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./DevInfo/Man"}}}})
		}
		body, _ := syncml.Encode(out, enc)
		w.Header().Set("Content-Type", enc.ContentType())
		_, _ = w.Write(body)
	}))
	defer ts.Close()
	tr := dmtree.New(nil)
	for _, kv := range [][2]string{{"DevId", "IMEI:1"}, {"Man", "acme"}} {
		if err := tr.Add("", "./DevInfo/"+kv[0], dmtree.Value{Format: "chr", Data: []byte(kv[1])}); err != nil {
			t.Fatal(err)
		}
	}
	tp, _ := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		paths = nil
		c, err := client.New(client.Config{
			Tree: client.DMTree(tr), DeviceID: "IMEI:1", Transport: tp, Encoding: enc,
			Account: client.Account{ServerID: "srv", ServerURL: ts.URL + "/dm"},
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Run(context.Background(), client.Trigger{})
		if err != nil {
			t.Fatalf("%s: Run: %v", enc, err)
		}
		if len(paths) != 2 || paths[0] != "/dm" || paths[1] != "/dm?s="+res.SessionID {
			t.Fatalf("%s: request paths %v", enc, paths)
		}
		if st, ok := res.StatusOf("Get", "./DevInfo/Man"); !ok || st != 200 {
			t.Fatalf("%s: Get status %v %v", enc, st, ok)
		}
	}
}

// runOnce runs one client-initiated session of a minimal device against url
// with a single attempt per message.
func runOnce(t *testing.T, tp client.Transport, url string) (*client.SessionResult, error) {
	t.Helper()
	tr := dmtree.New(nil)
	if err := tr.Add("", "./DevInfo/DevId", dmtree.Value{Format: "chr", Data: []byte("IMEI:1")}); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{
		Tree: client.DMTree(tr), DeviceID: "IMEI:1", Transport: tp,
		Account: client.Account{ServerID: "srv", ServerURL: url},
		Retry:   client.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.Run(context.Background(), client.Trigger{})
}

// A RespURI moves the rest of the session (OMA-TS-SyncML_RepPro-V1_2,
// RespURI); over HTTP it must stay an absolute http(s) URL and must not
// leave TLS for clear text, where the credentials of the next messages
// would travel unprotected (OMA-TS-DM_Security-V1_2 §5.3). The agent's
// engine asks the transport (client.RespURIChecker).
func TestClientTransport_CheckRespURIKeepsTheSessionOnHTTPAndTLS(t *testing.T) {
	tests := []struct {
		name, cur, next string
		ok              bool
	}{
		{"https to http is a downgrade", "https://h/dm", "http://h/dm?s=1", false},
		{"https to HTTP in capitals too", "https://h/dm", "HTTP://h/dm?s=1", false},
		{"file scheme", "http://h/dm", "file:///etc/passwd", false},
		{"other scheme", "http://h/dm", "ftp://h/dm", false},
		{"relative URI", "http://h/dm", "/dm?s=1", false},
		{"not a URL", "http://h/dm", "http://[::1", false},
		{"https to https elsewhere", "https://h/dm", "https://g/dm?s=1", true},
		{"http to https", "http://h/dm", "https://h/dm?s=1", true},
		{"http to http", "http://h/dm", "http://h/dm?s=1", true},
	}
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var checker client.RespURIChecker = tp
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := checker.CheckRespURI(tc.cur, tc.next); (err == nil) != tc.ok {
				t.Fatalf("CheckRespURI(%q, %q) = %v, want ok %v", tc.cur, tc.next, err, tc.ok)
			}
		})
	}
}
