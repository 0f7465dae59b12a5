package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSim_EnrolsThroughTheAPIAndPrintsAJSONSummary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: "t0k",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(context.Background())
	for _, enc := range []string{"xml", "wbxml"} {
		t.Run(enc, func(t *testing.T) {
			var out bytes.Buffer
			err := runSim(ctx, simConfig{server: rs.URL, token: "t0k", serverID: "omadm", devices: 25, concurrency: 4,
				sessions: 2, encoding: enc, auth: "hmac", secret: "s", enroll: true, json: true, quiet: true}, &out, io.Discard)
			if err != nil {
				t.Fatalf("sim: %v\n%s", err, out.String())
			}
			var sum simSummary
			if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
				t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
			}
			if sum.Result.Sessions != 50 || sum.Result.OK != 50 || sum.Result.Failed != 0 || sum.Result.P99ms <= 0 {
				t.Errorf("summary %+v", sum.Result)
			}
		})
	}
}

func TestSim_RejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		c    simConfig
		want string
	}{
		{"no server", simConfig{devices: 1, concurrency: 1, encoding: "xml", auth: "md5"}, "--server"},
		{"bad url", simConfig{server: "ftp://x", devices: 1, concurrency: 1, encoding: "xml", auth: "md5"}, "http(s) URL"},
		{"bad encoding", simConfig{server: "http://127.0.0.1:1", devices: 1, concurrency: 1, encoding: "json", auth: "md5"}, "--encoding"},
		{"bad auth", simConfig{server: "http://127.0.0.1:1", devices: 1, concurrency: 1, encoding: "xml", auth: "none"}, "--auth"},
		{"enrol without token", simConfig{server: "http://127.0.0.1:1", devices: 1, concurrency: 1, encoding: "xml", auth: "md5", enroll: true, quiet: true}, "--api-token"},
	}
	t.Setenv("OMADM_SERVER", "")
	t.Setenv("OMADM_API_TOKEN", "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := runSim(context.Background(), tc.c, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestBench_ShortRunReportsEveryPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run")
	}
	var out bytes.Buffer
	err := runBench(context.Background(), benchConfig{devices: 20, concurrency: 4, duration: 300 * time.Millisecond,
		encoding: "xml", auth: "md5", json: true}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Phases) != 3 || rep.RoundTripsPerS < 2 { // bare, sqlite/scripted, sqlite/engine
		t.Fatalf("report %+v", rep)
	}
	for _, ph := range rep.Phases {
		if ph.Sessions == 0 || ph.SessionsPS <= 0 || len(ph.Errors) != 0 {
			t.Errorf("phase %+v", ph)
		}
	}
	if rep.Phases[1].Ratio <= 0 {
		t.Errorf("no ratio: %+v", rep.Phases[1])
	}
}
