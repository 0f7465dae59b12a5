package e2e_test

import (
	"context"
	"sync"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/storage/memstore"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// The server lost the nonce the device gave it (a stored ClientNonce the device
// never issued): the device answers 401 + Chal on the server's credentials and 215
// to the commands; the server re-authenticates in the same session and the
// commands are resent, so no job is lost.
func TestE2E_ServerReauthenticatesAfterDeviceRejectsItsCredentials(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		ctx := context.Background()
		d, err := st.GetDevice(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		d.ClientNonce = []byte("nonce-the-server-lost")
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		rep := queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.APNURI, Data: "re.auth"}}})
		res := a.session(t)
		t.Logf("messages sent %d", res.MessagesSent)
		if j := job(t, st, get); j.State != storage.JobDone || j.Attempts != 2 || len(j.Results) != 1 || j.Results[0].Data != a.Identity().FwV {
			t.Errorf("Get %s att %d %+v", j.State, j.Attempts, j.Results)
		}
		if j := job(t, st, rep); j.State != storage.JobDone || j.Attempts != 2 || a.Value(sim.APNURI) != "re.auth" {
			t.Errorf("Replace %s att %d %q", j.State, j.Attempts, a.Value(sim.APNURI))
		}
	})
}

func withServerAuth(a string) agentOption { return func(o *sim.DeviceOptions) { o.ServerAuth = a } }

// wire records what crossed the wire in an agent's sessions: the Cred and
// SyncHdr Status of every message the agent sent, and the Cred, HMAC
// header and SyncHdr Status Chal of every reply.
type wire struct {
	mu      sync.Mutex
	sent    []*syncml.Message
	replies []*syncml.Message
	hmacs   []string
}

func (w *wire) attach(t *testing.T, a *agent) {
	a.route.seen = func(_ int, req *client.Request) {
		m, _, err := syncml.Decode(req.Body, req.ContentType, nil)
		if err != nil {
			t.Errorf("agent message does not decode: %v", err)
			return
		}
		w.mu.Lock()
		w.sent = append(w.sent, m)
		w.mu.Unlock()
	}
	a.route.after = func(_ int, resp *client.Response) error {
		m, _, err := syncml.Decode(resp.Body, resp.ContentType, nil)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.replies = append(w.replies, m)
		w.hmacs = append(w.hmacs, resp.HMAC)
		w.mu.Unlock()
		return nil
	}
}

// hdr is the SyncHdr Status of m (nil when it has none).
func hdr(m *syncml.Message) *syncml.Status {
	for _, c := range m.Body {
		if s, ok := c.(*syncml.Status); ok && s.CmdRef == "0" {
			return s
		}
	}
	return nil
}

// authBackends are the e2e backends plus the in-memory store, which keeps
// every storage.Device field.
func authBackends(t *testing.T) []backend {
	return append(backends(t), backend{"memory", func(*testing.T) storage.Store { return memstore.New() }})
}

// OMA-TS-DM_Security-V1_2 §5.1/§5.3: each direction has its own credential
// type and secret (CLCRED, SRVCRED). The server's credentials use
// Device.ServerAuthScheme from its first reply on, and the agent accepts
// them without a challenge.
func TestE2E_PerDirectionAuthTypes(t *testing.T) {
	tests := []struct{ client, server string }{
		{sim.AuthMD5, sim.AuthBasic},
		{sim.AuthBasic, sim.AuthMD5},
		{sim.AuthMD5, sim.AuthHMAC},
		{sim.AuthHMAC, sim.AuthMD5},
	}
	for _, b := range authBackends(t) {
		for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
			for _, tc := range tests {
				t.Run(b.name+"/"+enc.String()+"/"+tc.client+"-"+tc.server, func(t *testing.T) {
					st := b.open(t)
					n := startNode(t, st)
					a := newAgent(t, st, n.url, enc, withAuth(tc.client), withServerAuth(tc.server))
					ctx := context.Background()
					d, err := st.GetDevice(ctx, a.ID())
					if err != nil {
						t.Fatal(err)
					}
					d.ServerAuthScheme = tc.server
					if err := st.UpdateDevice(ctx, d); err != nil {
						t.Fatal(err)
					}
					if d, _ := st.GetDevice(ctx, a.ID()); d.ServerAuthScheme != tc.server {
						t.Skipf("the %s store does not keep Device.ServerAuthScheme yet (its persistence lands with the storage change)", b.name)
					}
					var w wire
					w.attach(t, a)
					get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
					rep := queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.APNURI, Data: "per.direction"}}})
					a.session(t)
					for i, m := range w.sent {
						if s := hdr(m); s != nil && !s.Data.Success() {
							t.Errorf("agent message %d answered our credentials %d", i+1, s.Data)
						}
					}
					for i, r := range w.replies {
						switch got := r.Header.Cred; {
						case tc.server == sim.AuthHMAC && (w.hmacs[i] == "" || got != nil):
							t.Errorf("reply %d: HMAC header %q, Cred %+v; want the header only", i+1, w.hmacs[i], got)
						case tc.server != sim.AuthHMAC && (got == nil || got.Meta == nil || got.Meta.Type != schemeOf(t, tc.server)):
							t.Errorf("reply %d: server Cred %+v, want %s", i+1, got, tc.server)
						}
					}
					if j := job(t, st, get); j.State != storage.JobDone || j.Attempts != 1 || j.Results[0].Data != a.Identity().FwV {
						t.Errorf("Get %s, %d attempts, %+v", j.State, j.Attempts, j.Results)
					}
					if j := job(t, st, rep); j.State != storage.JobDone || a.Value(sim.APNURI) != "per.direction" {
						t.Errorf("Replace %s, value %q", j.State, a.Value(sim.APNURI))
					}
				})
			}
		}
	}
}

