package e2e_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
)

// The operator's commands, as separate processes: `omadm serve --obex
// 127.0.0.1:PORT` and `omadm-agent --server obex://127.0.0.1:PORT --once`
// run a DM session over OBEX/TCP, and the job queued through the API
// comes back done (transports.md §3).
func TestE2E_OBEXServeAndAgentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds omadm and omadm-agent")
	}
	bin := buildOmadm(t)
	agent := filepath.Join(t.TempDir(), "omadm-agent")
	bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer bcancel()
	if out, err := exec.CommandContext(bctx, "go", "build", "-o", agent, "github.com/omadm/omadm/cmd/omadm-agent").CombinedOutput(); err != nil {
		t.Fatalf("building omadm-agent: %v\n%s", err, out)
	}
	obexAddr := freePort(t)
	srv := startServe(t, bin, t.TempDir(), "--obex", obexAddr)
	if !strings.Contains(srv.logs(), "obex ready") {
		t.Fatalf("no OBEX ready line:\n%s", srv.logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const devID = "IMEI:490154203237518"
	if _, err := srv.api().CreateDevice(ctx, api.DeviceCreate{ID: devID, Username: "dev", Password: "devpw", ServerPassword: "srvpw"}); err != nil {
		t.Fatal(err)
	}
	j, err := srv.api().CreateJob(ctx, devID, api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevInfo/DevId"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"wbxml", "xml"} {
		out, err := exec.CommandContext(ctx, agent, "--state", t.TempDir(), "--server", "obex://"+obexAddr, "--server-id", "omadm",
			"--device-id", devID, "--username", "dev", "--password", "devpw", "--server-password", "srvpw",
			"--encoding", enc, "--once", "--timeout", "30s").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "completed") {
			t.Fatalf("omadm-agent (%s): %v\n%s\nserver:\n%s", enc, err, out, srv.logs())
		}
	}
	got, err := srv.api().GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "done" || got.Status != 200 || len(got.Results) != 1 || got.Results[0].Data != devID {
		t.Fatalf("job %+v", got)
	}
}
