package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/omadm/omadm/storage"
)

// The device search chooses its plan itself. SQLite's planner, without
// statistics, treats every `id IN (SELECT device_id FROM …)` as selective
// and materialises each list in full before sorting, and it cannot know
// which of several correlated filters is the selective one. Instead the
// store reads how many devices each filter matches (inventory_counts for
// labels and DevInfo values, a count bounded by planCap for a group, the
// list's length for IDs) and the fleet's size, estimates the cost of each
// plan (filters taken as independent) and takes the cheapest of:
//
//   - walk the order's own index (devices_facets in ID order,
//     devices_last_seen, devices_created) from the cursor on, testing every
//     filter row by row: about Limit / (product of all shares) entries;
//   - walk a filter's index in device ID order (order by ID only; a static
//     group also by last_seen or created, whose copies its member rows
//     carry; a label value also by last_seen: its seen devices from
//     label_seen merged with its never-seen ones from device_labels, see
//     seenArms) from the cursor on, probing
//     each device in devices_facets and testing the other filters: about
//     Limit / (product of the other filters' shares) devices;
//   - take one filter's devices, test them, sort the survivors by their
//     sort key read from devices_facets, and read the device rows of the
//     page only: its count.
//
// The model, manufacturer and firmware version (migration device_facets)
// and last_seen are in the entries of devices_facets and of the order
// indexes, so their filters cost nothing beyond the entry the plan reads
// anyway (SQLite tests them before it reads the device row). Any other
// filter that does not drive is an EXISTS on its index (or, for "label
// present", a look at the device's JSON), never a materialised list; these
// run after the entry's tests, most selective first.
const planCap = 2000

// facetCols are the DevInfo URIs that migration device_facets made columns
// of the devices row (and of its search indexes).
var facetCols = map[string]string{
	"./DevInfo/Mod":   "info_mod",
	"./DevInfo/Man":   "info_man",
	"./DevDetail/FwV": "info_fwv",
}

// Relative costs of the plan estimate: reading the next entry of an index
// (seq) and a b-tree descent to one key (seek).
const (
	costSeq  = 0.25
	costSeek = 1.0
)

// source is one indexed filter: the rows of table matching cond give the
// devices it selects; ordered says they come in device ID order.
type source struct {
	table, cond string
	args        []any
	ordered     bool
	known       int    // matched devices when known without counting (-1 = count)
	stat        string // SQL of its count (one value), when not known
	statArgs    []any
	test        string // row test when it does not drive ("" = EXISTS on its index)
	testArgs    []any
	entry       bool // test reads only columns of the index entries (devices_facets and the orders)
	// sorted names the index of table in the order of a sort (by
	// storage.SortLastSeen / SortCreated) and its key over alias x, when
	// it has one: the source then drives a walk in that order as well.
	sorted map[string][2]string
	// seenSplit says the last_seen order (sorted names its table,
	// label_seen, keyed by the same cond and then last_seen, device_id)
	// holds the seen devices only: those never seen, which sort as 0, come
	// from the source's own table in device ID order, where sort_unseen
	// (0 for them) tells them apart in the entry.
	seenSplit bool

	count, share float64 // estimated matches, and their part of the fleet
}

func (src source) selectIDs() string {
	return "SELECT device_id FROM " + src.table + " WHERE " + src.cond
}

// exists is the row test of a source that does not drive; idCol names the
// device ID (the driving index's x.device_id lets SQLite test before it
// reads the device's row).
func (src source) exists(idCol string) (string, []any) {
	if src.test != "" {
		return src.test, src.testArgs
	}
	return "EXISTS (SELECT 1 FROM " + src.table + " WHERE " + src.cond + " AND device_id = " + idCol + ")", src.args
}

// planQuery builds the SELECT of one page of q (see above).
func (s *Store) planQuery(ctx context.Context, q *storage.DeviceQuery, after *storage.DeviceCursor) (string, []any, error) {
	return s.planQueryCols(ctx, q, after, qualifiedDeviceCols)
}

