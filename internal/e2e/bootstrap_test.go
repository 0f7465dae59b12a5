package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_Security-V1_2 §5.1.7.2 and OMA-TS-DM_Bootstrap-V1_2 (DM
// profile): the server generates a device's DMAcc profile as a WBXML DM
// message, MACs it with the device's network secret (NETWORKID, the IMSI in
// semi-octet form; USERPIN) and pushes it as application/vnd.syncml.dm+wbxml
// with SEC and MAC over WAP push (UDP); the device applies it when its
// policy accepts the method and the MAC verifies, and refuses it, changing
// nothing, when the key differs or the method is not one it takes.
func TestE2E_BootstrapPushedOverWAPIsAcceptedWithTheRightMACOnly(t *testing.T) {
	const imsi = "310150123456789"
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		if enc != syncml.EncodingWBXML {
			t.Skip("a bootstrap is WBXML only (OMA-TS-DM_Security-V1_2 §5.1.7.2.1)")
		}
		st := b.open(t)
		n := startDownloadNode(t, st)
		ctx := context.Background()
		tests := []struct {
			name      string
			security  string
			format    string
			policy    auth.BootstrapPolicy
			refusedBy string // "" = accepted
		}{
			{"NETWPIN, right IMSI", "NETWPIN", "tnds-wbxml", auth.BootstrapPolicy{Accept: []string{"NETWORKID"}, Network: imsiKey(t, imsi)}, ""},
			{"USERPIN, plain Adds", "USERPIN", "add", auth.BootstrapPolicy{Accept: []string{"USERPIN"}, PIN: "8642"}, ""},
			{"NETWPIN, another IMSI", "NETWPIN", "tnds-wbxml", auth.BootstrapPolicy{Accept: []string{"NETWORKID"}, Network: imsiKey(t, "310150123456780")}, "does not verify"},
			{"USERPIN, wrong PIN", "USERPIN", "tnds-wbxml", auth.BootstrapPolicy{Accept: []string{"USERPIN"}, PIN: "0000"}, "does not verify"},
			{"method the device does not take", "USERPIN", "tnds-wbxml", auth.BootstrapPolicy{Accept: []string{"NETWORKID"}, Network: imsiKey(t, imsi)}, "not accepted"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a := newAgent(t, st, n.base+"/dm", enc)
				l, err := notification.Listen("udp://127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				got := make(chan []byte, 1)
				lctx, stop := context.WithCancel(ctx)
				served := make(chan struct{})
				go func() {
					defer close(served)
					l.ServeRaw(lctx, func(d []byte) {
						select {
						case got <- append([]byte(nil), d...):
						default:
						}
					})
				}()
				t.Cleanup(func() { stop(); l.Close(); <-served })
				dev, err := st.GetDevice(ctx, a.ID())
				if err != nil {
					t.Fatal(err)
				}
				dev.NotifyAddr = "udp://" + l.Addr().String()
				dev.Labels = map[string]string{"imsi": imsi}
				if err := st.UpdateDevice(ctx, dev); err != nil {
					t.Fatal(err)
				}
				res, err := n.api.Bootstrap(ctx, api.BootstrapRequest{DeviceIDs: []string{a.ID()}, Format: tc.format,
					Security: tc.security, PIN: "8642", Push: true})
				if err != nil {
					t.Fatal(err)
				}
				if p := res.Profiles[0]; !p.Pushed || p.PushError != "" || !p.PasswordChanged {
					t.Fatalf("profile %+v, want pushed with a new password", p)
				}
				var pdu []byte
				select {
				case pdu = <-got:
				case <-time.After(30 * time.Second): // bounds a hang only
					t.Fatal("the pushed bootstrap did not arrive")
				}
				tree := dmtree.New(nil)
				if err := dmacc.Install(tree); err != nil {
					t.Fatal(err)
				}
				_, err = client.AcceptBootstrapPush(client.DMTree(tree), pdu, &tc.policy)
				acct, ferr := dmacc.FindByServerID(tree, serverID)
				if tc.refusedBy != "" {
					if err == nil || !strings.Contains(err.Error(), tc.refusedBy) {
						t.Fatalf("AcceptBootstrapPush = %v, want a refusal saying %q", err, tc.refusedBy)
					}
					if ferr == nil {
						t.Fatal("a refused bootstrap added the account")
					}
					return
				}
				if err != nil || ferr != nil {
					t.Fatalf("AcceptBootstrapPush = %v; account: %v", err, ferr)
				}
				// The account names this server and carries the password the
				// server now holds for the device.
				stored, _ := st.GetDevice(ctx, a.ID())
				if acct.Addr != n.base+"/dm" || acct.Client.Name != stored.Username ||
					stored.PasswordHash != storage.HashPassword(&storage.Device{Username: stored.Username, Password: acct.Client.Secret}) {
					t.Errorf("bootstrapped account %+v does not match the server's record", acct)
				}
			})
		}
	})
}

func imsiKey(t *testing.T, imsi string) []byte {
	t.Helper()
	k, err := auth.IMSIKey(imsi)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
