package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// fleetDevice is a device for the search tests: labels, DevInfo and times
// given, no credentials beyond what every device has.
func fleetDevice(id string, labels, devinfo map[string]string, created, seen time.Time) *storage.Device {
	d := newDevice(id)
	d.Labels, d.DevInfo, d.CreatedAt, d.LastSeen = labels, devinfo, created, seen
	return d
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seedFleet stores six devices with distinct labels, DevInfo and times:
// a: env=prod model X200 fw 2.1, seen t0+5h, created t0+1h
// b: env=prod model X200 fw 2.0, seen t0+1h, created t0+1h (same as a)
// c: env=dev  model Z9   fw 2.1, never seen, created t0+3h
// d: no labels, no DevInfo, seen t0+5h (same as a), created t0
// e: env=prod,tier=gold model X200 Man Other, seen t0+2h, created t0+4h
// f: tier=""  (label present, empty value), seen t0+3h, created t0+2h
func seedFleet(t *testing.T, s storage.Store) {
	t.Helper()
	x := func(mod, man, fw string) map[string]string {
		return map[string]string{"./DevInfo/Mod": mod, "./DevInfo/Man": man, "./DevDetail/FwV": fw}
	}
	h := time.Hour
	for _, d := range []*storage.Device{
		fleetDevice("IMEI:35-a", map[string]string{"env": "prod"}, x("X200", "Acme", "2.1"), t0.Add(h), t0.Add(5*h)),
		fleetDevice("IMEI:35-b", map[string]string{"env": "prod"}, x("X200", "Acme", "2.0"), t0.Add(h), t0.Add(h)),
		fleetDevice("IMEI:36-c", map[string]string{"env": "dev"}, x("Z9", "Acme", "2.1"), t0.Add(3*h), time.Time{}),
		fleetDevice("MAC:d", nil, nil, t0, t0.Add(5*h)),
		fleetDevice("MAC:e", map[string]string{"env": "prod", "tier": "gold"}, x("X200", "Other", "2.1"), t0.Add(4*h), t0.Add(2*h)),
		fleetDevice("MAC:f", map[string]string{"tier": ""}, nil, t0.Add(2*h), t0.Add(3*h)),
	} {
		check(t, "CreateDevice "+d.ID, s.CreateDevice(bg, d))
	}
}

func deviceIDs(ds []*storage.Device) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// QueryAllIDs follows q's cursors with pages of size n and returns every
// device ID in order. A page larger than n, or a cursor that never ends
// (2,000 pages), fails the test. Backend tests use it too.
func QueryAllIDs(t *testing.T, s storage.Store, q storage.DeviceQuery, n int) []string {
	t.Helper()
	q.Limit = n
	var ids []string
	for range 2000 {
		ds, next, err := s.QueryDevices(bg, q)
		check(t, "QueryDevices", err)
		if len(ds) > n {
			t.Fatalf("page of %d devices, limit %d", len(ds), n)
		}
		ids = append(ids, deviceIDs(ds)...)
		if next == "" {
			return ids
		}
		q.Cursor = next
	}
	t.Fatal("QueryDevices: cursors never ended")
	return nil
}

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

var inventoryTests = []test{
	{"QueryDevicesFiltersByEveryField", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		mustGroup(t, s, "pilot", "")
		_, err := s.AddGroupMembers(bg, "pilot", []string{"MAC:d", "IMEI:35-b"})
		check(t, "AddGroupMembers", err)
		h := time.Hour
		for _, tc := range []struct {
			name string
			q    storage.DeviceQuery
			want []string
		}{
			{"none", storage.DeviceQuery{}, []string{"IMEI:35-a", "IMEI:35-b", "IMEI:36-c", "MAC:d", "MAC:e", "MAC:f"}},
			{"ids", storage.DeviceQuery{IDs: []string{"MAC:e", "IMEI:35-a", "nope"}}, []string{"IMEI:35-a", "MAC:e"}},
			{"prefix", storage.DeviceQuery{IDPrefix: "IMEI:35"}, []string{"IMEI:35-a", "IMEI:35-b"}},
			{"prefix-none", storage.DeviceQuery{IDPrefix: "IMEI:4"}, nil},
			{"label", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}, []string{"IMEI:35-a", "IMEI:35-b", "MAC:e"}},
			{"two-labels", storage.DeviceQuery{Labels: map[string]string{"env": "prod", "tier": "gold"}}, []string{"MAC:e"}},
			{"label-present", storage.DeviceQuery{Labels: map[string]string{"tier": ""}}, []string{"MAC:e", "MAC:f"}},
			{"label-absent-key", storage.DeviceQuery{Labels: map[string]string{"zone": ""}}, nil},
			{"model", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X200"}}, []string{"IMEI:35-a", "IMEI:35-b", "MAC:e"}},
			{"model-fw-man", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X200", "./DevDetail/FwV": "2.1", "./DevInfo/Man": "Acme"}}, []string{"IMEI:35-a"}},
			{"group", storage.DeviceQuery{Group: "pilot"}, []string{"IMEI:35-b", "MAC:d"}},
			{"unknown-group", storage.DeviceQuery{Group: "nope"}, nil},
			{"seen-after", storage.DeviceQuery{SeenAfter: t0.Add(2 * h)}, []string{"IMEI:35-a", "MAC:d", "MAC:f"}},
			{"seen-before-includes-never", storage.DeviceQuery{SeenBefore: t0.Add(2 * h)}, []string{"IMEI:35-b", "IMEI:36-c"}},
			{"seen-window", storage.DeviceQuery{SeenAfter: t0.Add(h), SeenBefore: t0.Add(5 * h)}, []string{"MAC:e", "MAC:f"}},
			{"all-together", storage.DeviceQuery{IDPrefix: "IMEI:", Labels: map[string]string{"env": "prod"},
				DevInfo: map[string]string{"./DevInfo/Mod": "X200"}, Group: "pilot", SeenBefore: t0.Add(3 * h)}, []string{"IMEI:35-b"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, n := range []int{1, 2, 100} {
					wantIDs(t, fmt.Sprintf("page size %d", n), QueryAllIDs(t, s, tc.q, n), tc.want...)
				}
			})
		}
	}},
	{"QueryDevicesSortsWithIDTieBreak", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		for _, tc := range []struct {
			sort string
			desc bool
			want []string
		}{
			{"", false, []string{"IMEI:35-a", "IMEI:35-b", "IMEI:36-c", "MAC:d", "MAC:e", "MAC:f"}},
			{"id", true, []string{"MAC:f", "MAC:e", "MAC:d", "IMEI:36-c", "IMEI:35-b", "IMEI:35-a"}},
			// Never seen first; a and d share t0+5h, so their IDs order them.
			{"last_seen", false, []string{"IMEI:36-c", "IMEI:35-b", "MAC:e", "MAC:f", "IMEI:35-a", "MAC:d"}},
			{"last_seen", true, []string{"MAC:d", "IMEI:35-a", "MAC:f", "MAC:e", "IMEI:35-b", "IMEI:36-c"}},
			// a and b share t0+1h.
			{"created", false, []string{"MAC:d", "IMEI:35-a", "IMEI:35-b", "MAC:f", "IMEI:36-c", "MAC:e"}},
			{"created", true, []string{"MAC:e", "IMEI:36-c", "MAC:f", "IMEI:35-b", "IMEI:35-a", "MAC:d"}},
		} {
			t.Run(fmt.Sprintf("%s-desc=%v", tc.sort, tc.desc), func(t *testing.T) {
				for _, n := range []int{1, 2, 4, 6, 7} {
					q := storage.DeviceQuery{Sort: tc.sort, Desc: tc.desc}
					wantIDs(t, fmt.Sprintf("page size %d", n), QueryAllIDs(t, s, q, n), tc.want...)
				}
			})
		}
	}},
	{"QueryDevicesLastPageHasNoCursor", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		ds, next, err := s.QueryDevices(bg, storage.DeviceQuery{Limit: 6})
		check(t, "QueryDevices", err)
		if len(ds) != 6 || next != "" {
			t.Fatalf("6 devices, limit 6: got %d devices and cursor %q, want 6 and none", len(ds), next)
		}
		ds, next, err = s.QueryDevices(bg, storage.DeviceQuery{Limit: 5})
		check(t, "QueryDevices", err)
		if len(ds) != 5 || next == "" {
			t.Fatalf("6 devices, limit 5: got %d devices and cursor %q, want 5 and a cursor", len(ds), next)
		}
		checkDevice(t, ds[0], fleetDevice("IMEI:35-a", map[string]string{"env": "prod"},
			map[string]string{"./DevInfo/Mod": "X200", "./DevInfo/Man": "Acme", "./DevDetail/FwV": "2.1"}, t0.Add(time.Hour), t0.Add(5*time.Hour)))
	}},
	{"CursorPagingIsStableUnderInserts", func(t *testing.T, s storage.Store) {
		for _, sort := range []string{"id", "last_seen", "created"} {
			t.Run(sort, func(t *testing.T) {
				s := s
				prefix := sort + "/"
				for i := range 10 {
					id := fmt.Sprintf("%s%02d", prefix, 2*i+10)
					at := t0.Add(time.Duration(2*i+10) * time.Minute)
					check(t, "CreateDevice", s.CreateDevice(bg, fleetDevice(id, map[string]string{"k": sort}, nil, at, at)))
				}
				q := storage.DeviceQuery{Labels: map[string]string{"k": sort}, Sort: sort, Limit: 4}
				page, next, err := s.QueryDevices(bg, q)
				check(t, "QueryDevices", err)
				seen := deviceIDs(page) // 10 12 14 16
				// Inserted before the cursor (never shown), at the cursor's
				// neighbourhood and after it (shown once, in order).
				for _, n := range []int{11, 15, 17, 31, 99} {
					id := fmt.Sprintf("%s%02d", prefix, n)
					at := t0.Add(time.Duration(n) * time.Minute)
					check(t, "CreateDevice", s.CreateDevice(bg, fleetDevice(id, map[string]string{"k": sort}, nil, at, at)))
				}
				for next != "" {
					q.Cursor = next
					page, next, err = s.QueryDevices(bg, q)
					check(t, "QueryDevices", err)
					seen = append(seen, deviceIDs(page)...)
				}
				var want []string
				for _, n := range []int{10, 12, 14, 16, 17, 18, 20, 22, 24, 26, 28, 31, 99} {
					want = append(want, fmt.Sprintf("%s%02d", prefix, n))
				}
				wantIDs(t, "pages", seen, want...)
			})
		}
	}},
	{"InvalidCursorIsErrBadCursor", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		q := storage.DeviceQuery{Labels: map[string]string{"env": "prod"}, Sort: "last_seen", Limit: 1}
		_, next, err := s.QueryDevices(bg, q)
		check(t, "QueryDevices", err)
		for _, tc := range []struct {
			name string
			q    storage.DeviceQuery
		}{
			{"garbage", storage.DeviceQuery{Cursor: "not a cursor!"}},
			{"base64-not-json", storage.DeviceQuery{Cursor: "aGVsbG8"}},
			{"other-filter", storage.DeviceQuery{Labels: map[string]string{"env": "dev"}, Sort: "last_seen", Cursor: next}},
			{"other-sort", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}, Sort: "created", Cursor: next}},
			{"other-direction", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}, Sort: "last_seen", Desc: true, Cursor: next}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.QueryDevices(bg, tc.q)
				wantErr(t, "QueryDevices", err, storage.ErrBadCursor)
			})
		}
		q.Cursor, q.Limit = next, 50 // another page size is the same query
		if _, _, err := s.QueryDevices(bg, q); err != nil {
			t.Errorf("same query, other limit: %v", err)
		}
		if _, _, err := s.QueryDevices(bg, storage.DeviceQuery{Sort: "name"}); err == nil {
			t.Error("unknown sort: want an error")
		}
	}},
	{"LabelAndDevInfoChangesReachTheSearch", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		// Through UpdateDevice (the DM session's and the API's path).
		d, err := s.GetDevice(bg, "MAC:d")
		check(t, "GetDevice", err)
		d.Labels = map[string]string{"env": "prod"}
		d.DevInfo = map[string]string{"./DevInfo/Mod": "X200"}
		check(t, "UpdateDevice", s.UpdateDevice(bg, d))
		a, err := s.GetDevice(bg, "IMEI:35-a")
		check(t, "GetDevice", err)
		a.Labels = nil
		a.DevInfo["./DevInfo/Mod"] = "X300"
		check(t, "UpdateDevice", s.UpdateDevice(bg, a))
		wantIDs(t, "env=prod", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}, 10), "IMEI:35-b", "MAC:d", "MAC:e")
		wantIDs(t, "model X200", QueryAllIDs(t, s, storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X200"}}, 10), "IMEI:35-b", "MAC:d", "MAC:e")
		wantIDs(t, "model X300", QueryAllIDs(t, s, storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X300"}}, 10), "IMEI:35-a")
		// Through UpdateLabels: set and remove in one call, missing IDs skipped.
		n, err := s.UpdateLabels(bg, []string{"MAC:d", "MAC:e", "nope"}, map[string]string{"env": "dev", "ring": "1"}, []string{"tier"})
		check(t, "UpdateLabels", err)
		if n != 2 {
			t.Errorf("UpdateLabels changed %d devices, want 2", n)
		}
		got, err := s.GetDevice(bg, "MAC:e")
		check(t, "GetDevice", err)
		deepEqual(t, "labels of MAC:e", got.Labels, map[string]string{"env": "dev", "ring": "1"})
		wantIDs(t, "env=dev", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "dev"}}, 10), "IMEI:36-c", "MAC:d", "MAC:e")
		wantIDs(t, "tier present", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"tier": ""}}, 10), "MAC:f")
		// Nothing to change is no change.
		n, err = s.UpdateLabels(bg, []string{"MAC:e"}, map[string]string{"env": "dev"}, []string{"absent"})
		check(t, "UpdateLabels", err)
		if n != 0 {
			t.Errorf("UpdateLabels without a change reported %d devices changed", n)
		}
		// A deleted device leaves the search.
		check(t, "DeleteDevice", s.DeleteDevice(bg, "MAC:e"))
		wantIDs(t, "env=dev after delete", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "dev"}}, 10), "IMEI:36-c", "MAC:d")
		check(t, "CreateDevice", s.CreateDevice(bg, fleetDevice("MAC:e", nil, nil, t0, t0)))
		wantIDs(t, "env=dev after re-create", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "dev"}}, 10), "IMEI:36-c", "MAC:d")
	}},
	{"ImportDevicesReportsEachSkippedRecord", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "taken")
		ds := []*storage.Device{
			fleetDevice("new-1", map[string]string{"env": "prod"}, nil, time.Time{}, time.Time{}),
			fleetDevice("taken", nil, nil, t0, time.Time{}),
			fleetDevice("new-2", nil, nil, t0, time.Time{}),
			fleetDevice("new-1", nil, nil, t0, time.Time{}),
			fleetDevice("", nil, nil, t0, time.Time{}),
			fleetDevice("bad\x00id", nil, nil, t0, time.Time{}),
		}
		before := time.Now()
		errs, err := s.ImportDevices(bg, ds)
		check(t, "ImportDevices", err)
		if len(errs) != len(ds) {
			t.Fatalf("%d errors for %d records", len(errs), len(ds))
		}
		for i, want := range []error{nil, storage.ErrExists, nil, storage.ErrExists, errAny, errAny} {
			switch {
			case want == nil && errs[i] != nil:
				t.Errorf("record %d: %v, want it stored", i, errs[i])
			case want == errAny && errs[i] == nil:
				t.Errorf("record %d (%q): stored, want an error", i, ds[i].ID)
			case want != nil && want != errAny && !errors.Is(errs[i], want):
				t.Errorf("record %d: %v, want %v", i, errs[i], want)
			}
		}
		between(t, "defaulted CreatedAt", ds[0].CreatedAt, before, time.Now())
		got, err := s.GetDevice(bg, "new-1")
		check(t, "GetDevice", err)
		checkDevice(t, got, ds[0])
		wantIDs(t, "imported labels searchable", QueryAllIDs(t, s, storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}, 10), "new-1")
		if n, err := s.CountDevices(bg); err != nil || n != 3 {
			t.Errorf("CountDevices = %d, %v; want 3", n, err)
		}
	}},
}

