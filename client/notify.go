package client

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/notification"
)

// nonceKind says which server nonce verified a package 0.
type nonceKind uint8

const (
	nonceStored nonceKind = iota // Account.ServerNonce
	nonceReset                   // the reset nonce (either reading)
	nonceAlt                     // Account.ServerNonceAlt
)

// Notification is a package 0 whose digest verified against the account; it
// is what Inbox queues and RunNotification runs.
type Notification struct {
	// Package is the decoded package 0.
	Package *notification.Package0
	nonce   []byte
	kind    nonceKind
	keys    []replayKey // this package's and those coalesced into it, newest first
	resets  uint32      // bit i: keys[i] was made with a reset nonce
}

// Reset reports whether the package verified only with the reset nonce
// (a nonce resynchronisation).
func (n *Notification) Reset() bool { return n.kind == nonceReset }

// HandleNotification decodes a package 0 (raw, WSP push or WDP datagram),
// checks that it names our server and that its digest verifies with the
// server's secret and nonce (the reset nonce is tried next, as the spec asks),
// then runs the server-initiated session it asks for. A package that is
// malformed, for another server or tampered is ignored: no session runs and
// the error wraps ErrNotification. A device that listens for notifications
// should use an Inbox, which also drops replays and coalesces.
func (c *Client) HandleNotification(ctx context.Context, raw []byte) (*SessionResult, error) {
	p, err := notification.DecodeAny(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotification, err)
	}
	return c.HandlePackage0(ctx, p)
}

// HandlePackage0 is HandleNotification for an already decoded package.
func (c *Client) HandlePackage0(ctx context.Context, p *notification.Package0) (*SessionResult, error) {
	n, v := c.checkPackage0(p, nil)
	if n == nil {
		switch v {
		case VerdictForeign:
			if id := c.Account().ServerID; p.ServerID != id {
				return nil, fmt.Errorf("%w: package 0 for server %q, our account is %q", ErrNotification, p.ServerID, id)
			}
			return nil, fmt.Errorf("%w: package 0 with session id 0", ErrNotification)
		case VerdictMalformed:
			return nil, fmt.Errorf("%w: package 0 fields cannot be encoded", ErrNotification)
		}
		return nil, fmt.Errorf("%w: package 0 digest does not verify (tampered or wrong secret)", ErrNotification)
	}
	return c.RunNotification(ctx, n)
}

// Authentic reports whether p names this client's server and its digest
// verifies with any nonce the client accepts (stored, reset or alternate),
// the same check HandlePackage0 makes, without changing anything. A fleet
// of clients that share one notification port uses it to find p's
// addressee.
func (c *Client) Authentic(p *notification.Package0) bool {
	_, v := c.checkPackage0(p, nil)
	return v == VerdictQueued
}

// Verify authenticates p as HandlePackage0 does, without changing
// anything, and returns what RunNotification runs (nil and the reason when
// p is refused). A fleet of clients sharing one notification port finds
// p's addressee with it and runs the session on what it verified: checking
// again later could refuse a package that was valid when it arrived, because
// a session in between rotated the server nonce.
func (c *Client) Verify(p *notification.Package0) (*Notification, Verdict) {
	return c.checkPackage0(p, nil)
}

// checkPackage0 authenticates p against the account without changing
// anything: it must name our server and a nonzero session, and its digest
// must verify with the stored server nonce, then the reset nonce
// (OMA-TS-DM_Notification-V1_2 §6.1 "Nonce Resynchronisation", both
// readings of 0x00000000), then the alternate nonce. v caches the digest
// key between calls (nil: none). On failure the Notification is nil and the
// Verdict says why; nothing is allocated for a failing package, so that a
// flood of them stays cheap.
func (c *Client) checkPackage0(p *notification.Package0, v **notification.Verifier) (*Notification, Verdict) {
	c.mu.Lock()
	// The nonce slices are replaced, never written in place, so they may be
	// read after the lock is released.
	id, secret, stored, alt := c.acct.ServerID, c.acct.ServerSecret, c.acct.ServerNonce, c.acct.ServerNonceAlt
	c.mu.Unlock()
	if p.ServerID != id || p.SessionID == 0 {
		return nil, VerdictForeign
	}
	var local *notification.Verifier
	if v == nil {
		v = &local
	}
	if !(*v).For(id, secret) {
		*v = notification.NewVerifier(id, secret)
	}
	trigger := p.Trigger
	if trigger == nil { // built by hand: the digest covers its encoding
		q := *p
		b, err := q.Encode("", nil)
		if err != nil {
			return nil, VerdictMalformed
		}
		trigger = b[notification.DigestSize:]
	}
	var i int
	if len(alt) > 0 {
		i = (*v).Match(&p.Digest, trigger, stored, notification.ResetNonce, notification.ResetNonceZeros, alt)
	} else {
		i = (*v).Match(&p.Digest, trigger, stored, notification.ResetNonce, notification.ResetNonceZeros)
	}
	if i < 0 {
		return nil, VerdictForged
	}
	n := &Notification{Package: p}
	switch i {
	case 0:
		n.nonce, n.kind = stored, nonceStored
	case 1:
		n.nonce, n.kind = notification.ResetNonce, nonceReset
	case 2:
		n.nonce, n.kind = notification.ResetNonceZeros, nonceReset
	case 3:
		n.nonce, n.kind = alt, nonceAlt
	default:
		return nil, VerdictForged
	}
	n.keys = []replayKey{{sid: p.SessionID, digest: p.Digest}}
	if n.kind == nonceReset || isReset(n.nonce) {
		// After a resync the stored nonce may be the reset one itself.
		n.resets = 1
	}
	return n, VerdictQueued
}

// RunNotification runs the server-initiated session an authenticated
// package 0 asks for. It is not verified again: the server nonce may have
// changed since (a session that ran meanwhile rotates it). A package that
// verified with the reset or the alternate nonce makes that nonce current
// first; with ui-mode user-interaction the user is asked (Config.UI).
func (c *Client) RunNotification(ctx context.Context, n *Notification) (*SessionResult, error) {
	p := n.Package
	id := c.Account().ServerID
	switch n.kind {
	case nonceAlt:
		// The server holds the alternate nonce (Account.ServerNonceAlt): it
		// stored the one we issued although our session broke off, or never
		// stored it. Either way that nonce is now the current one.
		c.log.Info("package 0 verified with the alternate server nonce", "server", id)
		c.setNonce(LevelServer, n.nonce)
		c.setAltNonce(nil)
	case nonceReset:
		// A reset-nonce resync: the server verifies our next credentials with
		// the reset nonce too, so start from it on both sides.
		c.log.Info("package 0 verified with the reset nonce", "server", id)
		c.setNonce(LevelServer, n.nonce)
		c.setNonce(LevelClient, n.nonce)
	}
	if p.UIMode == notification.UIInteractive && c.cfg.UI != nil {
		// The server asks for the user's consent before the session.
		rep, err := c.cfg.UI.Prompt(ctx, &UIAlert{
			Code: 1101, Text: fmt.Sprintf("Device management server %s requests a session. Allow?", p.ServerID),
			InputType: 'A', Echo: 'T',
		})
		if err != nil || rep == nil || rep.Result != UIAccepted {
			return nil, fmt.Errorf("%w: the user declined the session", ErrDeclined)
		}
	}
	return c.Run(ctx, Trigger{Initiator: ServerInitiated, SessionID: p.SessionID})
}

func isReset(nonce []byte) bool {
	return string(nonce) == string(notification.ResetNonce) || string(nonce) == string(notification.ResetNonceZeros)
}
