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
