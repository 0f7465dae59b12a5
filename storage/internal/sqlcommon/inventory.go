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
	// TermCopies, when set, says that label rows and group members carry
	// copies of their device's created_at and last_seen (under those
	// names; see LabelSeen) and of the DevInfo values it maps (URI to
	// column), and that a label value's rows are indexed in ID, created_at
	// and SeenKey order with the copies in each entry, as a group's
	// members are (GroupKeys is then implied). A search driven by such a filter walks its index in
	// the page's order and tests the DevInfo and last-contact filters on
	// the copies in the entry.
	TermCopies map[string]string
	// LabelSeen, with TermCopies, names the table that holds the label
	// rows' last_seen copies (a row per label row: device_id, key, value,
	// last_seen and the TermCopies columns), indexed in SeenKey order; the
	// label rows themselves then have no last_seen copy. A label walked by
	// last contact reads that table.
	LabelSeen string
}

// TermKind is the kind of a filter that can drive a search.
type TermKind int

// The filters that can drive a search: each one's index lists its devices
// in ID order.
const (
	TermGroup   TermKind = iota + 1 // q.Group, on group_members
	TermLabel                       // a label key=value, on device_labels
	TermDevInfo                     // a DevInfo uri=value, on device_devinfo
)

// Term names one filter of a search: Key is the label key or DevInfo URI.
type Term struct {
	Kind TermKind
	Key  string
}

// Plan holds the choices of a device search that depend on the data.
type Plan struct {
	// FacetTerms lists the DevInfo URIs (keys of QueryDialect.Facets) whose
	// filter is tested on the device row's expression instead of being an
	// IN subquery on device_devinfo.
	FacetTerms map[string]bool
	// Drive, when set, is the filter whose index lists the candidates of
	// the search (the store chose it as the most selective); every other
	// filter is checked on each candidate's device row, behind fences
	// (OFFSET 0 subqueries, a LATERAL join) that keep the planner from
	// joining the other filters' whole index ranges. FacetTerms is then
	// unused.
	Drive *Term
	// Checks orders the other label, DevInfo and group filters of a
	// driven search, the most selective first (each is an index probe per
	// candidate, run only on the candidates that passed the ones before);
	// filters it omits are checked after it, in key order.
	Checks []Term
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
	if plan.Drive != nil {
		return driveQuery(d, cols, q, after, plan)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.Param(len(args))
	}
	where := idConds(d, q, &args)
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

// driveQuery builds the page of q driven by the filter t: the candidates
// are read from t's index (group_members, device_labels or device_devinfo,
// each listing a value's devices in ID order, and a group's members (with
// TermCopies, a label value's rows too) also in the order of their copies
// of the sort keys), each one's device row is
// fetched by a LATERAL subquery that checks every other filter on it, and
// the page stops after Limit+1 matches when the candidates come in the
// page's order. Sorted by a key the driving index does not carry, all the
// candidates are checked and the matches sorted.
// idConds are the conditions on a device row's id of q's ID list and ID
// prefix, their values appended to args.
func idConds(d QueryDialect, q *storage.DeviceQuery, args *[]any) []string {
	arg := func(v any) string {
		*args = append(*args, v)
		return d.Param(len(*args))
	}
	var conds []string
	if len(q.IDs) > 0 {
		cond, v := d.IDList(d.Param(len(*args)+1), q.IDs)
		*args = append(*args, v)
		conds = append(conds, cond)
	}
	if q.IDPrefix != "" {
		conds = append(conds, "id >= "+arg(q.IDPrefix))
		if end, ok := storage.PrefixEnd(q.IDPrefix); ok {
			conds = append(conds, "id < "+arg(end))
		}
	}
	return conds
}

func driveQuery(d QueryDialect, cols string, q *storage.DeviceQuery, after *storage.DeviceCursor, plan Plan) (string, []any) {
	t := *plan.Drive
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.Param(len(args))
	}
	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	sorted := q.Sort == storage.SortLastSeen || q.Sort == storage.SortCreated
	// The candidates: c_id, and c_key when they come in the page's order.
	src, cw := TermSource(q, t, arg)
	copies := d.TermCopies != nil && (t.Kind == TermGroup || (t.Kind == TermLabel && q.Labels[t.Key] != ""))
	ordered := !sorted || copies || (t.Kind == TermGroup && d.GroupKeys)
	// Whether the candidates' rows carry the last_seen copy.
	seenCopy := t.Kind == TermGroup && (copies || d.GroupKeys)
	if copies && t.Kind == TermLabel {
		switch {
		case d.LabelSeen == "":
			seenCopy = true
		case q.Sort == storage.SortLastSeen:
			src, seenCopy = d.LabelSeen, true
		}
	}
	ckey := ""
	if sorted && ordered {
		ckey = "created_at"
		if q.Sort == storage.SortLastSeen {
			ckey = d.SeenKey
		}
	}
	// The checks on each candidate's device row.
	dw := idConds(d, q, &args)
	// The other filters, probed on their indexes for each candidate before
	// its device row is read; OFFSET 0 keeps each probe a subplan run per
	// candidate rather than a join of the filter's whole index range.
	checks := slices.Clone(plan.Checks)
	if q.Group != "" {
		checks = append(checks, Term{Kind: TermGroup})
	}
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		checks = append(checks, Term{Kind: TermLabel, Key: k})
	}
	for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
		checks = append(checks, Term{Kind: TermDevInfo, Key: k})
	}
	done := map[Term]bool{t: true}
	if copies {
		// The DevInfo filters on copied values are tested inside the
		// index entry of the candidate, before any probe.
		for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
			if col := d.TermCopies[k]; col != "" {
				cw = append(cw, "s."+col+" = "+arg(q.DevInfo[k]))
				done[Term{Kind: TermDevInfo, Key: k}] = true
			}
		}
	}
	for _, c := range checks {
		if done[c] {
			continue
		}
		done[c] = true
		cw = append(cw, TermCheck(q, c, arg, "s.device_id"))
	}
	seen := func(expr string, w *[]string) {
		if !q.SeenAfter.IsZero() {
			*w = append(*w, expr+" > "+arg(d.Time(key(q.SeenAfter))))
		}
		if !q.SeenBefore.IsZero() {
			*w = append(*w, expr+" < "+arg(d.Time(key(q.SeenBefore))))
		}
	}
	var sortKey string
	switch q.Sort {
	case storage.SortLastSeen:
		sortKey = d.SeenKey
	case storage.SortCreated:
		sortKey = "created_at"
	}
	if seenCopy {
		// The member's or label row's copy of last_seen equals the
		// device's.
		seen(d.SeenKey, &cw)
	} else {
		seen(d.SeenKey, &dw)
	}
	switch {
	case after == nil:
	case !sorted:
		cw = append(cw, "device_id "+cmp+" "+arg(after.ID))
	case ckey != "":
		k := arg(d.Time(after.Key))
		cw = append(cw, fmt.Sprintf("(%s, device_id) %s (%s, %s)", ckey, cmp, k, arg(after.ID)))
	default:
		k := arg(d.Time(after.Key))
		dw = append(dw, fmt.Sprintf("(%s, id) %s (%s, %s)", sortKey, cmp, k, arg(after.ID)))
	}
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM (SELECT device_id AS c_id")
	if ckey != "" {
		b.WriteString(", " + ckey + " AS c_key")
	}
	b.WriteString(" FROM " + src + " s WHERE " + strings.Join(cw, " AND "))
	if ordered {
		b.WriteString(" ORDER BY ")
		if ckey != "" {
			b.WriteString("c_key" + dir + ", ")
		}
		b.WriteString("c_id" + dir)
	}
	b.WriteString(" OFFSET 0) c CROSS JOIN LATERAL (SELECT " + cols + " FROM devices WHERE id = c.c_id")
	for _, w := range dw {
		b.WriteString(" AND " + w)
	}
	b.WriteString(" OFFSET 0) d ORDER BY ")
	switch {
	case ckey != "":
		b.WriteString("c.c_key" + dir + ", c.c_id" + dir)
	case ordered:
		b.WriteString("c.c_id" + dir)
	default:
		b.WriteString(sortKey + dir + ", id" + dir)
	}
	b.WriteString(" LIMIT " + arg(q.Limit+1))
	return b.String(), args
}

