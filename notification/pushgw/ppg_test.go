package pushgw_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/notification/pushgw"
)

// submission is what a fake PPG saw.
type submission struct {
	header  http.Header
	user    string
	pass    string
	control struct {
		Msg struct {
			PushID  string `xml:"push-id,attr"`
			Address struct {
				Value string `xml:"address-value,attr"`
			} `xml:"address"`
			QoS struct {
				Bearer string `xml:"bearer,attr"`
			} `xml:"quality-of-service"`
		} `xml:"push-message"`
	}
	contentHeader map[string][]string
	content       []byte
	err           error
}

// fakePPG answers every submission with answer (status 202) after parsing
// it as a PAP push submission (WAP-247-PAP ch. 8: multipart/related, the
// control entity first, then the content entity).
func fakePPG(t *testing.T, status int, answer string) (*httptest.Server, func() []submission) {
	var mu sync.Mutex
	var got []submission
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s submission
		s.header = r.Header.Clone()
		s.user, s.pass, _ = r.BasicAuth()
		s.err = func() error {
			mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil {
				return err
			}
			if mt != "multipart/related" || params["type"] != "application/xml" {
				return errors.New("content type " + r.Header.Get("Content-Type"))
			}
			mr := multipart.NewReader(r.Body, params["boundary"])
			p, err := mr.NextPart()
			if err != nil {
				return err
			}
			if p.Header.Get("Content-Type") != "application/xml" {
				return errors.New("first part is " + p.Header.Get("Content-Type"))
			}
			if err := xml.NewDecoder(p).Decode(&s.control); err != nil {
				return err
			}
			p, err = mr.NextPart()
			if err != nil {
				return err
			}
			s.contentHeader = p.Header
			s.content, err = io.ReadAll(p)
			return err
		}()
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []submission {
		mu.Lock()
		defer mu.Unlock()
		return append([]submission(nil), got...)
	}
}

func papAnswer(code, desc string) string {
	return `<?xml version="1.0"?><!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN" "http://www.wapforum.org/DTD/pap_2.0.dtd">` +
		`<pap><push-response push-id="x"><response-result code="` + code + `" desc="` + desc + `"/></push-response></pap>`
}

// The submission carries the PAP control entity with a unique push-id and
// the client address in WAP-249-PPGService §7.1 form, then the package 0 as
// application/vnd.syncml.notification with X-Wap-Application-Id syncml.dm;
// the initiator's HTTP headers add nothing a PPG could copy into the push.
func TestPPGSender_SubmissionShape(t *testing.T) {
	srv, got := fakePPG(t, http.StatusAccepted, papAnswer("1001", "accepted"))
	s := &pushgw.PPGSender{URL: srv.URL + "/wappush", User: "pi", Password: "secret", Domain: "ppg.example.net"}
	body := []byte("\x00\x01\r\n--\xffpackage0")
	tests := []struct {
		addr, value, bearer string
	}{
		{"wappush:+15551234567", "WAPPUSH=+15551234567/TYPE=PLMN@ppg.example.net", "SMS"},
		{"wappush:%2B4930123", "WAPPUSH=+4930123/TYPE=PLMN@ppg.example.net", "SMS"},
		{"wappush-ip:10.1.2.3", "WAPPUSH=10.1.2.3/TYPE=IPv4@ppg.example.net", ""},
		{"wappush-ip:[2001:db8::1]", "WAPPUSH=2001:db8::1/TYPE=IPv6@ppg.example.net", ""},
		{"WAPPUSH-IP:127.0.0.1", "WAPPUSH=127.0.0.1/TYPE=IPv4@ppg.example.net", ""},
	}
	for _, tt := range tests {
		if err := s.Send(context.Background(), tt.addr, body); err != nil {
			t.Fatalf("%s: %v", tt.addr, err)
		}
	}
	subs := got()
	ids := map[string]bool{}
	for i, sub := range subs {
		tt := tests[i]
		if sub.err != nil {
			t.Fatalf("%s: submission: %v", tt.addr, sub.err)
		}
		if sub.control.Msg.Address.Value != tt.value || sub.control.Msg.QoS.Bearer != tt.bearer {
			t.Errorf("%s: address %q bearer %q, want %q %q", tt.addr, sub.control.Msg.Address.Value, sub.control.Msg.QoS.Bearer, tt.value, tt.bearer)
		}
		if sub.control.Msg.PushID == "" || ids[sub.control.Msg.PushID] {
			t.Errorf("push-id %q empty or repeated", sub.control.Msg.PushID)
		}
		ids[sub.control.Msg.PushID] = true
		if ct := sub.contentHeader["Content-Type"]; len(ct) != 1 || ct[0] != "application/vnd.syncml.notification" {
			t.Errorf("content type %v", ct)
		}
		if id := sub.contentHeader["X-Wap-Application-Id"]; len(id) != 1 || id[0] != "x-wap-application:syncml.dm" {
			t.Errorf("application id %v", id)
		}
		if _, ok := sub.contentHeader["Content-Transfer-Encoding"]; ok {
			t.Error("Content-Transfer-Encoding sent")
		}
		if !bytes.Equal(sub.content, body) {
			t.Errorf("content % X", sub.content)
		}
		if sub.user != "pi" || sub.pass != "secret" {
			t.Errorf("basic auth %q %q", sub.user, sub.pass)
		}
		for _, h := range []string{"User-Agent", "Accept-Encoding"} {
			if v := sub.header.Get(h); v != "" {
				t.Errorf("%s: %q sent to the PPG", h, v)
			}
		}
	}
}

