package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/sqlite"
)

// BenchmarkCampaign_CreateSnapshot measures creating a campaign over an
// explicit list of n devices on SQLite: checking the request and
// snapshotting the targets (one row each, multi-row inserts of 256 rows,
// transactions of 10,000). Run with -benchtime=1x for the big sizes.
func BenchmarkCampaign_CreateSnapshot(b *testing.B) {
	open := map[string]func(b *testing.B) storage.Store{"sqlite": func(b *testing.B) storage.Store {
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "omadm.db"))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}}
	if dsn := os.Getenv("OMADM_TEST_POSTGRES"); dsn != "" {
		open["postgres"] = func(b *testing.B) storage.Store {
			st, err := postgres.OpenWith(bg, freshSchema(b, dsn), &postgres.Options{SecretKeyFile: filepath.Join(b.TempDir(), "secret.key")})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		if open[backend] == nil {
			continue
		}
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/devices=%d", backend, n), func(b *testing.B) { benchCreate(b, open[backend](b), n) })
		}
	}
}

func benchCreate(b *testing.B, st storage.Store, n int) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("IMEI:35%013d", i)
	}
	defer st.Close()
	m, err := fleet.New(fleet.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	c := fleet.NewCampaigns(m, fleet.CampaignOptions{})
	b.ResetTimer()
	for b.Loop() {
		start, cpu0 := time.Now(), cpuTime()
		camp, err := c.Create(bg, &fleet.CampaignRequest{Template: fleet.Template{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw.example/2.bin"}},
			Target: fleet.Target{Devices: ids}, Policy: fleet.Policy{Waves: []string{"1%", "10%", "50%"}}})
		if err != nil {
			b.Fatal(err)
		}
		if camp.Total != n || camp.State != storage.CampaignRunning {
			b.Fatalf("created %s with %d devices", camp.State, camp.Total)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/device")
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s")
		// What GET /campaigns/{id} pays: the counts by outcome over all
		// devices (a scheduler pass counts the current wave only).
		t0 := time.Now()
		if _, _, err := c.Get(bg, camp.ID); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds()), "count-µs")
	}
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine it says what a run cost when the wall clock waits on others.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, string) error { return nil }

// BenchmarkCampaign_DriveOverhead measures what the scheduler spends per
// device on SQLite, without any device or DM session: starting it (the
// operation, its job and the device's transition in one transaction, the
// notification call) and following it to its end (the pass that syncs
// outcomes from operations, counts the wave and ends it).
func BenchmarkCampaign_DriveOverhead(b *testing.B) {
	const n = 10_000
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "omadm.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("IMEI:35%013d", i)
		if err := st.CreateDevice(bg, &storage.Device{ID: ids[i], AuthScheme: "md5", Username: ids[i], Password: "p"}); err != nil {
			b.Fatal(err)
		}
	}
	m, err := fleet.New(fleet.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	c := fleet.NewCampaigns(m, fleet.CampaignOptions{Notifier: nopNotifier{}})
	b.ResetTimer()
	for b.Loop() {
		camp, err := c.Create(bg, &fleet.CampaignRequest{Template: fleet.Template{MO: "fumo", Params: map[string]any{"pkg_url": "http://fw.example/2.bin"}},
			Target: fleet.Target{Devices: ids}, Policy: fleet.Policy{Waves: []string{"10%"}, MaxInFlight: -1, NotifyRate: 1e9}})
		if err != nil {
			b.Fatal(err)
		}
		var wall, cpu time.Duration
		passes := 0
		for {
			start, cpu0 := time.Now(), cpuTime()
			if _, err := c.Drive(bg); err != nil {
				b.Fatal(err)
			}
			wall, cpu, passes = wall+time.Since(start), cpu+cpuTime()-cpu0, passes+1
			// Every open operation succeeds, as the devices' reports would
			// make it (not counted).
			ops, err := st.ListOperations(bg, storage.OperationFilter{States: storage.OpOpen, Limit: n})
			if err != nil {
				b.Fatal(err)
			}
			err = storage.InBatch(bg, st, func(s storage.Store) error {
				for _, op := range ops {
					op.State, op.DoneAt = storage.OpSucceeded, time.Now()
					if err := s.TransitionOperation(bg, op, storage.OpQueued); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			x, counts, err := c.Get(bg, camp.ID)
			if err != nil {
				b.Fatal(err)
			}
			if x.State == storage.CampaignCompleted {
				if counts[storage.TargetSucceeded] != n {
					b.Fatalf("counts %v", counts)
				}
				break
			}
		}
		b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/device")
		b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/device")
		b.ReportMetric(float64(passes), "passes")
	}
}
