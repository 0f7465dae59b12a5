package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/transport/dmhttp"
)

// simSender delivers package 0 to simulated devices in this process
// ("sim:<device id>" addresses): the server's real notification (digest
// over the device's server credentials) without a UDP socket whose shared
// listener must try every device's key to find the addressee.
type simSender struct {
	ctx      context.Context
	fleet    *sim.Fleet
	sem      chan struct{}
	sessions atomic.Int64
	failed   atomic.Int64
}

func (s *simSender) Send(_ context.Context, addr string, pkg []byte) error {
	p, err := notification.Decode(pkg)
	if err != nil {
		return err
	}
	d := s.fleet.Device(strings.TrimPrefix(addr, "sim:"))
	if d == nil {
		return fmt.Errorf("no simulated device at %s", addr)
	}
	go func() {
		s.sem <- struct{}{}
		defer func() { <-s.sem }()
		if _, err := d.HandlePackage0(s.ctx, p); err != nil {
			s.failed.Add(1)
			return
		}
		s.sessions.Add(1)
	}()
	return nil
}

// liveHeap is the heap in use after two collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkCampaign_FUMOOverSim runs a FUMO DownloadAndUpdate campaign in
// an in-process `omadm serve` (SQLite) over simulated devices, in waves of
// 1%, 10% and 100% with a notification rate: each device is notified,
// runs the session that Replaces PkgURL and Execs DownloadAndUpdate (202),
// "downloads" and installs, and reports its result (1226) in a session of
// its own. It checks the accounting (every target succeeded, failed or
// timed out) and reports the campaign's duration and the devices'
// completion times (operation created → report stored).
//
// OMADM_BENCH_CAMPAIGN_DEVICES sets the fleet size (default 200),
// OMADM_BENCH_CAMPAIGN_RATE the package 0 per second (default 1000).
func BenchmarkCampaign_FUMOOverSim(b *testing.B) {
	n, rate := 200, 1000.0
	if v, err := strconv.Atoi(os.Getenv("OMADM_BENCH_CAMPAIGN_DEVICES")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("OMADM_BENCH_CAMPAIGN_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sender := &simSender{ctx: ctx, sem: make(chan struct{}, 64)}
	cfg := serveConfig{Listen: "127.0.0.1:0", DataDir: b.TempDir(), Token: ctlTestToken, Logger: slog.New(slog.DiscardHandler),
		CampaignInterval: 50 * time.Millisecond, OpSweep: 200 * time.Millisecond}
	cfg.Engine.Senders = map[string]notification.Sender{"sim": sender}
	rs, err := startServer(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Shutdown(context.Background())
	stateDir := b.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		// The devices' FUMO state files are fsynced: on tmpfs that is free.
		if stateDir, err = os.MkdirTemp("/dev/shm", "omadm-bench-"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(stateDir)
	}
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: simHTTPClient(128)})
	if err != nil {
		b.Fatal(err)
	}
	f, err := sim.New(sim.Options{ServerURL: rs.URL + "/dm", ServerID: server.DefaultServerID, Devices: n, Transport: tp,
		StateDir: stateDir, Concurrency: 64, Retry: client.RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond, Timeout: time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	sender.fleet = f
	err = f.Enroll(ctx, sim.EnrollerFunc(func(ctx context.Context, e sim.Enrolment) error {
		return rs.Store.CreateDevice(ctx, &storage.Device{ID: e.DeviceID, AuthScheme: e.Auth, Username: e.Username, Password: e.Password,
			ServerPassword: e.ServerPassword, NotifyAddr: "sim:" + e.DeviceID})
	}), 8, nil)
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for b.Loop() {
		start, cpu0 := time.Now(), procCPU()
		camp, err := rs.Campaigns.Create(ctx, &fleet.CampaignRequest{Name: "bench",
			Template: fleet.Template{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw.example/v2.bin"}, Timeout: 10 * time.Minute},
			Target:   fleet.Target{All: true},
			Policy:   fleet.Policy{Waves: []string{"1%", "10%"}, MaxInFlight: 1000, NotifyRate: rate, MaxFailurePercent: 5}})
		if err != nil {
			b.Fatal(err)
		}
		// The scheduler's sweeps pace the check (no event stream: a
		// subscriber would make the server load every update's record).
		var end api.Campaign
		timeout := time.After(30 * time.Minute) // bounds a hang only
		for {
			select {
			case <-rs.Scheduler.Swept():
			case <-timeout:
				b.Fatalf("campaign not over: %+v", end)
			}
			x, counts, err := rs.Campaigns.Get(ctx, camp.ID)
			if err != nil {
				b.Fatal(err)
			}
			end = api.CampaignFrom(x, counts)
			if os.Getenv("OMADM_BENCH_VERBOSE") != "" {
				b.Logf("%s wave %d %v", end.State, end.Wave, end.Counts)
			}
			if end.State == "paused" {
				b.Fatalf("campaign paused: %s %v", end.Reason, end.Counts)
			}
			if end.Terminal() {
				break
			}
		}
		elapsed, cpu := time.Since(start), procCPU()-cpu0
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-us/device")
		got := end.Counts["succeeded"] + end.Counts["failed"] + end.Counts["timed_out"]
		if got != n || end.Total != n {
			b.Fatalf("accounting: %v for %d targets", end.Counts, n)
		}
		var took []time.Duration
		for after := int64(0); ; {
			ops, err := rs.Store.ListOperations(ctx, storage.OperationFilter{AfterID: after, Limit: 1000})
			if err != nil {
				b.Fatal(err)
			}
			for _, op := range ops {
				after = op.ID
				if !op.DoneAt.IsZero() {
					took = append(took, op.DoneAt.Sub(op.CreatedAt))
				}
			}
			if len(ops) < 1000 {
				break
			}
		}
		slices.Sort(took)
		pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
		b.ReportMetric(elapsed.Seconds(), "campaign-s")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "devices/s")
		b.ReportMetric(float64(pct(0.5).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(pct(0.99).Milliseconds()), "p99-ms")
		// The heap the simulated devices keep after the campaign: live heap
		// with the fleet minus live heap once it is gone.
		withFleet := liveHeap()
		built := 0
		for _, d := range f.Devices() {
			if d.Built() {
				built++
			}
		}
		f.Close()
		f, sender.fleet = nil, nil
		simBytes := float64(withFleet-min(withFleet, liveHeap())) / float64(n)
		b.ReportMetric(simBytes, "sim-B/device")
		b.Logf("%d devices: %v in %s; device completion p50 %s p99 %s max %s; notified sessions %d (failed %d); sim heap %.0f B/device, %d built",
			n, end.Counts, elapsed.Round(time.Millisecond), pct(0.5), pct(0.99), took[len(took)-1], sender.sessions.Load(), sender.failed.Load(), simBytes, built)
	}
}
