package pushgw_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification/pushgw"
)

// Kannel's sendsms answers 202 with "0: Accepted for delivery" or "3:
// Queued for later delivery"; other answers are errors carrying Kannel's
// text. Each SM is a POST: the data as the body, the UDH in hex and the
// other parameters, credentials included, as X-Kannel-* headers, never in
// the URL.
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
			var h http.Header
			var body []byte
			var rawQuery, method string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h, method, rawQuery = r.Header, r.Method, r.URL.RawQuery
				body, _ = io.ReadAll(r.Body)
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
			want := map[string]string{"X-Kannel-Username": "u", "X-Kannel-Password": "p", "X-Kannel-From": "123",
				"X-Kannel-To": "+15551234567", "X-Kannel-SMSC": "S1", "X-Kannel-Coding": "1", "X-Kannel-UDH": "0605040B8423F0",
				"Content-Type": "application/octet-stream"}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if method != http.MethodPost || rawQuery != "" {
				t.Errorf("%s with query %q", method, rawQuery)
			}
			if string(body) != "\x01\x06\x03\xc4\xaf\x87pkg0" {
				t.Errorf("body % X", body)
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
