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
// and materialises each list in full before sorting: at a million devices a
// label that a third of the fleet carries costs a third of a million rows
// for a page of 100. Instead the store reads how many devices each filter
// matches (inventory_counts for labels and DevInfo values, a count bounded
// by planCap for a group, the list's length for IDs) and the fleet's size,
// estimates the rows each plan touches (filters taken as independent), and
// takes the cheapest of:
//
//   - walk a filter's index in device ID order (order by ID only) from the
//     cursor on, testing the other filters row by row: about
//     Limit / (product of the other filters' shares) rows;
//   - take one filter's devices and sort them: its count;
//   - walk the order's own index from the cursor on, testing every filter
//     row by row: Limit / (product of all shares).
//
// A filter that does not drive the walk is an EXISTS on its index (or, for
// "label present", a look at the device's JSON), never a materialised list.
const planCap = 2000

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
	var where []string // filters on the devices row itself
	var wargs []any
	const counted = "(SELECT ifnull(sum(n), 0) FROM inventory_counts WHERE kind = ? AND key = ?"
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		if v := q.Labels[k]; v != "" {
			srcs = append(srcs, source{table: "device_labels", cond: "key = ? AND value = ?", args: []any{k, v}, ordered: true,
				known: -1, stat: counted + " AND value = ?)", statArgs: []any{"l", k, v}})
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
		srcs = append(srcs, source{table: "device_devinfo", cond: "uri = ? AND value = ?", args: []any{k, q.DevInfo[k]}, ordered: true,
			known: -1, stat: counted + " AND value = ?)", statArgs: []any{"d", k, q.DevInfo[k]}})
	}
	if q.Group != "" {
		srcs = append(srcs, source{table: "group_members", cond: "group_name = ?", args: []any{q.Group}, ordered: true,
			known: -1, stat: fmt.Sprintf("(SELECT count(*) FROM (SELECT 1 FROM group_members WHERE group_name = ? LIMIT %d))", planCap),
			statArgs: []any{q.Group}})
	}
	if len(q.IDs) > 0 {
		b, _ := json.Marshal(q.IDs)
		srcs = append(srcs, source{table: "(SELECT value AS device_id FROM json_each(?))", cond: "1", args: []any{string(b)}, known: len(q.IDs)})
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
	}
	if !q.SeenBefore.IsZero() {
		where = append(where, "ifnull(devices.last_seen, 0) < ?")
		wargs = append(wargs, q.SeenBefore.UnixMicro())
	}

	best, walk, err := s.choosePlan(ctx, q, srcs)
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
	var conds []string
	var args []any
	var from string
	idCol := "devices.id"
	switch {
	case best >= 0 && q.Sort == storage.SortID && srcs[best].ordered && !walk:
		// Walk the driving index in device ID order.
		src := srcs[best]
		// CROSS JOIN: SQLite keeps the left table as the outer loop.
		from = src.table + " AS x CROSS JOIN devices ON devices.id = x.device_id"
		conds = append(conds, qualify(src.cond, "x."))
		args = append(args, src.args...)
		idCol = "x.device_id"
	case best >= 0:
		// Its devices, then the sort: left to itself SQLite may prefer
		// walking the order's index and testing the list row by row.
		src := srcs[best]
		from = "(" + src.selectIDs() + ") AS x CROSS JOIN devices ON devices.id = x.device_id"
		args = append(args, src.args...)
	default:
		from = "devices"
		switch q.Sort {
		case storage.SortLastSeen:
			from = "devices INDEXED BY devices_last_seen"
		case storage.SortCreated:
			from = "devices INDEXED BY devices_created"
		}
	}
	testCol := "devices.id"
	if best >= 0 {
		testCol = "x.device_id"
	}
	for i, src := range srcs {
		if i != best {
			c, a := src.exists(testCol)
			conds = append(conds, c)
			args = append(args, a...)
		}
	}
	conds = append(conds, where...)
	args = append(args, wargs...)
	if after != nil {
		if sortKey == "" {
			conds = append(conds, idCol+" "+cmp+" ?")
			args = append(args, after.ID)
		} else {
			conds = append(conds, fmt.Sprintf("(%s, devices.id) %s (?, ?)", sortKey, cmp))
			args = append(args, after.Key, after.ID)
		}
	}
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + from)
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY ")
	if sortKey != "" {
		b.WriteString(sortKey + dir + ", ")
	}
	b.WriteString(idCol + dir + " LIMIT ?")
	args = append(args, q.Limit+1)
	return b.String(), args, nil
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

// choosePlan estimates the plans of the page (see planCap) and returns the
// source to drive from (-1: none) or walk = true to walk the order's index.
func (s *Store) choosePlan(ctx context.Context, q *storage.DeviceQuery, srcs []source) (best int, walk bool, err error) {
	if len(srcs) == 0 {
		return -1, true, nil
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
		return -1, false, wrap(err)
	}
	n := max(got[0], 1)
	counts := make([]float64, len(srcs))
	share := make([]float64, len(srcs))
	all := 1.0
	j := 1
	for i, src := range srcs {
		if src.known >= 0 {
			counts[i] = float64(src.known)
		} else {
			counts[i] = got[j]
			j++
		}
		share[i] = min(max(counts[i], 0.5)/n, 1)
		all *= share[i]
	}
	limit := float64(q.Limit + 1)
	k := float64(len(srcs))
	// Walking the order's index: every row is tested against every filter.
	cost := min(n, limit/all) * (1 + k)
	best, walk = -1, true
	for i, src := range srcs {
		others := all / share[i]
		var c float64
		if q.Sort == storage.SortID && src.ordered {
			c = min(counts[i], limit/others) * k
		} else {
			c = counts[i] * (k + 1) // read them all, test the others, sort
		}
		if c < cost {
			cost, best, walk = c, i, false
		}
	}
	return best, walk, nil
}
