package storagetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// BenchImportDevices measures ImportDevices in units of batch devices (the
// import endpoint sends 16384) into s: credentials and three labels each,
// IDs in no particular order, like an import file. One op is one device.
// cpu-us/device is this process's CPU time per device (for a client-server
// database the server's CPU is not in it).
func BenchImportDevices(b *testing.B, s storage.Store, batch int) {
	ds := make([]*storage.Device, 0, batch)
	flush := func() {
		errs, err := s.ImportDevices(bg, ds)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				b.Fatal(e)
			}
		}
		ds = ds[:0]
	}
	cpu0 := CPUTime()
	start := time.Now()
	i := 0
	for b.Loop() {
		ds = append(ds, &storage.Device{
			ID:         fmt.Sprintf("IMEI:%015d", 350000000000000+i*7919%1000000000),
			AuthScheme: "md5", Username: "user" + strconv.Itoa(i), Password: "pw" + strconv.Itoa(i),
			ServerPassword: "srv" + strconv.Itoa(i), NotifyAddr: "udp://10.0.0.1:2948",
			Labels: map[string]string{"env": []string{"prod", "staging", "dev"}[i%3], "ring": strconv.Itoa(i % 10),
				"site": "site-" + strconv.Itoa(i%100)},
		})
		if len(ds) == batch {
			flush()
		}
		i++
	}
	if len(ds) > 0 {
		flush()
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "devices/s")
	b.ReportMetric(float64((CPUTime()-cpu0).Microseconds())/float64(i), "cpu-us/device")
}
