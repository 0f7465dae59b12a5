package client

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/notification"
)

// HandleNotification decodes a package 0 (raw, WSP push or WDP datagram),
// checks that it names our server and that its digest verifies with the
// server's secret and nonce (the reset nonce is tried next, as the spec asks),
// then runs the server-initiated session it asks for. A package that is
// malformed, for another server or tampered is ignored: no session runs and
// the error wraps ErrNotification.
func (c *Client) HandleNotification(ctx context.Context, raw []byte) (*SessionResult, error) {
	p, err := notification.DecodeAny(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotification, err)
	}
	return c.HandlePackage0(ctx, p)
}

// HandlePackage0 is HandleNotification for an already decoded package.
func (c *Client) HandlePackage0(ctx context.Context, p *notification.Package0) (*SessionResult, error) {
	acct := c.Account()
	if p.ServerID != acct.ServerID {
		return nil, fmt.Errorf("%w: package 0 for server %q, our account is %q", ErrNotification, p.ServerID, acct.ServerID)
	}
	if p.SessionID == 0 {
		return nil, fmt.Errorf("%w: package 0 with session id 0", ErrNotification)
	}
	nonce, ok := p.VerifyWithReset(acct.ServerSecret, acct.ServerNonce)
	if !ok && len(acct.ServerNonceAlt) > 0 && p.Verify(acct.ServerSecret, acct.ServerNonceAlt) {
		// The server holds the alternate nonce (Account.ServerNonceAlt): it
		// stored the one we issued although our session broke off, or never
		// stored it. Either way that nonce is now the current one.
		c.log.Info("package 0 verified with the alternate server nonce", "server", acct.ServerID)
		c.setNonce(LevelServer, acct.ServerNonceAlt)
		c.setAltNonce(nil)
		nonce, ok = acct.ServerNonceAlt, true
		acct.ServerNonce = nonce
	}
	if !ok {
		return nil, fmt.Errorf("%w: package 0 digest does not verify (tampered or wrong secret)", ErrNotification)
	}
	if string(nonce) != string(acct.ServerNonce) {
		// A reset-nonce resync: the server verifies our next credentials with
		// the reset nonce too, so start from it on both sides.
		c.log.Info("package 0 verified with the reset nonce", "server", acct.ServerID)
		c.setNonce(LevelServer, nonce)
		c.setNonce(LevelClient, nonce)
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
