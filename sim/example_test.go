package sim_test

import (
	"fmt"
	"time"

	"github.com/omadm/omadm/sim"
)

// A Histogram takes latencies from many goroutines and answers percentiles.
func ExampleHistogram() {
	var h sim.Histogram
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	fmt.Println(h.Count(), h.Quantile(0.5).Round(time.Millisecond), h.Quantile(0.99).Round(time.Millisecond))
	// Output: 100 50ms 99ms
}

// NewIdentity gives each device number a stable, realistic identity.
func ExampleNewIdentity() {
	id := sim.NewIdentity(1)
	fmt.Println(id.DevID, id.Man, id.Mod)
	// Output: IMEI:990010270000012 Acme Mobile AM-T10
}
