package postgres_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/storagetest"
)

// TestInventory_FacetTermsOnEveryValue runs the inventory and group suites
// (the random filters among them) with every DevInfo value counted as
// common and no filter small enough to drive a search of several, so that
// each filter on the model, manufacturer or firmware version of a sorted
// search is a term on the order index's copy of the value rather than a
// subquery on device_devinfo, as on a large fleet. (The default bounds, run
// by the other suites, make every search of two filters or more driven.)
func TestInventory_FacetTermsOnEveryValue(t *testing.T) {
	defer postgres.SetFacetRare(0)()
	defer postgres.SetDriveMax(0)()
	f := func(t *testing.T) storage.Store { return newStore(t) }
	storagetest.RunInventory(t, f)
	storagetest.RunGroupStore(t, f)
}

// TestOpen_MigratesGroupMembersOfA0015Schema opens a schema left at version
// 15 with devices in a static group and checks that the members take their
// devices' sort keys, that a group sorted by last contact or creation pages
// in the right order, and that a later contact moves the member.
func TestOpen_MigratesGroupMembersOfA0015Schema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	c, exec := schemaAt(t, dsn, 15)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// d1 created first and seen last, d3 never seen, d4 not a member.
	for _, d := range []struct {
		id      string
		created time.Time
		seen    *time.Time
	}{{"d1", hour(1), new(hour(30))}, {"d2", hour(2), new(hour(20))}, {"d3", hour(3), nil}, {"d4", hour(0), new(hour(40))}} {
		exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, devinfo, created_at, last_seen)
			VALUES ($1, 'none', '', '', '', '', '{"./DevInfo/Mod":"X1"}', $2, $3)`, d.id, d.created, d.seen)
	}
	exec(`INSERT INTO device_groups (name, created_at) VALUES ('g', now())`)
	exec(`INSERT INTO group_members (group_name, device_id) VALUES ('g', 'd1'), ('g', 'd2'), ('g', 'd3')`)
	c.Close(ctx)

	defer postgres.SetFacetRare(0)()
	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKeyFile: filepath.Join(t.TempDir(), "secret.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page := func(sort string, desc bool) []string {
		t.Helper()
		q := storage.DeviceQuery{Group: "g", DevInfo: map[string]string{"./DevInfo/Mod": "X1"}, Sort: sort, Desc: desc}
		return storagetest.QueryAllIDs(t, s, q, 1)
	}
	for _, tc := range []struct {
		sort string
		desc bool
		want []string
	}{
		{storage.SortLastSeen, false, []string{"d3", "d2", "d1"}},
		{storage.SortLastSeen, true, []string{"d1", "d2", "d3"}},
		{storage.SortCreated, false, []string{"d1", "d2", "d3"}},
		{storage.SortCreated, true, []string{"d3", "d2", "d1"}},
	} {
		if got := page(tc.sort, tc.desc); !slices.Equal(got, tc.want) {
			t.Errorf("group g by %s desc=%v: %v, want %v", tc.sort, tc.desc, got, tc.want)
		}
	}
	d3, err := s.GetDevice(ctx, "d3")
	if err != nil {
		t.Fatal(err)
	}
	d3.LastSeen = hour(50)
	if err := s.UpdateDevice(ctx, d3); err != nil {
		t.Fatal(err)
	}
	if got, want := page(storage.SortLastSeen, true), []string{"d3", "d1", "d2"}; !slices.Equal(got, want) {
		t.Errorf("after d3's contact, group g by last seen desc: %v, want %v", got, want)
	}
	if _, err := s.AddGroupMembers(ctx, "g", []string{"d4"}); err != nil {
		t.Fatal(err)
	}
	if got, want := page(storage.SortCreated, false), []string{"d4", "d1", "d2", "d3"}; !slices.Equal(got, want) {
		t.Errorf("after adding d4, group g by created: %v, want %v", got, want)
	}
}
