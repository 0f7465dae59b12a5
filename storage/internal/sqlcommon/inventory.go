package sqlcommon

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/omadm/omadm/storage"
)

// QueryDialect is what differs between the SQL backends in a device search.
type QueryDialect struct {
	// Param returns the placeholder of the n-th argument (1-based).
	Param func(n int) string
	// SeenKey is the expression of the last-seen sort key (a never-seen
	// device sorting first), exactly as the index of migration
	// inventory declares it.
	SeenKey string
	// Time converts a sort key (Unix microseconds, 0 = never) to the
	// argument compared with SeenKey or created_at.
	Time func(key int64) any
	// IDList returns the condition "id is one of the IDs in the argument
	// with placeholder p" and the argument for ids.
	IDList func(p string, ids []string) (string, any)
	// Facets maps DevInfo URIs to the SQL expression of their value over
	// the devices row, exactly as the order indexes declare it.
	Facets map[string]string
	// GroupKeys says that group members carry copies of their device's
	// created_at and last_seen, indexed by group in either order.
	GroupKeys bool
}

// Plan holds the choices of a device search that depend on the data.
type Plan struct {
	// FacetTerms lists the DevInfo URIs (keys of QueryDialect.Facets) whose
	// filter is tested on the device row's expression instead of being an
	// IN subquery on device_devinfo.
	FacetTerms map[string]bool
}

// DeviceQuery builds the SELECT of one page of q (already prepared, after
// its decoded cursor) over the columns cols: one more row than q.Limit is
// asked for, so the caller knows whether a next page exists.
//
// Filters on labels, DevInfo values and groups are IN subqueries on their
// (key, value, device_id) indexes; the order is the one of the
// devices_last_seen / devices_created indexes with the ID as tie-break,
// continued by a row-value comparison from the cursor.
//
// With a plan, the DevInfo filters it names are terms on the Facets
// expressions, which the order indexes carry (tested inside the entry of a
// walk in that order). With GroupKeys, a group filter of a search sorted by
// last_seen or created joins the group's members and sorts on their copies
// of the key, so the group's own index gives the order.
func DeviceQuery(d QueryDialect, cols string, q *storage.DeviceQuery, after *storage.DeviceCursor, plan Plan) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.Param(len(args))
	}
	if len(q.IDs) > 0 {
		cond, v := d.IDList(d.Param(len(args)+1), q.IDs)
		args = append(args, v)
		where = append(where, cond)
	}
	if q.IDPrefix != "" {
		where = append(where, "id >= "+arg(q.IDPrefix))
		if end, ok := storage.PrefixEnd(q.IDPrefix); ok {
			where = append(where, "id < "+arg(end))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		if v := q.Labels[k]; v != "" {
			where = append(where, fmt.Sprintf("id IN (SELECT device_id FROM device_labels WHERE key = %s AND value = %s)", arg(k), arg(v)))
		} else {
			where = append(where, fmt.Sprintf("id IN (SELECT device_id FROM device_labels WHERE key = %s)", arg(k)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
		if plan.FacetTerms[k] && d.Facets[k] != "" {
			where = append(where, fmt.Sprintf("(%s) = %s", d.Facets[k], arg(q.DevInfo[k])))
			continue
		}
		where = append(where, fmt.Sprintf("id IN (SELECT device_id FROM device_devinfo WHERE uri = %s AND value = %s)", arg(k), arg(q.DevInfo[k])))
	}
	from := "devices"
	groupKeys := d.GroupKeys && q.Group != "" && (q.Sort == storage.SortLastSeen || q.Sort == storage.SortCreated)
	switch {
	case groupKeys:
		// The subquery renames the member's columns so that the
		// unqualified columns of cols stay those of devices.
		gk := "created_at"
		if q.Sort == storage.SortLastSeen {
			gk = d.SeenKey
		}
		from = "devices JOIN (SELECT device_id AS g_id, " + gk + " AS g_key FROM group_members WHERE group_name = " +
			arg(q.Group) + ") g ON g.g_id = id"
	case q.Group != "":
		where = append(where, "id IN (SELECT device_id FROM group_members WHERE group_name = "+arg(q.Group)+")")
	}
	// Walking a group by last contact, the range of last contact is one
	// of the group's index (the member's copy equals the device's key).
	seenKey := d.SeenKey
	if groupKeys && q.Sort == storage.SortLastSeen {
		seenKey = "g_key"
	}
	if !q.SeenAfter.IsZero() {
		where = append(where, seenKey+" > "+arg(d.Time(key(q.SeenAfter))))
	}
	if !q.SeenBefore.IsZero() {
		where = append(where, seenKey+" < "+arg(d.Time(key(q.SeenBefore))))
	}
	var sortKey string
	switch q.Sort {
	case storage.SortLastSeen:
		sortKey = d.SeenKey
	case storage.SortCreated:
		sortKey = "created_at"
	}
	if groupKeys {
		sortKey = "g_key"
	}
	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	if after != nil {
		if sortKey == "" {
			where = append(where, "id "+cmp+" "+arg(after.ID))
		} else {
			k := arg(d.Time(after.Key))
			where = append(where, fmt.Sprintf("(%s, id) %s (%s, %s)", sortKey, cmp, k, arg(after.ID)))
		}
	}
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + from)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY ")
	if sortKey != "" {
		b.WriteString(sortKey + dir + ", ")
	}
	b.WriteString("id" + dir + " LIMIT " + arg(q.Limit+1))
	return b.String(), args
}

func key(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// MergeLabels applies set then remove to labels and reports whether that
// changed anything; the result is nil when it holds no label and labels was
// nil.
func MergeLabels(labels, set map[string]string, remove []string) (map[string]string, bool) {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, set)
	for _, k := range remove {
		delete(out, k)
	}
	if len(out) == 0 && labels == nil {
		out = nil
	}
	return out, !maps.Equal(out, labels)
}

// CheckLabels applies CheckText to label keys and values.
func CheckLabels(set map[string]string, remove []string) error {
	for k, v := range set {
		if err := CheckText("label key", k, "label value", v); err != nil {
			return err
		}
	}
	for _, k := range remove {
		if err := CheckText("label key", k); err != nil {
			return err
		}
	}
	return nil
}