// errAny stands for "some error" in a table of wanted errors.
var errAny = errors.New("any error")

func mustGroup(t *testing.T, s storage.Store, name, selector string) *storage.Group {
	t.Helper()
	g := &storage.Group{Name: name, Description: "the " + name + " group", Selector: selector}
	check(t, "CreateGroup "+name, s.CreateGroup(bg, g))
	return g
}

var groupTests = []test{
	{"CreateGetListDelete", func(t *testing.T, s storage.Store) {
		before := time.Now()
		pilot := mustGroup(t, s, "pilot", "")
		mustGroup(t, s, "beta", "label.env=prod")
		mustGroup(t, s, "canary", "")
		between(t, "CreatedAt", pilot.CreatedAt, before, time.Now())
		got, err := s.GetGroup(bg, "pilot")
		check(t, "GetGroup", err)
		checkTime(t, "CreatedAt", got.CreatedAt, pilot.CreatedAt)
		got.CreatedAt = pilot.CreatedAt
		deepEqual(t, "group", got, pilot)
		b, err := s.GetGroup(bg, "beta")
		check(t, "GetGroup", err)
		if !b.Dynamic() || b.Selector != "label.env=prod" {
			t.Errorf("dynamic group read back as %+v", b)
		}
		wantErr(t, "CreateGroup taken", s.CreateGroup(bg, &storage.Group{Name: "pilot"}), storage.ErrExists)
		_, err = s.GetGroup(bg, "nope")
		wantErr(t, "GetGroup missing", err, storage.ErrNotFound)

		var names []string
		after := ""
		for {
			gs, err := s.ListGroups(bg, after, 2)
			check(t, "ListGroups", err)
			if len(gs) == 0 {
				break
			}
			for _, g := range gs {
				names = append(names, g.Name)
			}
			after = gs[len(gs)-1].Name
		}
		wantIDs(t, "ListGroups", names, "beta", "canary", "pilot")

		check(t, "DeleteGroup", s.DeleteGroup(bg, "pilot"))
		wantErr(t, "DeleteGroup again", s.DeleteGroup(bg, "pilot"), storage.ErrNotFound)
		_, err = s.GetGroup(bg, "pilot")
		wantErr(t, "GetGroup deleted", err, storage.ErrNotFound)
	}},
	{"MembersAddRemoveAllOrNothing", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		mustGroup(t, s, "pilot", "")
		n, err := s.AddGroupMembers(bg, "pilot", []string{"MAC:d", "IMEI:35-a", "MAC:d"})
		check(t, "AddGroupMembers", err)
		if n != 2 {
			t.Errorf("AddGroupMembers added %d, want 2 (a repeated ID counts once)", n)
		}
		_, err = s.AddGroupMembers(bg, "pilot", []string{"MAC:e", "ghost"})
		wantErr(t, "AddGroupMembers with a missing device", err, storage.ErrNotFound)
		if err != nil && !strings.Contains(err.Error(), "ghost") {
			t.Errorf("error %q does not name the missing device", err)
		}
		wantIDs(t, "members after failed add", QueryAllIDs(t, s, storage.DeviceQuery{Group: "pilot"}, 10), "IMEI:35-a", "MAC:d")
		n, err = s.AddGroupMembers(bg, "pilot", []string{"MAC:d", "MAC:e"})
		check(t, "AddGroupMembers", err)
		if n != 1 {
			t.Errorf("AddGroupMembers added %d, want 1 (MAC:d already a member)", n)
		}
		n, err = s.RemoveGroupMembers(bg, "pilot", []string{"MAC:d", "IMEI:36-c"})
		check(t, "RemoveGroupMembers", err)
		if n != 1 {
			t.Errorf("RemoveGroupMembers removed %d, want 1", n)
		}
		wantIDs(t, "members", QueryAllIDs(t, s, storage.DeviceQuery{Group: "pilot"}, 1), "IMEI:35-a", "MAC:e")
		_, err = s.AddGroupMembers(bg, "nope", []string{"MAC:d"})
		wantErr(t, "AddGroupMembers to a missing group", err, storage.ErrNotFound)
		_, err = s.RemoveGroupMembers(bg, "nope", []string{"MAC:d"})
		wantErr(t, "RemoveGroupMembers of a missing group", err, storage.ErrNotFound)
	}},
	{"DynamicGroupHasNoMemberList", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		mustGroup(t, s, "prod", "label.env=prod")
		_, err := s.AddGroupMembers(bg, "prod", []string{"MAC:d"})
		wantErr(t, "AddGroupMembers", err, storage.ErrDynamicGroup)
		_, err = s.RemoveGroupMembers(bg, "prod", []string{"MAC:d"})
		wantErr(t, "RemoveGroupMembers", err, storage.ErrDynamicGroup)
	}},
	{"DeletingDeviceOrGroupDropsMemberships", func(t *testing.T, s storage.Store) {
		seedFleet(t, s)
		mustGroup(t, s, "pilot", "")
		_, err := s.AddGroupMembers(bg, "pilot", []string{"MAC:d", "MAC:e"})
		check(t, "AddGroupMembers", err)
		check(t, "DeleteDevice", s.DeleteDevice(bg, "MAC:d"))
		wantIDs(t, "members", QueryAllIDs(t, s, storage.DeviceQuery{Group: "pilot"}, 10), "MAC:e")
		check(t, "CreateDevice", s.CreateDevice(bg, newDevice("MAC:d")))
		wantIDs(t, "members after re-create", QueryAllIDs(t, s, storage.DeviceQuery{Group: "pilot"}, 10), "MAC:e")
		check(t, "DeleteGroup", s.DeleteGroup(bg, "pilot"))
		mustGroup(t, s, "pilot", "")
		wantIDs(t, "members of a new group of the same name", QueryAllIDs(t, s, storage.DeviceQuery{Group: "pilot"}, 10))
	}},
}
