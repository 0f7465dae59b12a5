package postgres_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/storagetest"
)

// copiesDiffer lists the label rows and group members whose copies of
// their device's sort keys and DevInfo facets differ from the device row.
const copiesDiffer = `
SELECT 'label ' || l.device_id || ' ' || l.key FROM device_labels l JOIN devices d ON d.id = l.device_id
 WHERE (l.created_at, l.info_mod, l.info_man, l.info_fwv) IS DISTINCT FROM
       (d.created_at, d.devinfo->>'./DevInfo/Mod', d.devinfo->>'./DevInfo/Man', d.devinfo->>'./DevDetail/FwV')
UNION ALL
SELECT 'seen ' || l.device_id || ' ' || l.key FROM device_label_seen l JOIN devices d ON d.id = l.device_id
 WHERE (l.last_seen, l.info_mod, l.info_man, l.info_fwv) IS DISTINCT FROM
       (d.last_seen, d.devinfo->>'./DevInfo/Mod', d.devinfo->>'./DevInfo/Man', d.devinfo->>'./DevDetail/FwV')
UNION ALL
SELECT 'seen of ' || d.id FROM devices d
 WHERE (SELECT array_agg(key || '=' || value ORDER BY key) FROM json_each_text(d.labels)) IS DISTINCT FROM
       (SELECT array_agg(key || '=' || value ORDER BY key) FROM device_label_seen l WHERE l.device_id = d.id)
UNION ALL
SELECT 'member ' || g.group_name || ' ' || g.device_id FROM group_members g JOIN devices d ON d.id = g.device_id
 WHERE (g.created_at, g.last_seen, g.info_mod, g.info_man, g.info_fwv) IS DISTINCT FROM
       (d.created_at, d.last_seen, d.devinfo->>'./DevInfo/Mod', d.devinfo->>'./DevInfo/Man', d.devinfo->>'./DevDetail/FwV')
UNION ALL
SELECT 'labels of ' || d.id FROM devices d
 WHERE (SELECT count(*) FROM json_each_text(d.labels)) <> (SELECT count(*) FROM device_labels l WHERE l.device_id = d.id)`

func checkCopies(t *testing.T, c *pgx.Conn, step string) {
	t.Helper()
	rows, err := c.Query(context.Background(), copiesDiffer)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("%s: copies out of step with their device: %v", step, bad)
	}
}

// walkQueries are searches a label or the group drives (each filter is
// small enough, or the label is the only filter): every order, both
// directions, the DevInfo and last-contact filters tested on the copies.
func walkQueries(seenAfter time.Time) []storage.DeviceQuery {
	var qs []storage.DeviceQuery
	for _, sort := range []string{storage.SortID, storage.SortCreated, storage.SortLastSeen} {
		for _, desc := range []bool{false, true} {
			for _, q := range []storage.DeviceQuery{
				{Labels: map[string]string{"site": "a"}},
				{Labels: map[string]string{"site": "a"}, DevInfo: map[string]string{"./DevInfo/Mod": "X1"}},
				{Labels: map[string]string{"site": "a", "env": "prod"}},
				{Labels: map[string]string{"site": "a"}, DevInfo: map[string]string{"./DevInfo/Man": "Acme", "./DevDetail/FwV": "2.1"}, SeenAfter: seenAfter},
				{Group: "g"},
				{Group: "g", DevInfo: map[string]string{"./DevInfo/Mod": "X1"}},
				{Group: "g", Labels: map[string]string{"env": "prod"}, DevInfo: map[string]string{"./DevDetail/FwV": "2.1"}, SeenAfter: seenAfter},
				{Group: "g", Labels: map[string]string{"site": "a"}, DevInfo: map[string]string{"./DevInfo/Mod": "X1", "./DevInfo/Man": "Acme"}},
			} {
				q.Sort, q.Desc = sort, desc
				qs = append(qs, q)
			}
		}
	}
	return qs
}

