package storagetest

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var filterTests = []test{
	{"RandomFiltersMatchTheirDefinition", testRandomFilters},
}

// filterFleet is a random fleet whose values repeat a lot (few labels,
// models, firmware versions, times), so filters are correlated, sort keys
// tie and pages end inside runs of equal keys. Some devices are created
// one by one, the others imported; some change DevInfo, last seen and
// labels afterwards, so the copies the backends index follow every write
// path.
func filterFleet(t *testing.T, s storage.Store, r *rand.Rand) (map[string]*storage.Device, map[string]bool) {
	t.Helper()
	const n = 400
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	hour := func(k int) time.Time { return t0.Add(time.Duration(k) * time.Hour) }
	devinfo := func() map[string]string {
		if r.IntN(8) == 0 {
			return nil
		}
		m := map[string]string{}
		for uri, vals := range map[string][]string{
			"./DevInfo/Mod":   {"X1", "X2", "X3", "Z9"},
			"./DevInfo/Man":   {"Acme", "Other"},
			"./DevDetail/FwV": {"2.0", "2.1", "2.2"},
			"./DevDetail/SwV": {"7", "8"},
		} {
			if r.IntN(6) != 0 {
				m[uri] = pick(vals...)
			}
		}
		return m
	}
	labels := func() map[string]string {
		m := map[string]string{}
		for k, vals := range map[string][]string{
			"env":  {"prod", "dev", "staging"},
			"ring": {"0", "1", "2", "3"},
			"site": {"a", "b", "c", "d", "e", "f", "g"},
			"tier": {"", "gold"},
		} {
			if r.IntN(5) != 0 {
				m[k] = pick(vals...)
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	devs := map[string]*storage.Device{}
	var imported []*storage.Device
	for i := range n {
		id := fmt.Sprintf("%s%04d", pick("IMEI:35", "IMEI:36", "MAC:"), r.IntN(10000))
		if devs[id] != nil {
			continue
		}
		seen := time.Time{}
		if r.IntN(5) != 0 {
			seen = hour(r.IntN(30))
		}
		d := fleetDevice(id, labels(), devinfo(), hour(r.IntN(20)), seen)
		devs[id] = d
		if i%3 == 0 {
			check(t, "CreateDevice "+id, s.CreateDevice(bg, d))
		} else {
			imported = append(imported, d)
		}
	}
	errs, err := s.ImportDevices(bg, imported)
	check(t, "ImportDevices", err)
	for i, e := range errs {
		check(t, "ImportDevices "+imported[i].ID, e)
	}
	ids := slices.Sorted(maps.Keys(devs))
	for _, id := range ids {
		if r.IntN(4) != 0 {
			continue
		}
		d, err := s.GetDevice(bg, id)
		check(t, "GetDevice", err)
		d.DevInfo = devinfo()
		if r.IntN(2) == 0 {
			d.LastSeen = hour(r.IntN(30))
		}
		check(t, "UpdateDevice", s.UpdateDevice(bg, d))
		devs[id].DevInfo, devs[id].LastSeen = d.DevInfo, d.LastSeen
	}
	for range 5 {
		var some []string
		for _, id := range ids {
			if r.IntN(5) == 0 {
				some = append(some, id)
			}
		}
		set := map[string]string{"ring": pick("0", "1", "9")}
		remove := []string{pick("site", "tier", "none")}
		_, err := s.UpdateLabels(bg, some, set, remove)
		check(t, "UpdateLabels", err)
		for _, id := range some {
			d := devs[id]
			if d.Labels == nil {
				d.Labels = map[string]string{}
			}
			maps.Copy(d.Labels, set)
			delete(d.Labels, remove[0])
		}
	}
	check(t, "CreateGroup", s.CreateGroup(bg, &storage.Group{Name: "pilot"}))
	members := map[string]bool{}
	var add []string
	for _, id := range ids {
		// Correlated with ring and model: most members are ring 1, X1.
		d := devs[id]
		if (d.Labels["ring"] == "1" && d.DevInfo["./DevInfo/Mod"] == "X1") || r.IntN(20) == 0 {
			add = append(add, id)
			members[id] = true
		}
	}
	_, err = s.AddGroupMembers(bg, "pilot", add)
	check(t, "AddGroupMembers", err)
	// Members and others are seen again after joining.
	for _, id := range ids {
		if r.IntN(3) != 0 {
			continue
		}
		d, err := s.GetDevice(bg, id)
		check(t, "GetDevice", err)
		d.LastSeen = hour(r.IntN(30))
		check(t, "UpdateDevice", s.UpdateDevice(bg, d))
		devs[id].LastSeen = d.LastSeen
	}
	return devs, members
}

// testRandomFilters compares every page of random queries (every kind of
// filter, alone and combined, every order, small and large pages, followed
// by cursor) with the devices the query selects by its definition
// (DeviceQuery.Match, the group's members, the sort key and ID).
func testRandomFilters(t *testing.T, s storage.Store) {
	r := rand.New(rand.NewPCG(7, 11))
	devs, members := filterFleet(t, s, r)
	ids := slices.Sorted(maps.Keys(devs))
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	randomQuery := func() storage.DeviceQuery {
		var q storage.DeviceQuery
		for range 1 + r.IntN(4) {
			switch r.IntN(9) {
			case 0, 1:
				if q.Labels == nil {
					q.Labels = map[string]string{}
				}
				k := pick("env", "ring", "site", "tier")
				q.Labels[k] = map[string]string{"env": pick("prod", "dev", ""), "ring": pick("0", "1", "9"), "site": pick("a", "c", ""), "tier": pick("", "gold")}[k]
			case 2, 3:
				if q.DevInfo == nil {
					q.DevInfo = map[string]string{}
				}
				k := pick("./DevInfo/Mod", "./DevInfo/Man", "./DevDetail/FwV", "./DevDetail/SwV")
				q.DevInfo[k] = map[string]string{"./DevInfo/Mod": pick("X1", "Z9"), "./DevInfo/Man": pick("Acme", "Other"),
					"./DevDetail/FwV": pick("2.1", "2.2"), "./DevDetail/SwV": "8"}[k]
			case 4:
				q.Group = "pilot"
			case 5:
				q.SeenAfter = t0.Add(time.Duration(r.IntN(30)) * time.Hour)
			case 6:
				q.SeenBefore = t0.Add(time.Duration(r.IntN(30)) * time.Hour)
			case 7:
				q.IDPrefix = pick("IMEI:", "IMEI:35", "MAC:1", "MAC:")
			case 8:
				for range 1 + r.IntN(40) {
					q.IDs = append(q.IDs, ids[r.IntN(len(ids))])
				}
			}
		}
		q.Sort = pick(storage.SortID, storage.SortLastSeen, storage.SortCreated)
		q.Desc = r.IntN(2) == 0
		return q
	}
	for i := range 150 {
		q := randomQuery()
		var want []*storage.Device
		for _, d := range devs {
			if q.Match(d) && (q.Group == "" || members[d.ID]) {
				want = append(want, d)
			}
		}
		slices.SortFunc(want, func(a, b *storage.Device) int {
			c := cmp.Or(cmp.Compare(storage.SortKey(q.Sort, a), storage.SortKey(q.Sort, b)), cmp.Compare(a.ID, b.ID))
			if q.Desc {
				return -c
			}
			return c
		})
		for _, n := range []int{1 + r.IntN(7), 100} {
			got := QueryAllIDs(t, s, q, n)
			if !slices.Equal(got, deviceIDs(want)) {
				t.Fatalf("query %d %+v, pages of %d:\n got  %v\n want %v", i, q, n, got, deviceIDs(want))
			}
		}
		if iq, ok := s.(storage.DeviceIDQuerier); ok {
			q.Limit = 3 + r.IntN(5)
			var got []string
			for range 200 {
				page, next, err := iq.QueryDeviceIDs(bg, q)
				check(t, "QueryDeviceIDs", err)
				got = append(got, page...)
				if next == "" {
					break
				}
				q.Cursor = next
			}
			if !slices.Equal(got, deviceIDs(want)) {
				t.Fatalf("QueryDeviceIDs %d %+v:\n got  %v\n want %v", i, q, got, deviceIDs(want))
			}
		}
	}
}
