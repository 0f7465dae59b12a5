package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/storage/storagetest"
)

// The fleet benchmarks run on a database of OMADM_BENCH_FLEET devices
// (default 100000; 1000000 is the inventory target, built once per run in
// about a minute). OMADM_BENCH_FLEET_DIR keeps the database between runs
// (it is built there when missing) instead of in b.TempDir.

func fleetSize() int {
	if n, err := strconv.Atoi(os.Getenv("OMADM_BENCH_FLEET")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// fleetDevice is device i of the benchmark fleet: 3 environments, 10 rings,
// 100 sites, 20 models of 5 makers, 10 firmware versions, last seen within
// 30 days (every 10th never), created over a year, one server password and
// credentials each.
func fleetDevice(i int, r *rand.Rand, now time.Time) *storage.Device {
	d := &storage.Device{
		ID:             fmt.Sprintf("IMEI:%015d", 350000000000000+i*7919%1000000000),
		AuthScheme:     "md5",
		Username:       "user" + strconv.Itoa(i),
		Password:       "pw" + strconv.Itoa(i),
		ServerPassword: "srv" + strconv.Itoa(i),
		NotifyAddr:     "udp://10.0.0.1:2948",
		Labels: map[string]string{
			"env":  []string{"prod", "staging", "dev"}[i%3],
			"ring": strconv.Itoa(i % 10),
			"site": "site-" + strconv.Itoa(i%100),
		},
		DevInfo: map[string]string{
			"./DevInfo/Mod":   "X" + strconv.Itoa(i%20),
			"./DevInfo/Man":   "Maker" + strconv.Itoa(i%5),
			"./DevInfo/DmV":   "1.2",
			"./DevInfo/Lang":  "en-US",
			"./DevDetail/FwV": "2." + strconv.Itoa(r.IntN(10)),
		},
		CreatedAt: now.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))),
	}
	if i%10 != 0 {
		d.LastSeen = now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	}
	return d
}

// fleetStore opens (building it when needed) the benchmark fleet database.
func fleetStore(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	dir := os.Getenv("OMADM_BENCH_FLEET_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("fleet-%d.db", n))
	keyFile := path + ".key"
	_, statErr := os.Stat(path)
	s, err := sqlite.OpenWith(path, &sqlite.Options{SecretKeyFile: keyFile})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if statErr == nil {
		return s
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	start := time.Now()
	const batch = 2000
	for i := 0; i < n; i += batch {
		ds := make([]*storage.Device, 0, batch)
		for j := i; j < min(n, i+batch); j++ {
			ds = append(ds, fleetDevice(j, r, now))
		}
		errs, err := s.ImportDevices(ctx, ds)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				b.Fatal(e)
			}
		}
	}
	// A static group of every 100th device.
	if err := s.CreateGroup(ctx, &storage.Group{Name: "pilot"}); err != nil {
		b.Fatal(err)
	}
	var members []string
	for i := 0; i < n; i += 100 {
		members = append(members, fleetDevice(i, rand.New(rand.NewPCG(0, 0)), now).ID)
		if len(members) == 1000 || i+100 >= n {
			if _, err := s.AddGroupMembers(ctx, "pilot", members); err != nil {
				b.Fatal(err)
			}
			members = members[:0]
		}
	}
	b.Logf("built %d devices (with DevInfo) in %v", n, time.Since(start).Round(time.Millisecond))
	return s
}

