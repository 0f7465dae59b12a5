package smsgw_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/smsgw"
)

func TestWebhookSender_PostsSMSPDUsAsJSON(t *testing.T) {
	var req smsgw.WebhookRequest
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			http.Error(w, "bad request", 400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), 400)
		}
	}))
	defer srv.Close()
	s := &smsgw.WebhookSender{URL: srv.URL, Header: http.Header{"Authorization": {"Bearer t"}}}
	pkg := bigPackage(t, 300)
	if err := s.Send(context.Background(), "sms:+15551234", pkg); err != nil {
		t.Fatal(err)
	}
	if req.To != "+15551234" || req.DCS != 4 || req.Port != 2948 || !req.UDHI || len(req.PDUs) != 3 || auth != "Bearer t" {
		t.Fatalf("request %+v, auth %q", req, auth)
	}
	var uds [][]byte
	for _, h := range req.PDUs {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		uds = append(uds, b)
	}
	env, err := notification.Unwrap(notification.BearerSMS, uds...)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(env.Package.Vendor, bytes.Repeat([]byte{0xA5}, 300)) {
		t.Error("package changed in transit")
	}
}

func TestWebhookSender_ReportsGatewayFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "quota exceeded", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s := &smsgw.WebhookSender{URL: srv.URL}
	err := s.Send(context.Background(), "sms:+1555", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "quota exceeded") {
		t.Errorf("error %v", err)
	}
	for _, addr := range []string{"udp://x", "sms:", "sms:+12ab", "sms:+" + strings.Repeat("1", 21)} {
		if err := s.Send(context.Background(), addr, []byte("x")); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
	if err := (&smsgw.WebhookSender{}).Send(context.Background(), "sms:+1", []byte("x")); err == nil {
		t.Error("no URL accepted")
	}
}

// bigPackage returns a package 0 whose vendor data forces concatenated SMs.
func bigPackage(t testing.TB, vendor int) []byte {
	t.Helper()
	p := notification.Package0{ServerID: "dm.example.com", SessionID: 0xBEEF, Vendor: bytes.Repeat([]byte{0xA5}, vendor)}
	b, err := p.Encode("pw", []byte("n"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
