package notification_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/notification"
)

func TestUDPSender_DeliversToListenerOnLoopback(t *testing.T) {
	l, err := notification.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan *notification.Package0, 1)
	bad := make(chan error, 1)
	l.OnError = func(_ net.Addr, err error) { bad <- err }
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(ctx, func(p *notification.Package0, dgram []byte) {
			if dgram[1] != 0x06 {
				t.Errorf("datagram is not a WSP push: %x", dgram)
			}
			got <- p
		})
	}()

	// A garbage datagram is reported and skipped.
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-bad:
		if err == nil {
			t.Error("nil error for garbage")
		}
	case <-ctx.Done():
		t.Fatal("garbage datagram not reported")
	}

	p := notification.Package0{ServerID: "omadm", SessionID: 42, Initiator: notification.InitiatorServer}
	pkg, err := p.Encode("secret", []byte{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var s notification.UDPSender
	if err := s.Send(ctx, "udp://"+l.Addr().String(), pkg); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-got:
		if q.ServerID != "omadm" || q.SessionID != 42 || !q.Verify("secret", []byte{0, 1, 2}) {
			t.Errorf("received %+v", q)
		}
	case <-ctx.Done():
		t.Fatal("notification not received")
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestUDPSender_RejectsBadAddresses(t *testing.T) {
	var s notification.UDPSender
	for _, addr := range []string{"sms:+1555", "udp://", "udp://host:0", "udp://host:99999", "http://x"} {
		if err := s.Send(context.Background(), addr, []byte{1}); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
}

func TestWebhookSender_PostsSMSPDUsAsJSON(t *testing.T) {
	var req notification.WebhookRequest
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
	s := &notification.WebhookSender{URL: srv.URL, Header: http.Header{"Authorization": {"Bearer t"}}}
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
	s := &notification.WebhookSender{URL: srv.URL}
	err := s.Send(context.Background(), "sms:+1555", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "quota exceeded") {
		t.Errorf("error %v", err)
	}
	for _, addr := range []string{"udp://x", "sms:", "sms:+12ab", "sms:+" + strings.Repeat("1", 21)} {
		if err := s.Send(context.Background(), addr, []byte("x")); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
	if err := (&notification.WebhookSender{}).Send(context.Background(), "sms:+1", []byte("x")); err == nil {
		t.Error("no URL accepted")
	}
}