// BenchmarkFleetQuery measures one filtered page (100 devices) of the fleet
// search and reports its p50 and p99 over the iterations, and the process's
// CPU time per page (which other load on the machine does not inflate).
func BenchmarkFleetQuery(b *testing.B) {
	n := fleetSize()
	s := fleetStore(b, n)
	canaryGroup(b, s, n)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name string
		q    storage.DeviceQuery
	}{
		{"label-env=prod/id", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}},
		{"model/last_seen-desc", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X7"}, Sort: storage.SortLastSeen, Desc: true}},
		{"label+model+fwv/id", storage.DeviceQuery{Labels: map[string]string{"ring": "3"},
			DevInfo: map[string]string{"./DevInfo/Mod": "X3", "./DevDetail/FwV": "2.1"}}},
		{"label+man/created", storage.DeviceQuery{Labels: map[string]string{"env": "dev"},
			DevInfo: map[string]string{"./DevInfo/Man": "Maker2"}, Sort: storage.SortCreated}},
		{"seen<24h/last_seen-desc", storage.DeviceQuery{SeenAfter: now.Add(-24 * time.Hour), Sort: storage.SortLastSeen, Desc: true}},
		{"seen>7d/id", storage.DeviceQuery{SeenBefore: now.Add(-7 * 24 * time.Hour)}},
		{"group/id", storage.DeviceQuery{Group: "pilot"}},
		{"site+env/last_seen", storage.DeviceQuery{Labels: map[string]string{"site": "site-42", "env": "prod"}, Sort: storage.SortLastSeen}},
		{"id-prefix/id", storage.DeviceQuery{IDPrefix: "IMEI:3500000001"}},
		{"man/id", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Man": "Maker2"}}},
		{"fwv+seen<7d/last_seen-desc", storage.DeviceQuery{DevInfo: map[string]string{"./DevDetail/FwV": "2.4"},
			SeenAfter: now.Add(-7 * 24 * time.Hour), Sort: storage.SortLastSeen, Desc: true}},
		{"model+fwv/created-desc", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X5", "./DevDetail/FwV": "2.2"},
			Sort: storage.SortCreated, Desc: true}},
		{"seen-7d..14d/id", storage.DeviceQuery{SeenAfter: now.Add(-14 * 24 * time.Hour), SeenBefore: now.Add(-7 * 24 * time.Hour)}},
		// A dynamic group is its selector's terms (fleet.Resolve).
		{"env+model(dynamic-group)/last_seen-desc", storage.DeviceQuery{Labels: map[string]string{"env": "prod"},
			DevInfo: map[string]string{"./DevInfo/Mod": "X5"}, Sort: storage.SortLastSeen, Desc: true}},
		{"id-prefix+ring/id", storage.DeviceQuery{IDPrefix: "IMEI:3500", Labels: map[string]string{"ring": "4"}}},
		{"group+seen<7d/last_seen-desc", storage.DeviceQuery{Group: "canary", SeenAfter: now.Add(-7 * 24 * time.Hour),
			Sort: storage.SortLastSeen, Desc: true}},
		{"group/created", storage.DeviceQuery{Group: "canary", Sort: storage.SortCreated}},
		{"ids(200)+fwv/last_seen", storage.DeviceQuery{IDs: fleetIDs(n, 200), DevInfo: map[string]string{"./DevDetail/FwV": "2.1"},
			Sort: storage.SortLastSeen}},
		// Every filter at once: label AND model AND firmware AND last seen
		// AND group (the canary group is device 1 of every 100: ring 1,
		// model X1, seen).
		{"label+model+fwv+seen+group/id", compound(now)},
		{"label+model+fwv+seen+group/last_seen-desc", func() storage.DeviceQuery {
			q := compound(now)
			q.Sort, q.Desc = storage.SortLastSeen, true
			return q
		}()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// Every iteration reads one page: the first, or the one after a
			// cursor taken from the first pages (a deep page).
			q := tc.q
			q.Limit = 100
			var cursors []string
			cur := ""
			for range 5 {
				q.Cursor = cur
				_, next, err := s.QueryDevices(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if next == "" {
					break
				}
				cursors = append(cursors, next)
				cur = next
			}
			cursors = append(cursors, "")
			storagetest.BenchQueryPages(b, s, q, cursors)
		})
	}
}