// planQueryCols is planQuery selecting cols (qualified by "devices.").
func (s *Store) planQueryCols(ctx context.Context, q *storage.DeviceQuery, after *storage.DeviceCursor, cols string) (string, []any, error) {
	var srcs []source
	var where []string // filters on the index entry of the device (facets, last seen, ID)
	var wargs []any
	seenTest := false
	const counted = "(SELECT ifnull(sum(n), 0) FROM inventory_counts WHERE kind = ? AND key = ?"
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		if v := q.Labels[k]; v != "" {
			srcs = append(srcs, source{table: "device_labels", cond: "key = ? AND value = ?", args: []any{k, v}, ordered: true,
				known: -1, stat: counted + " AND value = ?)", statArgs: []any{"l", k, v}, seenSplit: true,
				sorted: map[string][2]string{storage.SortLastSeen: {"label_seen", "x.last_seen"}}})
			continue
		}
		// Presence: the index has no (key, device) order, so it drives
		// only a sorted plan; as a row test the JSON is cheaper.
		src := source{table: "device_labels", cond: "key = ?", args: []any{k}, known: -1, stat: counted + ")", statArgs: []any{"l", k}}
		if !strings.ContainsAny(k, "\"\\") {
			src.test, src.testArgs = "json_type(devices.labels, ?) IS NOT NULL", []any{`$."` + k + `"`}
		}
		srcs = append(srcs, src)
	}
	for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
		v := q.DevInfo[k]
		src := source{table: "device_devinfo", cond: "uri = ? AND value = ?", args: []any{k, v}, ordered: true,
			known: -1, stat: counted + " AND value = ?)", statArgs: []any{"d", k, v}}
		if col, ok := facetCols[k]; ok {
			src.test, src.testArgs, src.entry = "devices."+col+" = ?", []any{v}, true
		}
		srcs = append(srcs, src)
	}
	if q.Group != "" {
		srcs = append(srcs, source{table: "group_members", cond: "group_name = ?", args: []any{q.Group}, ordered: true,
			known: -1, stat: fmt.Sprintf("(SELECT count(*) FROM (SELECT 1 FROM group_members WHERE group_name = ? LIMIT %d))", planCap),
			statArgs: []any{q.Group},
			sorted: map[string][2]string{
				storage.SortLastSeen: {"group_members_seen", "ifnull(x.last_seen, 0)"},
				storage.SortCreated:  {"group_members_created", "x.created_at"},
			}})
	}
	if len(q.IDs) > 0 {
		// Each ID once: a device listed twice is one device.
		ids := slices.Compact(slices.Sorted(slices.Values(q.IDs)))
		b, _ := json.Marshal(ids)
		srcs = append(srcs, source{table: "(SELECT value AS device_id FROM json_each(?))", cond: "1", args: []any{string(b)}, known: len(ids)})
	}
	if q.IDPrefix != "" {
		where = append(where, "devices.id >= ?")
		wargs = append(wargs, q.IDPrefix)
		if end, ok := storage.PrefixEnd(q.IDPrefix); ok {
			where = append(where, "devices.id < ?")
			wargs = append(wargs, end)
		}
	}
	if !q.SeenAfter.IsZero() {
		where = append(where, "ifnull(devices.last_seen, 0) > ?")
		wargs = append(wargs, q.SeenAfter.UnixMicro())
		seenTest = true
	}
	if !q.SeenBefore.IsZero() {
		where = append(where, "ifnull(devices.last_seen, 0) < ?")
		wargs = append(wargs, q.SeenBefore.UnixMicro())
		seenTest = true
	}

	best, err := s.choosePlan(ctx, q, srcs, seenTest || q.IDPrefix != "")
	if err != nil {
		return "", nil, err
	}
	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	var sortKey string
	switch q.Sort {
	case storage.SortLastSeen:
		sortKey = "ifnull(devices.last_seen, 0)"
	case storage.SortCreated:
		sortKey = "devices.created_at"
	}
	// The tests of the filters that do not drive: those on the entry
	// first, then the others by rising share (the most selective first).
	tests := func(idCol string) ([]string, []any) {
		conds := slices.Clone(where)
		args := slices.Clone(wargs)
		order := make([]int, 0, len(srcs))
		for i := range srcs {
			if i != best {
				order = append(order, i)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int {
			ea, eb := srcs[a].entry, srcs[b].entry
			switch {
			case ea && !eb:
				return -1
			case eb && !ea:
				return 1
			}
			switch {
			case srcs[a].share < srcs[b].share:
				return -1
			case srcs[a].share > srcs[b].share:
				return 1
			}
			return 0
		})
		for _, i := range order {
			c, a := srcs[i].exists(idCol)
			conds = append(conds, c)
			args = append(args, a...)
		}
		return conds, args
	}
	page := func(conds []string, idCol string) []string {
		if after == nil {
			return conds
		}
		if sortKey == "" {
			return append(conds, idCol+" "+cmp+" ?")
		}
		return append(conds, fmt.Sprintf("(%s, %s) %s (?, ?)", sortKey, idCol, cmp))
	}
	pageArgs := func(args []any) []any {
		switch {
		case after == nil:
			return args
		case sortKey == "":
			return append(args, after.ID)
		}
		return append(args, after.Key, after.ID)
	}
	orderBy := func(key, idCol string) string {
		if key != "" {
			return " ORDER BY " + key + dir + ", " + idCol + dir
		}
		return " ORDER BY " + idCol + dir
	}
	// A driving device is tested on its devices_facets entry first when
	// there are tests on it: the EXISTS then name the entry's ID, which
	// keeps them after the entry's tests; else the driver's ID, which
	// lets them run before the probe.
	probeID := "x.device_id"
	if entryTests(srcs, best, seenTest || q.IDPrefix != "") {
		probeID = "devices.id"
	}
	var b strings.Builder
	var args []any
	switch {
	case best >= 0 && q.Sort == storage.SortLastSeen && srcs[best].seenSplit:
		// Two walks merged in the order of the sort (SQLite merges the
		// arms of a compound SELECT with an ORDER BY, each arm in the
		// order of its index, and stops at the LIMIT): the devices never
		// seen, key 0, in ID order from the table's key, and the seen ones
		// from the order's table. Each device is probed as below; the
		// page's device rows are read last. (sort_unseen, equal to 0 in
		// its arm, is the key SQLite sees already in order.)
		src := srcs[best]
		nullArm, seenArm := seenArms(q, after)
		var arms []string
		join := " AS x CROSS JOIN devices INDEXED BY devices_facets ON devices.id = x.device_id WHERE "
		if nullArm != nil {
			conds, targs := tests(probeID)
			pre := append([]string{qualify(src.cond, "x."), "x.sort_unseen = 0"}, nullArm.conds...)
			arms = append(arms, "SELECT x.device_id AS pid, x.sort_unseen AS pkey FROM "+src.table+join+strings.Join(append(pre, conds...), " AND "))
			args = append(append(append(args, src.args...), nullArm.args...), targs...)
		}
		if seenArm != nil {
			conds, targs := tests(probeID)
			pre := append([]string{qualify(src.cond, "x.")}, seenArm.conds...)
			arms = append(arms, "SELECT x.device_id AS pid, x.last_seen AS pkey FROM "+src.sorted[q.Sort][0]+join+strings.Join(append(pre, conds...), " AND "))
			args = append(append(append(args, src.args...), seenArm.args...), targs...)
		}
		if len(arms) == 0 {
			// The bounds and the cursor leave no device.
			arms = append(arms, "SELECT NULL AS pid, NULL AS pkey WHERE 0")
		}
		b.WriteString("SELECT " + cols + " FROM (" + strings.Join(arms, " UNION ALL ") + orderBy("pkey", "pid") +
			" LIMIT ?) AS p CROSS JOIN devices ON devices.id = p.pid")
		args = append(args, q.Limit+1)
		b.WriteString(orderBy("p.pkey", "p.pid"))
	case best >= 0 && q.Sort != storage.SortID && srcs[best].sorted[q.Sort][0] != "":
		// Walk the driving index in the order of the sort (its entries
		// carry the sort key); each device is probed as below.
		src := srcs[best]
		index, key := srcs[best].sorted[q.Sort][0], srcs[best].sorted[q.Sort][1]
		sortKey = key
		conds, targs := tests(probeID)
		pre := []string{qualify(src.cond, "x.")}
		preArgs := slices.Clone(src.args)
		// The last-seen bounds on the walked entries too: with this
		// order they bound the walk.
		if key == "ifnull(x.last_seen, 0)" {
			if !q.SeenAfter.IsZero() {
				pre = append(pre, key+" > ?")
				preArgs = append(preArgs, q.SeenAfter.UnixMicro())
			}
			if !q.SeenBefore.IsZero() {
				pre = append(pre, key+" < ?")
				preArgs = append(preArgs, q.SeenBefore.UnixMicro())
			}
		}
		conds = page(append(pre, conds...), "x.device_id")
		args = pageArgs(append(preArgs, targs...))
		b.WriteString("SELECT " + cols + " FROM " + src.table + " AS x INDEXED BY " + index +
			" CROSS JOIN devices INDEXED BY devices_facets ON devices.id = x.device_id")
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
		b.WriteString(orderBy(key, "x.device_id"))
	case best >= 0 && q.Sort == storage.SortID && srcs[best].ordered:
		// Walk the driving index in device ID order; each device is
		// probed in devices_facets, whose entry answers the tests on
		// facets and last_seen before the device row is read. CROSS
		// JOIN: SQLite keeps the left table as the outer loop.
		src := srcs[best]
		conds, targs := tests(probeID)
		conds = page(append([]string{qualify(src.cond, "x.")}, conds...), "x.device_id")
		args = pageArgs(append(slices.Clone(src.args), targs...))
		b.WriteString("SELECT " + cols + " FROM " + src.table + " AS x CROSS JOIN devices INDEXED BY devices_facets ON devices.id = x.device_id")
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
		b.WriteString(orderBy("", "x.device_id"))
	case best >= 0:
		// Its devices, tested and sorted by the key in their facets
		// entry; only the page's device rows are read (the sorter would
		// otherwise carry every survivor's whole row).
		src := srcs[best]
		conds, targs := tests(probeID)
		conds = page(conds, "x.device_id")
		args = pageArgs(append(slices.Clone(src.args), targs...))
		key := sortKey
		if key == "" {
			key = "0"
		}
		b.WriteString("SELECT " + cols + " FROM (SELECT x.device_id AS pid, " + key + " AS pkey FROM (" + src.selectIDs() +
			") AS x CROSS JOIN devices INDEXED BY devices_facets ON devices.id = x.device_id")
		if len(conds) > 0 {
			b.WriteString(" WHERE " + strings.Join(conds, " AND "))
		}
		b.WriteString(orderBy(sortKey, "x.device_id") + " LIMIT ?) AS p CROSS JOIN devices ON devices.id = p.pid")
		args = append(args, q.Limit+1)
		b.WriteString(orderBy("p.pkey", "p.pid"))
	default:
		// Walk the order's index, testing every filter in its entries.
		index := "devices_facets"
		switch q.Sort {
		case storage.SortLastSeen:
			index = "devices_last_seen"
		case storage.SortCreated:
			index = "devices_created"
		}
		conds, targs := tests("devices.id")
		conds = page(conds, "devices.id")
		args = pageArgs(targs)
		b.WriteString("SELECT " + cols + " FROM devices INDEXED BY " + index)
		if len(conds) > 0 {
			b.WriteString(" WHERE " + strings.Join(conds, " AND "))
		}
		b.WriteString(orderBy(sortKey, "devices.id"))
	}
	b.WriteString(" LIMIT ?")
	args = append(args, q.Limit+1)
	return b.String(), args, nil
}

