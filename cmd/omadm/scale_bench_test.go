package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// procCPU is the process's CPU time (user + system), which other load on
// the machine inflates far less than wall time.
func procCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScale_ImportThenCampaign enrols a fleet through the bulk import
// endpoint (POST /api/v1/devices/import, one streamed NDJSON body) of an
// in-process `omadm serve`, then creates a FUMO campaign over every device
// (the target snapshot) and reads it back as GET /campaigns/{id} does. It
// reports the import rate and CPU per device, and the campaign creation's
// wall and CPU time.
//
// OMADM_BENCH_SCALE_DEVICES sets the fleet size (default 100,000);
// OMADM_BENCH_SCALE_DB=postgres uses OMADM_TEST_POSTGRES instead of SQLite.
func BenchmarkScale_ImportThenCampaign(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("OMADM_BENCH_SCALE_DEVICES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for b.Loop() {
		cfg := serveConfig{Listen: "127.0.0.1:0", DataDir: b.TempDir(), Token: ctlTestToken, Logger: slog.New(slog.DiscardHandler),
			CampaignInterval: time.Hour}
		if os.Getenv("OMADM_BENCH_SCALE_DB") == "postgres" {
			dsn := os.Getenv("OMADM_TEST_POSTGRES")
			if dsn == "" {
				b.Skip("OMADM_TEST_POSTGRES not set")
			}
			cfg.DB = dsn
		}
		rs, err := startServer(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() {
			w := bufio.NewWriterSize(pw, 1<<16)
			for i := range n {
				fmt.Fprintf(w, `{"id":"IMEI:%015d","auth":"md5","username":"user%d","password":"pw%d","server_password":"srv%d",`+
					`"notify_addr":"udp://10.0.0.1:2948","labels":{"env":%q,"ring":"%d","site":"site-%d"}}`+"\n",
					350000000000000+i, i, i, i, []string{"prod", "staging", "dev"}[i%3], i%10, i%100)
			}
			pw.CloseWithError(w.Flush())
		}()
		req, _ := http.NewRequest("POST", rs.URL+"/api/v1/devices/import", pr)
		req.Header.Set("Authorization", "Bearer "+ctlTestToken)
		req.Header.Set("Content-Type", "application/x-ndjson")
		start, cpu0 := time.Now(), procCPU()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		importWall, importCPU := time.Since(start), procCPU()-cpu0
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("import: %d %s", resp.StatusCode, body)
		}
		b.ReportMetric(float64(n)/importWall.Seconds(), "import-devices/s")
		b.ReportMetric(float64(importCPU.Microseconds())/float64(n), "import-cpu-us/device")

		start, cpu0 = time.Now(), procCPU()
		camp, err := rs.Campaigns.Create(ctx, &fleet.CampaignRequest{Name: "scale",
			Template: fleet.Template{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw.example/v2.bin"}},
			Target:   fleet.Target{All: true}, Policy: fleet.Policy{Waves: []string{"1%", "10%", "50%"}}})
		if err != nil {
			b.Fatal(err)
		}
		createWall, createCPU := time.Since(start), procCPU()-cpu0
		if camp.Total != n || camp.State != storage.CampaignRunning {
			b.Fatalf("created %s over %d devices, want %d", camp.State, camp.Total, n)
		}
		t0 := time.Now()
		x, counts, err := rs.Campaigns.Get(ctx, camp.ID)
		if err != nil {
			b.Fatal(err)
		}
		if c := api.CampaignFrom(x, counts); c.Total != n {
			b.Fatalf("campaign reads back %d targets", c.Total)
		}
		b.ReportMetric(createWall.Seconds(), "create-s")
		b.ReportMetric(createCPU.Seconds(), "create-cpu-s")
		b.ReportMetric(float64(time.Since(t0).Milliseconds()), "get-ms")
		b.Logf("%d devices: import %v (%.0f/s, %.1f µs CPU each); campaign create %v (CPU %v)", n,
			importWall.Round(time.Millisecond), float64(n)/importWall.Seconds(), float64(importCPU.Microseconds())/float64(n),
			createWall.Round(time.Millisecond), createCPU.Round(time.Millisecond))
		rs.Shutdown(ctx)
	}
}
