package browsertest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// demoServer is `omadm demo` running as a child process: the real server
// with simulated devices that answer notifications.
type demoServer struct {
	url        string // http://127.0.0.1:PORT
	token      string
	device     string // the device the demo scripted (it has a FUMO node)
	settingURI string // a writable int leaf of that device
	firmware   string // URL of the demo's firmware package
	log        string // the demo's stderr
}

var (
	setupOnce sync.Once
	setupErr  error
	skipMsg   string
	demo      *demoServer
	browser   context.Context // one Chromium for the whole package
	teardown  []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(teardown) - 1; i >= 0; i-- {
		teardown[i]()
	}
	os.Exit(code)
}

// env starts the demo and the browser once and gives each test a new tab,
// its context bounded so a hang ends the test instead of the run.
func env(t *testing.T) context.Context {
	t.Helper()
	setupOnce.Do(setup)
	if skipMsg != "" {
		t.Skip(skipMsg)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	tab, cancelTab := chromedp.NewContext(browser)
	// Every tab has a 1280×800 viewport: the size of the views'
	// screenshots (shot).
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 800)); err != nil { // opens the tab, tied to tab
		cancelTab()
		t.Fatalf("opening a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, scancel := context.WithTimeout(tab, 20*time.Second)
			shot(t, sctx, "failure")
			scancel()
			if b, err := os.ReadFile(demo.log); err == nil {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("omadm demo log (tail):\n%s", b)
			}
		}
		cancel()
		cancelTab()
	})
	return ctx
}

func chromiumPath() string {
	if p := os.Getenv("OMADM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func setup() {
	chrome := chromiumPath()
	if chrome == "" {
		skipMsg = "no Chromium found (install Debian's chromium, or set OMADM_CHROMIUM): browser tests skipped"
		return
	}
	dir, err := os.MkdirTemp("", "omadm-browsertest-")
	if err != nil {
		setupErr = err
		return
	}
	teardown = append(teardown, func() { os.RemoveAll(dir) })
	demo, setupErr = startDemo(dir)
	if setupErr != nil {
		return
	}
	profile := filepath.Join(dir, "chromium-profile")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b, cancelBrowser := chromedp.NewContext(alloc)
	teardown = append(teardown, cancelAlloc, cancelBrowser)
	// The first action on b starts the browser, tied to b for its lifetime
	// (a timeout context here would end the browser with it).
	if err := chromedp.Do(b); err != nil {
		setupErr = fmt.Errorf("starting %s: %w", chrome, err)
		return
	}
	browser = b
}

var (
	reToken   = regexp.MustCompile(`API token:\s+(\S+)`)
	reConsole = regexp.MustCompile(`Console:\s+(http://\S+)/ui/`)
	reFUMO    = regexp.MustCompile(`ctl fumo (\S+) (\S+)`)
	reReplace = regexp.MustCompile(`ctl replace \S+ (\S+) `)
)

// startDemo builds omadm, runs `omadm demo` on a free loopback port and
// reads what it prints until its ready line.
func startDemo(dir string) (*demoServer, error) {
	bin := filepath.Join(dir, "omadm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/omadm/omadm/cmd/omadm").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building omadm: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "demo", "--listen", addr, "--devices", "3", "--data", filepath.Join(dir, "data"), "--log-level", "info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads after the ready line
			}
		}
		io.Copy(io.Discard, stdout)
		close(lines)
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	teardown = append(teardown, func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	d := &demoServer{log: logf.Name()}
	var out strings.Builder
	deadline := time.After(3 * time.Minute) // bounds a hang only
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("omadm demo exited before it was ready:\n%s", out.String())
			}
			out.WriteString(line + "\n")
			if m := reToken.FindStringSubmatch(line); m != nil {
				d.token = m[1]
			}
			if m := reConsole.FindStringSubmatch(line); m != nil {
				d.url = m[1]
			}
			if m := reFUMO.FindStringSubmatch(line); m != nil {
				d.device, d.firmware = m[1], m[2]
			}
			if m := reReplace.FindStringSubmatch(line); m != nil {
				d.settingURI = m[1]
			}
			if strings.Contains(line, "omadm demo ready") {
				if d.token == "" || d.url == "" || d.device == "" || d.firmware == "" || d.settingURI == "" {
					return nil, fmt.Errorf("could not read the demo's URL, token, device, setting and firmware from:\n%s", out.String())
				}
				return d, nil
			}
		case <-deadline:
			return nil, fmt.Errorf("omadm demo not ready in time:\n%s", out.String())
		}
	}
}

// shot saves a PNG of the page under $OMADM_SCREENSHOTS (nothing when unset).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("OMADM_SCREENSHOTS")
	if dir == "" || ctx.Err() != nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot dir: %v", err)
		return
	}
	// A view's named shot is what the window shows (1280×800, small enough
	// to commit: scripts/screenshots.sh); a failure's is the whole page.
	shoot := chromedp.FullScreenshot(100)
	if strings.HasSuffix(name, ".png") {
		shoot = chromedp.CaptureScreenshot()
	}
	png, err := chromedp.Run(ctx, shoot)
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+name+".png")
	if strings.HasSuffix(name, ".png") {
		file = filepath.Join(dir, name)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
