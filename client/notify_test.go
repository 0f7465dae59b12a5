package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

func pkg0(t *testing.T, serverID, password string, nonce []byte, sid uint16) []byte {
	t.Helper()
	p := &notification.Package0{UIMode: notification.UIBackground, Initiator: notification.InitiatorServer, SessionID: sid, ServerID: serverID}
	b, err := p.Encode(password, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAgent_VerifiedPackage0StartsServerInitiatedSession(t *testing.T) {
	raw := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 0x00ab)
	wsp, err := notification.Wrap(notification.BearerWSP, raw, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"raw": raw, "WSP push": wsp[0]} {
		t.Run(name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
				m := srv.reply(got, true, 0)
				m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", []byte("srvnonce"))
				return m
			}}
			c := newAgent(t, tr, srv, func(c *client.Config) {
				c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
			})
			res, err := c.HandleNotification(context.Background(), b)
			if err != nil {
				t.Fatalf("HandleNotification: %v", err)
			}
			if res.SessionID != "AB" || res.Initiator != client.ServerInitiated {
				t.Fatalf("session %q initiator %s", res.SessionID, res.Initiator)
			}
			if got := summary(srv.got[0]); got != "Alert 1200 | Replace | Final" || srv.got[0].Header.SessionID != "AB" {
				t.Fatalf("pkg1 = %q (session %q)", got, srv.got[0].Header.SessionID)
			}
		})
	}
}

func TestAgent_IgnoresTamperedOrForeignPackage0(t *testing.T) {
	good := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 0x1234)
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-1] ^= 1 // one bit of the server id
	sameID := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 0x1234)
	sameID[22] ^= 0x01 // session id changed after the digest was made
	cases := map[string][]byte{
		"tampered server id":  tampered,
		"tampered session id": sameID,
		"wrong secret":        pkg0(t, testServerID, "guess", []byte("srvnonce"), 1),
		"other server":        pkg0(t, "other.server", "srvpw", []byte("srvnonce"), 1),
		"garbage":             []byte{1, 2, 3},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			calls := 0
			tp := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
				calls++
				return nil, errors.New("must not be called")
			})
			c := newAgent(t, newTree(t), tp, func(c *client.Config) {
				c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
			})
			res, err := c.HandleNotification(context.Background(), b)
			if !errors.Is(err, client.ErrNotification) || res != nil || calls != 0 {
				t.Fatalf("err = %v, res = %v, transport calls = %d", err, res, calls)
			}
		})
	}
}

func TestAgent_Package0WithResetNonceIsAccepted(t *testing.T) {
	raw := pkg0(t, testServerID, "srvpw", notification.ResetNonce, 7)
	srv := &scripted{t: t}
	srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
		m := srv.reply(got, true, 0)
		m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", notification.ResetNonce)
		return m
	}}
	c := newAgent(t, newTree(t), srv, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("lost-nonce")
	})
	if _, err := c.HandleNotification(context.Background(), raw); err != nil {
		t.Fatalf("HandleNotification: %v", err)
	}
	// The server authenticated with the reset nonce; the session ended before
	// a new nonce could be handed over, so the reset nonce stays in force.
	if n := c.Account().ServerNonce; string(n) != string(notification.ResetNonce) {
		t.Fatalf("server nonce after resync = %q", n)
	}
}
