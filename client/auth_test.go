package client_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

type nonceLog struct{ saved map[client.NonceLevel][]byte }

func (n *nonceLog) SaveNonce(_ string, l client.NonceLevel, b []byte) error {
	if n.saved == nil {
		n.saved = map[client.NonceLevel][]byte{}
	}
	n.saved[l] = append([]byte(nil), b...)
	return nil
}

func TestAgent_MD5ChallengeIsAnsweredWithTheNewNonce(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	fresh := []byte("fresh-nonce-0123")
	next := []byte("next-session-nonce")
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if !auth.VerifyMD5(got.Header.Cred.Data, "dev", "devpw", []byte("stale")) {
				t.Fatalf("pkg1 credential not built with the stored nonce")
			}
			m := srv.reply(got, true, syncml.StatusInvalidCredentials)
			m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMD5, fresh)
			// An authentication failure answers every command with a status.
			m.Body = append(m.Body, &syncml.Status{CmdID: "2", MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: 215})
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if got.Header.MsgID != "2" || got.Header.Cred == nil || got.Header.Source.LocName != "dev" {
				t.Fatalf("retry header = %+v", got.Header)
			}
			if !auth.VerifyMD5(got.Header.Cred.Data, "dev", "devpw", fresh) {
				t.Fatalf("retry credential not built with the challenged nonce")
			}
			m := srv.reply(got, true, syncml.StatusAuthAccepted)
			m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMD5, next)
			return m
		},
	}
	nl := &nonceLog{}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ClientNonce = []byte("stale")
		c.Nonces = nl
	})
	res, err := c.Run(context.Background(), client.Trigger{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := summary(srv.got[1]); got != "Status 0 SyncHdr 200 | Alert 1201 | Replace | Final" {
		t.Fatalf("retry = %q", got)
	}
	if res.MessagesSent != 2 {
		t.Fatalf("sent %d messages", res.MessagesSent)
	}
	if !bytes.Equal(nl.saved[client.LevelClient], next) || !bytes.Equal(c.Account().ClientNonce, next) {
		t.Fatalf("next nonce not persisted: %q", nl.saved[client.LevelClient])
	}
}

func TestAgent_GivesUpOnRepeatedAuthenticationFailure(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	fail := func(t *testing.T, got *syncml.Message) *syncml.Message {
		m := srv.reply(got, true, syncml.StatusInvalidCredentials)
		m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMD5, []byte("n"))
		return m
	}
	srv.steps = []step{fail, fail, fail, fail}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "wrong"
	})
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrAuthFailed) || res.State != client.StateFailed {
		t.Fatalf("err = %v state %s", err, res.State)
	}
	if len(srv.got) != auth.MaxChallenges+1 {
		t.Fatalf("agent sent %d messages, want %d", len(srv.got), auth.MaxChallenges+1)
	}
}

func TestAgent_BasicCredentialsAndMissingCredentialChallenge(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if got.Header.Cred != nil {
				t.Fatalf("no scheme configured but Cred sent")
			}
			m := srv.reply(got, true, syncml.StatusMissingCredentials)
			m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthBasic, nil)
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if got.Header.Cred == nil || !auth.VerifyBasic(got.Header.Cred.Data, "dev", "devpw") {
				t.Fatalf("basic credential missing or wrong: %+v", got.Header.Cred)
			}
			return srv.reply(got, true, syncml.StatusAuthAccepted)
		},
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
	})
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestAgent_HMACHeaderOnEveryMessage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	n1, n2 := []byte("nonce-one"), []byte("nonce-two")
	check := func(t *testing.T, i int, nonce []byte) {
		req := srv.reqs[i]
		h, err := auth.ParseHMACHeader(req.HMAC)
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		if !auth.VerifyHMAC(h, "dev", "devpw", nonce, req.Body) {
			t.Fatalf("message %d: HMAC does not verify with nonce %q", i+1, nonce)
		}
	}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			check(t, 0, n1)
			m := srv.reply(got, true, syncml.StatusOK, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
			m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMAC, n2)
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			check(t, 1, n2)
			return srv.reply(got, true, syncml.StatusOK)
		},
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMAC
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ClientNonce = n1
	})
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if srv.got[0].Header.Cred != nil {
		t.Fatalf("HMAC sessions carry no Cred element")
	}
}

func TestAgent_RejectsWrongServerCredential(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	bad := func(t *testing.T, got *syncml.Message) *syncml.Message {
		m := srv.reply(got, true, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "evil")}})
		m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "not-the-secret", []byte("srvnonce"))
		return m
	}
	srv.steps = []step{bad, bad, bad, bad}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret = "srvpw"
		c.Account.ServerNonce = []byte("srvnonce")
	})
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrServerAuth) || res.State != client.StateFailed {
		t.Fatalf("err = %v state %s", err, res.State)
	}
	reply := srv.got[1]
	if got, want := summary(reply), "Status 0 SyncHdr 401 | Status 2 Replace 215 | Final"; got != want {
		t.Fatalf("rejection = %q, want %q", got, want)
	}
	if st := reply.Body[0].(*syncml.Status); st.Chal == nil || st.Chal.Meta.NextNonce == "" {
		t.Fatalf("rejection carries no challenge: %+v", st.Chal)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("unauthenticated server changed the tree: %q", v)
	}
}