// TermSource returns the table that lists the devices of the filter t of q
// (their IDs in its column device_id) and the conditions that select them.
func TermSource(q *storage.DeviceQuery, t Term, arg func(any) string) (string, []string) {
	switch t.Kind {
	case TermGroup:
		return "group_members", []string{"group_name = " + arg(q.Group)}
	case TermLabel:
		return "device_labels", []string{"key = " + arg(t.Key), "value = " + arg(q.Labels[t.Key])}
	default:
		return "device_devinfo", []string{"uri = " + arg(t.Key), "value = " + arg(q.DevInfo[t.Key])}
	}
}

// TermCheck returns the condition that the device whose ID is the
// expression id passes the filter t of q: a probe of the filter's index,
// which OFFSET 0 keeps a subplan run per device rather than a join of the
// filter's whole index range.
func TermCheck(q *storage.DeviceQuery, t Term, arg func(any) string, id string) string {
	switch t.Kind {
	case TermGroup:
		return "EXISTS (SELECT 1 FROM group_members m WHERE m.group_name = " + arg(q.Group) + " AND m.device_id = " + id + " OFFSET 0)"
	case TermLabel:
		if v := q.Labels[t.Key]; v != "" {
			return fmt.Sprintf("EXISTS (SELECT 1 FROM device_labels l WHERE l.key = %s AND l.value = %s AND l.device_id = %s OFFSET 0)", arg(t.Key), arg(v), id)
		}
		return fmt.Sprintf("EXISTS (SELECT 1 FROM device_labels l WHERE l.device_id = %s AND l.key = %s OFFSET 0)", id, arg(t.Key))
	default:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM device_devinfo i WHERE i.uri = %s AND i.value = %s AND i.device_id = %s OFFSET 0)", arg(t.Key), arg(q.DevInfo[t.Key]), id)
	}
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

// ImportIDs tells, within one import, the later records of a device ID from
// its first (which is the one imported).
type ImportIDs map[string]bool

// Repeat records id and returns ErrExists when it was given before.
func (seen ImportIDs) Repeat(id string) error {
	if seen[id] {
		return fmt.Errorf("%w: device %s is given twice", storage.ErrExists, id)
	}
	seen[id] = true
	return nil
}
