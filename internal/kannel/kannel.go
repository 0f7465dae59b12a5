// Package kannel runs a real Kannel WAP/SMS gateway (bearerbox, wapbox with
// its Push Proxy Gateway, smsbox with a sendsms user, fakesmsc) on 127.0.0.1
// for tests. It is the one way tests start Kannel: wapbox and bearerbox use
// the fixed UDP ports 9200/9201 (WSP) and IP-bearer pushes go to the fixed
// device port 2948, so only one gateway can run on a machine at a time, and
// Start holds a cross-process lock (flock on a file in os.TempDir()) for the
// gateway's lifetime: test binaries running in parallel wait for each other.
//
// A test calls Start with the boxes it needs; the gateway is stopped (by PID:
// SIGTERM, then SIGKILL) in t.Cleanup, and its logs are shown when the test
// failed. When Kannel is not installed the test is skipped, or fails when
// OMADM_REQUIRE_GATEWAYS=1.
package kannel

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of the Kannel programs (Debian packages kannel and kannel-extras).
const (
	BearerboxPath = "/usr/sbin/bearerbox"
	WapboxPath    = "/usr/sbin/wapbox"
	SmsboxPath    = "/usr/sbin/smsbox"
	FakeSMSCPath  = "/usr/lib/kannel/test/fakesmsc"
)

// Fixed ports: Kannel cannot be told to use others.
const (
	// WSPPort is connectionless WSP (UDP), WSPCOPort connection-oriented WSP
	// over WTP (UDP); bearerbox binds both on 127.0.0.1.
	WSPPort   = 9200
	WSPCOPort = 9201
	// PushPort is where the PPG sends IP-bearer pushes: UDP port 2948 of the
	// address in the PAP control document (WAP-235-PushOTA: connectionless
	// non-secure push port).
	PushPort = 2948
)

// WAPBackendHost is the host name wapbox maps to Options.WAPBackend: a WSP
// request for http://dm.kannel.test/x is fetched from <WAPBackend>/x.
const WAPBackendHost = "dm.kannel.test"

// RequireEnv, when "1", turns a missing Kannel into a test failure (CI).
const RequireEnv = "OMADM_REQUIRE_GATEWAYS"

// Options choose the boxes to run. Bearerbox always runs.
type Options struct {
	// WAPBox starts wapbox: WSP on UDP 9200/9201 forwarded to HTTP.
	WAPBox bool
	// PPG gives wapbox a Push Proxy Gateway group (implies WAPBox); its
	// URL is Gateway.PPGURL.
	PPG bool
	// PPGUser and PPGPassword, when set, make the PPG demand HTTP basic
	// authentication (trusted-pi = false and one wap-push-user).
	PPGUser, PPGPassword string
	// SMSBox starts smsbox with one sendsms user (Gateway.SendSMSURL,
	// SendSMSUser, SendSMSPassword).
	SMSBox bool
	// FakeSMSC starts fakesmsc connected to bearerbox's fake SMSC: each SMS
	// Kannel sends arrives on Gateway.SMS. Without it, SMS Kannel sends stay
	// queued in bearerbox.
	FakeSMSC bool
	// WAPBackend, when set, is the base URL of an HTTP server that wapbox
	// fetches for WSP requests to http://WAPBackendHost/… (a map-url).
	WAPBackend string
	// ExtraCore, ExtraWAPBox and ExtraSMSBox are raw configuration lines
	// appended to the core, wapbox and smsbox groups.
	ExtraCore, ExtraWAPBox, ExtraSMSBox string
	// LockWait bounds the wait for another process's gateway to stop
	// (default 10 minutes).
	LockWait time.Duration
	// StartWait bounds the wait for each box to come up (default 30 s).
	StartWait time.Duration
}