func TestAgent_AcceptsServerCredentialWith212AndNextNonce(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			m := srv.reply(got, true, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "good")}})
			m.Header.Cred = auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", []byte("srvnonce"))
			return m
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	nl := &nonceLog{}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.ServerURL = testTLSURL // TLS authenticates the session: 212 (OMA-TS-DM_Security-V1_2 §5.3)
		c.Account.AuthScheme = syncml.AuthMD5
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret = "srvpw"
		c.Account.ServerNonce = []byte("srvnonce")
		c.Nonces = nl
	})
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	hs := srv.got[1].Body[0].(*syncml.Status)
	if hs.Data != syncml.StatusAuthAccepted || hs.Chal == nil {
		t.Fatalf("header status = %d chal %+v", hs.Data, hs.Chal)
	}
	n, _ := auth.ChalNonce(hs.Chal)
	if len(n) == 0 || !bytes.Equal(nl.saved[client.LevelServer], n) {
		t.Fatalf("server nonce not issued and persisted")
	}
	if v := value(t, tr, "./Vendor/Name"); v != "good" {
		t.Fatalf("Replace not applied: %q", v)
	}
}

func TestAgent_VerifiesServerHMACOnEveryMessage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	nonce := []byte("srv-nonce-1")
	// The server signs with the nonce we issued last (our header Status Chal).
	srv.sign = func(body []byte) string {
		return auth.NewHMACHeader(testServerID, "srvpw", nonce, body).String()
	}
	take := func(got *syncml.Message) {
		hs := got.Body[0].(*syncml.Status)
		if hs.Data != syncml.StatusOK || hs.Chal == nil || hs.Chal.Meta.Type != syncml.AuthMAC {
			t.Fatalf("header status %d chal %+v", hs.Data, hs.Chal)
		}
		nonce, _ = auth.ChalNonce(hs.Chal)
	}
	// Each answer gives the agent the nonce for its next HMAC (OMA-TS-DM_Security-V1_2 §5.4).
	next := func(m *syncml.Message) *syncml.Message {
		m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMAC, []byte("cli-nonce-"+m.Header.MsgID))
		return m
	}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return next(srv.reply(got, false, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "one")}}))
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			take(got)
			return next(srv.reply(got, true, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Color", "two")}}))
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			take(got)
			nonce = []byte("stale") // a wrong MAC now
			return next(srv.reply(got, true, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "three")}}))
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			if hs := got.Body[0].(*syncml.Status); hs.Data != syncml.StatusInvalidCredentials {
				t.Fatalf("bad MAC answered with %d", hs.Data)
			}
			return nil
		},
	}
	c := newAgent(t, tr, srv, func(c *client.Config) {
		c.Account.AuthScheme = syncml.AuthMAC
		c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srv-nonce-1")
		c.Retry.Attempts = 1
	})
	_, _ = c.Run(context.Background(), client.Trigger{})
	if len(srv.got) != 4 {
		t.Fatalf("agent sent %d messages", len(srv.got))
	}
	if a, b := value(t, tr, "./Vendor/Name"), value(t, tr, "./Vendor/Color"); a != "one" || b != "two" {
		t.Fatalf("tree = %q %q", a, b)
	}
}

func TestAgent_RejectedDeviceCredentialsFailAsOurAuthentication(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	// Every answer rejects our credentials with a challenge and, as an
	// authentication failure reply, carries no server credential.
	reject := func(t *testing.T, got *syncml.Message) *syncml.Message {
		m := srv.reply(got, true, syncml.StatusInvalidCredentials)
		m.Body[0].(*syncml.Status).Chal = auth.MakeChal(syncml.AuthMD5, []byte("try-this-nonce"))
		return m
	}
	srv.steps = []step{reject, reject, reject, reject}
	c := md5Agent(t, tr, srv, &nonceLog{})
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrAuthFailed) || errors.Is(err, client.ErrServerAuth) || res.State != client.StateFailed {
		t.Fatalf("err = %v, state %s", err, res.State)
	}
	if len(srv.got) != 3 {
		t.Fatalf("agent sent %d messages, want package 1 and two retries", len(srv.got))
	}
	for i, m := range srv.got[1:] {
		if got, want := summary(m), "Status 0 SyncHdr 407 | Alert 1201 | Replace | Final"; got != want {
			t.Fatalf("retry %d = %q, want %q", i+1, got, want)
		}
	}
}
