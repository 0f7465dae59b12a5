package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// BenchQueryPages times QueryDevices of q, one page per iteration, cycling
// through cursors (a first page is ""), and reports the process CPU per
// page (cpu-ms/op) and the p50 and p99 page latency. An error or an empty
// page fails the benchmark.
func BenchQueryPages(b *testing.B, s storage.Store, q storage.DeviceQuery, cursors []string) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	cpu0 := CPUTime()
	for i := 0; b.Loop(); i++ {
		q.Cursor = cursors[i%len(cursors)]
		t := time.Now()
		ds, _, err := s.QueryDevices(ctx, q)
		lat = append(lat, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) == 0 {
			b.Fatal("empty page")
		}
	}
	b.ReportMetric(float64((CPUTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
