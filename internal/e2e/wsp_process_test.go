package e2e_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/internal/kannel"
)

// The two real programs through a real WAP gateway: `omadm-agent
// --transport wsp://127.0.0.1:9201` runs its sessions over WSP/WTP to
// Kannel, which posts them to `omadm serve` over HTTP; the server's queued
// Get is answered in XML and in WBXML.
func TestE2E_AgentProcessThroughAWAPGatewayToServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds omadm and omadm-agent")
	}
	kannel.Start(t, kannel.Options{WAPBox: true})
	srv := startServe(t, buildOmadm(t), t.TempDir())
	agentBin := buildAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i, enc := range []string{"xml", "wbxml"} {
		t.Run(enc, func(t *testing.T) {
			devID := fmt.Sprintf("IMEI:49300510059%04d", i)
			if _, err := srv.api().CreateDevice(ctx, api.DeviceCreate{ID: devID, Username: "dev" + enc, Password: "pw-" + enc,
				ServerPassword: "srv-" + enc, Auth: "md5"}); err != nil {
				t.Fatal(err)
			}
			job, err := srv.api().CreateJob(ctx, devID, api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevInfo/DevId"}}})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, agentBin, "--state", t.TempDir(), "--server", srv.url+"/dm", "--server-id", "omadm",
				"--device-id", devID, "--username", "dev"+enc, "--password", "pw-"+enc, "--server-password", "srv-"+enc,
				"--auth", "md5", "--encoding", enc, "--transport", fmt.Sprintf("wsp://127.0.0.1:%d", kannel.WSPCOPort), "--once")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("omadm-agent: %v\n%s\nserver log:\n%s", err, out, srv.logs())
			}
			j, err := srv.api().GetJob(ctx, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != "done" || len(j.Results) != 1 || j.Results[0].Data != devID {
				t.Fatalf("job %s %+v", j.State, j.Results)
			}
		})
	}
}
