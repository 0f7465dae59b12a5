package sim

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/mo/diagmon"
)

// DiagMonURI is where every simulated device carries its DiagMon object.
const DiagMonURI = "./DiagMon"

// fakeFunctions are the simulated device's diagnostics functions: the same
// ones a real agent has, with readings derived from the device id (so a
// fleet's readings are spread but each device's are repeatable) and from
// its session count (so a battery drains as the device works).
func (d *Device) fakeFunctions() []diagmon.Function {
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.id.DevID))
	seed := int64(h.Sum32())
	memTotal := int64(1<<20) << (seed % 3) // 1, 2 or 4 GiB in kB
	memAvail := memTotal * (15 + seed%70) / 100
	diskTotal := int64(8<<30) << (seed % 4)
	diskFree := diskTotal * (5 + (seed/7)%90) / 100
	load := float64(seed%400) / 100
	return []diagmon.Function{
		{Name: "Memory", Title: "simulated memory", Metric: "available_percent", Run: func(context.Context) (diagmon.Readings, error) {
			return diagmon.Readings{{Name: "total_kb", Value: strconv.FormatInt(memTotal, 10)},
				{Name: "available_kb", Value: strconv.FormatInt(memAvail, 10)},
				{Name: "available_percent", Value: pct(memAvail, memTotal)}}, nil
		}},
		{Name: "Storage", Title: "simulated storage", Metric: "free_percent", Run: func(context.Context) (diagmon.Readings, error) {
			return diagmon.Readings{{Name: "path", Value: "/data"}, {Name: "total_bytes", Value: strconv.FormatInt(diskTotal, 10)},
				{Name: "free_bytes", Value: strconv.FormatInt(diskFree, 10)}, {Name: "free_percent", Value: pct(diskFree, diskTotal)}}, nil
		}},
		{Name: "Load", Title: "simulated load", Metric: "load1", Above: true, Run: func(context.Context) (diagmon.Readings, error) {
			l := strconv.FormatFloat(load, 'f', 2, 64)
			return diagmon.Readings{{Name: "load1", Value: l}, {Name: "load5", Value: l}, {Name: "load15", Value: l},
				{Name: "processes_running", Value: "1"}, {Name: "processes_total", Value: strconv.FormatInt(80+seed%40, 10)}}, nil
		}},
		{Name: "Battery", Title: "simulated battery", Metric: "capacity_percent", Run: func(context.Context) (diagmon.Readings, error) {
			c := 100 - (seed%20+d.sessions.Load())%100
			return diagmon.Readings{{Name: "supply", Value: "BAT0"}, {Name: "capacity_percent", Value: strconv.FormatInt(c, 10)},
				{Name: "status", Value: "Discharging"}}, nil
		}},
	}
}

func pct(part, whole int64) string {
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64)
}

// DiagMon is the device's DiagMon object (its trap policies are checked by
// CheckTraps, which a fleet or test calls).
// The device stays built from now on.
func (d *Device) DiagMon() *diagmon.Object {
	if l := d.pin(); l != nil {
		return l.diagmon
	}
	return nil
}

// trapInterval is the DiagMon trap interval in seconds (0: none, or idle).
func (d *Device) trapInterval() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.l == nil {
		return 0
	}
	return d.l.diagmon.Interval()
}

// checkTraps runs the DiagMon trap collection of a built device.
func (d *Device) checkTraps() {
	d.mu.Lock()
	l := d.l
	d.mu.Unlock()
	if l != nil {
		l.diagmon.CheckTraps()
	}
}

// ConnMOURI is where every simulated device carries its connectivity
// profiles (mo/connmo).
const ConnMOURI = "./ConnMO"

// ConnMO is the device's connectivity container; Sync on it records (and
// reports) a configuration a server changed.
// The device stays built from now on.
func (d *Device) ConnMO() *connmo.Object {
	if l := d.pin(); l != nil {
		return l.connmo
	}
	return nil
}

// collectTraps runs the DiagMon trap collection of every device whose
// server set a Policy/Interval, each at its own interval, with one
// goroutine for the whole fleet; a trap's alert goes out in the device's
// next session. It returns when ctx ends.
func (f *Fleet) collectTraps(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := make(map[*Device]time.Time, len(f.devices))
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, d := range f.devices {
				iv := d.trapInterval()
				if iv <= 0 {
					continue
				}
				if prev, ok := last[d]; ok && now.Sub(prev) < time.Duration(iv)*time.Second {
					continue
				}
				if _, ok := last[d]; ok {
					d.checkTraps()
				}
				last[d] = now
			}
		}
	}
}