// seenArm is the part of a walk in last_seen order over a seenSplit source
// that the page's bounds and cursor leave: its conditions on the walked
// entry x (beyond the source's own) and their arguments; nil when none.
type seenArm struct {
	conds []string
	args  []any
}

// seenArms returns the arms of a walk in last_seen order split as
// seenSplit describes: the devices never seen (key 0) and the seen ones,
// each with the last-seen bounds and the cursor of q applied; nil for an
// arm they leave nothing of.
func seenArms(q *storage.DeviceQuery, after *storage.DeviceCursor) (null, seen *seenArm) {
	null, seen = &seenArm{}, &seenArm{}
	if !q.SeenAfter.IsZero() {
		t := q.SeenAfter.UnixMicro()
		if t >= 0 {
			null = nil
		}
		seen.conds = append(seen.conds, "x.last_seen > ?")
		seen.args = append(seen.args, t)
	}
	if !q.SeenBefore.IsZero() {
		t := q.SeenBefore.UnixMicro()
		if t <= 0 {
			null = nil
		}
		seen.conds = append(seen.conds, "x.last_seen < ?")
		seen.args = append(seen.args, t)
	}
	if after == nil {
		return null, seen
	}
	cmp := ">"
	if q.Desc {
		cmp = "<"
	}
	seen.conds = append(seen.conds, "(x.last_seen, x.device_id) "+cmp+" (?, ?)")
	seen.args = append(seen.args, after.Key, after.ID)
	switch {
	case null == nil:
	case after.Key == 0:
		null.conds = append(null.conds, "x.device_id "+cmp+" ?")
		null.args = append(null.args, after.ID)
	case (after.Key > 0) != q.Desc:
		// Past key 0 in the direction of the walk.
		null = nil
	}
	return null, seen
}