// TestQueryDevices_LabelAndGroupWalksFollowEveryWrite pages (one and two
// devices a page, by cursor) through searches driven by a label or a
// group in every order, with never-seen devices, after each kind of write
// that changes a copy: a contact (a DM message's write or a full one), a
// contact cleared, a contact that changes DevInfo, a label changed,
// added and removed, a DevInfo change of a facet (and of another value),
// a device imported, a member added and removed, a device deleted. Each
// page must hold the devices the filter selects by its definition, and
// every copy must equal its device's value.
func TestQueryDevices_LabelAndGroupWalksFollowEveryWrite(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	info := func(mod, man, fwv string) map[string]string {
		return map[string]string{"./DevInfo/Mod": mod, "./DevInfo/Man": man, "./DevDetail/FwV": fwv, "./DevInfo/Lang": "en"}
	}
	members := map[string]bool{}
	var created []*storage.Device
	for i := range 12 {
		d := &storage.Device{
			ID: fmt.Sprintf("d%02d", i), AuthScheme: "none",
			Labels:    map[string]string{"site": []string{"a", "a", "b"}[i%3], "env": []string{"prod", "dev"}[i%2]},
			DevInfo:   info([]string{"X1", "X2"}[i%4/3], []string{"Acme", "Other"}[i%5/4], []string{"2.0", "2.1"}[i%3/2]),
			CreatedAt: hour(100 - 7*i%13),
		}
		if i%4 != 0 { // every fourth never seen
			d.LastSeen = hour(10 + 5*i%7)
		}
		created = append(created, d)
	}
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, d := range created[:4] {
		check("CreateDevice", s.CreateDevice(ctx, d))
	}
	errs, err := s.ImportDevices(ctx, created[4:])
	check("ImportDevices", err)
	for _, e := range errs {
		check("ImportDevices", e)
	}
	check("CreateGroup", s.CreateGroup(ctx, &storage.Group{Name: "g"}))
	add := func(ids ...string) {
		t.Helper()
		_, err := s.AddGroupMembers(ctx, "g", ids)
		check("AddGroupMembers", err)
		for _, id := range ids {
			members[id] = true
		}
	}
	add("d00", "d01", "d02", "d03", "d05", "d06", "d09")
	update := func(id string, f func(d *storage.Device)) {
		t.Helper()
		d, err := s.GetDevice(ctx, id)
		check("GetDevice", err)
		f(d)
		check("UpdateDevice", s.UpdateDevice(ctx, d))
	}

	verify := func(step string) {
		t.Helper()
		checkCopies(t, c, step)
		all, err := s.ListDevices(ctx, "", 1000)
		check("ListDevices", err)
		for _, q := range walkQueries(hour(12)) {
			var want []string
			ws := slices.Clone(all)
			slices.SortFunc(ws, func(a, b *storage.Device) int {
				c := cmp.Or(cmp.Compare(storage.SortKey(q.Sort, a), storage.SortKey(q.Sort, b)), cmp.Compare(a.ID, b.ID))
				if q.Desc {
					return -c
				}
				return c
			})
			for _, d := range ws {
				if q.Match(d) && (q.Group == "" || members[d.ID]) {
					want = append(want, d.ID)
				}
			}
			for _, n := range []int{1, 2} {
				q.Cursor = ""
				got := storagetest.QueryAllIDs(t, s, q, n)
				if !slices.Equal(got, want) {
					t.Errorf("%s: labels %v devinfo %v group %q seen after %v by %q desc=%v, pages of %d:\n got  %v\n want %v",
						step, q.Labels, q.DevInfo, q.Group, !q.SeenAfter.IsZero(), q.Sort, q.Desc, n, got, want)
				}
			}
		}
	}
	verify("created")

	// A DM message's write (UpdateDeviceContact) and a full write.
	contact := func(id string, devInfo bool, f func(d *storage.Device)) {
		t.Helper()
		d, err := s.GetDevice(ctx, id)
		check("GetDevice", err)
		f(d)
		check("UpdateDeviceContact", s.UpdateDeviceContact(ctx, d, devInfo))
	}
	contact("d04", false, func(d *storage.Device) { d.LastSeen = hour(40) }) // a never-seen device's first contact
	update("d01", func(d *storage.Device) { d.LastSeen = hour(41) })
	update("d05", func(d *storage.Device) { d.LastSeen = time.Time{} })
	verify("contacts")
	contact("d03", true, func(d *storage.Device) { d.LastSeen, d.DevInfo = hour(42), info("X1", "Acme", "2.1") })
	verify("a contact that changes DevInfo")

	_, err = s.UpdateLabels(ctx, []string{"d02", "d03"}, map[string]string{"site": "a"}, nil)
	check("UpdateLabels", err)
	_, err = s.UpdateLabels(ctx, []string{"d00", "d07"}, map[string]string{"env": "prod"}, []string{"site"})
	check("UpdateLabels", err)
	verify("labels changed")

	update("d01", func(d *storage.Device) { d.DevInfo = info("X1", "Acme", "2.1") })
	update("d06", func(d *storage.Device) { d.DevInfo["./DevInfo/Lang"] = "fr" }) // not a facet
	update("d09", func(d *storage.Device) { d.DevInfo = nil })
	// Labels, DevInfo and last contact changed by one write.
	update("d10", func(d *storage.Device) {
		d.Labels = map[string]string{"site": "a", "env": "prod"}
		d.DevInfo = info("X1", "Acme", "2.1")
		d.LastSeen = hour(45)
	})
	verify("DevInfo changed")

	add("d10", "d11")
	_, err = s.RemoveGroupMembers(ctx, "g", []string{"d00"})
	check("RemoveGroupMembers", err)
	delete(members, "d00")
	check("DeleteDevice", s.DeleteDevice(ctx, "d02"))
	delete(members, "d02")
	verify("members changed")
}

