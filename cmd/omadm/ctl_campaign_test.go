package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/transport/dmhttp"
)

// simFleet starts n simulated devices (with FUMO and LAWMO) listening for
// package 0 and enrols them in st.
func simFleet(t *testing.T, url string, st storage.Store, n int) *sim.Fleet {
	t.Helper()
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := sim.New(sim.Options{ServerURL: url + "/dm", ServerID: server.DefaultServerID, Devices: n, Transport: tp,
		NotifyListen: "127.0.0.1:0", StateDir: t.TempDir(), Retry: client.RetryPolicy{Attempts: 2, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = f.Enroll(context.Background(), sim.EnrollerFunc(func(ctx context.Context, e sim.Enrolment) error {
		return st.CreateDevice(ctx, &storage.Device{ID: e.DeviceID, AuthScheme: e.Auth, Username: e.Username, Password: e.Password,
			ServerPassword: e.ServerPassword, NotifyAddr: e.NotifyAddr})
	}), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A FUMO campaign over simulated devices, driven by the server's
// scheduler, followed by `ctl campaign create --wait` to its end: every
// device is notified (package 0), takes the Sequence of the PkgURL Replace
// and the DownloadAndUpdate Exec, answers 202 and reports its result in a
// 1226 generic alert (OMA-TS-DM-FUMO-V1_0), which ends its operation.
func TestCtl_CampaignRollsFUMOOutToSimulatedDevicesInWaves(t *testing.T) {
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler), CampaignInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	f := simFleet(t, rs.URL, rs.Store, 12)
	out, stderr, err := runCtl(t, rs.URL, "campaign", "create", "--name", "fw-2", "--mo", "fumo", "--param", "pkg_url=http://fw.example/v2.bin",
		"--all", "--waves", "25%,50%", "--max-in-flight", "4", "--notify-rate", "200", "--max-failures", "0", "--wait", "120s")
	if err != nil {
		t.Fatalf("campaign create --wait: %v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "completed") {
		t.Fatalf("output does not show the campaign completed:\n%s", out)
	}
	out, _, err = runCtl(t, rs.URL, "campaign", "get", "1", "-o", "json")
	var c api.Campaign
	if err != nil || json.Unmarshal([]byte(out), &c) != nil {
		t.Fatalf("campaign get: %v\n%s", err, out)
	}
	if c.State != "completed" || c.Counts["succeeded"] != 12 || c.Done != 12 || len(c.Waves) != 3 {
		t.Fatalf("campaign %+v", c)
	}
	for _, d := range f.Devices() {
		if d.Updates() != 1 {
			t.Fatalf("device %s installed %d packages, want 1", d.ID(), d.Updates())
		}
	}
	out, _, err = runCtl(t, rs.URL, "campaign", "devices", "1", "--state", "succeeded", "-o", "json")
	var ds []api.CampaignDevice
	if err != nil || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 12 || ds[0].Operation == 0 || ds[0].Notifies != 1 {
		t.Fatalf("campaign devices: %v\n%s", err, out)
	}
}

// A LAWMO lock campaign over simulated devices; pause, resume and cancel
// through ctl; an unknown flag value is refused before any request.
func TestCtl_CampaignSteering(t *testing.T) {
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler), CampaignInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	f := simFleet(t, rs.URL, rs.Store, 3)
	out, _, err := runCtl(t, rs.URL, "campaign", "create", "--mo", "lawmo", "--operation", "lock", "--all", "--paused", "-o", "json")
	var c api.Campaign
	if err != nil || json.Unmarshal([]byte(out), &c) != nil || c.State != "paused" {
		t.Fatalf("create paused: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, rs.URL, "campaign", "pause", "1"); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("pausing a paused campaign: %v", err)
	}
	if out, _, err := runCtl(t, rs.URL, "campaign", "resume", "1", "--wait", "120s"); err != nil {
		t.Fatalf("resume --wait: %v\n%s", err, out)
	}
	for _, d := range f.Devices() {
		if d.LockState() != 10 {
			t.Fatalf("device %s lock state %d, want fully locked (10)", d.ID(), d.LockState())
		}
	}
	_, _, err = runCtl(t, rs.URL, "campaign", "cancel", "1")
	var ee *exitError
	if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), "completed") {
		t.Fatalf("cancelling a completed campaign: %v", err)
	}
	out, _, err = runCtl(t, rs.URL, "campaign", "list")
	if err != nil || !strings.Contains(out, "completed") || !strings.Contains(out, "lawmo") {
		t.Fatalf("campaign list: %v\n%s", err, out)
	}
}

// A campaign wait whose event stream falls behind on the server opens the
// stream again and reads the campaign's state, rather than failing: a
// 2,000-device rollout made the server drop the stream mid-wave.
func TestCtl_CampaignWaitSurvivesALaggedStream(t *testing.T) {
	var streams, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/events/stream":
			n := streams.Add(1) // before the client can see the stream open
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			if n == 1 {
				_, _ = io.WriteString(w, "event: lagged\ndata: {\"error\":\"behind\"}\n\n")
				return
			}
			<-r.Context().Done()
		case "/api/v1/campaigns/1":
			c := api.Campaign{ID: 1, State: "running", Total: 2, Waves: []int{2}, Wave: 1, Counts: map[string]int{"succeeded": 1}, Done: 1}
			gets.Add(1)
			// Completed once the stream was reopened. The client reads the
			// campaign after each opening, unless the lagged event beats
			// that read (then the first opening has no read of its own).
			if streams.Load() > 1 {
				c.State, c.Counts, c.Done = "completed", map[string]int{"succeeded": 2}, 2
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(c)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	out, stderr, err := runCtl(t, srv.URL, "campaign", "get", "1", "--wait", "120s")
	if err != nil {
		t.Fatalf("wait failed: %v\n%s%s", err, out, stderr)
	}
	if !strings.Contains(out, "completed") || streams.Load() != 2 || gets.Load() == 0 {
		t.Fatalf("after %d streams and %d reads: %s", streams.Load(), gets.Load(), out)
	}
}
