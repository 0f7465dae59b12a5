package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// logWatch is the agent's stderr: it keeps everything and reports on a
// channel the last submatch of each watched pattern a write contains.
type logWatch struct {
	syncBuf
	mu      sync.Mutex
	watches []watch
}

type watch struct {
	re *regexp.Regexp
	ch chan string
}

func (w *logWatch) watch(pattern string) <-chan string {
	ch := make(chan string, 16)
	w.mu.Lock()
	w.watches = append(w.watches, watch{regexp.MustCompile(pattern), ch})
	w.mu.Unlock()
	return ch
}

func (w *logWatch) Write(p []byte) (int, error) {
	n, err := w.syncBuf.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.watches {
		if m := x.re.FindSubmatch(p); m != nil {
			select {
			case x.ch <- string(m[len(m)-1]):
			default:
			}
		}
	}
	return n, err
}

// sessionIDs is a DM server that ends every session at once with 212 and
// its credential under the reset nonce, and reports the SessionID of each
// package 1.
type sessionIDs struct{ ids chan string }

func (s *sessionIDs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m, enc, err := syncml.Decode(b, r.Header.Get("Content-Type"), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if m.Header.MsgID == "1" {
		s.ids <- m.Header.SessionID
	}
	out := &syncml.Message{
		Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: m.Header.SessionID, MsgID: "1",
			Target: m.Header.Source, Source: m.Header.Target,
			Cred: auth.MakeCred(syncml.AuthMD5, "srv.test", "srvpw", notification.ResetNonce)},
		Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: m.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 212}},
		Final: true,
	}
	body, _ := syncml.Encode(out, enc)
	w.Header().Set("Content-Type", enc.ContentType())
	_, _ = w.Write(body)
}

// daemonRun is one run of the agent as a daemon listening for package 0.
type daemonRun struct {
	t      *testing.T
	stderr *logWatch
	ended  <-chan string // a session's end state, from its log line
	cancel context.CancelFunc
	done   chan int
	conn   net.Conn
}

func startDaemon(t *testing.T, state, serverURL string, extra ...string) *daemonRun {
	t.Helper()
	d := &daemonRun{t: t, stderr: &logWatch{}, done: make(chan int, 1)}
	listening := d.stderr.watch(`listening for package 0" addr=(127\.0\.0\.1:\d+)`)
	d.ended = d.stderr.watch(`msg="DM session (\w+)"`)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		d.done <- run(ctx, append([]string{"--state", state, "--server", serverURL, "--server-id", "srv.test", "--device-id", "IMEI:7",
			"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--notify-listen", "udp://127.0.0.1:0"}, extra...), nil, io.Discard, d.stderr)
	}()
	select {
	case addr := <-listening:
		c, err := net.Dial("udp", addr)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		d.conn = c
	case code := <-d.done:
		cancel()
		t.Fatalf("agent exited %d\n%s", code, d.stderr.String())
	case <-time.After(10 * time.Second): // bounds a hang only
		cancel()
		t.Fatalf("listener never started:\n%s", d.stderr.String())
	}
	return d
}

func (d *daemonRun) send(b []byte) {
	d.t.Helper()
	if _, err := d.conn.Write(b); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemonRun) stop() string {
	d.t.Helper()
	d.cancel()
	d.conn.Close()
	select {
	case code := <-d.done:
		if code != 0 {
			d.t.Fatalf("exit %d\n%s", code, d.stderr.String())
		}
	case <-time.After(10 * time.Second): // bounds a hang only
		d.t.Fatal("agent did not stop")
	}
	return d.stderr.String()
}

func waitID(t *testing.T, ids <-chan string) string {
	t.Helper()
	select {
	case id := <-ids:
		return id
	case <-time.After(10 * time.Second): // bounds a hang only
		t.Fatal("no session")
	}
	return ""
}

// OMA-TS-DM_Notification-V1_2 §6.1 (nonce resynchronisation) and §6.2.2.10:
// a package 0 verified with the reset nonce verifies for ever, so the agent
// remembers it in its state directory; replayed to the restarted agent it
// starts no session and is counted in the summary line, not logged on its
// own.
func TestAgent_ReplayedPackage0AfterARestartStartsNoSession(t *testing.T) {
	srv := &sessionIDs{ids: make(chan string, 8)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	state := t.TempDir()
	pkg := func(sid uint16) []byte {
		raw, err := (&notification.Package0{Initiator: notification.InitiatorServer, SessionID: sid, ServerID: "srv.test"}).Encode("srvpw", notification.ResetNonce)
		if err != nil {
			t.Fatal(err)
		}
		return notification.EncodePush(1, raw)
	}
	d := startDaemon(t, state, ts.URL)
	d.send(pkg(0x2a))
	if id := waitID(t, srv.ids); id != "2A" {
		t.Fatalf("session %q, want 2A", id)
	}
	if st := waitID(t, d.ended); st != "completed" {
		t.Fatalf("session %s\n%s", st, d.stderr.String())
	}
	d.stop()
	if b, err := os.ReadFile(filepath.Join(state, servedFile)); err != nil || !strings.Contains(string(b), `"sid":42`) {
		t.Fatalf("replay memory %s (%v)", b, err)
	}

	d = startDaemon(t, state, ts.URL)
	d.send(pkg(0x2a)) // the replay
	d.send(pkg(0x2b)) // a new session, read after the replay
	if id := waitID(t, srv.ids); id != "2B" {
		t.Fatalf("session %q after the replay, want 2B", id)
	}
	logs := d.stop()
	if !regexp.MustCompile(`package 0 datagrams dropped.* replayed=1 coalesced=0`).MatchString(logs) {
		t.Fatalf("no summary counting the replay:\n%s", logs)
	}
	select {
	case id := <-srv.ids:
		t.Fatalf("extra session %q", id)
	default:
	}
}

// FuzzLoadServed: any replay memory file loads or is ignored, never
// panics, and what loads saves back to the same memory.
func FuzzLoadServed(f *testing.F) {
	f.Add([]byte(`[{"sid":42,"digest":"000102030405060708090a0b0c0d0e0f","at":"2026-01-02T03:04:05Z","reset":true}]`))
	f.Add([]byte(`[{"sid":1,"digest":"zz"}]`))
	f.Add([]byte(`{}`))
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, servedFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		got := loadServed(dir, log)
		saveServed(dir, log)(got)
		again := loadServed(dir, log)
		if len(again) != len(got) {
			t.Fatalf("%d entries load back as %d", len(got), len(again))
		}
		for i := range got {
			if got[i].SessionID != again[i].SessionID || got[i].Digest != again[i].Digest || got[i].Reset != again[i].Reset || !got[i].At.Equal(again[i].At) {
				t.Fatalf("entry %d: %+v loads back as %+v", i, got[i], again[i])
			}
		}
	})
}
