package notification

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sender delivers a package 0 to a device address. The server picks a Sender
// by the address scheme ("udp", "sms").
type Sender interface {
	Send(ctx context.Context, addr string, pkg0 []byte) error
}

var (
	_ Sender = (*UDPSender)(nil)
	_ Sender = (*WebhookSender)(nil)
)

// UDPSender sends a package 0 as one UDP datagram holding the WSP push PDU
// (WDP over IP), for devices that listen on a UDP port. Addresses are
// "udp://host:port"; the port defaults to PushPort (2948). The zero value is
// ready to use and safe for concurrent use.
type UDPSender struct {
	// Dialer is used to reach the device; nil means a zero net.Dialer.
	Dialer *net.Dialer

	tid atomic.Uint32
}

// Send wraps pkg0 in a WSP push PDU and sends it in one datagram.
func (s *UDPSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	hostport, err := udpAddr(addr, false)
	if err != nil {
		return err
	}
	d := s.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, "udp", hostport)
	if err != nil {
		return fmt.Errorf("notification: dial %s: %w", hostport, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	pdu := EncodePush(byte(s.tid.Add(1)), pkg0)
	n, err := conn.Write(pdu)
	if err != nil {
		return fmt.Errorf("notification: send to %s: %w", hostport, err)
	}
	if n != len(pdu) {
		return fmt.Errorf("notification: sent %d of %d bytes to %s", n, len(pdu), hostport)
	}
	return nil
}

// udpAddr turns "udp://host[:port]" (or a bare "host:port") into host:port;
// port 0 is allowed only for listening.
func udpAddr(addr string, listen bool) (string, error) {
	rest, ok := strings.CutPrefix(addr, "udp://")
	if !ok && strings.Contains(addr, "://") {
		return "", fmt.Errorf("notification: address %q is not udp://host:port", addr)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return "", fmt.Errorf("notification: address %q has no host", addr)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		// No port: the whole thing is the host (brackets of IPv6 removed).
		host, port = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), strconv.Itoa(PushPort)
	}
	if host == "" {
		return "", fmt.Errorf("notification: address %q has no host", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || (p == 0 && !listen) {
		return "", fmt.Errorf("notification: address %q has a bad port", addr)
	}
	return net.JoinHostPort(host, port), nil
}

// WebhookSender sends a package 0 by SMS through an HTTP SMS gateway. For an
// address "sms:+number" it wraps the package in a WSP push PDU, splits it
// into SM user data (EncodeSMS) and POSTs one JSON document to URL:
//
//	{"to": "+15551234", "pdus": ["0605040b8423f0…"], "dcs": 4, "udhi": true, "port": 2948}
//
// to is the number from the address; pdus are the SMs' TP-UD in order, UDH
// included, as lower-case hex (send each as one binary SM with TP-UDHI set,
// which udhi repeats); dcs is the TP-DCS to use (8-bit data); port is the
// WDP destination port already addressed inside each UDH, for gateways that
// want it. Any 2xx answer is success.
type WebhookSender struct {
	// URL of the gateway endpoint (required).
	URL string
	// Client makes the request; nil means a client with a 30 s timeout.
	Client *http.Client
	// Header is added to each request (for example Authorization).
	Header http.Header
	// DCS is the data coding scheme sent to the gateway; 0 means DCS8Bit.
	DCS byte
	// SrcPort is the UDH source port; 0 means WSPPort (9200).
	SrcPort uint16

	seq atomic.Uint32
}

// WebhookRequest is the JSON body a WebhookSender POSTs.
type WebhookRequest struct {
	To   string   `json:"to"`
	PDUs []string `json:"pdus"`
	DCS  int      `json:"dcs"`
	UDHI bool     `json:"udhi"`
	Port int      `json:"port"`
}

var defaultWebhookClient = &http.Client{Timeout: 30 * time.Second}

// Send POSTs the SM(s) for pkg0 to the gateway.
func (s *WebhookSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	number, err := smsNumber(addr)
	if err != nil {
		return err
	}
	if s.URL == "" {
		return fmt.Errorf("notification: webhook sender has no gateway URL")
	}
	n := s.seq.Add(1)
	sms, err := Wrap(BearerSMS, pkg0, byte(n), &SMSOptions{SrcPort: s.SrcPort, Ref: uint16(n)})
	if err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	req := WebhookRequest{To: number, DCS: int(s.DCS), UDHI: true, Port: PushPort}
	if req.DCS == 0 {
		req.DCS = DCS8Bit
	}
	for _, ud := range sms {
		req.PDUs = append(req.PDUs, hex.EncodeToString(ud))
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notification: gateway request: %w", err)
	}
	for k, vs := range s.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.Header.Set("Content-Type", "application/json")
	c := s.Client
	if c == nil {
		c = defaultWebhookClient
	}
	resp, err := c.Do(hr)
	if err != nil {
		return fmt.Errorf("notification: gateway: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notification: gateway answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// smsNumber checks "sms:+number" and returns "+number" (digits, optional +).
func smsNumber(addr string) (string, error) {
	num, ok := strings.CutPrefix(addr, "sms:")
	if !ok {
		return "", fmt.Errorf("notification: address %q is not sms:+number", addr)
	}
	if u, err := url.PathUnescape(num); err == nil {
		num = u
	}
	digits := strings.TrimPrefix(num, "+")
	if len(digits) == 0 || len(digits) > 20 || strings.Trim(digits, "0123456789") != "" {
		return "", fmt.Errorf("notification: address %q has no valid phone number", addr)
	}
	return num, nil
}
