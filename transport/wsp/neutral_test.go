package wsp_test

import (
	"testing"
	"testing/synctest"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/wsp"
)

// The gateway fetches the Post's URI over HTTP: when that is an https URL
// the server sees the session over TLS and authenticates it once
// (OMA-TS-DM_Security-V1_2 §5.3), so the transport reports the exchange as
// SecureSession for the agent's checks of the server to agree; over plain
// http each server message is authenticated.
func TestTransport_SessionIsSecureWhenTheGatewayFetchesHTTPS(t *testing.T) {
	tests := []struct {
		url    string
		secure bool
	}{
		{"http://dm.example/dm", false},
		{"https://dm.example/dm", true},
		{"HTTPS://dm.example/dm", true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newFakeGW(t)
				tp := newFake(t, g, wsp.Options{})
				go func() {
					g.connect(7)
					post := g.expect(wsp.PDUInvoke)
					g.result(post.TID, okReply("<ok/>"))
					g.expect(wsp.PDUAck)
				}()
				req := *dmReq
				req.URL = tc.url
				resp, err := roundTrip(tp, &req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.SecureSession != tc.secure {
					t.Errorf("SecureSession %v, want %v", resp.SecureSession, tc.secure)
				}
			})
		})
	}
}

// A RespURI is fetched by the gateway over HTTP: the HTTP binding's rules
// apply (an absolute http(s) URL, never from https to plain http), checked
// by the agent before it moves the session (client.RespURIChecker).
func TestTransport_RespURIFollowsTheHTTPRules(t *testing.T) {
	tp, err := wsp.New(wsp.Options{Gateway: "127.0.0.1:9201"})
	if err != nil {
		t.Fatal(err)
	}
	var c client.RespURIChecker = tp
	tests := []struct {
		cur, next string
		ok        bool
	}{
		{"http://dm.example/dm", "http://dm.example/dm?s=1", true},
		{"https://dm.example/dm", "http://dm.example/dm?s=1", false},
		{"http://dm.example/dm", "ftp://dm.example/dm", false},
	}
	for _, tc := range tests {
		if err := c.CheckRespURI(tc.cur, tc.next); (err == nil) != tc.ok {
			t.Errorf("CheckRespURI(%q, %q) = %v, want ok %v", tc.cur, tc.next, err, tc.ok)
		}
	}
}
