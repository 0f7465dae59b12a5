package client_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_Security-V1_2 §5.3: without session authentication by the
// transport (plain HTTP) each request and response is authenticated. The
// agent checks the server's credentials in every message and answers each
// with 200 and a new nonce; OMA-TS-DM_Protocol-V1_2 §9.1: after the
// server's 200 + Chal our next message carries credentials built with the
// new nonce.
func TestAgent_AuthenticatesEveryMessageBothWaysOverPlainHTTP(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	next := func(i byte) []byte { return []byte{'n', 'x', i} }
	srvNonce := []byte("srvnonce")
	mk := func(i byte, final bool, cmds ...syncml.Command) step {
		return func(t *testing.T, got *syncml.Message) *syncml.Message {
			// Our credentials: built with the nonce the last 200 + Chal gave.
			want := []byte("first")
			if i > 1 {
				want = next(i - 1)
			}
			if got.Header.Cred == nil || got.Header.Cred.Data != auth.MD5Credential("dev", "devpw", want) {
				t.Fatalf("message %s Cred %+v, want md5 with nonce %q", got.Header.MsgID, got.Header.Cred, want)
			}
			if i > 1 {
				// The agent verified our last credentials: 200 with the
				// nonce for our next ones.
				hs := got.Body[0].(*syncml.Status)
				if hs.Data != syncml.StatusOK {
					t.Fatalf("agent answered our credentials %d, want 200", hs.Data)
				}
				srvNonce = issued(t, got)
			}
			m := srv.reply(got, final, syncml.StatusOK, cmds...)
			m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMD5, next(i))
			m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", srvNonce)
			return m
		}
	}
	srv.steps = []step{
		mk(1, true, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}}),
		mk(2, true, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "both-ways")}}),
		mk(3, true),
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ClientNonce = []byte("first")
		c.Account.ServerSecret = "srvpw"
		c.Account.ServerNonce = []byte("srvnonce")
	})
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "both-ways" {
		t.Fatalf("Replace not applied: %q", v)
	}
	if n := issued(t, srv.got[1]); bytes.Equal(n, issued(t, srv.got[2])) {
		t.Errorf("the agent issued nonce %q twice", n)
	}
	if acct := c.Account(); !bytes.Equal(acct.ClientNonce, next(3)) {
		t.Errorf("client nonce after the session %q, want %q", acct.ClientNonce, next(3))
	}
}

// OMA-TS-DM_Security-V1_2 §5.1/§5.3: each direction has its own scheme;
// the server's credentials are checked against Account.ServerAuthScheme,
// and a server using another one is challenged for it.
func TestAgent_ChallengesServerForItsOwnScheme(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			m := srv.reply(got, true, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "x")}})
			m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", []byte("srvnonce"))
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			hs := got.Body[0].(*syncml.Status)
			if hs.Data != syncml.StatusInvalidCredentials || hs.Chal == nil || hs.Chal.Meta.Type != syncml.AuthBasic {
				t.Fatalf("agent answered md5 server credentials with %d %+v, want 401 + basic challenge", hs.Data, hs.Chal)
			}
			m := srv.reply(got, true, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "basic-ok")}})
			m.Header.Cred = auth.MakeCred(syncml.AuthBasic, testServerID, "srvpw", nil)
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if hs := got.Body[0].(*syncml.Status); hs.Data != syncml.StatusOK {
				t.Fatalf("agent answered basic server credentials with %d, want 200", hs.Data)
			}
			m := srv.reply(got, true, syncml.StatusOK)
			m.Header.Cred = auth.MakeCred(syncml.AuthBasic, testServerID, "srvpw", nil)
			return m
		},
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ServerAuthScheme = syncml.AuthBasic
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret = "srvpw"
	})
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "basic-ok" {
		t.Fatalf("Vendor/Name %q, want the Replace of the authenticated message only", v)
	}
}
