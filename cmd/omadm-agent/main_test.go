package main

import (
	"bytes"
	"context"
	"io"
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

// dmServer answers every package with Status 212 (md5 server credential
// included) and Final, recording the alerts it saw.
type dmServer struct {
	mu     sync.Mutex
	alerts []syncml.AlertCode
	seen   chan syncml.AlertCode
	fail   bool
}

func (d *dmServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	b, _ := io.ReadAll(r.Body)
	m, enc, err := syncml.Decode(b, r.Header.Get("Content-Type"), nil)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	for _, c := range m.Body {
		if a, ok := c.(*syncml.Alert); ok {
			d.mu.Lock()
			d.alerts = append(d.alerts, a.Data)
			d.mu.Unlock()
			if d.seen != nil {
				d.seen <- a.Data
			}
		}
	}
	out := &syncml.Message{
		Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: m.Header.SessionID, MsgID: "1",
			Target: m.Header.Source, Source: m.Header.Target,
			Cred: auth.MakeCred(syncml.AuthMD5, "srv.test", "srvpw", nil)},
		Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: m.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 212}},
		Final: true,
	}
	body, _ := syncml.Encode(out, enc)
	w.Header().Set("Content-Type", enc.ContentType())
	_, _ = w.Write(body)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestAgent_OnceRunsOneSessionAndKeepsStateAcrossStarts(t *testing.T) {
	srv := &dmServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	state := t.TempDir()
	traceDir := t.TempDir()
	var out, errb syncBuf
	args := []string{"--state", state, "--server", ts.URL + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--encoding", "wbxml",
		"--trace", traceDir, "--once"}
	if code := run(context.Background(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "completed") {
		t.Fatalf("stdout = %q", out.String())
	}
	for _, pat := range []string{"*-sent.wbxml", "*-received.wbxml", "*-sent.decoded.xml", "*-received.decoded.xml"} {
		if m, _ := filepath.Glob(filepath.Join(traceDir, pat)); len(m) != 1 {
			t.Fatalf("trace files %s: %v", pat, m)
		}
	}
	// Second start: account and DevId come from the state directory.
	out = syncBuf{}
	if code := run(context.Background(), []string{"--state", state, "--once"}, nil, &out, &errb); code != 0 {
		t.Fatalf("second start exit %d\n%s", code, errb.String())
	}
	if len(srv.alerts) != 2 || srv.alerts[0] != syncml.AlertClientInitiatedMgmt {
		t.Fatalf("server saw alerts %v", srv.alerts)
	}
	if !regexp.MustCompile(`DM session completed`).MatchString(errb.String()) {
		t.Fatalf("no session log line:\n%s", errb.String())
	}
	srv.fail = true
	errb = syncBuf{}
	args = []string{"--state", state, "--once", "--retries", "2", "--retry-backoff", "1ms", "--timeout", "5s"}
	if code := run(context.Background(), args, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "503") || !strings.Contains(errb.String(), "after 3 attempts") {
		t.Fatalf("failing server: exit %d\n%s", code, errb.String())
	}
}

func TestAgent_BadUsageExitsWith2(t *testing.T) {
	for _, args := range [][]string{{}, {"--state", t.TempDir()}, {"--state", t.TempDir(), "--once", "extra"},
		{"--state", t.TempDir(), "--once", "--retries", "-1"}, {"--state", t.TempDir(), "--once", "--timeout", "0s"},
		{"--state", t.TempDir(), "--once", "--download-stall-timeout", "0s"}, {"--state", t.TempDir(), "--once", "--download-connect-timeout", "-1s"},
		{"--state", t.TempDir(), "--once", "--session-timeout", "0s"}, {"--state", t.TempDir(), "--once", "--max-messages", "0"}} {
		var e syncBuf
		if code := run(context.Background(), args, nil, io.Discard, &e); code != 2 {
			t.Fatalf("%v: exit %d", args, code)
		}
	}
}

func TestAgent_DaemonStartsASessionOnPackage0AndStopsCleanly(t *testing.T) {
	srv := &dmServer{seen: make(chan syncml.AlertCode, 4)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	d := startDaemon(t, t.TempDir(), ts.URL)
	p := &notification.Package0{Initiator: notification.InitiatorServer, SessionID: 0x2a, ServerID: "srv.test"}
	raw, err := p.Encode("srvpw", nil)
	if err != nil {
		t.Fatal(err)
	}
	push, _ := notification.Wrap(notification.BearerWSP, raw, 1, nil)
	d.send(push[0])
	select {
	case a := <-srv.seen:
		if a != syncml.AlertServerInitiatedMgmt {
			t.Fatalf("first alert %d", a)
		}
	case <-time.After(5 * time.Second): // bounds a hang only
		t.Fatalf("no session after package 0:\n%s", d.stderr.String())
	}
	d.stop()
}

func TestAgent_BootstrapFileSetsUpTheAccount(t *testing.T) {
	srv := &dmServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tnds, err := os.ReadFile("testdata/bootstrap.tnds.xml")
	if err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(t.TempDir(), "boot.xml")
	if err := os.WriteFile(boot, bytes.ReplaceAll(tnds, []byte("SERVER_URL"), []byte(ts.URL+"/dm")), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb syncBuf
	args := []string{"--state", t.TempDir(), "--device-id", "IMEI:9", "--bootstrap", boot, "--once"}
	if code := run(context.Background(), args, nil, io.Discard, &errb); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if len(srv.alerts) != 1 {
		t.Fatalf("server saw %v", srv.alerts)
	}
}

func TestAgent_BootstrapMessageIsVerifiedByItsMAC(t *testing.T) {
	srv := &dmServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tnds, err := os.ReadFile("testdata/bootstrap.tnds.xml")
	if err != nil {
		t.Fatal(err)
	}
	tnds = bytes.ReplaceAll(tnds, []byte("SERVER_URL"), []byte(ts.URL+"/dm"))
	msg := &syncml.Message{
		Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: "0", MsgID: "1",
			Target: syncml.Location{LocURI: "IMEI:9"}, Source: syncml.Location{LocURI: "srv.test"}},
		Body: []syncml.Command{&syncml.Add{CmdID: "1", Meta: &syncml.Meta{Type: syncml.TypeTNDSXML, Format: "xml"},
			Items: []syncml.Item{{Target: &syncml.Location{LocURI: "."}, Data: &syncml.Data{Value: tnds}}}}},
		Final: true,
	}
	wbxml, err := syncml.Encode(msg, syncml.EncodingWBXML)
	if err != nil {
		t.Fatal(err)
	}
	xml, _ := syncml.Encode(msg, syncml.EncodingXML)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wfile, xfile := write("boot.wbxml", wbxml), write("boot.xml", xml)
	mac := auth.BootstrapMAC([]byte("1234"), wbxml)
	imsiKey, err := auth.IMSIKey("262011234567890")
	if err != nil {
		t.Fatal(err)
	}
	imsiMAC := auth.BootstrapMAC(imsiKey, wbxml)
	tests := []struct {
		name     string
		file     string
		sec      []string
		wantCode int
		wantErr  string
	}{
		{"valid USERPIN MAC", wfile, []string{"--bootstrap-sec", "USERPIN", "--bootstrap-mac", mac, "--bootstrap-key", "1234"}, 0, ""},
		{"wrong key", wfile, []string{"--bootstrap-sec", "USERPIN", "--bootstrap-mac", mac, "--bootstrap-key", "9999"}, 1, "MAC does not verify"},
		{"security on an XML message", xfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", mac, "--bootstrap-key", "1234"}, 1, "WBXML"},
		{"MAC without key", wfile, []string{"--bootstrap-mac", mac}, 2, "go together"},
		{"unsecured WBXML message", wfile, nil, 0, ""},
		{"valid NETWORKID MAC keyed by the IMSI", wfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", imsiMAC, "--bootstrap-imsi", "262011234567890"}, 0, ""},
		{"NETWORKID MAC of another IMSI", wfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", imsiMAC, "--bootstrap-imsi", "262011234567891"}, 1, "MAC does not verify"},
		{"IMSI as the raw key does not verify", wfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", imsiMAC, "--bootstrap-key", "262011234567890"}, 1, "MAC does not verify"},
		{"IMSI with USERPIN", wfile, []string{"--bootstrap-sec", "USERPIN", "--bootstrap-mac", imsiMAC, "--bootstrap-imsi", "262011234567890"}, 2, "NETWORKID only"},
		{"malformed IMSI", wfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", imsiMAC, "--bootstrap-imsi", "26201abc"}, 2, "digits only"},
		{"key and IMSI", wfile, []string{"--bootstrap-sec", "NETWORKID", "--bootstrap-mac", imsiMAC, "--bootstrap-key", "k", "--bootstrap-imsi", "262011234567890"}, 2, "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.alerts)
			var errb syncBuf
			args := append([]string{"--state", t.TempDir(), "--device-id", "IMEI:9", "--bootstrap", tc.file, "--once"}, tc.sec...)
			code := run(context.Background(), args, nil, io.Discard, &errb)
			if code != tc.wantCode || !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tc.wantCode, tc.wantErr, errb.String())
			}
			if ran := len(srv.alerts) > before; ran != (tc.wantCode == 0) {
				t.Fatalf("session ran = %v", ran)
			}
		})
	}
}

func TestAgent_RefusesBadAuthAndLogLevelEvenWithAnExistingAccount(t *testing.T) {
	srv := &dmServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	state := t.TempDir()
	var setup syncBuf
	if code := run(context.Background(), []string{"--state", state, "--server", ts.URL + "/dm", "--server-id", "srv.test",
		"--device-id", "IMEI:11", "--username", "dev", "--password", "pw", "--server-password", "srvpw", "--once"}, nil, io.Discard, &setup); code != 0 {
		t.Fatalf("set-up session: exit %d\n%s", code, setup.String())
	}
	sessions := len(srv.alerts)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown auth with the account already in the state", []string{"--auth", "kerberos"}, `--auth "kerberos": want basic, md5, hmac or none`},
		{"unknown auth with a new server", []string{"--auth", "sha1", "--server", ts.URL, "--server-id", "x"}, "want basic, md5, hmac or none"},
		{"unknown log level", []string{"--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{"negative poll", []string{"--poll", "-1s", "--once"}, "--poll"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e syncBuf
			args := append([]string{"--state", state, "--once"}, tc.args...)
			if code := run(context.Background(), args, nil, io.Discard, &e); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, e.String())
			}
			if !strings.Contains(e.String(), tc.want) {
				t.Fatalf("stderr %q does not say %q", e.String(), tc.want)
			}
			if len(srv.alerts) != sessions {
				t.Fatal("a session ran despite the bad flag")
			}
		})
	}
}

func TestAgent_PollChecksInRepeatedlyAndStopsCleanly(t *testing.T) {
	srv := &dmServer{seen: make(chan syncml.AlertCode, 16)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var errb syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--state", t.TempDir(), "--server", ts.URL + "/dm", "--server-id", "srv.test", "--device-id", "IMEI:8",
			"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--poll", "50ms"}, nil, io.Discard, &errb)
	}()
	deadline := time.After(10 * time.Second)
	for n := 0; n < 2; {
		select {
		case a := <-srv.seen:
			if a != syncml.AlertClientInitiatedMgmt {
				t.Fatalf("poll session opened with alert %d, want 1201", a)
			}
			n++
		case code := <-done:
			t.Fatalf("agent exited %d before two sessions\n%s", code, errb.String())
		case <-deadline:
			t.Fatalf("fewer than 2 poll sessions in 10s\n%s", errb.String())
		}
	}
	cancel()
	// The server may still be answering a third session: keep draining so it
	// never blocks while the agent stops.
	for {
		select {
		case <-srv.seen:
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			if !strings.Contains(errb.String(), "omadm-agent stopping") {
				t.Fatalf("no stop line:\n%s", errb.String())
			}
			return
		case <-time.After(5 * time.Second):
			t.Fatal("agent did not stop within 5s")
		}
	}
}
