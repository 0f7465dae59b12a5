// Package pushgw sends package 0 through operator gateways: a WAP Push Proxy
// Gateway spoken to with the Push Access Protocol (PPGSender), and Kannel's
// sendsms interface for binary SMS (SendSMSSender). Like smsgw it lives apart
// from package notification so that the device side does not link net/http.
package pushgw

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/omadm/omadm/notification"
)

// Address schemes the PPG sender serves.
const (
	// SchemeSMS is "wappush:+number": push to a phone number, delivered by
	// the PPG over the SMS bearer.
	SchemeSMS = notification.SchemeWAPPush
	// SchemeIP is "wappush-ip:address": push to an IPv4 or IPv6 address,
	// delivered by the PPG as a WDP datagram to UDP port 2948.
	SchemeIP = notification.SchemeWAPPushIP
)

// Media type and application id of a DM notification push
// (OMA-TS-DM_Notification-V1_2 §7, WSP assigned numbers 0x44 and 0x07).
const (
	ContentType   = "application/vnd.syncml.notification"
	ApplicationID = "x-wap-application:syncml.dm"
)

// MaxPAPResponse bounds the PPG's answer read by Send.
const MaxPAPResponse = 64 << 10

var _ notification.Sender = (*PPGSender)(nil)

// PPGSender submits a package 0 to a WAP Push Proxy Gateway with the Push
// Access Protocol: one HTTP POST of a multipart/related document whose first
// part is the PAP push-message control entity and whose second is the
// package 0 (WAP-247-PAP ch. 8, message format; ch. 9, push submission). The
// PPG wraps it in a WSP push PDU itself and delivers it over the bearer the
// address names. It is safe for concurrent use.
type PPGSender struct {
	// URL is the PPG's PAP endpoint, e.g. http://ppg.example.net:8080/wappush
	// (required).
	URL string
	// User and Password, when User is set, are sent with HTTP basic
	// authentication (a PPG's push-initiator account).
	User, Password string
	// Domain is the PPG specifier of client addresses
	// (WAPPUSH=…/TYPE=…@Domain, WAP-249-PPGService §7.1); "" means the host
	// of URL.
	Domain string
	// Client makes the requests; nil means a client with Timeout.
	Client *http.Client
	// Timeout bounds one submission when Client is nil; 0 means 30 s.
	Timeout time.Duration
}

// PAPError is a PPG's refusal: a PAP result code other than 1000/1001.
type PAPError struct {
	Code int    // PAP status code, e.g. 2002
	Desc string // the PPG's description
}

func (e *PAPError) Error() string {
	name := papCodeNames[e.Code]
	if name == "" {
		name = "unknown code"
	}
	if e.Desc != "" {
		return fmt.Sprintf("ppg: push refused: PAP code %d (%s): %s", e.Code, name, e.Desc)
	}
	return fmt.Sprintf("ppg: push refused: PAP code %d (%s)", e.Code, name)
}

// papCodeNames are the PAP status codes (WAP-247-PAP ch. 9, status codes).
var papCodeNames = map[int]string{
	1000: "OK", 1001: "Accepted for processing",
	2000: "Bad request", 2001: "Forbidden", 2002: "Address error", 2003: "Address not found",
	2004: "Push ID not found", 2005: "Capabilities mismatch", 2006: "Required capabilities not supported",
	2007: "Duplicate push ID", 2008: "Cancellation not possible",
	3000: "Internal server error", 3001: "Not implemented", 3002: "Version not supported",
	3003: "Not possible", 3004: "Capability matching not supported", 3005: "Multiple addresses not supported",
	3006: "Transformation failure", 3007: "Specified delivery method not possible",
	3008: "Capabilities not available", 3009: "Required network not available",
	3010: "Required bearer not available", 3011: "Replacement not supported",
	4000: "Service failure", 4001: "Service unavailable",
}

// Describe names the PPG and account, without the password.
func (s *PPGSender) Describe() string {
	d := "WAP push through the PPG at " + redactURL(s.URL) + " (wappush:+number by SMS, wappush-ip:address by UDP"
	if s.User != "" {
		d += ", as " + s.User
	}
	return d + ")"
}

// clientAddress turns a wappush: or wappush-ip: address into a PAP address
// value (WAP-249-PPGService §7.1: WAPPUSH=<address>/TYPE=<type>@<ppg>).
func (s *PPGSender) clientAddress(addr string) (value string, sms bool, err error) {
	a, err := notification.ParseAddrOf(addr, SchemeSMS, SchemeIP)
	if err != nil {
		return "", false, fmt.Errorf("ppg: %w", err)
	}
	domain := s.Domain
	if domain == "" {
		if u, err := url.Parse(s.URL); err == nil {
			domain = u.Hostname()
		}
	}
	if domain == "" || strings.ContainsAny(domain, "/@\"<>& ") {
		return "", false, fmt.Errorf("ppg: bad PPG domain %q", domain)
	}
	if a.Scheme == SchemeSMS {
		return "WAPPUSH=" + a.Number + "/TYPE=PLMN@" + domain, true, nil
	}
	if v4 := a.IP.To4(); v4 != nil {
		return "WAPPUSH=" + v4.String() + "/TYPE=IPv4@" + domain, false, nil
	}
	return "WAPPUSH=" + a.IP.String() + "/TYPE=IPv6@" + domain, false, nil
}

