package obex_test

import (
	"context"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// A carrier declared secure authenticates the session on both sides
// (OMA-TS-DM_Security-V1_2 §5.3): the server hands the engine
// Inbound.SecureSession, and the device's transport reports every reply as
// Response.SecureSession, so that both engines check credentials once per
// session; an undeclared carrier reports neither.
func TestClientTransport_SecureLinkIsReportedToTheEngine(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := &echoEngine{}
		_, addr := startServer(t, e, &obex.ServerOptions{SecureLink: secure})
		tp, err := obex.DialURL("obex://"+addr, obex.ClientOptions{SecureLink: secure})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeXML, Body: []byte("<SyncML/>")})
		cancel()
		_ = tp.Close()
		if err != nil {
			t.Fatal(err)
		}
		e.mu.Lock()
		saw := append([]bool(nil), e.secure...)
		e.mu.Unlock()
		if resp.SecureSession != secure || len(saw) != 1 || saw[0] != secure {
			t.Errorf("SecureLink %v: Response.SecureSession %v, engine saw %v", secure, resp.SecureSession, saw)
		}
	}
}
