package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/transport/dmhttp"
	"github.com/spf13/cobra"
)

// startTestServer starts the full server on 127.0.0.1:0 in dir.
func startTestServer(t *testing.T, dir string, logs io.Writer) *runningServer {
	t.Helper()
	rs, err := startServer(context.Background(), serveConfig{
		Listen: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestServe_StartsZeroConfigAndReusesItsToken(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	dir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	rs := startTestServer(t, dir, &logs)
	fi, err := os.Stat(filepath.Join(dir, tokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "omadm.db")); err != nil {
		t.Fatalf("sqlite database: %v", err)
	}
	if !strings.Contains(logs.String(), "msg=ready") || !strings.Contains(logs.String(), rs.URL+"/dm") {
		t.Fatalf("no ready line with URLs:\n%s", logs.String())
	}
	c := apiclient.New(rs.URL, rs.Token)
	ctx := context.Background()
	if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("health: %+v %v", h, err)
	}
	if h, err := c.Ready(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("ready on a migrated database: %+v %v", h, err)
	}
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: "d1", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateJob(ctx, "d1", api.JobRequest{Command: "Get", Items: []api.JobItem{{URI: "./DevInfo/Mod"}}}); err != nil {
		t.Fatal(err)
	}
	// Metrics carry the engine collectors and Go runtime metrics.
	resp, err := http.Get(rs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("go_goroutines")) || !bytes.Contains(body, []byte("omadm_")) {
		t.Fatalf("metrics: %d\n%.2000s", resp.StatusCode, body)
	}
	// The labelled series: jobs by state (the job above is queued),
	// sessions by result and storage time by kind, at 0 before any session.
	for _, want := range []string{`omadm_server_jobs{state="queued"} 1`, `omadm_server_sessions_ended_total{result="completed"} 0`,
		`omadm_server_store_seconds_count{op="read_message"} 0`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The device endpoint is mounted: it refuses a GET.
	resp, err = http.Get(rs.URL + "/dm")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /dm: %d", resp.StatusCode)
	}
	// The console is mounted and the root redirects to it.
	resp, err = http.Get(rs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/ui/" {
		t.Fatalf("GET /: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	token := rs.Token
	if err := rs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Restart on the same directory: same token, nothing lost.
	rs2 := startTestServer(t, dir, io.Discard)
	defer rs2.Shutdown(ctx)
	if rs2.Token != token {
		t.Fatal("token changed across restarts")
	}
	jl, err := apiclient.New(rs2.URL, token).ListJobs(ctx, "d1", apiclient.JobQuery{})
	if err != nil || len(jl.Jobs) != 1 || jl.Jobs[0].State != "queued" {
		t.Fatalf("jobs after restart: %+v %v", jl, err)
	}
}

func TestServe_TokenFromEnvironmentIsNotWritten(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "from-env")
	dir := t.TempDir()
	rs := startTestServer(t, dir, io.Discard)
	defer rs.Shutdown(context.Background())
	if rs.Token != "from-env" || rs.TokenFile != "" {
		t.Fatalf("token %q file %q", rs.Token, rs.TokenFile)
	}
	if _, err := os.Stat(filepath.Join(dir, tokenFileName)); !os.IsNotExist(err) {
		t.Fatalf("token file written: %v", err)
	}
	if _, err := apiclient.New(rs.URL, "from-env").ListDevices(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
}

func TestServe_ShutdownEndsOpenEventStreamsCleanly(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	rs := startTestServer(t, t.TempDir(), io.Discard)
	req, _ := http.NewRequest("GET", rs.URL+"/api/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+rs.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	// Shutdown ends the open stream itself instead of waiting for the
	// client: the stream's handler returns and the response ends cleanly. A
	// stream left open would be cut when the shutdown timeout runs out,
	// which the client sees as an unexpected EOF, not a clean end.
	if err := rs.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestServe_RejectsBadConfiguration(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "x")
	for _, tc := range []struct {
		name string
		cfg  serveConfig
		msg  string
	}{
		{"tls cert without key", serveConfig{TLSCert: "c.pem"}, "go together"},
		{"missing cert files", serveConfig{TLSCert: "nope.pem", TLSKey: "nope.key"}, "TLS certificate"},
		{"unknown db", serveConfig{DB: "mysql://x"}, "postgres://"},
		{"bad log level", serveConfig{LogLevel: "loud"}, "log-level"},
		{"bad log format", serveConfig{LogFormat: "xml"}, "log-format"},
		{"busy port", serveConfig{Listen: "256.0.0.1:1"}, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.DataDir = t.TempDir()
			if tc.cfg.Listen == "" {
				tc.cfg.Listen = "127.0.0.1:0"
			}
			if tc.cfg.LogLevel == "" && tc.cfg.LogFormat == "" {
				tc.cfg.Logger = slog.New(slog.DiscardHandler)
			}
			rs, err := startServer(context.Background(), tc.cfg)
			if err == nil {
				rs.Shutdown(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// shutdownDevice is a device whose HTTP transport sends every request to the
// current server (whatever host the URL names), on a fresh connection each,
// and can hold back one message so it only reaches the server after a
// shutdown began.
type shutdownDevice struct {
	mu      sync.Mutex
	host    string        // current server host:port
	n       int           // POSTs so far
	holdOn  int           // 1-based POST held back (0 = none)
	held    chan struct{} // closed when that POST is ready but unsent
	release chan struct{} // closing it sends it
	tr      *http.Transport
}

func newShutdownDevice() *shutdownDevice {
	return &shutdownDevice{held: make(chan struct{}), release: make(chan struct{}),
		tr: &http.Transport{DisableKeepAlives: true}}
}

func (s *shutdownDevice) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.n++
	n, host := s.n, s.host
	s.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = host, host
	if n == s.holdOn {
		close(s.held)
		select {
		case <-s.release:
		case <-time.After(20 * time.Second):
			return nil, errors.New("held message never released")
		}
	}
	return s.tr.RoundTrip(r)
}

func (s *shutdownDevice) point(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = strings.TrimPrefix(url, "http://")
}

// waitFor fails the test unless ch delivers within d.
func waitFor[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
	var zero T
	return zero
}

// TestServe_GracefulShutdownLosesNothingInFlight shuts the server down while a
// device's session is under way, then reopens the same data directory: a
// message being handled when the shutdown began is finished and answered with
// all its effects stored; one that arrives after is refused whole; a job the
// device never answered waits and is resent in the next session. Nothing is
// stored half-way, nothing is lost, nothing is applied twice.
func TestServe_GracefulShutdownLosesNothingInFlight(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	tests := []struct {
		name string
		// holdOn delays the device's n-th message until the shutdown began.
		holdOn int
		// blockOn holds the server's handler (inside the request, after the
		// message's commit and before its reply) when it stores the job in
		// this state, and starts the shutdown there.
		blockOn storage.JobState
		// afterRestart is the job's state on reopening the directory.
		afterRestart storage.JobState
		sessionOK    bool // the interrupted session still completes
	}{
		{name: "package 1 arriving after shutdown began is refused, the job waits", holdOn: 1,
			afterRestart: storage.JobQueued},
		{name: "package 1 in the handler is answered, the unanswered job is resent", blockOn: storage.JobSent,
			afterRestart: storage.JobSent},
		{name: "statuses in the handler are stored, the job is done", blockOn: storage.JobDone,
			afterRestart: storage.JobDone, sessionOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			logs := &lockedBuffer{}
			inHandler, unblock := make(chan struct{}), make(chan struct{})
			var once sync.Once
			rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: dir, ShutdownTimeout: 20 * time.Second,
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Engine: server.Options{OnEvent: func(u server.Update) {
					if tc.blockOn == "" || u.Kind != "job" || u.State != tc.blockOn {
						return
					}
					once.Do(func() {
						close(inHandler)
						select {
						case <-unblock:
						case <-time.After(20 * time.Second):
						}
					})
				}},
			})
			if err != nil {
				t.Fatal(err)
			}

			sd := newShutdownDevice()
			sd.holdOn = tc.holdOn
			sd.point(rs.URL)
			tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: &http.Client{Transport: sd}})
			if err != nil {
				t.Fatal(err)
			}
			id := sim.NewIdentity(7)
			dev, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("shutdown", id.DevID),
				ServerURL: rs.URL + "/dm", ServerID: server.DefaultServerID, Transport: tp,
				Retry: client.RetryPolicy{Attempts: 1, Timeout: 10 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			c := dev.Credentials()
			if err := rs.Store.CreateDevice(ctx, &storage.Device{ID: dev.ID(), AuthScheme: dev.Auth(), Username: c.Username,
				Password: c.Password, ServerPassword: c.ServerPassword}); err != nil {
				t.Fatal(err)
			}
			job := &storage.Job{DeviceID: dev.ID(), Spec: storage.JobSpec{Command: "Replace",
				Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "77"}}}}
			if err := rs.Store.CreateJob(ctx, job); err != nil {
				t.Fatal(err)
			}

			sessionEnd := make(chan error, 1)
			go func() {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				_, err := dev.Run(sctx)
				sessionEnd <- err
			}()
			if tc.holdOn > 0 {
				waitFor(t, sd.held, 10*time.Second, "the device's message to be ready")
			} else {
				waitFor(t, inHandler, 10*time.Second, "the server to be handling the message")
			}
			shutdownStarted := make(chan struct{})
			rs.srv.RegisterOnShutdown(func() { close(shutdownStarted) })
			shutdownEnd := make(chan error, 1)
			go func() { shutdownEnd <- rs.Shutdown(ctx) }()
			waitFor(t, shutdownStarted, 10*time.Second, "the shutdown to start")
			close(sd.release)
			close(unblock)
			if err := waitFor(t, shutdownEnd, 25*time.Second, "the shutdown to finish"); err != nil {
				t.Fatalf("shutdown: %v\n%s", err, logs.String())
			}
			sessErr := waitFor(t, sessionEnd, 25*time.Second, "the session to end")
			if (sessErr == nil) != tc.sessionOK {
				t.Fatalf("session error %v, want success = %v\n%s", sessErr, tc.sessionOK, logs.String())
			}
			if strings.Contains(logs.String(), "graceful shutdown incomplete") {
				t.Fatalf("a request was cut instead of drained:\n%s", logs.String())
			}

			rs2 := startTestServer(t, dir, io.Discard)
			defer rs2.Shutdown(ctx)
			j, err := rs2.Store.GetJob(ctx, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != tc.afterRestart {
				t.Fatalf("job after restart is %s/%d, want %s\n%s", j.State, j.Status, tc.afterRestart, logs.String())
			}
			if j.State != storage.JobDone {
				if j.Status != 0 || len(j.Results) != 0 || !j.DoneAt.IsZero() {
					t.Fatalf("%s job half-stored: status %d, %d results, done at %s", j.State, j.Status, len(j.Results), j.DoneAt)
				}
				// The next session, to the restarted server, sends it (again).
				sd.point(rs2.URL)
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if _, err := dev.Run(sctx); err != nil {
					t.Fatalf("session after restart: %v", err)
				}
				if j, err = rs2.Store.GetJob(ctx, job.ID); err != nil {
					t.Fatal(err)
				}
			}
			if j.State != storage.JobDone || j.Status != 200 || j.DoneAt.IsZero() {
				t.Fatalf("job ends %s/%d, want done/200", j.State, j.Status)
			}
			if v := dev.Value(sim.PollIntervalURI); v != "77" {
				t.Fatalf("device value %q, want 77", v)
			}
			// Applied once: no other job, and no second session left a job behind.
			jobs, err := rs2.Store.PendingJobs(ctx, dev.ID(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 0 {
				t.Fatalf("%d jobs still pending", len(jobs))
			}
		})
	}
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestServe_EventKeepFlag(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		want    time.Duration // server.Options.EventKeep
		wantErr string
	}{
		{"720h", 720 * time.Hour, ""},
		{"36h30m", 36*time.Hour + 30*time.Minute, ""},
		{"0", -1, ""}, // keep forever
		{"-1h", 0, "negative"},
		{"week", 0, "720h"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			var d time.Duration
			err := eventKeepFlag{&d}.Set(tc.arg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q) = %v, want an error mentioning %q", tc.arg, err, tc.wantErr)
				}
				return
			}
			if err != nil || d != tc.want {
				t.Fatalf("Set(%q) = %v, %v; want %v", tc.arg, d, err, tc.want)
			}
		})
	}
	var d time.Duration
	if s := (eventKeepFlag{&d}).String(); s != "720h0m0s" {
		t.Errorf("default shows %q", s)
	}
}

func TestServe_AuthFailureLimitFlags(t *testing.T) {
	var l server.AuthLimits
	cmd := &cobra.Command{Use: "x"}
	authLimitFlags(cmd, &l)
	if l.DeviceRate != server.DefaultAuthFailDeviceRate || l.AddrBurst != server.DefaultAuthFailAddrBurst {
		t.Fatalf("defaults %+v", l)
	}
	err := cmd.ParseFlags([]string{"--auth-fail-rate=0.5", "--auth-fail-burst=3", "--auth-fail-addr-rate=-1",
		"--auth-fail-addr-burst=7", "--auth-fail-log-every=1m", "--auth-fail-event-every=5m"})
	want := server.AuthLimits{DeviceRate: 0.5, DeviceBurst: 3, AddrRate: -1, AddrBurst: 7, LogEvery: time.Minute, EventEvery: 5 * time.Minute}
	if err != nil || l != want {
		t.Fatalf("parsed %+v, %v; want %+v", l, err, want)
	}
}
