// Package smsgw sends package 0 by SMS through an HTTP SMS gateway. It lives
// apart from package notification so that the device side (which decodes
// package 0) does not link net/http.
package smsgw

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/notification"
)

var _ notification.Sender = (*WebhookSender)(nil)

// WebhookSender sends a package 0 by SMS through an HTTP SMS gateway. For an
// address "sms:+number" it wraps the package in a WSP push PDU, splits it
// into SM user data (notification.EncodeSMS) and POSTs one JSON document to URL:
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
	// DCS is the data coding scheme sent to the gateway; 0 means notification.DCS8Bit.
	DCS byte
	// SrcPort is the UDH source port; 0 means notification.WSPPort (9200).
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
	if s.URL == "" {
		return fmt.Errorf("smsgw: webhook sender has no gateway URL")
	}
	number, sms, err := notification.SMSTo(addr, pkg0, s.seq.Add(1), s.SrcPort)
	if err != nil {
		return fmt.Errorf("smsgw: %w", err)
	}
	req := WebhookRequest{To: number, DCS: int(s.DCS), UDHI: true, Port: notification.PushPort}
	if req.DCS == 0 {
		req.DCS = notification.DCS8Bit
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
		return fmt.Errorf("smsgw: gateway request: %w", err)
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
		return fmt.Errorf("smsgw: gateway: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("smsgw: gateway answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