func schemeOf(t *testing.T, name string) string {
	t.Helper()
	s, err := sim.SchemeOf(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OMA-TS-DM_Protocol-V1_2 §9.1: after a 200 carrying a Chal the next
// message's credentials use the new nonce; OMA-TS-DM_Security-V1_2 §5.3:
// over plain HTTP every message and every reply is authenticated. Checked
// on the wire in both directions across a multi-message session.
func TestE2E_EveryMessageReauthenticatesWithTheNextNonce(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		c := a.Credentials()
		var w wire
		w.attach(t, a)
		queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.APNURI, Data: "next.nonce"}}})
		a.session(t)
		if len(w.sent) < 2 {
			t.Fatalf("session of %d messages; want at least 2", len(w.sent))
		}
		seen := map[string]bool{}
		for i := 1; i < len(w.sent); i++ {
			prev := hdr(w.replies[i-1])
			if prev == nil || prev.Data != syncml.StatusOK || prev.Chal == nil {
				t.Fatalf("reply %d SyncHdr status %+v, want 200 with the next nonce", i, prev)
			}
			nonce, err := auth.ChalNonce(prev.Chal)
			if err != nil || seen[string(nonce)] {
				t.Fatalf("reply %d nonce %x reused or bad (%v)", i, nonce, err)
			}
			seen[string(nonce)] = true
			if cr := w.sent[i].Header.Cred; cr == nil || cr.Data != auth.MD5Credential(c.Username, c.Password, nonce) {
				t.Errorf("message %d Cred %+v, want md5 built with the nonce of reply %d", i+1, cr, i)
			}
		}
		for i, r := range w.replies {
			if r.Header.Cred == nil {
				t.Errorf("reply %d carries no server credentials", i+1)
			}
			if i > 0 {
				// The agent verified the server in every message: 200 + a new nonce.
				if s := hdr(w.sent[i]); s == nil || s.Data != syncml.StatusOK || s.Chal == nil {
					t.Errorf("agent's answer to reply %d: %+v, want 200 with a Chal", i, s)
				}
			}
		}
	})
}

// OMA-TS-DM_Security-V1_2 §5.4.1: a challenge is answered in exactly the
// requested scheme. The agent requires basic server credentials while the
// server's account says md5: the agent answers 401 + Chal(basic) and 215s,
// the server sends its credentials again as basic in the same session and
// resends the commands; no job fails.
func TestE2E_DeviceChallengesTheServerForAnotherScheme(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5), withServerAuth(sim.AuthBasic))
		var w wire
		w.attach(t, a)
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		a.session(t)
		challenged := false
		for _, m := range w.sent {
			if s := hdr(m); s != nil && s.Data == syncml.StatusInvalidCredentials && s.Chal != nil && s.Chal.Meta.Type == syncml.AuthBasic {
				challenged = true
			}
		}
		if !challenged {
			t.Fatal("the agent never challenged the server for basic credentials")
		}
		last := w.replies[len(w.replies)-1].Header.Cred
		if last == nil || last.Meta == nil || last.Meta.Type != syncml.AuthBasic {
			t.Errorf("server credentials after the challenge %+v, want basic", last)
		}
		if j := job(t, st, get); j.State != storage.JobDone || j.Attempts != 2 || j.Results[0].Data != a.Identity().FwV {
			t.Errorf("Get %s, %d attempts, %+v", j.State, j.Attempts, j.Results)
		}
	})
}
