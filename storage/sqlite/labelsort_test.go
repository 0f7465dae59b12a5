package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/storage/storagetest"
)

// labelFleet stores n devices with the labels env (3 values) and site (30
// values, each with every env); every 7th device was never seen, the others were seen within
// 40 hours of t0 (so that several share one last contact).
func labelFleet(t *testing.T, s storage.Store, n int, t0 time.Time) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	var ds []*storage.Device
	for i := range n {
		d := &storage.Device{ID: fmt.Sprintf("dev-%05d", r.IntN(1_000_000)*10+i%10), AuthScheme: "none",
			Labels:    map[string]string{"env": []string{"prod", "staging", "dev"}[i%3], "site": fmt.Sprintf("s%d", (i/3)%30)},
			CreatedAt: t0.Add(-time.Duration(r.IntN(1000)) * time.Hour)}
		if i%7 != 0 {
			d.LastSeen = t0.Add(time.Duration(r.IntN(40)) * time.Hour)
		}
		ds = append(ds, d)
	}
	errs, err := s.ImportDevices(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		if e != nil && !strings.Contains(e.Error(), "given twice") {
			t.Fatal(e)
		}
	}
}

// naivePages is what the search must return for q: every device of the
// store that q matches, in the order of q's sort, read with ListDevices.
func naivePages(t *testing.T, s storage.Store, q storage.DeviceQuery) []string {
	t.Helper()
	ctx := context.Background()
	var all []*storage.Device
	for after := ""; ; {
		ds, err := s.ListDevices(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		all = append(all, ds...)
		after = ds[len(ds)-1].ID
	}
	var got []*storage.Device
	for _, d := range all {
		if q.Match(d) {
			got = append(got, d)
		}
	}
	slices.SortFunc(got, func(a, b *storage.Device) int {
		ka, kb := storage.SortKey(q.Sort, a), storage.SortKey(q.Sort, b)
		c := 0
		switch {
		case ka < kb:
			c = -1
		case ka > kb:
			c = 1
		default:
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Desc {
			c = -c
		}
		return c
	})
	ids := make([]string, len(got))
	for i, d := range got {
		ids[i] = d.ID
	}
	return ids
}

// labelSortQueries are two-label (and one-label) searches by last seen, in
// both directions, with and without last-seen bounds, which the store
// answers by walking a label's rows in last-seen order (migration
// label_sort_keys).
func labelSortQueries(t0 time.Time) []storage.DeviceQuery {
	var qs []storage.DeviceQuery
	for _, desc := range []bool{false, true} {
		for _, labels := range []map[string]string{
			{"site": "s4", "env": "prod"},
			{"site": "s7", "env": "staging"},
			{"site": "s4"},
			{"site": "s99", "env": "prod"}, // no such site
		} {
			base := storage.DeviceQuery{Labels: labels, Sort: storage.SortLastSeen, Desc: desc}
			after, before := base, base
			after.SeenAfter = t0.Add(10 * time.Hour)
			before.SeenBefore = t0.Add(30 * time.Hour)
			qs = append(qs, base, after, before)
		}
		for _, created := range []bool{false, true} {
			q := storage.DeviceQuery{Labels: map[string]string{"site": "s5", "env": "staging"}, Desc: desc}
			if created {
				q.Sort = storage.SortCreated
			}
			qs = append(qs, q)
		}
	}
	return qs
}

func checkLabelSearches(t *testing.T, s storage.Store, t0 time.Time, when string) {
	t.Helper()
	for _, q := range labelSortQueries(t0) {
		want := naivePages(t, s, q)
		for _, limit := range []int{3, 17, 1000} {
			if got := storagetest.QueryAllIDs(t, s, q, limit); !slices.Equal(got, want) {
				t.Errorf("%s: %+v in pages of %d:\n got %v\nwant %v", when, q, limit, got, want)
			}
		}
	}
}

// TestQueryDevices_TwoLabelsByLastSeenFollowLabelAndContactChanges checks
// the searches on labels sorted by last seen (never-seen devices first
// ascending, last descending, ties by ID, across pages) against the
// devices themselves, and again after devices make contact (their
// labels' place in the last-seen order follows), change, gain and lose
// labels, and are deleted.
func TestQueryDevices_TwoLabelsByLastSeenFollowLabelAndContactChanges(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.OpenWith(filepath.Join(dir, "omadm.db"), &sqlite.Options{SecretKeyFile: filepath.Join(dir, "key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	labelFleet(t, s, 3000, t0)
	// A batch of devices none of which was seen (their label rows are
	// marked unseen, none goes to label_seen).
	var unseen []*storage.Device
	for i := range 60 {
		unseen = append(unseen, &storage.Device{ID: fmt.Sprintf("unseen-%02d", i), AuthScheme: "none",
			Labels: map[string]string{"env": []string{"prod", "staging"}[i%2], "site": []string{"s4", "s7"}[i%2]}})
	}
	if errs, err := s.ImportDevices(ctx, unseen); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
		t.Fatalf("import of never-seen devices: %v %v", errs, err)
	}
	checkLabelSearches(t, s, t0, "after the import")

	ids := naivePages(t, s, storage.DeviceQuery{Labels: map[string]string{"site": "s4", "env": "prod"}, Sort: storage.SortLastSeen})
	if len(ids) < 20 {
		t.Fatalf("fleet has %d devices on site s4", len(ids))
	}
	// Contact: a never-seen device is seen, a seen one again later, one
	// moves back to never seen.
	for i, id := range ids[:6] {
		d, err := s.GetDevice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			d.LastSeen = t0.Add(100 * time.Hour)
		case 1:
			d.LastSeen = t0.Add(time.Duration(i) * time.Minute)
		case 2:
			d.LastSeen = time.Time{}
		}
		// The write of a DM message's contact, or a whole device update.
		update := s.UpdateDevice
		if i%2 == 1 {
			update = func(ctx context.Context, d *storage.Device) error { return s.UpdateDeviceContact(ctx, d, false) }
		}
		if err := update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	checkLabelSearches(t, s, t0, "after contacts")

	// Labels: changed, added, removed; a device created with labels after
	// the import; a device deleted.
	if _, err := s.UpdateLabels(ctx, ids[6:9], map[string]string{"env": "staging", "site": "s7"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateLabels(ctx, ids[9:11], nil, []string{"env"}); err != nil {
		t.Fatal(err)
	}
	others := naivePages(t, s, storage.DeviceQuery{Labels: map[string]string{"site": "s5"}})
	if _, err := s.UpdateLabels(ctx, others[:4], map[string]string{"env": "staging"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateLabels(ctx, others[4:6], map[string]string{"site": "s4", "env": "prod"}, nil); err != nil {
		t.Fatal(err)
	}
	for i, seen := range []time.Time{{}, t0.Add(5 * time.Hour)} {
		d := &storage.Device{ID: fmt.Sprintf("new-%d", i), AuthScheme: "none", LastSeen: seen,
			Labels: map[string]string{"site": "s4", "env": "prod"}}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteDevice(ctx, ids[11]); err != nil {
		t.Fatal(err)
	}
	checkLabelSearches(t, s, t0, "after label changes")

	// A device whose labels change in the batch that records its
	// contact: its labels sit at the new last contact.
	d, err := s.GetDevice(ctx, ids[12])
	if err != nil {
		t.Fatal(err)
	}
	err = s.Batch(ctx, func(st storage.Store) error {
		if _, err := st.UpdateLabels(ctx, []string{d.ID}, map[string]string{"env": "staging", "site": "s7"}, nil); err != nil {
			return err
		}
		d.LastSeen = t0.Add(200 * time.Hour)
		return st.UpdateDevice(ctx, d)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLabelSearches(t, s, t0, "after a contact and a label change in one batch")
}

// TestQueryDevices_LabelByLastSeenWithContactAtTheEpoch keeps the order of
// the search when a device's stored last contact is at or before the Unix
// epoch (which sorts with or before the devices never seen).
func TestQueryDevices_LabelByLastSeenWithContactAtTheEpoch(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.OpenWith(filepath.Join(dir, "omadm.db"), &sqlite.Options{SecretKeyFile: filepath.Join(dir, "key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	labelFleet(t, s, 600, t0)
	for i, seen := range []time.Time{time.Unix(0, 0), time.Unix(-3600, 0)} {
		d := &storage.Device{ID: fmt.Sprintf("old-%d", i), AuthScheme: "none", LastSeen: seen,
			Labels: map[string]string{"site": "s4", "env": "prod"}}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	checkLabelSearches(t, s, t0, "with contacts at the epoch")
}

// TestOpen_Schema16LabelRowsTakeTheirDevicesLastSeen opens a database of
// schema 16 holding labelled devices (seen and never seen), whose labels
// the migration label_sort_keys orders by last contact: the searches by
// last seen find what the devices say, also after a contact, and the
// foreign keys still hold.
func TestOpen_Schema16LabelRowsTakeTheirDevicesLastSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omadm.db")
	old := newOldSchema(t, path, "_journal_mode=WAL&_foreign_keys=1", 16)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		var seen any
		if i%5 != 0 {
			seen = t0.Add(time.Duration(i%40) * time.Hour).UnixMicro()
		}
		id := fmt.Sprintf("dev-%03d", i)
		labels := fmt.Sprintf(`{"env":%q,"site":"s%d"}`, []string{"prod", "staging", "dev"}[i%3], i%30)
		old.exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, labels, created_at, last_seen)
			VALUES (?, 'none', '', '', '', '', ?, ?, ?)`, id, labels, t0.Add(-time.Duration(i)*time.Hour).UnixMicro(), seen)
		old.exec(`INSERT INTO device_labels (device_id, key, value) SELECT ?, key, value FROM json_each(?)`, id, labels)
		old.exec(`INSERT INTO inventory_counts (kind, key, value, n) SELECT 'l', key, value, 1 FROM json_each(?) WHERE true
			ON CONFLICT (kind, key, value) DO UPDATE SET n = n + 1`, labels)
	}
	old.exec(`INSERT INTO device_groups (name, created_at) VALUES ('g', 0)`)
	old.exec(`INSERT INTO group_members (group_name, device_id, created_at, last_seen)
		SELECT 'g', id, created_at, last_seen FROM devices WHERE rowid % 2 = 0`)
	old.close()

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	checkLabelSearches(t, s, t0, "after the migration")
	d, err := s.GetDevice(ctx, "dev-004")
	if err != nil {
		t.Fatal(err)
	}
	d.LastSeen = t0.Add(500 * time.Hour)
	if err := s.UpdateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	checkLabelSearches(t, s, t0, "after a contact")

	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			t.Fatal(err)
		}
		t.Errorf("foreign key violation after the migration: %s row %v -> %s", table, rowid, parent)
	}
	// Every label of a seen device is in label_seen at its last contact,
	// nothing else is, and sort_unseen marks the labels of the others.
	for _, c := range []struct{ what, query string }{
		{"label rows of seen devices missing from label_seen", `SELECT count(*) FROM device_labels l JOIN devices d ON d.id = l.device_id
			WHERE d.last_seen IS NOT NULL AND NOT EXISTS (SELECT 1 FROM label_seen s
			WHERE s.key = l.key AND s.value = l.value AND s.last_seen = d.last_seen AND s.device_id = l.device_id)`},
		{"label_seen rows without their label or contact", `SELECT count(*) FROM label_seen s WHERE NOT EXISTS (SELECT 1 FROM device_labels l
			JOIN devices d ON d.id = l.device_id WHERE s.key = l.key AND s.value = l.value AND s.last_seen = d.last_seen AND s.device_id = l.device_id)`},
		{"label rows whose sort_unseen is wrong", `SELECT count(*) FROM device_labels l JOIN devices d ON d.id = l.device_id
			WHERE l.sort_unseen IS NOT (CASE WHEN d.last_seen IS NULL THEN 0 END)`},
	} {
		var n int
		if err := db.QueryRow(c.query).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d, %v", c.what, n, err)
		}
	}
}
