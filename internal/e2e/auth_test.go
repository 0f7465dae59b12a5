package e2e_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func TestE2E_MD5ChallengeThenNonceRotatesEverySession(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthMD5))
		ctx := context.Background()
		// The server expects a nonce the device has never seen: its first
		// credentials fail and the challenge carries the nonce to use.
		d, err := st.GetDevice(ctx, a.ID())
		if err != nil {
			t.Fatal(err)
		}
		d.ServerNonce = []byte("nonce-the-device-does-not-know")
		if err := st.UpdateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		id := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
		res := a.session(t)
		if res.MessagesSent < 3 {
			t.Errorf("challenged session sent %d messages; the retry is missing", res.MessagesSent)
		}
		if j := job(t, st, id); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != a.Identity().FwV {
			t.Fatalf("job %s %+v", j.State, j.Results)
		}
		first := storedNonce(t, st, a.ID())
		if bytes.Equal(first, d.ServerNonce) || !bytes.Equal(first, a.Client().Account().ClientNonce) {
			t.Fatalf("after the session server nonce %x, device nonce %x", first, a.Client().Account().ClientNonce)
		}
		// Next session: the device authenticates at once with the handed-over
		// nonce, and the server rotates it again.
		res = a.session(t)
		if res.MessagesSent != 1 {
			t.Errorf("second session sent %d messages, want 1 (no challenge)", res.MessagesSent)
		}
		second := storedNonce(t, st, a.ID())
		if bytes.Equal(second, first) || !bytes.Equal(second, a.Client().Account().ClientNonce) {
			t.Errorf("nonce did not rotate: %x → %x (device %x)", first, second, a.Client().Account().ClientNonce)
		}
	})
}

func TestE2E_HMACAuthenticatesEveryMessage(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc, withAuth(sim.AuthHMAC))
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevInfo/Mod")})
		rep := queue(t, st, a.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.APNURI, Data: "hmac.example"}}})
		for range 2 {
			before := storedNonce(t, st, a.ID())
			a.session(t)
			after := storedNonce(t, st, a.ID())
			if bytes.Equal(before, after) || !bytes.Equal(after, a.Client().Account().ClientNonce) {
				t.Errorf("HMAC nonce: before %x after %x device %x", before, after, a.Client().Account().ClientNonce)
			}
		}
		if j := job(t, st, get); j.State != storage.JobDone || j.Results[0].Data != a.Identity().Mod {
			t.Errorf("Get %s %+v", j.State, j.Results)
		}
		if j := job(t, st, rep); j.State != storage.JobDone || a.Value(sim.APNURI) != "hmac.example" {
			t.Errorf("Replace %s, device value %q", j.State, a.Value(sim.APNURI))
		}
	})
}

func storedNonce(t *testing.T, st storage.Store, id string) []byte {
	t.Helper()
	d, err := st.GetDevice(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.ServerNonce
}
