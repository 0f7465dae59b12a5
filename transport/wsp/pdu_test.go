package wsp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

// WSP status codes stand for HTTP statuses (WAP-230-WSP Appendix A,
// Table 36): 0x20 = 200, 0x40–0x4F = 400–415, 0x50 = 416, 0x60 = 500 ...
func TestWSP_StatusCodesMapToHTTP(t *testing.T) {
	tests := []struct {
		code byte
		http int
	}{
		{0x10, 100}, {0x11, 101}, {0x20, 200}, {0x26, 206}, {0x30, 300}, {0x35, 305}, {0x37, 307},
		{0x40, 400}, {0x41, 401}, {0x44, 404}, {0x4D, 413}, {0x4F, 415}, {0x50, 416}, {0x51, 417},
		{0x60, 500}, {0x62, 502}, {0x65, 505},
	}
	for _, tt := range tests {
		if got, ok := wsp.HTTPStatus(tt.code); !ok || got != tt.http {
			t.Errorf("HTTPStatus(0x%02X) = %d %v, want %d", tt.code, got, ok, tt.http)
		}
		if got, ok := wsp.WSPStatus(tt.http); !ok || got != tt.code {
			t.Errorf("WSPStatus(%d) = 0x%02X %v, want 0x%02X", tt.http, got, ok, tt.code)
		}
	}
	for _, c := range []byte{0x00, 0x12, 0x27, 0x36, 0x38, 0x52, 0x66, 0x70, 0xFF} {
		if _, ok := wsp.HTTPStatus(c); ok {
			t.Errorf("HTTPStatus(0x%02X) accepted an unassigned code", c)
		}
	}
	for _, h := range []int{0, 199, 306, 418, 506, 999} {
		if _, ok := wsp.WSPStatus(h); ok {
			t.Errorf("WSPStatus(%d) accepted a status without a code", h)
		}
	}
}

func wtpData(t *testing.T, name string) []byte {
	t.Helper()
	p, err := wsp.DecodeWTP(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return p[0].Data
}

// Kannel's replies (captured): every header after the content type is an
// application header in text, the content type is text too, and the
// server's x-syncml-hmac comes through.
func TestWSP_DecodesKannelReplies(t *testing.T) {
	r, err := wsp.DecodeReply(wtpData(t, "reply-200-hmac.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || r.ContentType != syncml.ContentTypeXML || string(r.Body) != strings.Repeat("R", 20) ||
		r.Get(wsp.HMACHeader) != `algorithm=MD5, username="srv", mac=c2Vydmlj` || r.Get("content-length") != "20" {
		t.Errorf("reply %+v", r)
	}
	// Kannel's answer to a reply beyond the Client-SDU-Size: 502, no body.
	r, err = wsp.DecodeReply(wtpData(t, "reply-502-client-sdu-exceeded.hex"))
	if err != nil || r.Status != 502 || len(r.Body) != 0 {
		t.Errorf("502: %+v %v", r, err)
	}
	r, err = wsp.DecodeReply(wtpData(t, "reply-500.hex"))
	if err != nil || r.Status != 500 || r.ContentType != "text/plain" {
		t.Errorf("500: %+v %v", r, err)
	}
}

// Kannel's ConnectReply: session id, the Client-SDU-Size it settled (the
// proposal echoed), Method-MOR and Push-MOR 1, an Encoding-Version header.
func TestWSP_DecodesKannelConnectReply(t *testing.T) {
	cr, err := wsp.DecodeConnectReply(wtpData(t, "connectreply.hex"))
	if err != nil {
		t.Fatal(err)
	}
	c := cr.Capabilities
	if cr.SessionID != 0 || c.ClientSDUSize != 6096 || c.MethodMOR != 1 || c.PushMOR != 1 || c.ServerSDUSize != 0 {
		t.Errorf("%+v", cr)
	}
	if len(cr.Headers) != 1 || cr.Headers[0] != (wsp.Header{Name: "Encoding-Version", Value: "1.2"}) {
		t.Errorf("headers %+v", cr.Headers)
	}
}

// A Connect answered by Redirect or by a Reply is a refusal.
func TestWSP_ConnectRefusals(t *testing.T) {
	_, err := wsp.DecodeConnectReply([]byte{0x03, 0x80})
	var re *wsp.RefusedError
	if !errors.As(err, &re) || !re.Redirect {
		t.Errorf("redirect: %v", err)
	}
	_, err = wsp.DecodeConnectReply([]byte{0x04, 0x63, 0x00})
	if !errors.As(err, &re) || re.Status != 503 {
		t.Errorf("reply: %v", err)
	}
}

func TestWSP_RejectsMalformedRepliesWithClearErrors(t *testing.T) {
	tests := []struct{ name, hex, msg string }{
		{"short", "04 20", "Reply of 2 octets"},
		{"not a reply", "02 00 00 00", "want 0x04"},
		{"unassigned status", "04 7F 00", "unassigned status code 0x7F"},
		{"headers beyond end", "04 20 05 C3", "headers length 5"},
		{"truncated uintvar", "04 20 81", "truncated uintvar"},
		{"unterminated content type", "04 20 02 61 62", "unterminated"},
		{"code page shift", "04 20 03 C3 7F 02", "shift"},
		{"unterminated app header", "04 20 04 C3 61 00 62", "unterminated application header value"},
		{"value beyond headers", "04 20 03 C3 8D 05", "value length 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wsp.DecodeReply(unhex(t, tt.hex))
			if !errors.Is(err, wsp.ErrBadWSP) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrBadWSP mentioning %q", err, tt.msg)
			}
		})
	}
	var many []byte
	for range wsp.MaxHeaders + 1 {
		many = append(many, 0x8D, 0x81)
	}
	b := append([]byte{0x04, 0x20, 0x81, byte(len(many) + 1 - 128), 0xC3}, many...)
	if _, err := wsp.DecodeReply(b); !errors.Is(err, wsp.ErrBadWSP) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("too many headers: %v", err)
	}
}

func TestWSP_RejectsMalformedConnectRepliesWithClearErrors(t *testing.T) {
	tests := []struct{ name, hex, msg string }{
		{"empty", "", "empty answer"},
		{"other PDU", "60 00", "PDU type 0x60"},
		{"capabilities beyond end", "02 00 09 00 01", "capabilities 9"},
		{"zero-length capability", "02 00 01 00 00", "capability length 0"},
		{"MOR without value", "02 00 02 00 01 83", "without a value"},
		{"bad SDU uintvar", "02 00 03 00 02 80 80", "truncated uintvar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wsp.DecodeConnectReply(unhex(t, tt.hex))
			if !errors.Is(err, wsp.ErrBadWSP) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrBadWSP mentioning %q", err, tt.msg)
			}
		})
	}
}
