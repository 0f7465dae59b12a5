package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/storage/storagetest"
)

// TestOpen_OldDatabaseIsSearchableByDevInfoAfterMigration writes devices
// with DevInfo and labels into a database of schema version 7 (before the
// inventory indexes), takes it to version 13 and adds a static group, opens it with the current store (which applies the
// later migrations, among them the search columns of device_facets) and
// checks that every search by model, manufacturer, firmware, label, group
// and last seen, in every order, finds exactly the devices the filter selects, and
// still does after a device reports new DevInfo.
func TestOpen_OldDatabaseIsSearchableByDevInfoAfterMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omadm.db")
	old := newOldSchema(t, path, "_journal_mode=WAL", 7)
	exec := old.exec
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type dev struct {
		mod, man, fwv, env string
		seen               int // hours after t0, 0 = never
	}
	devs := map[string]dev{}
	for i := range 60 {
		d := dev{fmt.Sprintf("X%d", i%4), fmt.Sprintf("M%d", i%3), fmt.Sprintf("2.%d", i%5), []string{"prod", "dev"}[i%2], i % 7}
		id := fmt.Sprintf("dev-%02d", i)
		devs[id] = d
		var seen any
		if d.seen > 0 {
			seen = t0.Add(time.Duration(d.seen) * time.Hour).UnixMicro()
		}
		exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, devinfo, labels, created_at, last_seen)
			VALUES (?, 'none', '', '', '', '', ?, ?, ?, ?)`, id,
			fmt.Sprintf(`{"./DevInfo/Mod":%q,"./DevInfo/Man":%q,"./DevDetail/FwV":%q,"./DevInfo/Lang":"en"}`, d.mod, d.man, d.fwv),
			fmt.Sprintf(`{"env":%q}`, d.env), t0.Add(time.Duration(60-i)*time.Minute).UnixMicro(), seen)
	}
	// Up to the schema before device_facets, with a static group of every
	// third device.
	old.migrateTo(13)
	exec(`INSERT INTO device_groups (name, created_at) VALUES ('pilot', 0)`)
	for id := range devs {
		if id[len(id)-1]%3 == 0 {
			exec(`INSERT INTO group_members (group_name, device_id) VALUES ('pilot', ?)`, id)
		}
	}
	old.close()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	check := func(what string, q storage.DeviceQuery, match func(id string, d dev) bool) {
		t.Helper()
		var want []string
		for id, d := range devs {
			if match(id, d) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		for _, sort := range []string{storage.SortID, storage.SortLastSeen, storage.SortCreated} {
			q := q
			q.Sort = sort
			got := storagetest.QueryAllIDs(t, s, q, 4)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s by %s:\n got  %v\n want %v", what, sort, got, want)
			}
		}
	}
	check("model", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X1"}},
		func(_ string, d dev) bool { return d.mod == "X1" })
	check("model+man+fwv", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X2", "./DevInfo/Man": "M1", "./DevDetail/FwV": "2.2"}},
		func(_ string, d dev) bool { return d.mod == "X2" && d.man == "M1" && d.fwv == "2.2" })
	check("fwv+env+seen", storage.DeviceQuery{DevInfo: map[string]string{"./DevDetail/FwV": "2.3"}, Labels: map[string]string{"env": "dev"},
		SeenAfter: t0.Add(2 * time.Hour)}, func(_ string, d dev) bool { return d.fwv == "2.3" && d.env == "dev" && d.seen > 2 })
	check("lang (not a column)", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Lang": "en", "./DevInfo/Man": "M0"}},
		func(_ string, d dev) bool { return d.man == "M0" })

	pilot := func(id string) bool { return id[len(id)-1]%3 == 0 }
	check("group", storage.DeviceQuery{Group: "pilot"}, func(id string, _ dev) bool { return pilot(id) })
	check("group+seen", storage.DeviceQuery{Group: "pilot", SeenAfter: t0.Add(3 * time.Hour)},
		func(id string, d dev) bool { return pilot(id) && d.seen > 3 })

	// A device reports another model: the search follows.
	d, err := s.GetDevice(ctx, "dev-01")
	if err != nil {
		t.Fatal(err)
	}
	d.DevInfo["./DevInfo/Mod"] = "X9"
	if err := s.UpdateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	e := devs["dev-01"]
	e.mod = "X9"
	devs["dev-01"] = e
	check("model after an update", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X1"}},
		func(_ string, d dev) bool { return d.mod == "X1" })
	check("new model", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X9"}, SeenBefore: t0.Add(5 * time.Hour)},
		func(_ string, d dev) bool { return d.mod == "X9" && d.seen < 5 })
}
