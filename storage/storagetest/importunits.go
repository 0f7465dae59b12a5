package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// importUnitTests cover imports as large as the import endpoint sends them,
// which the SQL stores write with multi-row statements or a COPY.
var importUnitTests = []test{
	{"ImportDevicesLargeUnitReportsEachSkippedRecord", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev-0042")
		// 301 records, not a power of two nor a multiple of any statement
		// size, IDs out of order: one taken in the store, one given twice
		// (the first is stored), one the store cannot hold in the middle.
		const n = 301
		var ds []*storage.Device
		want := make([]error, n)
		for i := range n {
			id := fmt.Sprintf("dev-%04d", (i*37)%n)
			labels := map[string]string{"env": []string{"prod", "dev"}[i%2], "ring": fmt.Sprint(i % 3)}
			var devinfo map[string]string
			created, seen := time.Time{}, time.Time{}
			if i%5 == 0 {
				devinfo = map[string]string{"./DevInfo/Mod": fmt.Sprintf("M%d", i%4)}
				created, seen = t0.Add(time.Duration(i)*time.Minute), t0.Add(time.Duration(i)*time.Hour)
			}
			switch i {
			case 150:
				id = fmt.Sprintf("dev-%04d", (10*37)%n) // record 10's ID again
				want[i] = storage.ErrExists
			case 200:
				id = "bad\x00id"
				want[i] = errAny
			}
			if id == "dev-0042" {
				want[i] = storage.ErrExists
			}
			d := fleetDevice(id, labels, devinfo, created, seen)
			d.ServerPassword = "srv-" + id
			ds = append(ds, d)
		}
		before := time.Now()
		errs, err := s.ImportDevices(bg, ds)
		check(t, "ImportDevices", err)
		if len(errs) != n {
			t.Fatalf("%d errors for %d records", len(errs), n)
		}
		stored := 0
		for i, w := range want {
			switch {
			case w == nil && errs[i] != nil:
				t.Errorf("record %d (%s): %v, want it stored", i, ds[i].ID, errs[i])
			case w == errAny && errs[i] == nil:
				t.Errorf("record %d (%q): stored, want an error", i, ds[i].ID)
			case w != nil && w != errAny && !errors.Is(errs[i], w):
				t.Errorf("record %d (%s): %v, want %v", i, ds[i].ID, errs[i], w)
			case w == nil:
				stored++
			}
		}
		for _, i := range []int{0, 1, 10, 299, 300} {
			got, err := s.GetDevice(bg, ds[i].ID)
			check(t, "GetDevice "+ds[i].ID, err)
			if i%5 != 0 {
				between(t, "defaulted CreatedAt", got.CreatedAt, before.Add(-time.Millisecond), time.Now())
				ds[i].CreatedAt = got.CreatedAt
			}
			checkDevice(t, got, ds[i])
			if got.ServerPassword != "srv-"+ds[i].ID {
				t.Errorf("device %s: server password %q", ds[i].ID, got.ServerPassword)
			}
		}
		if c, err := s.CountDevices(bg); err != nil || c != stored+1 {
			t.Errorf("CountDevices = %d, %v; want %d", c, err, stored+1)
		}
		// The label and DevInfo rows of the stored records, and none of
		// the skipped ones.
		wantProd, wantM1 := 0, 0
		for i, d := range ds {
			if want[i] != nil {
				continue
			}
			if d.Labels["env"] == "prod" && d.Labels["ring"] == "1" {
				wantProd++
			}
			if d.DevInfo["./DevInfo/Mod"] == "M1" {
				wantM1++
			}
		}
		if got := QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "prod", "ring": "1"}}, 1000); len(got) != wantProd {
			t.Errorf("env=prod ring=1: %d devices, want %d", len(got), wantProd)
		}
		if got := QueryAllIDs(t, s, storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "M1"}}, 1000); len(got) != wantM1 {
			t.Errorf("model M1: %d devices, want %d", len(got), wantM1)
		}
	}},
	{"TwoLargeImportsInOneBatch", func(t *testing.T, s storage.Store) {
		// A second import in the same atomic unit sees the first one's
		// devices as taken, and each stores only its own.
		unit := func(from, to int) []*storage.Device {
			var ds []*storage.Device
			for i := from; i < to; i++ {
				ds = append(ds, fleetDevice(fmt.Sprintf("u-%04d", i), map[string]string{"unit": fmt.Sprint(from)}, nil, t0, time.Time{}))
			}
			return ds
		}
		var errs1, errs2 []error
		check(t, "InBatch", storage.InBatch(bg, s, func(in storage.Store) error {
			var err error
			if errs1, err = in.ImportDevices(bg, unit(0, 200)); err != nil {
				return err
			}
			errs2, err = in.ImportDevices(bg, unit(100, 300))
			return err
		}))
		for i, e := range errs1 {
			if e != nil {
				t.Errorf("first import, record %d: %v", i, e)
			}
		}
		for i, e := range errs2 {
			if taken := i < 100; taken != errors.Is(e, storage.ErrExists) {
				t.Errorf("second import, record %d: %v (taken by the first: %v)", i, e, taken)
			}
		}
		for unit, want := range map[string]int{"0": 200, "100": 100} {
			if got := QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"unit": unit}}, 1000); len(got) != want {
				t.Errorf("unit=%s: %d devices, want %d", unit, len(got), want)
			}
		}
	}},
}
