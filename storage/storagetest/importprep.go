package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// RunImportPreparer checks the optional storage.ImportPreparer (skipped for
// a store without it) and the storage.PrepareImport / StoreImport helpers.
func RunImportPreparer(t *testing.T, f Factory) {
	run(t, f, group{"ImportPreparer", importPrepTests})
}

// preparer returns s's ImportPreparer, or skips the test.
func preparer(t *testing.T, s storage.Store) storage.ImportPreparer {
	t.Helper()
	p, ok := s.(storage.ImportPreparer)
	if !ok {
		t.Skip("the store has no ImportPreparer")
	}
	return p
}

// prepUnit is n devices with IDs prefix-0000…, in no particular order, two
// labels each.
func prepUnit(prefix string, n int) []*storage.Device {
	ds := make([]*storage.Device, 0, n)
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, (i*37)%n)
		d := fleetDevice(id, map[string]string{"unit": prefix, "ring": fmt.Sprint(i % 3)}, nil, time.Time{}, time.Time{})
		d.ServerPassword = "srv-" + id
		ds = append(ds, d)
	}
	return ds
}

var importPrepTests = []test{
	{"PrepareImportStoresAndChangesNothing", func(t *testing.T, s storage.Store) {
		ip := preparer(t, s)
		ds := prepUnit("p", 100)
		p := ip.PrepareImport(ds)
		if got := p.Devices(); len(got) != len(ds) || got[0] != ds[0] {
			t.Fatalf("Devices() = %d devices, want the %d given", len(got), len(ds))
		}
		for _, d := range ds {
			if d.PasswordHash != "" || !d.CreatedAt.IsZero() {
				t.Fatalf("device %s changed by PrepareImport: hash %q, created %v", d.ID, d.PasswordHash, d.CreatedAt)
			}
		}
		if n, err := s.CountDevices(bg); err != nil || n != 0 {
			t.Fatalf("CountDevices after PrepareImport = %d, %v; want 0", n, err)
		}
		before := time.Now()
		errs, err := ip.StoreImport(bg, p)
		check(t, "StoreImport", err)
		for i, e := range errs {
			if e != nil {
				t.Errorf("record %d: %v", i, e)
			}
		}
		for _, d := range ds[:3] {
			got, err := s.GetDevice(bg, d.ID)
			check(t, "GetDevice", err)
			between(t, "defaulted CreatedAt", d.CreatedAt, before, time.Now())
			checkDevice(t, got, d)
			if d.PasswordHash != storage.HashPassword(d) {
				t.Errorf("device %s: PasswordHash %q not filled in", d.ID, d.PasswordHash)
			}
		}
		if got := QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"unit": "p", "ring": "1"}}, 1000); len(got) != 33 {
			t.Errorf("unit=p ring=1: %d devices, want 33", len(got))
		}
	}},
	{"StoreImportSkipsIDsTakenAfterPreparation", func(t *testing.T, s storage.Store) {
		// Units are prepared ahead of the writer: what decides a taken ID
		// is the store when the unit is stored. 300 records span several
		// of the SQL stores' multi-row statements; the IDs taken meanwhile
		// fall in the first, a middle and the last of them.
		ip := preparer(t, s)
		ds := prepUnit("q", 300)
		p := ip.PrepareImport(ds)
		taken := map[string]bool{}
		for _, id := range []string{"q-0000", "q-0070", "q-0150", "q-0151", "q-0299"} {
			mustDevice(t, s, id)
			taken[id] = true
		}
		// Another import stored in between takes some too.
		other := prepUnit("q", 300)[:10]
		oerrs, err := s.ImportDevices(bg, other)
		check(t, "ImportDevices", err)
		byOther := map[string]bool{}
		for i, d := range other {
			if oerrs[i] == nil {
				taken[d.ID], byOther[d.ID] = true, true
			}
		}
		errs, err := ip.StoreImport(bg, p)
		check(t, "StoreImport", err)
		stored := 0
		for i, d := range ds {
			switch {
			case taken[d.ID] && !errors.Is(errs[i], storage.ErrExists):
				t.Errorf("record %d (%s, taken meanwhile): %v, want ErrExists", i, d.ID, errs[i])
			case taken[d.ID] && (d.PasswordHash != "" || !d.CreatedAt.IsZero()):
				t.Errorf("record %d (%s, skipped): fields filled in: hash %q, created %v", i, d.ID, d.PasswordHash, d.CreatedAt)
			case !taken[d.ID] && errs[i] != nil:
				t.Errorf("record %d (%s): %v, want it stored", i, d.ID, errs[i])
			case !taken[d.ID]:
				stored++
			}
		}
		if n, err := s.CountDevices(bg); err != nil || n != 300 {
			t.Errorf("CountDevices = %d, %v; want 300", n, err)
		}
		// The label rows are those of the devices this unit stored, and of
		// the other import's (same labels); none of the devices created
		// with other labels.
		want := 0
		for i, d := range ds {
			if d.Labels["ring"] == "2" && (errs[i] == nil || byOther[d.ID]) {
				want++
			}
		}
		if got := QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"unit": "q", "ring": "2"}}, 1000); len(got) != want {
			t.Errorf("unit=q ring=2: %d devices, want %d", len(got), want)
		}
		if stored != 300-len(taken) {
			t.Errorf("%d stored, want %d", stored, 300-len(taken))
		}
	}},
	{"StoreImportReportsRefusedRecords", func(t *testing.T, s storage.Store) {
		ip := preparer(t, s)
		ds := prepUnit("r", 4)
		ds[1].ID = ""
		ds[2].Username = "bad\x00user"
		ds[3].ID = ds[0].ID // given twice: the first is stored
		errs, err := ip.StoreImport(bg, ip.PrepareImport(ds))
		check(t, "StoreImport", err)
		if errs[0] != nil || errs[1] == nil || errs[2] == nil || !errors.Is(errs[3], storage.ErrExists) {
			t.Errorf("errs = %v; want nil, an error, an error, ErrExists", errs)
		}
		if n, err := s.CountDevices(bg); err != nil || n != 1 {
			t.Errorf("CountDevices = %d, %v; want 1", n, err)
		}
	}},
	{"FailedStoreImportStoresNothingAndMayBeRetried", func(t *testing.T, s storage.Store) {
		ip := preparer(t, s)
		ds := prepUnit("f", 100)
		p := ip.PrepareImport(ds)
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if _, err := ip.StoreImport(ctx, p); err == nil {
			t.Fatal("StoreImport with a cancelled context succeeded")
		}
		if n, err := s.CountDevices(bg); err != nil || n != 0 {
			t.Fatalf("CountDevices after a failed StoreImport = %d, %v; want 0", n, err)
		}
		for _, d := range ds {
			if d.PasswordHash != "" || !d.CreatedAt.IsZero() {
				t.Fatalf("device %s changed by a failed StoreImport", d.ID)
			}
		}
		errs, err := ip.StoreImport(bg, p)
		check(t, "StoreImport again", err)
		for i, e := range errs {
			if e != nil {
				t.Errorf("record %d: %v", i, e)
			}
		}
		if n, err := s.CountDevices(bg); err != nil || n != 100 {
			t.Errorf("CountDevices = %d, %v; want 100", n, err)
		}
	}},
	{"StoreImportInsideABatch", func(t *testing.T, s storage.Store) {
		// Inside an atomic unit that fails, the import is undone with it.
		ip := preparer(t, s)
		ds := prepUnit("b", 100)
		p := ip.PrepareImport(ds)
		boom := errors.New("boom")
		err := storage.InBatch(bg, s, func(in storage.Store) error {
			errs, err := storage.StoreImport(bg, in, p)
			if err != nil {
				return err
			}
			for i, e := range errs {
				if e != nil {
					t.Errorf("record %d: %v", i, e)
				}
			}
			if n, err := in.CountDevices(bg); err != nil || n != 100 {
				t.Errorf("CountDevices inside the batch = %d, %v; want 100", n, err)
			}
			return boom
		})
		wantErr(t, "InBatch", err, boom)
		if n, err := s.CountDevices(bg); err != nil || n != 0 {
			t.Errorf("CountDevices after the batch failed = %d, %v; want 0", n, err)
		}
	}},
	{"PrepareWhileAnotherUnitIsStored", func(t *testing.T, s storage.Store) {
		// The importer's pipeline: unit k+1 is prepared while unit k is
		// written (run with -race).
		ip := preparer(t, s)
		units := [][]*storage.Device{prepUnit("c0", 200), prepUnit("c1", 200), prepUnit("c2", 200)}
		prepared := make(chan storage.PreparedImport)
		go func() {
			for _, u := range units {
				prepared <- ip.PrepareImport(u)
			}
			close(prepared)
		}()
		for p := range prepared {
			errs, err := ip.StoreImport(bg, p)
			check(t, "StoreImport", err)
			for i, e := range errs {
				if e != nil {
					t.Errorf("record %d: %v", i, e)
				}
			}
		}
		if n, err := s.CountDevices(bg); err != nil || n != 600 {
			t.Errorf("CountDevices = %d, %v; want 600", n, err)
		}
	}},
	{"StoreImportRefusesAnotherStoresUnit", func(t *testing.T, s storage.Store) {
		ip := preparer(t, s)
		var foreign storage.PreparedImport = otherUnit{}
		if _, err := ip.StoreImport(bg, foreign); !errors.Is(err, storage.ErrForeignImport) {
			t.Errorf("StoreImport of a foreign unit: %v, want ErrForeignImport", err)
		}
		// The helpers take a plain unit of a store without the ability
		// to ImportDevices.
		ds := prepUnit("h", 3)
		errs, err := storage.StoreImport(bg, plainInventory{s}, storage.PrepareImport(plainInventory{s}, ds))
		check(t, "storage.StoreImport without ImportPreparer", err)
		if len(errs) != 3 || errs[0] != nil || errs[1] != nil || errs[2] != nil {
			t.Errorf("errs = %v", errs)
		}
		if n, err := s.CountDevices(bg); err != nil || n != 3 {
			t.Errorf("CountDevices = %d, %v; want 3", n, err)
		}
	}},
}

// otherUnit is a PreparedImport no store prepared.
type otherUnit struct{}

func (otherUnit) Devices() []*storage.Device { return nil }

// plainInventory hides the store's ImportPreparer.
type plainInventory struct{ storage.Inventory }
