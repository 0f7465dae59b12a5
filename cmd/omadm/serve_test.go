package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
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
	c := client.New(rs.URL, rs.Token)
	ctx := context.Background()
	if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
		t.Fatalf("health: %+v %v", h, err)
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
	jl, err := client.New(rs2.URL, token).ListJobs(ctx, "d1", client.JobQuery{})
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
	if _, err := client.New(rs.URL, "from-env").ListDevices(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
}

func TestServe_ShutdownEndsEventStreamsPromptly(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	rs := startTestServer(t, t.TempDir(), io.Discard)
	req, _ := http.NewRequest("GET", rs.URL+"/api/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+rs.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := rs.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %s with an open stream", d)
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
		{"busy port", serveConfig{Listen: "256.0.0.1:1"}, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.DataDir = t.TempDir()
			if tc.cfg.Listen == "" {
				tc.cfg.Listen = "127.0.0.1:0"
			}
			if tc.cfg.LogLevel == "" {
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