// Gateway is a running Kannel.
type Gateway struct {
	// Dir holds kannel.conf and the logs.
	Dir        string
	ConfigFile string

	AdminPort      int
	AdminPassword  string
	StatusPassword string
	// StatusURL answers bearerbox's plain-text status.
	StatusURL string

	// PPGURL is the PAP endpoint ("" without Options.PPG); PPGUser and
	// PPGPassword are Options' (empty: trusted, no authentication).
	PPGURL               string
	PPGUser, PPGPassword string

	// SendSMSURL is smsbox's /cgi-bin/sendsms ("" without Options.SMSBox).
	SendSMSURL                   string
	SendSMSUser, SendSMSPassword string

	// SMSCPort is the TCP port of bearerbox's fake SMSC.
	SMSCPort int
	// SMS carries each SMS fakesmsc receives, in order (nil without
	// Options.FakeSMSC). It is closed when fakesmsc exits.
	SMS <-chan SMS

	t     testing.TB
	procs []*proc // in start order; stopped in reverse
}

// SMS is one short message as fakesmsc printed it.
type SMS struct {
	N        int    // fakesmsc's count, from 1
	From, To string // sender and receiver numbers
	// UDH is the user data header (with its length octet) and Data the user
	// data after it, both decoded from the URL encoding fakesmsc prints;
	// for a text message UDH is nil and Data the text.
	UDH, Data []byte
	Text      bool   // sent as a text SMS
	Line      string // the line as printed, for messages in failures
}

// UserData is the SM's whole TP-UD: UDH then data.
func (m SMS) UserData() []byte {
	return append(append([]byte(nil), m.UDH...), m.Data...)
}

// Available reports why Kannel cannot run here ("" when it can).
func Available(o Options) string {
	need := []string{BearerboxPath}
	if o.WAPBox || o.PPG {
		need = append(need, WapboxPath)
	}
	if o.SMSBox {
		need = append(need, SmsboxPath)
	}
	if o.FakeSMSC {
		need = append(need, FakeSMSCPath)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s is missing (apt-get install kannel kannel-extras)", p)
		}
	}
	return ""
}

// Start writes a kannel.conf, takes the machine-wide lock and starts the
// boxes o asks for, waiting until each is up. It skips the test when Kannel
// is not installed (fails when OMADM_REQUIRE_GATEWAYS=1).
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	if o.PPG {
		o.WAPBox = true
	}
	if why := Available(o); why != "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("kannel: %s and %s=1", why, RequireEnv)
		}
		t.Skipf("kannel: %s", why)
	}
	if o.StartWait <= 0 {
		o.StartWait = 30 * time.Second
	}
	if o.LockWait <= 0 {
		o.LockWait = 10 * time.Minute
	}
	unlock, err := lockMachine(LockFile, o.LockWait)
	if err != nil {
		t.Fatalf("kannel: %v", err)
	}
	g := &Gateway{t: t, Dir: t.TempDir(), AdminPassword: "adminpw", StatusPassword: "statuspw"}
	// Cleanups run last-in first-out: the lock is released after the boxes
	// have stopped.
	t.Cleanup(unlock)
	t.Cleanup(g.stop)
	if err := g.start(o); err != nil {
		t.Fatalf("kannel: %v", err)
	}
	return g
}

