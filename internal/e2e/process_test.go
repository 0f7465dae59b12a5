package e2e_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

const processToken = "e2e-process-token"

// serveProcess is `omadm serve` running as a child process.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	exited chan struct{}
	log    string // stderr file
}

// buildOmadm compiles cmd/omadm once per test into a temporary directory.
func buildOmadm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "omadm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/omadm/omadm/cmd/omadm").CombinedOutput()
	if err != nil {
		t.Fatalf("building omadm: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe starts `omadm serve` on data, with extra flags, and waits
// until /healthz answers.
func startServe(t *testing.T, bin, data string, extra ...string) *serveProcess {
	t.Helper()
	addr := freePort(t)
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data", data, "--log-level", "info"}, extra...)...)
	cmd.Env = append(os.Environ(), "OMADM_API_TOKEN="+processToken)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, url: "http://" + addr, exited: make(chan struct{}), log: logf.Name()}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	c := apiclient.New(p.url, processToken)
	// Another process gives no signal but its answers: /readyz is asked
	// with a growing pause until it says ready, or the process exits; the
	// deadline only bounds a hang.
	deadline := time.Now().Add(30 * time.Second)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Ready(ctx)
		cancel()
		if err == nil {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("omadm serve exited at start:\n%s", p.logs())
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			t.Fatalf("omadm serve not ready after 30s: %v\n%s", err, p.logs())
		}
	}
}

// kill ends the process with SIGKILL: no shutdown, no flush.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("killed server process did not exit")
	}
}

func (p *serveProcess) logs() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func (p *serveProcess) api() *apiclient.Client { return apiclient.New(p.url, processToken) }

// TestE2E_ServeProcessKilledMidSessionLosesNoJobAndAppliesNoneTwice runs the
// real `omadm serve` binary and SIGKILLs it twice in the middle of sessions:
// once after the device got its commands but before it posted their
// statuses, once right after the device's statuses were answered. Restarted
// on the same data directory, the server loses no job, resends the
// unanswered ones and never resends an answered one.
func TestE2E_ServeProcessKilledMidSessionLosesNoJobAndAppliesNoneTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds and kills the omadm serve process")
	}
	bin := buildOmadm(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	srv := startServe(t, bin, data)
	id := sim.NewIdentity(424242)
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	route := &router{tp: tp}
	current := srv
	// Every message goes to the server process running now, whatever host
	// the device's URL (or the RespURI of a dead process) names.
	route.target = func(_ int, u string) string {
		if i := strings.Index(u, "://"); i >= 0 {
			rest := u[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				return current.url + rest[j:]
			}
		}
		return u
	}
	dev, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("e2e-process", id.DevID),
		ServerURL: srv.url + "/dm", Encoding: syncml.EncodingWBXML, Transport: route,
		Retry: client.RetryPolicy{Attempts: 1, Timeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	cr := dev.Credentials()
	if _, err := srv.api().CreateDevice(ctx, api.DeviceCreate{ID: dev.ID(), Username: cr.Username, Password: cr.Password,
		ServerPassword: cr.ServerPassword, Auth: dev.Auth()}); err != nil {
		t.Fatal(err)
	}
	queueAPI := func(p *serveProcess, r api.JobRequest) int64 {
		t.Helper()
		j, err := p.api().CreateJob(ctx, dev.ID(), r)
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	getJob := func(p *serveProcess, id int64) *api.Job {
		t.Helper()
		j, err := p.api().GetJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	get := queueAPI(srv, api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevDetail/HwV"}}})
	rep := queueAPI(srv, api.JobRequest{Command: "Replace", Items: []api.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}})

	// 1. Killed after answering package 1 (the commands), before the
	// device's statuses are posted.
	route.after = func(n int, _ *client.Response) error {
		if n == 1 {
			current.kill(t)
		}
		return nil
	}
	if _, err := dev.Run(ctx); err == nil {
		t.Fatal("session survived the server's death")
	}
	srv2 := startServe(t, bin, data)
	current = srv2
	for _, id := range []int64{get, rep} {
		if j := getJob(srv2, id); j.State != "sent" || j.Status != 0 {
			t.Fatalf("job %d after the kill is %s/%d, want sent and unanswered", id, j.State, j.Status)
		}
	}
	reboot := queueAPI(srv2, api.JobRequest{Command: "Exec", Items: []api.JobItem{{URI: sim.RebootURI}}})

	// 2. Killed right after the device's statuses were answered.
	route.mu.Lock()
	route.n = 0
	route.mu.Unlock()
	route.after = func(n int, _ *client.Response) error {
		if n == 2 {
			current.kill(t)
			return errors.New("server process killed")
		}
		return nil
	}
	if _, err := dev.Run(ctx); err == nil {
		t.Fatal("session survived the server's death")
	}
	srv3 := startServe(t, bin, data)
	current = srv3
	route.after = nil
	if res, err := dev.Run(ctx); err != nil || res.State != client.StateCompleted {
		t.Fatalf("session after the second restart: %v\n%s", err, srv3.logs())
	}

	for _, tc := range []struct {
		name     string
		id       int64
		attempts int
	}{
		{"Get resent once after the first kill", get, 2},
		{"Replace resent once after the first kill", rep, 2},
		{"Exec answered before the second kill, never resent", reboot, 1},
	} {
		if j := getJob(srv3, tc.id); j.State != "done" || j.Status != 200 || j.Attempts != tc.attempts {
			t.Errorf("%s: job %s/%d after %d attempts, want done/200 after %d", tc.name, j.State, j.Status, j.Attempts, tc.attempts)
		}
	}
	if j := getJob(srv3, get); len(j.Results) != 1 || j.Results[0].Data != dev.Identity().HwV {
		t.Errorf("Get results %+v, want HwV %q", j.Results, dev.Identity().HwV)
	}
	if dev.Value(sim.TelemetryURI) != "false" {
		t.Errorf("Replace not applied: %q", dev.Value(sim.TelemetryURI))
	}
	if n := dev.Reboots(); n != 1 {
		t.Errorf("Exec applied %d times, want once", n)
	}
	jl, err := srv3.api().ListJobs(ctx, dev.ID(), apiclient.JobQuery{States: []string{"queued", "sent"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jl.Jobs) != 0 {
		t.Errorf("%d jobs still pending: %+v", len(jl.Jobs), jl.Jobs)
	}
}
