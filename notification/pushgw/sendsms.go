package pushgw

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/notification"
)

var _ notification.Sender = (*SendSMSSender)(nil)

// SendSMSSender sends a package 0 by binary SMS through Kannel's sendsms
// HTTP interface (smsbox's /cgi-bin/sendsms). For an address "sms:+number"
// it wraps the package in a WSP push PDU and frames it as SM user data
// addressed to WDP port 2948 (notification.EncodeSMS: UDH 06 05 04 0B 84
// 23 F0, and concatenation elements when it needs more than one SM); each
// SM is one sendsms POST carrying its UDH and data with coding 1 (8-bit).
// It is safe for concurrent use.
type SendSMSSender struct {
	// URL is the sendsms endpoint, e.g. http://kannel:13013/cgi-bin/sendsms
	// (required).
	URL string
	// User and Password are the sendsms-user's credentials.
	User, Password string
	// From is the sender number or name; "" leaves it to Kannel (the
	// sendsms-user's default-sender or the global sender).
	From string
	// SMSC, when set, names the smsc-id to route through.
	SMSC string
	// SrcPort is the UDH source port; 0 means notification.WSPPort (9200).
	SrcPort uint16
	// Client makes the requests; nil means a client with Timeout.
	Client *http.Client
	// Timeout bounds one request when Client is nil; 0 means 30 s.
	Timeout time.Duration

	seq atomic.Uint32
}

// Describe names the gateway and account, without the password.
func (s *SendSMSSender) Describe() string {
	d := "binary SMS through Kannel sendsms at " + redactURL(s.URL)
	if s.User != "" {
		d += " as " + s.User
	}
	if s.SMSC != "" {
		d += " via SMSC " + s.SMSC
	}
	return d
}

// Send sends the SM(s) for pkg0 to the number in addr.
func (s *SendSMSSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	if s.URL == "" {
		return errors.New("sendsms: no Kannel sendsms URL")
	}
	number, sms, err := notification.SMSTo(addr, pkg0, s.seq.Add(1), s.SrcPort)
	if err != nil {
		return fmt.Errorf("sendsms: %w", err)
	}
	c := s.Client
	if c == nil {
		t := s.Timeout
		if t <= 0 {
			t = 30 * time.Second
		}
		c = &http.Client{Timeout: t}
	}
	for i, ud := range sms {
		udhLen := 1 + int(ud[0]) // EncodeSMS always starts with a UDH
		if err := s.submit(ctx, c, number, ud[:udhLen], ud[udhLen:]); err != nil {
			if len(sms) > 1 {
				return fmt.Errorf("sendsms: segment %d of %d: %w", i+1, len(sms), err)
			}
			return fmt.Errorf("sendsms: %w", err)
		}
	}
	return nil
}

// submit sends one SM as a sendsms POST: the parameters, credentials
// included, travel as X-Kannel-* headers rather than in the URL (where
// access logs and proxies would keep them), the user data as the binary
// body with its UDH in hex. Kannel answers 202 "0: Accepted for delivery"
// (or "3: Queued for later delivery"); anything else is a refusal whose text
// names the reason.
func (s *SendSMSSender) submit(ctx context.Context, c *http.Client, to string, udh, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("request to %s: %v", redactURL(s.URL), redactErr(err))
	}
	h := req.Header
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Kannel-Username", s.User)
	h.Set("X-Kannel-Password", s.Password)
	h.Set("X-Kannel-To", to)
	h.Set("X-Kannel-UDH", strings.ToUpper(hex.EncodeToString(udh)))
	h.Set("X-Kannel-Coding", "1") // 8-bit data
	if s.From != "" {
		h.Set("X-Kannel-From", s.From)
	}
	if s.SMSC != "" {
		h.Set("X-Kannel-SMSC", s.SMSC)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %v", redactURL(s.URL), redactErr(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", redactURL(s.URL), resp.Status, snippet(msg))
	}
	if t := strings.TrimSpace(string(msg)); !strings.HasPrefix(t, "0:") && !strings.HasPrefix(t, "3:") {
		return fmt.Errorf("%s did not accept the SM: %s", redactURL(s.URL), snippet(msg))
	}
	return nil
}