// compound is the fleet query with every kind of filter.
func compound(now time.Time) storage.DeviceQuery {
	return storage.DeviceQuery{Labels: map[string]string{"ring": "1"},
		DevInfo:   map[string]string{"./DevInfo/Mod": "X1", "./DevDetail/FwV": "2.1"},
		SeenAfter: now.Add(-7 * 24 * time.Hour), Group: "canary"}
}

// canaryGroup adds the static group "canary" (device 1 of every 100) to a
// fleet database that lacks it.
func canaryGroup(b *testing.B, s *sqlite.Store, n int) {
	ctx := context.Background()
	if _, err := s.GetGroup(ctx, "canary"); err == nil {
		return
	}
	if err := s.CreateGroup(ctx, &storage.Group{Name: "canary"}); err != nil {
		b.Fatal(err)
	}
	var members []string
	for i := 1; i < n; i += 100 {
		members = append(members, fleetDevice(i, rand.New(rand.NewPCG(0, 0)), time.Now()).ID)
		if len(members) == 1000 || i+100 >= n {
			if _, err := s.AddGroupMembers(ctx, "canary", members); err != nil {
				b.Fatal(err)
			}
			members = members[:0]
		}
	}
}

// BenchmarkFleetImport measures ImportDevices in batches of 2000, or
// OMADM_BENCH_IMPORT_BATCH (the import endpoint sends units of 16,384; 2000
// keeps this benchmark comparable with its earlier runs) into a new database; the devices carry
// credentials and three labels, no DevInfo, like an import file. One op is
// one device: -benchtime 1000000x imports a million. cpu-us/device is the
// process's CPU time (user+system) per device, which other load on the
// machine does not inflate the way it does the wall-clock rate.
func BenchmarkFleetImport(b *testing.B) {
	dir := b.TempDir()
	s, err := sqlite.OpenWith(filepath.Join(dir, "import.db"), &sqlite.Options{SecretKeyFile: filepath.Join(dir, "key")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Now()
	batch := 2000
	if n, err := strconv.Atoi(os.Getenv("OMADM_BENCH_IMPORT_BATCH")); err == nil && n > 0 {
		batch = n
	}
	ds := make([]*storage.Device, 0, batch)
	flush := func() {
		errs, err := s.ImportDevices(ctx, ds)
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
	i := 0
	cpu0 := storagetest.CPUTime()
	start := time.Now()
	for b.Loop() {
		d := fleetDevice(i, r, now)
		d.DevInfo, d.LastSeen = nil, time.Time{}
		ds = append(ds, d)
		if len(ds) == batch {
			flush()
		}
		i++
	}
	if len(ds) > 0 {
		flush()
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "devices/s")
	b.ReportMetric(float64((storagetest.CPUTime()-cpu0).Microseconds())/float64(i), "cpu-us/device")
}

// fleetIDs is every (n/k)-th device ID of the benchmark fleet, k of them.
func fleetIDs(n, k int) []string {
	ids := make([]string, 0, k)
	for i := 0; i < n && len(ids) < k; i += n / k {
		ids = append(ids, fleetDevice(i, rand.New(rand.NewPCG(0, 0)), time.Time{}).ID)
	}
	return ids
}

// BenchmarkFleetDeviceUpdate measures UpdateDevice of one device of the
// fleet with a new LastSeen and the same DevInfo (what the end of a DM
// session writes): the cost the search indexes add to every session.
func BenchmarkFleetDeviceUpdate(b *testing.B) {
	n := fleetSize()
	s := fleetStore(b, n)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	cpu0 := storagetest.CPUTime()
	ops := 0
	for b.Loop() {
		d, err := s.GetDevice(ctx, fleetDevice(r.IntN(n), rand.New(rand.NewPCG(0, 0)), time.Time{}).ID)
		if err != nil {
			b.Fatal(err)
		}
		d.LastSeen = time.Now()
		if err := s.UpdateDevice(ctx, d); err != nil {
			b.Fatal(err)
		}
		ops++
	}
	b.ReportMetric(float64((storagetest.CPUTime()-cpu0).Microseconds())/float64(ops), "cpu-us/op")
}