func (g *Gateway) start(o Options) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	g.AdminPort, g.SMSCPort = ports[0], ports[3]
	smsboxPort, wapboxPort, ppgPort, sendsmsPort := ports[1], ports[2], ports[4], ports[5]
	g.StatusURL = fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", g.AdminPort, g.StatusPassword)
	if o.PPG {
		g.PPGURL = fmt.Sprintf("http://127.0.0.1:%d/wappush", ppgPort)
		g.PPGUser, g.PPGPassword = o.PPGUser, o.PPGPassword
	}
	if o.SMSBox {
		g.SendSMSURL = fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendsmsPort)
		g.SendSMSUser, g.SendSMSPassword = "tester", "testpw"
	}
	g.ConfigFile = filepath.Join(g.Dir, "kannel.conf")
	conf := g.config(o, smsboxPort, wapboxPort, ppgPort, sendsmsPort)
	if err := os.WriteFile(g.ConfigFile, []byte(conf), 0o600); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), o.StartWait)
	defer cancel()
	bb, err := g.spawn("bearerbox", BearerboxPath, "-v", "1", g.ConfigFile)
	if err != nil {
		return err
	}
	if err := g.waitStatus(ctx, bb, "bearerbox status page", func(string) bool { return true }); err != nil {
		return err
	}
	if o.WAPBox {
		// bearerbox's status page can answer before it listens for boxes;
		// wapbox started then exits ("Couldn't connect to the bearerbox").
		if err := g.waitTCP(ctx, bb, "bearerbox's wapbox port", wapboxPort); err != nil {
			return err
		}
		wb, err := g.spawn("wapbox", WapboxPath, "-v", "1", g.ConfigFile)
		if err != nil {
			return err
		}
		if err := g.waitStatus(ctx, wb, "wapbox connected", func(s string) bool { return strings.Contains(s, "wapbox, IP") }); err != nil {
			return err
		}
		if o.PPG {
			if err := g.waitTCP(ctx, wb, "PPG port", ppgPort); err != nil {
				return err
			}
		}
	}
	if o.SMSBox {
		if err := g.waitTCP(ctx, bb, "bearerbox's smsbox port", smsboxPort); err != nil {
			return err
		}
		sb, err := g.spawn("smsbox", SmsboxPath, "-v", "1", g.ConfigFile)
		if err != nil {
			return err
		}
		if err := g.waitStatus(ctx, sb, "smsbox connected", func(s string) bool { return strings.Contains(s, "smsbox:") }); err != nil {
			return err
		}
		if err := g.waitTCP(ctx, sb, "sendsms port", sendsmsPort); err != nil {
			return err
		}
	}
	if o.FakeSMSC {
		ch := make(chan SMS, 256)
		g.SMS = ch
		fs, err := g.spawnFakeSMSC(ch)
		if err != nil {
			return err
		}
		// The SMSC line reads "(online …" once fakesmsc has connected.
		if err := g.waitStatus(ctx, fs, "fakesmsc connected", func(s string) bool {
			return strings.Contains(s, fmt.Sprintf("FAKE:%d (online", g.SMSCPort))
		}); err != nil {
			return err
		}
	}
	return nil
}

// config is the generated kannel.conf.
func (g *Gateway) config(o Options, smsboxPort, wapboxPort, ppgPort, sendsmsPort int) string {
	var b strings.Builder
	logf := func(name string) string { return strconv.Quote(filepath.Join(g.Dir, name+".log")) }
	fmt.Fprintf(&b, `group = core
admin-port = %d
admin-interface = "127.0.0.1"
admin-password = %s
status-password = %s
admin-allow-ip = "127.0.0.1"
wapbox-port = %d
box-allow-ip = "127.0.0.1"
wdp-interface-name = "127.0.0.1"
udp-allow-ip = "127.0.0.1"
log-file = %s
log-level = 0
`, g.AdminPort, g.AdminPassword, g.StatusPassword, wapboxPort, logf("bearerbox-core"))
	// bearerbox needs an smsbox port (and group) to run an SMSC at all;
	// both are always configured, smsbox runs only when asked for.
	fmt.Fprintf(&b, "smsbox-port = %d\nsmsbox-interface = \"127.0.0.1\"\n", smsboxPort)
	if o.ExtraCore != "" {
		b.WriteString(strings.TrimRight(o.ExtraCore, "\n") + "\n")
	}
	fmt.Fprintf(&b, `
group = smsc
smsc = fake
smsc-id = FAKE
port = %d
connect-allow-ip = "127.0.0.1"
`, g.SMSCPort)
	// Likewise for the wapbox port and group.
	{
		fmt.Fprintf(&b, `
group = wapbox
bearerbox-host = 127.0.0.1
log-file = %s
log-level = 0
syslog-level = none
`, logf("wapbox-core"))
		b.WriteString(o.ExtraWAPBox + "\n")
		if o.WAPBackend != "" {
			fmt.Fprintf(&b, "\ngroup = wap-url-map\nname = \"omadm\"\nurl = %s\nmap-url = %s\n",
				strconv.Quote("http://"+WAPBackendHost+"/*"), strconv.Quote(strings.TrimSuffix(o.WAPBackend, "/")+"/*"))
		}
	}
	if o.PPG {
		trusted := o.PPGUser == ""
		fmt.Fprintf(&b, `
group = ppg
ppg-url = /wappush
ppg-port = %d
concurrent-pushes = 10
users = 10
trusted-pi = %t
ppg-allow-ip = "127.0.0.1"
`, ppgPort, trusted)
		if !trusted {
			fmt.Fprintf(&b, `
group = wap-push-user
wap-push-user = omadm
ppg-username = %s
ppg-password = %s
allow-ip = "127.0.0.1"
`, o.PPGUser, o.PPGPassword)
		}
	}
	{
		fmt.Fprintf(&b, `
group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = %d
sendsms-interface = "127.0.0.1"
log-file = %s
log-level = 0
%s

group = sendsms-user
username = %s
password = %s
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "no service"
`, sendsmsPort, logf("smsbox-core"), o.ExtraSMSBox, "tester", "testpw")
	}
	return b.String()
}

