package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/omadm/omadm/syncml"
)

// Client is a device agent for one DM account. It runs one session at a time;
// QueueAlert may be called from any goroutine.
type Client struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex // guards acct nonces and queued
	acct   Account
	queued []*syncml.Alert

	run sync.Mutex // serialises sessions
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Tree == nil:
		return nil, errors.New("client: Config.Tree is required")
	case cfg.Transport == nil:
		return nil, errors.New("client: Config.Transport is required")
	case cfg.DeviceID == "":
		return nil, errors.New("client: Config.DeviceID is required")
	case cfg.Account.ServerURL == "":
		return nil, errors.New("client: Config.Account.ServerURL is required")
	case cfg.Account.ServerID == "":
		return nil, errors.New("client: Config.Account.ServerID is required")
	}
	for _, sc := range []string{cfg.Account.AuthScheme, cfg.Account.ServerAuthScheme} {
		switch sc {
		case "", syncml.AuthBasic, syncml.AuthMD5, syncml.AuthMAC:
		default:
			return nil, fmt.Errorf("client: unsupported auth scheme %q", sc)
		}
	}
	if cfg.Encoding != syncml.EncodingXML && cfg.Encoding != syncml.EncodingWBXML {
		return nil, fmt.Errorf("client: unknown encoding %d", cfg.Encoding)
	}
	if cfg.MaxMsgSize <= 0 {
		cfg.MaxMsgSize = defaultMaxMsgSize
	}
	if cfg.MaxObjSize <= 0 {
		cfg.MaxObjSize = defaultMaxObjSize
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = defaultMaxMessages
	}
	if cfg.MaxCommands <= 0 {
		cfg.MaxCommands = defaultMaxCommands
	}
	if cfg.MaxPendingResults <= 0 {
		cfg.MaxPendingResults = 2 * int64(cfg.MaxObjSize)
	}
	if cfg.MaxSessionTime == 0 {
		cfg.MaxSessionTime = defaultMaxSession
	}
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry.Attempts = 3
	}
	if cfg.Retry.Backoff <= 0 {
		cfg.Retry.Backoff = defaultBackoff
	}
	if cfg.Retry.MaxBackoff <= 0 {
		cfg.Retry.MaxBackoff = defaultMaxBackoff
	}
	if cfg.Retry.Timeout <= 0 {
		cfg.Retry.Timeout = defaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{cfg: cfg, log: log, acct: cfg.Account}
	c.acct.ClientNonce = append([]byte(nil), cfg.Account.ClientNonce...)
	c.acct.ServerNonce = append([]byte(nil), cfg.Account.ServerNonce...)
	c.acct.ServerNonceAlt = append([]byte(nil), cfg.Account.ServerNonceAlt...)
	return c, nil
}

// QueueAlert queues an alert (1224 client event or 1226 generic alert, for
// example the result of an asynchronous Exec) for the running session, or for
// the next one when none is running. CmdID is assigned when it is sent.
func (c *Client) QueueAlert(a *syncml.Alert) {
	if a == nil {
		return
	}
	c.mu.Lock()
	c.queued = append(c.queued, a)
	c.mu.Unlock()
}

// PendingAlerts returns how many queued alerts wait to be sent.
func (c *Client) PendingAlerts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queued)
}

func (c *Client) takeQueued() []*syncml.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queued
	c.queued = nil
	return q
}

// requeue puts alerts that were not delivered back in front of the queue.
func (c *Client) requeue(as []*syncml.Alert) {
	if len(as) == 0 {
		return
	}
	c.mu.Lock()
	c.queued = append(append([]*syncml.Alert(nil), as...), c.queued...)
	c.mu.Unlock()
}

// Account returns a copy of the account as it stands now (nonces included).
func (c *Client) Account() Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.acct
	a.ClientNonce = append([]byte(nil), a.ClientNonce...)
	a.ServerNonce = append([]byte(nil), a.ServerNonce...)
	a.ServerNonceAlt = append([]byte(nil), a.ServerNonceAlt...)
	return a
}

// setAltNonce records (and persists, when the store can) the alternate
// server nonce; nil clears it.
func (c *Client) setAltNonce(n []byte) {
	c.mu.Lock()
	c.acct.ServerNonceAlt = append([]byte(nil), n...)
	id := c.acct.ServerID
	c.mu.Unlock()
	if as, ok := c.cfg.Nonces.(AltNonceStore); ok {
		if err := as.SaveAltServerNonce(id, n); err != nil {
			c.log.Error("persisting the alternate server nonce failed", "err", err)
		}
	}
}

// setNonce records (and persists) a nonce.
func (c *Client) setNonce(level NonceLevel, n []byte) {
	c.mu.Lock()
	if level == LevelClient {
		c.acct.ClientNonce = append([]byte(nil), n...)
	} else {
		c.acct.ServerNonce = append([]byte(nil), n...)
	}
	id := c.acct.ServerID
	c.mu.Unlock()
	if c.cfg.Nonces != nil {
		if err := c.cfg.Nonces.SaveNonce(id, level, n); err != nil {
			c.log.Error("persisting nonce failed", "level", string(level), "err", err)
		}
	}
}

// GenericAlert builds a 1226 generic alert with one item: source is the MO
// node it concerns ("" for none), typ the alert type, format/data the result
// (for example "int" and "200") and mark its importance ("" = informational).
// correlator is set when the alert answers an Exec that carried one.
func GenericAlert(correlator, source, typ, format, mark, data string) *syncml.Alert {
	it := syncml.Item{
		Meta: &syncml.Meta{Type: typ, Format: format, Mark: mark},
		Data: syncml.TextData(data),
	}
	if source != "" {
		it.Source = &syncml.Location{LocURI: source}
	}
	return &syncml.Alert{Data: syncml.AlertGeneric, Correlator: correlator, Items: []syncml.Item{it}}
}

// ClientEvent builds a 1224 client event alert with one item.
func ClientEvent(typ, format, data string) *syncml.Alert {
	return &syncml.Alert{Data: syncml.AlertClientEvent, Items: []syncml.Item{{
		Meta: &syncml.Meta{Type: typ, Format: format},
		Data: syncml.TextData(data),
	}}}
}

// Run runs one session to its end. The returned error equals res.Err; res is
// never nil.
func (c *Client) Run(ctx context.Context, t Trigger) (*SessionResult, error) {
	c.run.Lock()
	defer c.run.Unlock()
	s := newSession(c, t)
	err := s.run(ctx)
	s.finish(err)
	return s.res, s.res.Err
}
