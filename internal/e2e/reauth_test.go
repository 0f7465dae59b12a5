package e2e_test

import (
	"context"
	"testing"

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
