package pushgw_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification/pushgw"
)

// Kannel's sendsms answers 202 with "0: Accepted for delivery" or "3:
// Queued for later delivery"; other answers are errors carrying Kannel's
// text. Each request sends the UDH and data separately as 8-bit (coding=1).
func TestSendSMSSender_Answers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{"accepted", 202, "0: Accepted for delivery", ""},
		{"queued", 202, "3: Queued for later delivery", ""},
		{"refused", 403, "Authorization failed for sendsms", "403 Forbidden: Authorization failed"},
		{"odd success", 202, "4: something else", "did not accept"},
		{"bad request", 400, "Missing receiver number", "Missing receiver number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q url.Values
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q = r.URL.Query()
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			s := &pushgw.SendSMSSender{URL: srv.URL + "/cgi-bin/sendsms", User: "u", Password: "p", From: "123", SMSC: "S1"}
			err := s.Send(context.Background(), "sms:+15551234567", []byte("pkg0"))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			want := url.Values{"username": {"u"}, "password": {"p"}, "from": {"123"}, "to": {"+15551234567"}, "smsc": {"S1"},
				"coding": {"1"}, "udh": {"\x06\x05\x04\x0b\x84\x23\xf0"}, "text": {"\x01\x06\x03\xc4\xaf\x87pkg0"}}
			for k, v := range want {
				if q.Get(k) != v[0] {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v[0])
				}
			}
		})
	}
}

// A failed connection names the endpoint without the password the query
// carries; bad addresses are refused before sending.
func TestSendSMSSender_ErrorsHideThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := &pushgw.SendSMSSender{URL: "http://" + addr + "/cgi-bin/sendsms", User: "u", Password: "topsecret"}
	err = s.Send(context.Background(), "sms:+15551234567", []byte("pkg0"))
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("err = %v", err)
	}
	for _, a := range []string{"sms:", "sms:+1x", "wappush:+1555", "tel:+1555"} {
		if err := s.Send(context.Background(), a, []byte("p")); err == nil {
			t.Errorf("%q accepted", a)
		}
	}
	if d := s.Describe(); strings.Contains(d, "topsecret") || !strings.Contains(d, addr) {
		t.Errorf("Describe = %q", d)
	}
}
