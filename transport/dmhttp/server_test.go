package dmhttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// echoEngine records what the handler passed and answers with fixed bytes.
type echoEngine struct {
	got *server.Inbound
	err error
	pan bool
}

func (e *echoEngine) Handle(_ context.Context, in *server.Inbound) (*server.Outbound, error) {
	if e.pan {
		panic("boom")
	}
	e.got = in
	if e.err != nil {
		return nil, e.err
	}
	return &server.Outbound{Body: []byte("<SyncML/>"), ContentType: syncml.ContentTypeXML, HMAC: "algorithm=MD5, username=\"s\", mac=x"}, nil
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestHandler_AnswersPostWithEngineReplyAndHeaders(t *testing.T) {
	eng := &echoEngine{}
	base := serve(t, dmhttp.NewHandler(eng, &dmhttp.HandlerOptions{Logger: quiet()}))
	req, _ := http.NewRequest(http.MethodPost, base+"/dm?s=tok", strings.NewReader("<SyncML>x</SyncML>"))
	req.Header.Set("Content-Type", syncml.ContentTypeXML+"; charset=utf-8")
	req.Header.Set("x-syncml-hmac", "algorithm=MD5, username=\"u\", mac=m")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "<SyncML/>" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != syncml.ContentTypeXML || resp.Header.Get("Cache-Control") != "private" ||
		!strings.Contains(resp.Header.Get("x-syncml-hmac"), "mac=x") {
		t.Errorf("headers %v", resp.Header)
	}
	if eng.got.HMAC != "algorithm=MD5, username=\"u\", mac=m" || eng.got.Token() != "tok" || eng.got.SecureSession ||
		string(eng.got.Body) != "<SyncML>x</SyncML>" {
		t.Errorf("inbound %+v", eng.got)
	}
	// OMA-TS-DM_Protocol-V1_2, SyncHdr RespURI: the binding addresses the
	// session by the request URL with the token as its only query parameter.
	if got := eng.got.RespURI("next"); got != base+"/dm?s=next" {
		t.Errorf("RespURI %q, want %q", got, base+"/dm?s=next")
	}
}

func TestHandler_UsesExternalURLForRespURI(t *testing.T) {
	eng := &echoEngine{}
	base := serve(t, dmhttp.NewHandler(eng, &dmhttp.HandlerOptions{ExternalURL: "https://dm.example.com/omadm", Logger: quiet()}))
	resp, err := http.Post(base+"/dm?s=1", syncml.ContentTypeWBXML, bytes.NewReader([]byte{3, 1}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Behind a TLS-terminating proxy the external https URL makes the
	// session transport-authenticated (OMA-TS-DM_Security-V1_2 §5.3).
	if got := eng.got.RespURI("2"); got != "https://dm.example.com/omadm/dm?s=2" || eng.got.Token() != "1" || !eng.got.SecureSession {
		t.Errorf("RespURI %q, token %q, secure %v", got, eng.got.Token(), eng.got.SecureSession)
	}
}

func TestHandler_RejectsBadRequestsWithHTTPStatus(t *testing.T) {
	tests := []struct {
		name   string
		method string
		ctype  string
		body   string
		eng    *echoEngine
		want   int
	}{
		{"GET", http.MethodGet, syncml.ContentTypeXML, "", &echoEngine{}, 405},
		{"wrong content type", http.MethodPost, "text/plain", "x", &echoEngine{}, 415},
		{"too large", http.MethodPost, syncml.ContentTypeXML, strings.Repeat("x", 2048), &echoEngine{}, 413},
		{"malformed", http.MethodPost, syncml.ContentTypeXML, "x", &echoEngine{err: syncml.Errorf(syncml.StatusBadRequest, "bad")}, 400},
		{"concurrent update", http.MethodPost, syncml.ContentTypeXML, "x", &echoEngine{err: syncml.Errorf(syncml.StatusServiceUnavailable, "retry")}, 503},
		{"engine failure", http.MethodPost, syncml.ContentTypeXML, "x", &echoEngine{err: errors.New("disk on fire")}, 500},
		{"engine panic", http.MethodPost, syncml.ContentTypeXML, "x", &echoEngine{pan: true}, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := serve(t, dmhttp.NewHandler(tc.eng, &dmhttp.HandlerOptions{MaxBodySize: 1024, Logger: quiet()}))
			req, _ := http.NewRequest(tc.method, base+"/dm", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// The engine satisfies the handler's interface (checked here, not in the
// package, so the device agent that links dmhttp never links the engine).
var _ dmhttp.Engine = (*server.Engine)(nil)

// The HTTP binding carries the session token in the "s" query parameter of
// the URL a message is posted to, and answers with the same URL (no query,
// no fragment) plus the next token (OMA-TS-DM_Protocol-V1_2, SyncHdr RespURI).
func TestRequestAddressing_TokenFromQueryRespURIWithoutIt(t *testing.T) {
	tests := []struct {
		name, url, token, resp string
		secure                 bool
	}{
		{"first message", "http://dm.example.com/dm", "", "http://dm.example.com/dm?s=T", false},
		{"token and other parameters", "https://dm.example.com/dm?a=1&s=abc#f", "abc", "https://dm.example.com/dm?s=T", true},
		{"token needing escapes", "http://h/dm", "", "http://h/dm?s=a%2Bb", false},
		{"unparsable URL", "http://[::1", "", "", false},
		{"no URL", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := dmhttp.RequestAddressing(tc.url)
			tok := "T"
			if tc.name == "token needing escapes" {
				tok = "a+b"
			}
			if a.Token() != tc.token || a.RespURI(tok) != tc.resp || dmhttp.SecureURL(tc.url) != tc.secure {
				t.Errorf("token %q RespURI %q secure %v; want %q %q %v", a.Token(), a.RespURI(tok), dmhttp.SecureURL(tc.url), tc.token, tc.resp, tc.secure)
			}
		})
	}
}