// TestOpen_MigratesLabelRowsOfA0017Schema opens a schema left at version
// 17 holding labelled devices (seen and never seen) and group members, and
// checks that migration 18 gives every label row and member its device's
// copies and that searches a label or the group drives page in order.
func TestOpen_MigratesLabelRowsOfA0017Schema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	c, exec := schemaAt(t, dsn, 17)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	for _, d := range []struct {
		id, labels, devinfo string
		created             time.Time
		seen                *time.Time
	}{
		{"d1", `{"site":"a","env":"prod"}`, `{"./DevInfo/Mod":"X1","./DevInfo/Man":"Acme","./DevDetail/FwV":"2.1"}`, hour(1), new(hour(30))},
		{"d2", `{"site":"a"}`, `{"./DevInfo/Mod":"X1"}`, hour(2), new(hour(20))},
		{"d3", `{"site":"a","env":"dev"}`, `{"./DevInfo/Mod":"X1","./DevDetail/FwV":"2.1"}`, hour(3), nil},
		{"d4", `{"site":"b"}`, `{"./DevInfo/Mod":"X1"}`, hour(0), new(hour(40))},
		{"d5", ``, ``, hour(5), nil},
	} {
		var labels, devinfo any
		if d.labels != "" {
			labels, devinfo = d.labels, d.devinfo
		}
		exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, labels, devinfo, created_at, last_seen)
			VALUES ($1, 'none', '', '', '', '', $2, $3, $4, $5)`, d.id, labels, devinfo, d.created, d.seen)
	}
	exec(`INSERT INTO device_groups (name, created_at) VALUES ('g', now())`)
	exec(`INSERT INTO group_members (group_name, device_id) VALUES ('g', 'd1'), ('g', 'd3'), ('g', 'd4'), ('g', 'd5')`)
	c.Close(ctx)

	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKeyFile: filepath.Join(t.TempDir(), "secret.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	checkCopies(t, c, "migrated")
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM device_labels`).Scan(&n); err != nil || n != 6 {
		t.Errorf("label rows after the migration: %d, %v; want 6", n, err)
	}

	page := func(q storage.DeviceQuery) []string {
		t.Helper()
		return storagetest.QueryAllIDs(t, s, q, 1)
	}
	site := map[string]string{"site": "a"}
	x1 := map[string]string{"./DevInfo/Mod": "X1"}
	for _, tc := range []struct {
		q    storage.DeviceQuery
		want []string
	}{
		{storage.DeviceQuery{Labels: site, Sort: storage.SortLastSeen}, []string{"d3", "d2", "d1"}},
		{storage.DeviceQuery{Labels: site, Sort: storage.SortLastSeen, Desc: true}, []string{"d1", "d2", "d3"}},
		{storage.DeviceQuery{Labels: site, Sort: storage.SortCreated, Desc: true}, []string{"d3", "d2", "d1"}},
		{storage.DeviceQuery{Labels: site, DevInfo: map[string]string{"./DevDetail/FwV": "2.1"}}, []string{"d1", "d3"}},
		{storage.DeviceQuery{Labels: site, DevInfo: x1, SeenAfter: hour(25), Sort: storage.SortCreated}, []string{"d1"}},
		{storage.DeviceQuery{Group: "g", DevInfo: x1, Sort: storage.SortLastSeen, Desc: true}, []string{"d4", "d1", "d3"}},
		{storage.DeviceQuery{Group: "g", DevInfo: map[string]string{"./DevInfo/Man": "Acme"}}, []string{"d1"}},
	} {
		if got := page(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("labels %v devinfo %v group %q by %q desc=%v: %v, want %v",
				tc.q.Labels, slices.Collect(maps.Keys(tc.q.DevInfo)), tc.q.Group, tc.q.Sort, tc.q.Desc, got, tc.want)
		}
	}
	// The migrated triggers keep the copies: a contact and a model change.
	d3, err := s.GetDevice(ctx, "d3")
	if err != nil {
		t.Fatal(err)
	}
	d3.LastSeen = hour(50)
	d3.DevInfo["./DevInfo/Mod"] = "X2"
	if err := s.UpdateDevice(ctx, d3); err != nil {
		t.Fatal(err)
	}
	checkCopies(t, c, "after a contact")
	if got, want := page(storage.DeviceQuery{Labels: site, Sort: storage.SortLastSeen, Desc: true}), []string{"d3", "d1", "d2"}; !slices.Equal(got, want) {
		t.Errorf("after d3's contact, site a by last seen desc: %v, want %v", got, want)
	}
	if got, want := page(storage.DeviceQuery{Group: "g", DevInfo: x1, Sort: storage.SortLastSeen, Desc: true}), []string{"d4", "d1"}; !slices.Equal(got, want) {
		t.Errorf("after d3's model change, group g model X1: %v, want %v", got, want)
	}
	// The rebuilt label rows still go with their device.
	if err := s.DeleteDevice(ctx, "d4"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM device_labels WHERE device_id = 'd4'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("label rows of a deleted device: %d, %v; want 0", n, err)
	}
}