// proc is one started box.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string        // stdout+stderr file
	exited chan struct{} // closed once Wait returned
	err    error         // Wait's result, set before exited closes
	output sync.WaitGroup
}

func (g *Gateway) spawn(name, path string, args ...string) (*proc, error) {
	f, err := os.Create(filepath.Join(g.Dir, name+".out"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: f.Name(), exited: make(chan struct{})}
	g.procs = append(g.procs, p)
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// spawnFakeSMSC starts fakesmsc (sending nothing) and parses the messages it
// prints into ch.
func (g *Gateway) spawnFakeSMSC(ch chan<- SMS) (*proc, error) {
	f, err := os.Create(filepath.Join(g.Dir, "fakesmsc.out"))
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	// -m 0: send no messages, only print those received.
	cmd := exec.Command(FakeSMSCPath, "-H", "127.0.0.1", "-r", strconv.Itoa(g.SMSCPort), "-m", "0", "100 200 text unused")
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = io.MultiWriter(f, pw), io.MultiWriter(f, pw)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start fakesmsc: %w", err)
	}
	p := &proc{name: "fakesmsc", cmd: cmd, log: f.Name(), exited: make(chan struct{})}
	g.procs = append(g.procs, p)
	p.output.Add(1)
	go func() {
		defer p.output.Done()
		defer close(ch)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m, ok := ParseFakeSMSCLine(sc.Text()); ok {
				select {
				case ch <- m:
				case <-p.exited:
					return
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

// ParseFakeSMSCLine parses a fakesmsc "Got message N: <…>" line. Inside the
// angle brackets is the line bearerbox's fake SMSC wrote: sender, receiver,
// then "text <text>", "data <url-encoded>" or "udh <url-encoded> [data]
// <url-encoded>".
func ParseFakeSMSCLine(line string) (SMS, bool) {
	const mark = "Got message "
	i := strings.Index(line, mark)
	if i < 0 || !strings.HasSuffix(line, ">") {
		return SMS{}, false
	}
	rest := line[i+len(mark):]
	num, body, ok := strings.Cut(rest, ": <")
	if !ok {
		return SMS{}, false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return SMS{}, false
	}
	body = strings.TrimSuffix(body, ">")
	f := strings.SplitN(body, " ", 4)
	if len(f) < 3 {
		return SMS{}, false
	}
	m := SMS{N: n, From: f[0], To: f[1], Line: line}
	arg := ""
	if len(f) == 4 {
		arg = f[3]
	}
	switch f[2] {
	case "text":
		m.Text, m.Data = true, []byte(arg)
	case "data":
		d, err := url.QueryUnescape(arg)
		if err != nil {
			return SMS{}, false
		}
		m.Data = []byte(d)
	case "udh":
		udh, data, ok := strings.Cut(arg, " ")
		if !ok {
			return SMS{}, false
		}
		data = strings.TrimPrefix(data, "data ")
		u, err1 := url.QueryUnescape(udh)
		d, err2 := url.QueryUnescape(data)
		if err1 != nil || err2 != nil {
			return SMS{}, false
		}
		m.UDH, m.Data = []byte(u), []byte(d)
	default:
		return SMS{}, false
	}
	return m, true
}

// Status fetches bearerbox's plain-text status page.
func (g *Gateway) Status(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.StatusURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status page: %s", resp.Status)
	}
	return string(b), nil
}

// pollEvery is the retry period of waits for an external process.
const pollEvery = 20 * time.Millisecond

// waitStatus waits until bearerbox's status page satisfies ok. Kannel has no
// readiness signal to wait on, so this is a bounded retry of the HTTP GET on
// a ticker; it ends early when the box p exits.
func (g *Gateway) waitStatus(ctx context.Context, p *proc, what string, ok func(string) bool) error {
	return g.waitFor(ctx, p, what, func() bool {
		c, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		s, err := g.Status(c)
		return err == nil && ok(s)
	})
}

// waitTCP waits until 127.0.0.1:port accepts a connection: like waitStatus,
// a bounded retry, the only way to see an external process listening.
func (g *Gateway) waitTCP(ctx context.Context, p *proc, what string, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return g.waitFor(ctx, p, what, func() bool {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

func (g *Gateway) waitFor(ctx context.Context, p *proc, what string, check func() bool) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if check() {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("waiting for %s: %s exited (%v)%s", what, p.name, p.err, g.portHint())
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// portHint names a likely cause when a box dies at start: another Kannel
// (the system's, started by its init script) holding the fixed ports.
func (g *Gateway) portHint() string {
	c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(WSPPort)))
	if err != nil {
		return fmt.Sprintf("; UDP port %d is taken: is a system Kannel running (/etc/init.d/kannel stop)?", WSPPort)
	}
	c.Close()
	return ""
}

// stopWait bounds the wait for a box to exit after SIGTERM, then SIGKILL.
const stopWait = 10 * time.Second

// stop signals every box by PID, newest first, and shows the logs when the
// test failed.
func (g *Gateway) stop() {
	for i := len(g.procs) - 1; i >= 0; i-- {
		p := g.procs[i]
		select {
		case <-p.exited:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopWait):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		p.output.Wait()
	}
	if g.t.Failed() {
		g.t.Logf("kannel logs (%s):\n%s", g.Dir, g.Logs())
	}
}

// logTail is how much of each log Logs shows.
const logTail = 16 << 10

// Logs returns the tail of every box's log and console output.
func (g *Gateway) Logs() string {
	var b strings.Builder
	names, _ := filepath.Glob(filepath.Join(g.Dir, "*.log"))
	outs, _ := filepath.Glob(filepath.Join(g.Dir, "*.out"))
	for _, n := range append(names, outs...) {
		data, err := os.ReadFile(n)
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > logTail {
			data = append([]byte("…"), data[len(data)-logTail:]...)
		}
		fmt.Fprintf(&b, "==== %s ====\n%s\n", filepath.Base(n), data)
	}
	return b.String()
}

// NextSMS waits for the next SMS fakesmsc receives, failing the test after d
// (a bound on a hang, not an expectation of speed).
func (g *Gateway) NextSMS(d time.Duration) SMS {
	g.t.Helper()
	if g.SMS == nil {
		g.t.Fatal("kannel: NextSMS without Options.FakeSMSC")
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case m, ok := <-g.SMS:
		if !ok {
			g.t.Fatal("kannel: fakesmsc exited")
		}
		return m
	case <-timer.C:
		g.t.Fatalf("kannel: no SMS reached fakesmsc within %v", d)
	}
	return SMS{}
}

// freePorts picks n distinct free TCP ports on 127.0.0.1 (held open until
// all are chosen, so they differ).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
