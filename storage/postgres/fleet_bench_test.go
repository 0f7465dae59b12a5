package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/storage/storagetest"
)

// BenchmarkFleetQuery measures one filtered page (100 devices) of the fleet
// search on a fleet of OMADM_BENCH_FLEET devices (default 100000; built in a
// fresh schema each run, then ANALYZEd): the same fleet and filter shapes as
// the SQLite benchmark of that name. cpu-ms/op is this process's CPU (the
// client side); the server's is not counted.
func BenchmarkFleetQuery(b *testing.B) {
	s, _, now := fleetStore(b)
	ctx := context.Background()
	compound := storage.DeviceQuery{Labels: map[string]string{"ring": "1"},
		DevInfo:   map[string]string{"./DevInfo/Mod": "X1", "./DevDetail/FwV": "2.1"},
		SeenAfter: now.Add(-7 * 24 * time.Hour), Group: "canary"}
	compoundSeen := compound
	compoundSeen.Sort, compoundSeen.Desc = storage.SortLastSeen, true
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
		{"site+env/last_seen", storage.DeviceQuery{Labels: map[string]string{"site": "site-42", "env": "prod"}, Sort: storage.SortLastSeen}},
		{"group/created", storage.DeviceQuery{Group: "canary", Sort: storage.SortCreated}},
		{"label+model+fwv+seen+group/id", compound},
		{"label+model+fwv+seen+group/last_seen-desc", compoundSeen},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			q.Limit = 100
			cursors := []string{""}
			for range 5 {
				q.Cursor = cursors[len(cursors)-1]
				_, next, err := s.QueryDevices(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if next == "" {
					break
				}
				cursors = append(cursors, next)
			}
			storagetest.BenchQueryPages(b, s, q, cursors)
		})
	}
}

// fleetStore opens the store of the fleet benchmarks, building the fleet of
// OMADM_BENCH_FLEET devices (default 100000) when needed, and returns it
// with the fleet's size and the time its sort keys are relative to.
func fleetStore(b *testing.B) (*postgres.Store, int, time.Time) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("OMADM_BENCH_FLEET")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	// OMADM_BENCH_FLEET_SCHEMA keeps the fleet in that schema between runs
	// (it is built there when empty) instead of a fresh one.
	dsn, keep := "", os.Getenv("OMADM_BENCH_FLEET_SCHEMA")
	if keep == "" {
		dsn = freshSchema(b)
	} else {
		u, err := url.Parse(os.Getenv(envDSN))
		if err != nil || os.Getenv(envDSN) == "" {
			b.Skipf("%s is not set or not a URL", envDSN)
		}
		conn, err := pgx.Connect(ctx, u.String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{keep}.Sanitize()); err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		v := u.Query()
		v.Set("search_path", keep)
		u.RawQuery = v.Encode()
		dsn = u.String()
	}
	key := testKey
	if keep != "" {
		// The kept fleet's key: the same in every run.
		k, err := secret.FromBytes(make([]byte, 32))
		if err != nil {
			b.Fatal(err)
		}
		key = k
	}
	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKey: key})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	r := rand.New(rand.NewPCG(1, 2))
	dev := func(i int) *storage.Device {
		d := &storage.Device{
			ID:         fmt.Sprintf("IMEI:%015d", 350000000000000+i*7919%1000000000),
			AuthScheme: "md5", Username: "user" + strconv.Itoa(i), Password: "pw" + strconv.Itoa(i),
			NotifyAddr: "udp://10.0.0.1:2948",
			Labels: map[string]string{"env": []string{"prod", "staging", "dev"}[i%3], "ring": strconv.Itoa(i % 10),
				"site": "site-" + strconv.Itoa(i%100)},
			DevInfo: map[string]string{"./DevInfo/Mod": "X" + strconv.Itoa(i%20), "./DevInfo/Man": "Maker" + strconv.Itoa(i%5),
				"./DevInfo/DmV": "1.2", "./DevInfo/Lang": "en-US", "./DevDetail/FwV": "2." + strconv.Itoa(r.IntN(10))},
			CreatedAt: now.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))),
		}
		if i%10 != 0 {
			d.LastSeen = now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		}
		return d
	}
	start := time.Now()
	var canary []string
	built := false
	if keep != "" {
		if _, err := s.GetGroup(ctx, "canary"); err == nil {
			built = true
		}
	}
	for i := 0; i < n && !built; i += 2000 {
		var ds []*storage.Device
		for j := i; j < min(n, i+2000); j++ {
			d := dev(j)
			ds = append(ds, d)
			if j%100 == 1 {
				canary = append(canary, d.ID)
			}
		}
		if _, err := s.ImportDevices(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	if !built {
		if err := s.CreateGroup(ctx, &storage.Group{Name: "canary"}); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(canary); i += 1000 {
			if _, err := s.AddGroupMembers(ctx, "canary", canary[i:min(len(canary), i+1000)]); err != nil {
				b.Fatal(err)
			}
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		b.Logf("built %d devices in %v", n, time.Since(start).Round(time.Millisecond))
	}
	return s, n, now
}

// BenchmarkFleetDeviceUpdate measures the write of a device's session on
// the fleet: read a random device, set its last contact, write the row
// back (UpdateDevice), as the end of every DM session does. cpu-us/op is
// this process's CPU; the server's is measured from outside.
func BenchmarkFleetDeviceUpdate(b *testing.B) {
	s, n, _ := fleetStore(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	cpu0 := storagetest.CPUTime()
	ops := 0
	for b.Loop() {
		i := r.IntN(n)
		d, err := s.GetDevice(ctx, fmt.Sprintf("IMEI:%015d", 350000000000000+i*7919%1000000000))
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