// Send submits pkg0 for the device at addr and checks the PPG's answer.
func (s *PPGSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	if s.URL == "" {
		return errors.New("ppg: no PPG URL")
	}
	if len(pkg0) == 0 || len(pkg0) > notification.MaxPackageSize {
		return fmt.Errorf("ppg: package 0 of %d bytes", len(pkg0))
	}
	value, sms, err := s.clientAddress(addr)
	if err != nil {
		return err
	}
	pushID, err := newPushID()
	if err != nil {
		return err
	}
	body, ctype, err := papDocument(pushID, value, sms, pkg0)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("ppg: request to %s: %v", redactURL(s.URL), redactErr(err))
	}
	req.Header.Set("Content-Type", ctype)
	// A PPG may copy the initiator's HTTP headers into the push it sends
	// over the air: send no User-Agent (net/http's default otherwise).
	req.Header["User-Agent"] = []string{""}
	if s.User != "" {
		req.SetBasicAuth(s.User, s.Password)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("ppg: %s: %v", redactURL(s.URL), redactErr(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxPAPResponse+1))
	if err != nil {
		return fmt.Errorf("ppg: reading the answer of %s: %v", redactURL(s.URL), redactErr(err))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ppg: %s answered %s: %s", redactURL(s.URL), resp.Status, snippet(answer))
	}
	if len(answer) > MaxPAPResponse {
		return fmt.Errorf("ppg: answer of %s exceeds %d bytes", redactURL(s.URL), MaxPAPResponse)
	}
	code, desc, err := parsePAPResponse(answer)
	if err != nil {
		return fmt.Errorf("ppg: %s: %w", redactURL(s.URL), err)
	}
	// WAP-247-PAP ch. 9: 1000 (OK) and 1001 (accepted for processing) are
	// the success codes of a push-response; any other is a refusal.
	if code != 1000 && code != 1001 {
		return &PAPError{Code: code, Desc: desc}
	}
	return nil
}

func (s *PPGSender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	t := s.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// No Accept-Encoding either: it too could be copied into the push.
	tr.DisableCompression = true
	return &http.Client{Timeout: t, Transport: tr}
}

// newPushID is a unique push-id: random, with a domain part as PAP
// recommends (WAP-247-PAP ch. 9, push-message).
func newPushID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("ppg: push id: %w", err)
	}
	return hex.EncodeToString(b[:]) + "@omadm", nil
}

// papDocument is the multipart/related push submission: the PAP control
// entity (application/xml), then the content entity (the package 0 with its
// media type and X-Wap-Application-Id). No Content-Transfer-Encoding is
// sent: the body is binary as HTTP carries it.
func papDocument(pushID, address string, sms bool, pkg0 []byte) ([]byte, string, error) {
	var ctl bytes.Buffer
	ctl.WriteString(`<?xml version="1.0"?>` + "\n" +
		`<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN" "http://www.wapforum.org/DTD/pap_2.0.dtd">` + "\n" +
		`<pap><push-message push-id="`)
	_ = xml.EscapeText(&ctl, []byte(pushID))
	ctl.WriteString(`"><address address-value="`)
	_ = xml.EscapeText(&ctl, []byte(address))
	ctl.WriteString(`"/>`)
	if sms {
		ctl.WriteString(`<quality-of-service delivery-method="unconfirmed" bearer="SMS"/>`)
	} else {
		ctl.WriteString(`<quality-of-service delivery-method="unconfirmed"/>`)
	}
	ctl.WriteString("</push-message></pap>\n")

	var body bytes.Buffer
	for range 4 {
		body.Reset()
		w := multipart.NewWriter(&body)
		if bytes.Contains(pkg0, []byte("--"+w.Boundary())) {
			continue // the random boundary occurs in the content: draw another
		}
		p, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/xml"}})
		if err != nil {
			return nil, "", err
		}
		_, _ = p.Write(ctl.Bytes())
		p, err = w.CreatePart(textproto.MIMEHeader{
			"Content-Type":         {ContentType},
			"X-Wap-Application-Id": {ApplicationID},
		})
		if err != nil {
			return nil, "", err
		}
		_, _ = p.Write(pkg0)
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return body.Bytes(), `multipart/related; boundary=` + w.Boundary() + `; type="application/xml"`, nil
	}
	return nil, "", errors.New("ppg: no MIME boundary absent from the package")
}

// papAnswer is the part of a PAP answer Send reads: a push-response's
// result, or a badmessage-response (WAP-247-PAP ch. 9).
type papAnswer struct {
	XMLName  xml.Name `xml:"pap"`
	Response *struct {
		Result *papResult `xml:"response-result"`
	} `xml:"push-response"`
	BadMessage *papResult `xml:"badmessage-response"`
}

type papResult struct {
	Code string `xml:"code,attr"`
	Desc string `xml:"desc,attr"`
}

// parsePAPResponse reads the result code and description of a PAP answer.
// The DOCTYPE is not fetched (encoding/xml ignores external entities).
func parsePAPResponse(b []byte) (int, string, error) {
	var a papAnswer
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(&a); err != nil {
		return 0, "", fmt.Errorf("answer is not a PAP document: %v: %s", err, snippet(b))
	}
	var r *papResult
	switch {
	case a.Response != nil && a.Response.Result != nil:
		r = a.Response.Result
	case a.BadMessage != nil:
		r = a.BadMessage
	default:
		return 0, "", fmt.Errorf("PAP answer has no push-response result: %s", snippet(b))
	}
	var code int
	if _, err := fmt.Sscanf(strings.TrimSpace(r.Code), "%d", &code); err != nil || code < 1000 || code > 9999 {
		return 0, "", fmt.Errorf("PAP answer has a bad code %q", r.Code)
	}
	return code, r.Desc, nil
}

// snippet is a short printable excerpt of an answer for error messages.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 32 || r == 127 {
			return ' '
		}
		return r
	}, s)
}

// redactURL drops the user info and query of a URL (where gateways take
// credentials) for messages and descriptions.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// redactErr keeps a client error's cause without the request URL, which may
// carry credentials.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
