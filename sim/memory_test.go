package sim_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
)

// heapInUse is the live heap after two collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkFleet_IdleHeapPerDevice reports the heap a fleet holds per idle
// simulated device (built, enrolled or not, no session running): live heap
// after GC with the fleet minus live heap before it, divided by the number
// of devices. OMADM_BENCH_SIM_DEVICES sets the fleet size (default 10,000).
func BenchmarkFleet_IdleHeapPerDevice(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("OMADM_BENCH_SIM_DEVICES")); err == nil && v > 0 {
		n = v
	}
	tp := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
		return nil, errors.New("no server")
	})
	for b.Loop() {
		before := heapInUse()
		f, err := sim.New(sim.Options{ServerURL: "http://127.0.0.1:1/dm", Devices: n, Transport: tp, StateDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/float64(n), "B/device")
		runtime.KeepAlive(f)
		f.Close()
	}
}

// BenchmarkFleet_HeapPerDeviceAfterSession is BenchmarkFleet_IdleHeapPerDevice
// after every device ran one session against the real server (SQLite) in
// which the server replaced a setting of every tenth device: the heap the
// devices keep between sessions (nonces, the server's changes, counters).
func BenchmarkFleet_HeapPerDeviceAfterSession(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("OMADM_BENCH_SIM_DEVICES")); err == nil && v > 0 {
		n = v
	}
	srv := newTestServer(b)
	ctx := context.Background()
	for b.Loop() {
		before := heapInUse()
		f, err := sim.New(sim.Options{ServerURL: srv.url, Devices: n, Transport: newTransport(b), StateDir: b.TempDir(), Concurrency: 32})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Enroll(ctx, srv.enroller(false), 8, nil); err != nil {
			b.Fatal(err)
		}
		for i, d := range f.Devices() {
			if i%10 != 0 {
				continue
			}
			if err := srv.store.CreateJob(ctx, &storage.Job{DeviceID: d.ID(), Spec: storage.JobSpec{Command: "Replace",
				Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "120"}}}}); err != nil {
				b.Fatal(err)
			}
		}
		sn, err := f.Run(ctx)
		if err != nil || sn.OK != uint64(n) {
			b.Fatalf("run: %+v %v", sn, err)
		}
		built := 0
		for _, d := range f.Devices() {
			if d.Built() {
				built++
			}
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/float64(n), "B/device")
		b.ReportMetric(float64(built), "built")
		runtime.KeepAlive(f)
		f.Close()
	}
}

// BenchmarkDevice_BuildWhenIdle measures what an idle fleet device costs
// to use: built from its identity and replayed changes, one leaf read,
// dropped again (what every session of an idle device adds).
func BenchmarkDevice_BuildWhenIdle(b *testing.B) {
	tp := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
		return nil, errors.New("no server")
	})
	f, err := sim.New(sim.Options{ServerURL: "http://127.0.0.1:1/dm", Devices: 1, Transport: tp, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	d := f.Devices()[0]
	b.ReportAllocs()
	for b.Loop() {
		if d.Value(sim.PollIntervalURI) != "3600" {
			b.Fatal("wrong value")
		}
	}
	if d.Built() {
		b.Fatal("device stayed built")
	}
}
