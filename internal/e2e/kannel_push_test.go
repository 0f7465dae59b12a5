package e2e_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/notification"
)

// buildAgent compiles cmd/omadm-agent into a temporary directory.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "omadm-agent")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/omadm/omadm/cmd/omadm-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("building omadm-agent: %v\n%s", err, out)
	}
	return bin
}

// agentProcess is `omadm-agent` running as a child process; each line it
// logs is matched against the watched patterns.
type agentProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	log    strings.Builder
	watch  []agentWatch
}

type agentWatch struct {
	re *regexp.Regexp
	ch chan string
}

// on returns a channel receiving the first submatch of each log line
// matching pattern (registered before the process starts).
func (a *agentProcess) on(pattern string) <-chan string {
	ch := make(chan string, 16)
	a.watch = append(a.watch, agentWatch{regexp.MustCompile(pattern), ch})
	return ch
}

func (a *agentProcess) logs() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

func (a *agentProcess) start(t *testing.T, bin string, args ...string) {
	t.Helper()
	a.cmd = exec.Command(bin, args...)
	pr, pw := io.Pipe()
	a.cmd.Stdout, a.cmd.Stderr = pw, pw
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a.exited = make(chan struct{})
	go func() { _ = a.cmd.Wait(); pw.Close(); close(a.exited) }()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			a.mu.Lock()
			a.log.WriteString(line + "\n")
			a.mu.Unlock()
			for _, w := range a.watch {
				if m := w.re.FindStringSubmatch(line); m != nil {
					select {
					case w.ch <- m[len(m)-1]:
					default:
					}
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.exited
		if t.Failed() {
			t.Logf("omadm-agent log:\n%s", a.logs())
		}
	})
}

// within waits for ch, failing after d (a bound on a hang only).
func within(t *testing.T, what string, ch <-chan string, d time.Duration, dump func() string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not happen within %v\n%s", what, d, dump())
	}
	return ""
}

// TestE2E_KannelPushReachesAgentAndServeProcesses runs `omadm serve` with
// its gateway senders pointed at a real Kannel, and a real `omadm-agent`
// listening for WAP push on UDP 2948: a notification to wappush-ip:127.0.0.1
// travels serve → PAP → Kannel's PPG → connectionless WSP push over UDP →
// agent, which verifies it and opens the server-initiated DM session with
// serve (OMA-TS-DM_Notification-V1_2: package 0 over the WAP push bearer).
// Notifications to wappush:+number (PPG, SMS bearer) and sms:+number (Kannel
// sendsms) reach the SMSC as SMs with the WAP push UDH whose WSP push
// carries a package 0 the device's server credentials verify.
func TestE2E_KannelPushReachesAgentAndServeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds omadm and omadm-agent and runs Kannel")
	}
	if why := kannel.Available(kannel.Options{PPG: true, SMSBox: true, FakeSMSC: true}); why != "" && os.Getenv(kannel.RequireEnv) != "1" {
		t.Skipf("kannel: %s", why) // before building anything
	}
	serveBin, agentBin := buildOmadm(t), buildAgent(t)
	g := kannel.Start(t, kannel.Options{PPG: true, SMSBox: true, FakeSMSC: true})
	pwFile := filepath.Join(t.TempDir(), "kannel-password")
	if err := os.WriteFile(pwFile, []byte(g.SendSMSPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const serverID = "omadm-kannel-e2e"
	srv := startServe(t, serveBin, t.TempDir(), "--server-id", serverID, "--ppg-url", g.PPGURL, "--ppg-domain", "ppg.test",
		"--kannel-sendsms", g.SendSMSURL, "--kannel-user", g.SendSMSUser, "--kannel-password-file", pwFile, "--kannel-from", "4242")
	if !strings.Contains(srv.logs(), "WAP push through the PPG") || !strings.Contains(srv.logs(), "Kannel sendsms") {
		t.Errorf("serve does not log its gateway senders:\n%s", srv.logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := srv.api()
	const devID, srvPW = "IMEI:490154203237518", "srv-Secret-1"
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: devID, Auth: "md5", Username: "dev", Password: "dev-Secret-1",
		ServerPassword: srvPW, NotifyAddr: "wappush-ip:127.0.0.1"}); err != nil {
		t.Fatal(err)
	}

	agent := &agentProcess{}
	listening := agent.on(`listening for package 0" addr=(\S+)`)
	verified := agent.on(`package 0 verified; session queued.* session=(\w+)`)
	ended := agent.on(`msg="DM session (\w+)"`)
	agent.start(t, agentBin, "--state", t.TempDir(), "--server", srv.url+"/dm", "--server-id", serverID, "--device-id", devID,
		"--username", "dev", "--password", "dev-Secret-1", "--server-password", srvPW,
		"--notify-listen", "udp://127.0.0.1:2948", "--log-level", "debug")
	if addr := within(t, "agent listening", listening, 30*time.Second, agent.logs); addr != "127.0.0.1:2948" {
		t.Fatalf("agent listens on %s", addr)
	}

	// IP bearer: the whole way to a DM session.
	res, err := c.Notify(ctx, devID)
	if err != nil {
		t.Fatalf("notify through the PPG: %v\n%s", err, srv.logs())
	}
	if !res.Sent || res.Addr != "wappush-ip:127.0.0.1" {
		t.Fatalf("notify result %+v", res)
	}
	sid := within(t, "package 0 verified by the agent", verified, time.Minute, func() string { return agent.logs() + g.Logs() })
	if state := within(t, "DM session", ended, time.Minute, agent.logs); state != "completed" {
		t.Fatalf("notified session %s ended %q", sid, state)
	}
	waitSessionEvent(ctx, t, srv, devID, sid)

	// SMS bearers: through the PPG (wappush:) and through sendsms (sms:).
	for _, addr := range []string{"wappush:+15551234567", "sms:+15557654321"} {
		if _, err := c.UpdateDevice(ctx, devID, api.DeviceUpdate{NotifyAddr: &addr}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Notify(ctx, devID); err != nil {
			t.Fatalf("notify %s: %v\n%s", addr, err, srv.logs())
		}
		m := g.NextSMS(time.Minute)
		if want := strings.SplitN(addr, ":", 2)[1]; m.To != want {
			t.Errorf("%s: SM to %q", addr, m.To)
		}
		if string(m.UDH) != "\x06\x05\x04\x0b\x84\x23\xf0" {
			t.Errorf("%s: UDH % X", addr, m.UDH)
		}
		e, err := notification.Unwrap(notification.BearerSMS, m.UserData())
		if err != nil {
			t.Fatalf("%s: %v\n%s", addr, err, m.Line)
		}
		if e.Package.ServerID != serverID || e.Package.Initiator != notification.InitiatorServer {
			t.Errorf("%s: package 0 %+v", addr, e.Package)
		}
		t.Logf("%s: UDH % X, WSP headers % X, package 0 of %d bytes", addr, m.UDH, e.Push.Headers, len(e.Push.Body))
	}
}

// waitSessionEvent waits until the server has recorded a session of the
// device with the SessionID the package 0 carried. The server process gives
// no signal but its API, so this asks on a ticker; the bound only stops a
// hang.
func waitSessionEvent(ctx context.Context, t *testing.T, srv *serveProcess, devID, sid string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		evs, err := srv.api().Events(ctx, devID, 0, 100)
		if err == nil {
			for _, e := range evs.Events {
				if e.Session == sid && e.Kind != "notification" {
					return
				}
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no session %s of %s recorded by the server: %v %+v\n%s", sid, devID, err, evs, srv.logs())
		}
	}
}