// PAP result codes decide the outcome (WAP-247-PAP ch. 9): 1000 and 1001
// succeed; any other code is an error naming it and the PPG's description;
// HTTP failures and answers that are not PAP are errors too.
func TestPPGSender_AnswerCodes(t *testing.T) {
	tests := []struct {
		name, answer string
		status       int
		wantErr      string
		wantCode     int
	}{
		{"accepted for processing", papAnswer("1001", "ok"), 202, "", 0},
		{"ok", papAnswer("1000", "ok"), 200, "", 0},
		{"address error", papAnswer("2002", "no such client"), 202, "PAP code 2002 (Address error): no such client", 2002},
		{"service unavailable", papAnswer("4001", ""), 202, "PAP code 4001 (Service unavailable)", 4001},
		{"unknown code", papAnswer("2999", "odd"), 202, "PAP code 2999 (unknown code): odd", 2999},
		{"bad message", `<?xml version="1.0"?><pap><badmessage-response code="2000" desc="Not understood" bad-message-fragment="x"/></pap>`, 202, "PAP code 2000 (Bad request)", 2000},
		{"http error", "oops", 500, "500 Internal Server Error: oops", 0},
		{"not PAP", "<html>hello</html>", 202, "not a PAP document", 0},
		{"no result", `<pap><push-response push-id="x"/></pap>`, 202, "no push-response result", 0},
		{"bad code", papAnswer("abc", ""), 202, `bad code "abc"`, 0},
		{"too large", papAnswer("1001", strings.Repeat("x", pushgw.MaxPAPResponse)), 202, "exceeds", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakePPG(t, tt.status, tt.answer)
			s := &pushgw.PPGSender{URL: srv.URL}
			err := s.Send(context.Background(), "wappush:+15551234567", []byte("pkg0"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			var pe *pushgw.PAPError
			if errors.As(err, &pe) != (tt.wantCode != 0) || (pe != nil && pe.Code != tt.wantCode) {
				t.Fatalf("PAPError %+v, want code %d", pe, tt.wantCode)
			}
		})
	}
}

// Bad addresses and configuration are refused before anything is sent.
func TestPPGSender_RefusesBadAddresses(t *testing.T) {
	srv, got := fakePPG(t, 202, papAnswer("1001", ""))
	s := &pushgw.PPGSender{URL: srv.URL}
	for _, addr := range []string{"sms:+1555", "wappush:", "wappush:+12ab", "wappush:+1/TYPE=IPv4@x", "wappush-ip:999.1.1.1",
		"wappush-ip:host.example", "wappush-ip:1.2.3.4/TYPE=PLMN", "udp://1.2.3.4:2948", "wappush"} {
		if err := s.Send(context.Background(), addr, []byte("pkg0")); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
	if err := (&pushgw.PPGSender{URL: srv.URL, Domain: `x"/><a`}).Send(context.Background(), "wappush:+1555", []byte("p")); err == nil {
		t.Error("bad domain accepted")
	}
	if err := (&pushgw.PPGSender{}).Send(context.Background(), "wappush:+1555", []byte("p")); err == nil {
		t.Error("no URL accepted")
	}
	if err := s.Send(context.Background(), "wappush:+1555", nil); err == nil {
		t.Error("empty package accepted")
	}
	if n := len(got()); n != 0 {
		t.Fatalf("%d submissions sent", n)
	}
}

// A PPG that does not answer cannot hang the sender: the context (or the
// client timeout) ends the submission.
func TestPPGSender_SilentPPGIsBoundedByTheContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	s := &pushgw.PPGSender{URL: srv.URL}
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, "wappush:+1555", []byte("p")) }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("no error from a cancelled submission")
		}
	case <-time.After(30 * time.Second): // bounds a hang only
		t.Fatal("Send did not return after cancellation")
	}
}

// Describe names the PPG and account but never the password, even one put
// in the URL.
func TestPPGSender_DescribeHidesSecrets(t *testing.T) {
	s := &pushgw.PPGSender{URL: "http://pi:urlsecret@ppg.example.net:8080/wappush?key=querysecret", User: "pi", Password: "secret"}
	d := s.Describe()
	for _, secret := range []string{"urlsecret", "querysecret", "secret@"} {
		if strings.Contains(d, secret) {
			t.Fatalf("Describe shows %q: %s", secret, d)
		}
	}
	if !strings.Contains(d, "ppg.example.net:8080/wappush") || !strings.Contains(d, "pi") {
		t.Fatalf("Describe = %q", d)
	}
}
