package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// Wire traces are kept in storage and shown by the API and the console:
// they never hold a credential. A basic Cred is the password in base64
// (OMA-TS-DM_Security-V1_2 §5.3.1) and a digest Cred (§5.3.2) can be
// attacked offline, in the device's messages and in the server's. The Cred
// Data is blanked where it stands; the trace still decodes.
func TestE2E_TracesHoldNoCredentials(t *testing.T) {
	for _, scheme := range []string{sim.AuthBasic, sim.AuthMD5} {
		t.Run(scheme, func(t *testing.T) {
			matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
				st := b.open(t)
				n := startNode(t, st)
				a := newAgent(t, st, n.url, enc, withAuth(scheme))
				c := a.Credentials()
				secrets := []string{c.Password, c.ServerPassword,
					base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)),
					base64.StdEncoding.EncodeToString([]byte(serverID + ":" + c.ServerPassword))}
				var mu sync.Mutex
				creds := 0
				note := func(body []byte, ct string) {
					m, _, err := syncml.Decode(body, ct, nil)
					if err != nil || m.Header.Cred == nil {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					creds++
					secrets = append(secrets, m.Header.Cred.Data)
				}
				a.route.seen = func(_ int, req *client.Request) { note(req.Body, req.ContentType) }
				a.route.after = func(_ int, resp *client.Response) error { note(resp.Body, resp.ContentType); return nil }
				queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
				a.session(t)
				a.session(t) // the server's credentials again, on a new nonce
				if creds < 3 {
					t.Fatalf("only %d messages carried a Cred; the test proves nothing", creds)
				}

				n.engine.Flush(context.Background())
				ts, err := st.ListTraces(context.Background(), a.ID(), "", 100)
				if err != nil || len(ts) == 0 {
					t.Fatalf("traces: %d, %v", len(ts), err)
				}
				redacted := 0
				for _, tr := range ts {
					v := api.TraceFrom(tr)
					if !strings.Contains(v.Decoded, "<SyncML") {
						t.Errorf("trace %d (%s) does not decode any more: %.200q", tr.ID, tr.Direction, v.Decoded)
					}
					if strings.Contains(v.Decoded, "<Cred>") {
						redacted++
					}
					for _, s := range secrets {
						if bytes.Contains(v.Body, []byte(s)) || strings.Contains(v.Decoded, s) {
							t.Errorf("trace %d (%s) holds the credential %q", tr.ID, tr.Direction, s)
						}
					}
				}
				if redacted == 0 {
					t.Error("no trace shows a (blanked) Cred")
				}
			})
		})
	}
}