// TestDevicePlan_LabelOrGroupWalksItsRowsInThePageOrder checks which
// statement a search runs: a label or group that drives is read in the
// page's order from its own rows, the DevInfo and last-contact filters
// tested on their copies there; a label too common to drive still does when
// its only other filters are on copied DevInfo values (or it is alone, in a
// sorted search).
func TestDevicePlan_LabelOrGroupWalksItsRowsInThePageOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	defer postgres.SetDriveMax(2)()
	// Three devices with site a: the label counts 3, above the bound.
	for i := range 3 {
		if err := s.CreateDevice(ctx, &storage.Device{ID: fmt.Sprintf("d%d", i), AuthScheme: "none",
			Labels: map[string]string{"site": "a", "env": "prod"}, DevInfo: map[string]string{"./DevInfo/Mod": "X1", "./DevInfo/Lang": "en"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGroup(ctx, &storage.Group{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddGroupMembers(ctx, "g", []string{"d1"}); err != nil {
		t.Fatal(err)
	}
	site := map[string]string{"site": "a"}
	mod := map[string]string{"./DevInfo/Mod": "X1"}
	seen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		q    storage.DeviceQuery
		want []string // substrings of the statement, in order; nil: no walk
	}{
		{"label alone by last contact", storage.DeviceQuery{Labels: site, Sort: storage.SortLastSeen, Desc: true},
			[]string{"FROM device_label_seen s WHERE key = ", "ORDER BY c_key DESC, c_id DESC"}},
		{"label and model by created", storage.DeviceQuery{Labels: site, DevInfo: mod, Sort: storage.SortCreated},
			[]string{"created_at AS c_key FROM device_labels s", "s.info_mod = ", "ORDER BY c_key, c_id"}},
		{"label, model and contact by ID", storage.DeviceQuery{Labels: site, DevInfo: mod, SeenAfter: seen},
			[]string{"FROM device_labels s", "s.info_mod = ", "ORDER BY c_id", "WHERE id = c.c_id AND coalesce(last_seen, '-infinity'::timestamptz) > "}},
		{"label, model and contact by last contact", storage.DeviceQuery{Labels: site, DevInfo: mod, SeenAfter: seen, Sort: storage.SortLastSeen},
			[]string{"FROM device_label_seen s", "s.info_mod = ", "coalesce(last_seen, '-infinity'::timestamptz) > ", "ORDER BY c_key, c_id"}},
		{"group, label and model by last contact", storage.DeviceQuery{Group: "g", Labels: site, DevInfo: mod, Sort: storage.SortLastSeen},
			[]string{"FROM group_members s WHERE group_name = ", "s.info_mod = ", "EXISTS (SELECT 1 FROM device_labels l", "ORDER BY c_key, c_id"}},
		{"label alone by ID", storage.DeviceQuery{Labels: site}, nil},
		{"two common labels", storage.DeviceQuery{Labels: map[string]string{"site": "a", "env": "prod"}, Sort: storage.SortCreated}, nil},
		{"label and an uncopied DevInfo value", storage.DeviceQuery{Labels: site, DevInfo: map[string]string{"./DevInfo/Lang": "en"}, Sort: storage.SortCreated}, nil},
	} {
		q := tc.q
		q.Limit = 10
		query, _, err := postgres.DeviceQuerySQL(s, q)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == nil {
			if strings.Contains(query, " s WHERE ") {
				t.Errorf("%s: driven, want the planner's join: %s", tc.name, query)
			}
			continue
		}
		rest := query
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q missing (in order) from %s", tc.name, w, query)
				break
			}
			rest = rest[i+len(w):]
		}
	}
}
