package client_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

var oldNonce = []byte("server-nonce-old")

// md5Agent is a device whose account authenticates the server with MD5 and
// the nonce oldNonce.
func md5Agent(t *testing.T, tr *dmtree.Tree, srv client.Transport, nl *nonceLog) *client.Client {
	t.Helper()
	return newAgent(t, tr, srv, func(c *client.Config) {
		// Over TLS the session is authenticated once (OMA-TS-DM_Security-V1_2
		// §5.3): these sessions model the nonce hand-over of a 212.
		c.Account.ServerURL = testTLSURL
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret = "srvpw"
		c.Account.ServerNonce = oldNonce
		c.Nonces = nl
		c.Retry = client.RetryPolicy{Attempts: 1}
	})
}

// authedReply answers got with the server credential built on nonce and cmds.
func authedReply(srv *scripted, got *syncml.Message, final bool, nonce []byte, cmds ...syncml.Command) *syncml.Message {
	m := srv.reply(got, final, 0, cmds...)
	m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", nonce)
	return m
}

// issued is the nonce the agent put in the Chal of its SyncHdr Status.
func issued(t *testing.T, m *syncml.Message) []byte {
	t.Helper()
	hs, ok := m.Body[0].(*syncml.Status)
	if !ok || hs.Cmd != "SyncHdr" || hs.Chal == nil {
		t.Fatalf("message %s carries no SyncHdr Status with a Chal: %s", m.Header.MsgID, summary(m))
	}
	n, err := auth.ChalNonce(hs.Chal)
	if err != nil || len(n) == 0 {
		t.Fatalf("Chal nonce: %v", err)
	}
	return n
}

// brokenSession runs a session whose message 2 (carrying the agent's new
// server nonce) never gets an answer, and returns that nonce.
func brokenSession(t *testing.T, c *client.Client, srv *scripted) []byte {
	t.Helper()
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return authedReply(srv, got, true, oldNonce, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return nil },
	}
	if _, err := c.Run(context.Background(), client.Trigger{}); !errors.Is(err, client.ErrTransport) {
		t.Fatalf("broken session ended with %v", err)
	}
	return issued(t, srv.got[1])
}

func TestAgent_ServerNonceBecomesCurrentOnlyWhenTheServerAnswered(t *testing.T) {
	tests := []struct {
		name      string
		answered  bool
		wantNonce func(sent []byte) []byte
		wantAlt   func(sent []byte) []byte
	}{
		{"answered: the new nonce is current, the old one the alternate", true,
			func(sent []byte) []byte { return sent }, func([]byte) []byte { return oldNonce }},
		{"lost: the old nonce stays current, the new one the alternate", false,
			func([]byte) []byte { return oldNonce }, func(sent []byte) []byte { return sent }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			nl := &nonceLog{}
			c := md5Agent(t, tr, srv, nl)
			var sent []byte
			if tc.answered {
				srv.steps = []step{
					func(t *testing.T, got *syncml.Message) *syncml.Message {
						return authedReply(srv, got, true, oldNonce, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
					},
					func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
				}
				if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
					t.Fatalf("Run: %v", err)
				}
				sent = issued(t, srv.got[1])
			} else {
				sent = brokenSession(t, c, srv)
			}
			acct := c.Account()
			if want := tc.wantNonce(sent); !bytes.Equal(acct.ServerNonce, want) {
				t.Fatalf("current server nonce %q, want %q", acct.ServerNonce, want)
			}
			if want := tc.wantAlt(sent); !bytes.Equal(acct.ServerNonceAlt, want) {
				t.Fatalf("alternate server nonce %q, want %q", acct.ServerNonceAlt, want)
			}
			if saved, ok := nl.saved[client.LevelServer]; tc.answered != ok || ok && !bytes.Equal(saved, sent) {
				t.Fatalf("persisted SRVCRED nonce %q (saved %v)", saved, ok)
			}
		})
	}
}

func TestAgent_NextSessionAcceptsTheServerWhetherItGotTheLostNonceOrNot(t *testing.T) {
	tests := []struct {
		name string
		// serverHas picks the nonce the server builds its credential with.
		serverHas func(sent []byte) []byte
	}{
		{"server never received the new nonce", func([]byte) []byte { return oldNonce }},
		{"server stored it before the connection broke", func(sent []byte) []byte { return sent }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			c := md5Agent(t, tr, srv, &nonceLog{})
			sent := brokenSession(t, c, srv)
			use := tc.serverHas(sent)
			srv.got = nil
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					return authedReply(srv, got, true, use, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "next")}})
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := summary(srv.got[1]), "Status 0 SyncHdr 212 | Status 2 Replace 200 | Final"; got != want {
				t.Fatalf("answer = %q, want %q", got, want)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "next" {
				t.Fatalf("Replace not applied: %q", v)
			}
			// The session handed over a new nonce and the server answered:
			// it is current and the one the server used is the alternate.
			next := issued(t, srv.got[1])
			if acct := c.Account(); !bytes.Equal(acct.ServerNonce, next) || !bytes.Equal(acct.ServerNonceAlt, use) {
				t.Fatalf("after the session nonce %q alt %q", acct.ServerNonce, acct.ServerNonceAlt)
			}
		})
	}
}

func TestAgent_AlternateNonceIsAcceptedForOneSessionOnly(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	c := md5Agent(t, tr, srv, &nonceLog{})
	for i := range 2 {
		srv.got = nil
		srv.steps = []step{
			func(t *testing.T, got *syncml.Message) *syncml.Message {
				// A command makes the agent answer, handing over a new nonce.
				return authedReply(srv, got, true, c.Account().ServerNonce, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
			},
			func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
		}
		if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
	}
	// oldNonce was current two sessions ago: the server must be challenged.
	srv.got = nil
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return authedReply(srv, got, true, oldNonce, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "stale")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return nil },
	}
	_, _ = c.Run(context.Background(), client.Trigger{})
	if got, want := summary(srv.got[1]), "Status 0 SyncHdr 401 | Status 2 Replace 215 | Final"; got != want {
		t.Fatalf("answer to a stale nonce = %q, want %q", got, want)
	}
	if issued(t, srv.got[1]) == nil || value(t, tr, "./Vendor/Name") != "acme" {
		t.Fatalf("stale server changed the tree")
	}
}

func TestAgent_Package0SignedWithTheLostNonceIsAccepted(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	c := md5Agent(t, tr, srv, &nonceLog{})
	sent := brokenSession(t, c, srv)
	// The server stored the nonce of the lost message and signs with it.
	srv.got = nil
	srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
		return authedReply(srv, got, true, sent)
	}}
	res, err := c.HandleNotification(context.Background(), pkg0(t, testServerID, "srvpw", sent, 0x0042))
	if err != nil {
		t.Fatalf("HandleNotification: %v", err)
	}
	if res.Initiator != client.ServerInitiated || !bytes.Equal(c.Account().ServerNonce, sent) || c.Account().ServerNonceAlt != nil {
		t.Fatalf("initiator %s, nonce %q alt %q", res.Initiator, c.Account().ServerNonce, c.Account().ServerNonceAlt)
	}
}
