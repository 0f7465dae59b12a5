package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
)

// The OBEX reversed roles between the operator's processes: `omadm-agent
// --obex-listen obex://127.0.0.1:PORT` is the OBEX server, and `omadm serve
// --obex-dial` notifies it by connecting, PUTting the package 0 (which the
// agent verifies like a UDP one, OMA-TS-DM_Notification-V1_2 §6) and running
// the DM session over that connection (transports.md §3: the roles may be
// reversed). A queued Get comes back done, in XML and WBXML. A package 0
// made with the wrong server credentials is refused at once (the notify
// answer says so) and starts no session: the job stays queued until a
// genuine notification runs it. An address nobody listens on fails the
// notification with the connect error.
func TestE2E_OBEXDialNotifiesListeningAgentProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds omadm and omadm-agent")
	}
	serveBin, agentBin := buildOmadm(t), buildAgent(t)
	srv := startServe(t, serveBin, t.TempDir(), "--obex-dial", "--obex-dial-timeout", "20s")
	if !strings.Contains(srv.logs(), "OBEX dial to obex://host:port") {
		t.Fatalf("no sender line for --obex-dial:\n%s", srv.logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := srv.api()

	for i, enc := range []string{"xml", "wbxml"} {
		t.Run(enc, func(t *testing.T) {
			devID := []string{"IMEI:490154203237518", "IMEI:490154203237526"}[i]
			agent := &agentProcess{}
			listening := agent.on(`listening for OBEX connections of the DM server" addr=obex://(\S+)`)
			verified := agent.on(`package 0 verified; session queued.* session=(\w+)`)
			refused := agent.on(`obex package 0 refused.*err="package 0 (\w+)"`)
			ended := agent.on(`msg="DM session (\w+)"`)
			agent.start(t, agentBin, "--state", t.TempDir(), "--server", "obex://127.0.0.1:1", "--server-id", "omadm",
				"--device-id", devID, "--username", "dev", "--password", "dev-Secret-1", "--server-password", "srv-Secret-1",
				"--encoding", enc, "--timeout", "30s", "--obex-listen", "obex://127.0.0.1:0", "--log-level", "debug")
			addr := "obex://" + within(t, "agent listening", listening, 30*time.Second, agent.logs)

			// A package 0 the device's server credentials do not verify.
			forgedID := devID + "-forged"
			if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: forgedID, Username: "x", Password: "x-Secret-1",
				ServerPassword: "not-the-secret", NotifyAddr: addr}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: devID, Username: "dev", Password: "dev-Secret-1",
				ServerPassword: "srv-Secret-1", NotifyAddr: addr}); err != nil {
				t.Fatal(err)
			}
			j, err := c.CreateJob(ctx, devID, api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevInfo/DevId"}}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Notify(ctx, forgedID)
			var ae *apiclient.Error
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway || !strings.Contains(ae.Message, "refused the package 0") {
				t.Fatalf("notify with a forged package 0: %v, want 502 naming the refusal\n%s", err, srv.logs())
			}
			if v := within(t, "agent refusing the forged package 0", refused, 30*time.Second, agent.logs); v != "forged" {
				t.Fatalf("agent refused the package 0 as %q, want forged", v)
			}
			if got, err := c.GetJob(ctx, j.ID); err != nil || got.State != "queued" {
				t.Fatalf("after a forged package 0 the job is %+v (%v), want queued: a session ran\n%s", got, err, agent.logs())
			}

			// The genuine one: the server dials, the agent verifies, the
			// session runs over the same connection.
			res, err := c.Notify(ctx, devID)
			if err != nil || !res.Sent || res.Addr != addr {
				t.Fatalf("notify: %+v %v\n%s", res, err, srv.logs())
			}
			sid := within(t, "package 0 verified by the agent", verified, 30*time.Second, agent.logs)
			if state := within(t, "DM session", ended, time.Minute, agent.logs); state != "completed" {
				t.Fatalf("session %s ended %q\nserver:\n%s", sid, state, srv.logs())
			}
			got, err := c.GetJob(ctx, j.ID)
			if err != nil || got.State != "done" || got.Status != 200 || len(got.Results) != 1 || got.Results[0].Data != devID {
				t.Fatalf("job %+v (%v)\nserver:\n%s", got, err, srv.logs())
			}
			waitSessionEvent(ctx, t, srv, devID, sid)
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		const devID = "IMEI:490154203237534"
		addr := "obex://" + freePort(t)
		if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: devID, Username: "u", Password: "u-Secret-1",
			ServerPassword: "s-Secret-1", NotifyAddr: addr}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Notify(ctx, devID)
		var ae *apiclient.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway || !strings.Contains(ae.Message, "obex dial "+addr) ||
			!strings.Contains(ae.Message, "connection refused") {
			t.Fatalf("notify of an unreachable device: %v, want 502 naming the address and the connect error", err)
		}
	})
}
