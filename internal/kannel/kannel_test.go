package kannel_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/internal/kannel"
)

func TestParseFakeSMSCLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want kannel.SMS
		ok   bool
	}{
		{"udh and data (Kannel 1.4.5)",
			"2026-12-03 12:10:00 [1] [0] DEBUG: Got message 1: <123 +15551234567 udh %06%05%04%0B%84%23%F0 data %01%06%03%C4+%2B>",
			kannel.SMS{N: 1, From: "123", To: "+15551234567", UDH: []byte{6, 5, 4, 0x0B, 0x84, 0x23, 0xF0}, Data: []byte{1, 6, 3, 0xC4, ' ', '+'}}, true},
		{"udh without the data word",
			"Got message 7: <1 2 udh %02%00%00 %FF>",
			kannel.SMS{N: 7, From: "1", To: "2", UDH: []byte{2, 0, 0}, Data: []byte{0xFF}}, true},
		{"binary without udh",
			"Got message 2: <1 2 data %00%01>",
			kannel.SMS{N: 2, From: "1", To: "2", Data: []byte{0, 1}}, true},
		{"text",
			"Got message 3: <1 2 text hello world>",
			kannel.SMS{N: 3, From: "1", To: "2", Data: []byte("hello world"), Text: true}, true},
		{"not a message", "INFO: fakesmsc starting", kannel.SMS{}, false},
		{"unknown type", "Got message 4: <1 2 route x y>", kannel.SMS{}, false},
		{"bad escape", "Got message 5: <1 2 data %G0>", kannel.SMS{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := kannel.ParseFakeSMSCLine(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if got.N != tt.want.N || got.From != tt.want.From || got.To != tt.want.To || got.Text != tt.want.Text ||
				!bytes.Equal(got.UDH, tt.want.UDH) || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The harness starts every box, and an SMS sent through smsbox reaches
// fakesmsc and comes back parsed, bytes intact.
func TestStart_SendSMSReachesFakeSMSC(t *testing.T) {
	g := kannel.Start(t, kannel.Options{PPG: true, SMSBox: true, FakeSMSC: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := g.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wapbox, IP 127.0.0.1", "smsbox:", fmt.Sprintf("FAKE:%d (online", g.SMSCPort)} {
		if !strings.Contains(st, want) {
			t.Errorf("status page lacks %q:\n%s", want, st)
		}
	}
	udh := []byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}
	data := []byte{0x00, 0x06, 0x03, 0xC4, 0xAF, 0x87, ' ', '+', '%', 0xFF}
	q := url.Values{"username": {g.SendSMSUser}, "password": {g.SendSMSPassword}, "from": {"1234"},
		"to": {"+15551234567"}, "udh": {string(udh)}, "coding": {"1"}, "text": {string(data)}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.SendSMSURL+"?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sendsms: %s %s", resp.Status, body)
	}
	m := g.NextSMS(30 * time.Second)
	if m.To != "+15551234567" || !bytes.Equal(m.UDH, udh) || !bytes.Equal(m.Data, data) {
		t.Fatalf("fakesmsc got %+v\nline %s", m, m.Line)
	}
	if g.PPGURL == "" || !strings.HasPrefix(g.PPGURL, "http://127.0.0.1:") {
		t.Errorf("PPGURL = %q", g.PPGURL)
	}
}

// With WAPBackend, wapbox fetches WSP requests for http://WAPBackendHost/…
// from the given server: a connectionless WSP Get (WAP-230-WSP §8.2.3.1,
// PDU type 0x40) to UDP 9200 reaches the backend and its answer comes back
// as a WSP Reply (PDU type 0x04).
func TestStart_WAPBackendServesWSPRequests(t *testing.T) {
	paths := make(chan string, 4)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.Header().Set("Content-Type", "application/vnd.syncml.dm+xml")
		_, _ = io.WriteString(w, "<SyncML>hello from the backend</SyncML>")
	}))
	defer backend.Close()
	kannel.Start(t, kannel.Options{WAPBox: true, WAPBackend: backend.URL})
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", kannel.WSPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	uri := "http://" + kannel.WAPBackendHost + "/dm/probe"
	// TID, Get, URI length (uintvar, < 128 here), URI, then the headers:
	// Accept (0x80) */* (0x80); wapbox refuses content types the client
	// did not accept.
	req := append(append([]byte{0x01, 0x40, byte(len(uri))}, uri...), 0x80, 0x80)
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no WSP reply: %v", err)
	}
	if n < 3 || buf[0] != 0x01 || buf[1] != 0x04 {
		t.Fatalf("reply % X", buf[:n])
	}
	select {
	case p := <-paths:
		if p != "/dm/probe" {
			t.Fatalf("backend got %q", p)
		}
	default:
		t.Fatal("the backend was not asked")
	}
	if !bytes.Contains(buf[:n], []byte("hello from the backend")) {
		t.Errorf("reply lacks the backend's body: % X", buf[:n])
	}
}
