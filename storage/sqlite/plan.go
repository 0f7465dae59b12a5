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
// for a page of 100. Instead the store counts, up to planCap, the devices
// each indexed filter matches (one cheap bounded index walk each), then:
//
//   - order by ID: walk the smallest filter's index, which is ordered by
//     device ID, from the cursor on, testing the other filters row by row;
//   - order by last seen / created, when some filter matches fewer than
//     planCap devices: take that filter's devices and sort them;
//   - otherwise (every filter matches many devices): walk the order's index
//     from the cursor on, testing the filters row by row; with filters that
//     each match at least planCap devices, a page needs at most about
//     Limit×N/planCap rows per filter.
//
// Every filter that does not drive the walk is an EXISTS on its index (or,
// for "label present", a look at the device's JSON), never a materialised
// list.
const planCap = 10000

// source is one indexed filter: the rows of table matching cond give the
// devices it selects; ordered says they come in device ID order.
type source struct {
	table, cond string
	args        []any
	ordered     bool
	known       int // matched devices when known without counting (-1 = count)
}

func (src source) selectIDs() string {
	return "SELECT device_id FROM " + src.table + " WHERE " + src.cond
}

func (src source) exists() string {
	return "EXISTS (SELECT 1 FROM " + src.table + " WHERE " + src.cond + " AND device_id = devices.id)"
}

// planQuery builds the SELECT of one page of q (see above).
func (s *Store) planQuery(ctx context.Context, q *storage.DeviceQuery, after *storage.DeviceCursor) (string, []any, error) {
	var srcs []source
	var where []string // filters on the devices row itself
	var wargs []any
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		if v := q.Labels[k]; v != "" {
			srcs = append(srcs, source{table: "device_labels", cond: "key = ? AND value = ?", args: []any{k, v}, ordered: true, known: -1})
		} else if !strings.ContainsAny(k, `"\`) {
			// Presence: the index has no (key, device) order; the JSON does.
			where = append(where, "json_type(devices.labels, ?) IS NOT NULL")
			wargs = append(wargs, `$."`+k+`"`)
		} else {
			where = append(where, "EXISTS (SELECT 1 FROM device_labels WHERE key = ? AND device_id = devices.id)")
			wargs = append(wargs, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
		srcs = append(srcs, source{table: "device_devinfo", cond: "uri = ? AND value = ?", args: []any{k, q.DevInfo[k]}, ordered: true, known: -1})
	}
	if q.Group != "" {
		srcs = append(srcs, source{table: "group_members", cond: "group_name = ?", args: []any{q.Group}, ordered: true, known: -1})
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

	// The smallest source, by bounded counts in one statement.
	best := -1
	if len(srcs) > 0 {
		counts := make([]int, len(srcs))
		var parts []string
		var cargs []any
		for i, src := range srcs {
			if src.known >= 0 {
				counts[i] = src.known
				continue
			}
			parts = append(parts, fmt.Sprintf("(SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT %d))", src.table, src.cond, planCap))
			cargs = append(cargs, src.args...)
		}
		if len(parts) > 0 {
			dst := make([]any, len(parts))
			got := make([]int, len(parts))
			for i := range got {
				dst[i] = &got[i]
			}
			var row *sql.Row
			if s.tx != nil {
				row = s.tx.QueryRowContext(ctx, "SELECT "+strings.Join(parts, ", "), cargs...)
			} else {
				row = s.r.QueryRowContext(ctx, "SELECT "+strings.Join(parts, ", "), cargs...)
			}
			if err := row.Scan(dst...); err != nil {
				return "", nil, wrap(err)
			}
			j := 0
			for i, src := range srcs {
				if src.known < 0 {
					counts[i] = got[j]
					j++
				}
			}
		}
		for i := range srcs {
			if best < 0 || counts[i] < counts[best] {
				best = i
			}
		}
		if q.Sort != storage.SortID && counts[best] >= planCap {
			best = -1 // walk the order's index instead
		}
		if q.Sort == storage.SortID && !srcs[best].ordered && counts[best] >= planCap {
			best = -1
		}
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
	case best >= 0 && q.Sort == storage.SortID && srcs[best].ordered:
		// Walk the driving index in device ID order.
		src := srcs[best]
		from = src.table + " AS x JOIN devices ON devices.id = x.device_id"
		conds = append(conds, qualify(src.cond, "x."))
		args = append(args, src.args...)
		idCol = "x.device_id"
	case best >= 0:
		src := srcs[best]
		from = "devices"
		conds = append(conds, "devices.id IN ("+src.selectIDs()+")")
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
	for i, src := range srcs {
		if i != best {
			conds = append(conds, src.exists())
			args = append(args, src.args...)
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
	b.WriteString("SELECT " + qualifiedDeviceCols + " FROM " + from)
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