// qualify prefixes the column names of a source condition ("key = ? AND
// value = ?") with the table alias.
func qualify(cond, alias string) string {
	parts := strings.Split(cond, " AND ")
	for i, p := range parts {
		parts[i] = alias + p
	}
	return strings.Join(parts, " AND ")
}

// qualifiedDeviceCols is deviceCols with the devices table named, for
// queries that join another table.
var qualifiedDeviceCols = func() string {
	cols := strings.Split(deviceCols, ", ")
	for i, c := range cols {
		cols[i] = "devices." + c
	}
	return strings.Join(cols, ", ")
}()

// choosePlan estimates the plans of the page (see planCap), fills each
// source's count and share, and returns the source to drive from (-1: walk
// the order's index). rowTests says a filter on the entry (last seen, ID
// prefix) is present besides the sources.
func (s *Store) choosePlan(ctx context.Context, q *storage.DeviceQuery, srcs []source, rowTests bool) (int, error) {
	if len(srcs) == 0 {
		return -1, nil
	}
	parts := []string{"(SELECT ifnull(max(rowid), 0) FROM devices)"}
	var args []any
	for _, src := range srcs {
		if src.known < 0 {
			parts = append(parts, src.stat)
			args = append(args, src.statArgs...)
		}
	}
	got := make([]float64, len(parts))
	dst := make([]any, len(parts))
	for i := range got {
		dst[i] = &got[i]
	}
	query := "SELECT " + strings.Join(parts, ", ")
	var row *sql.Row
	if s.tx != nil {
		row = s.tx.QueryRowContext(ctx, query, args...)
	} else {
		row = s.r.QueryRowContext(ctx, query, args...)
	}
	if err := row.Scan(dst...); err != nil {
		return -1, wrap(err)
	}
	n := max(got[0], 1)
	j := 1
	for i := range srcs {
		src := &srcs[i]
		if src.known >= 0 {
			src.count = float64(src.known)
		} else {
			src.count = got[j]
			j++
		}
		src.share = min(max(src.count, 0.5)/n, 1)
	}
	limit := float64(q.Limit + 1)
	// perRow is the cost of testing one device against the sources other
	// than skip (-1: all) once its index entry is at hand: the entry's
	// tests are free, each other test a seek, made only on the devices
	// the tests before it let through (most selective first, as built).
	perRow := func(skip int) (cost, pass float64) {
		pass = 1.0
		var others []float64
		for i, src := range srcs {
			if i == skip {
				continue
			}
			if src.entry {
				pass *= src.share
			} else {
				others = append(others, src.share)
			}
		}
		slices.Sort(others)
		for _, sh := range others {
			cost += pass * costSeek
			pass *= sh
		}
		return cost, pass
	}
	// Walking the order's index (devices_created has no last_seen: a
	// last-seen filter reads the device row).
	c, all := perRow(-1)
	walk := costSeq + c
	if q.Sort == storage.SortCreated && rowTests {
		walk += costSeek
	}
	cost := min(n, limit/all) * walk
	best := -1
	for i, src := range srcs {
		c, others := perRow(i)
		probe := costSeq + c
		if q.Sort != storage.SortID || entryTests(srcs, i, rowTests) {
			probe += costSeek // the devices_facets entry
		}
		var est float64
		if (q.Sort == storage.SortID && src.ordered) || src.sorted[q.Sort][0] != "" {
			est = min(src.count, limit/others) * probe
		} else {
			est = src.count * probe // read them all, test, sort
		}
		if est < cost {
			cost, best = est, i
		}
	}
	return best, nil
}

// entryTests reports whether a device driven from srcs[skip] has tests on
// its devices_facets entry: rowTests (last seen, ID prefix) or a facet
// filter other than the driver.
func entryTests(srcs []source, skip int, rowTests bool) bool {
	for i, src := range srcs {
		if i != skip && src.entry {
			return true
		}
	}
	return rowTests
}
