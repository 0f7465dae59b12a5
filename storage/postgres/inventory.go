package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var (
	_ storage.Inventory  = (*Store)(nil)
	_ storage.GroupStore = (*Store)(nil)
)

var dialect = sqlcommon.QueryDialect{
	Param:   func(n int) string { return "$" + strconv.Itoa(n) },
	SeenKey: "coalesce(last_seen, '-infinity'::timestamptz)",
	Time: func(k int64) any {
		if k == 0 {
			return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		}
		return pgtype.Timestamptz{Time: time.UnixMicro(k).UTC(), Valid: true}
	},
	IDList: func(p string, ids []string) (string, any) { return "id = ANY(" + p + "::text[])", ids },
	// As migration facet_orders declares them in the order indexes.
	Facets: map[string]string{
		"./DevInfo/Mod":   "devinfo->>'./DevInfo/Mod'",
		"./DevInfo/Man":   "devinfo->>'./DevInfo/Man'",
		"./DevDetail/FwV": "devinfo->>'./DevDetail/FwV'",
	},
	GroupKeys: true,
	// As migration sort_key_copies names them on label and member rows.
	TermCopies: map[string]string{
		"./DevInfo/Mod":   "info_mod",
		"./DevInfo/Man":   "info_man",
		"./DevDetail/FwV": "info_fwv",
	},
	LabelSeen: "device_label_seen",
}

// facetRare is the number of devices below which a DevInfo value is rare:
// its filter is then an IN subquery on device_devinfo, from which the
// search reads the few matching devices and sorts them, rather than a term
// on the order index's copy of the value, which would walk the order over
// the whole fleet to fill a page.
var facetRare = 2000

// driveMax is the number of devices from which a filter no longer drives
// a search of several filters: below it, the search reads the candidates
// of its most selective filter (counted on that filter's index up to this
// bound, or up to the smallest count found so far) and checks the others on
// each one. The planner would instead assume the filters independent and
// join the whole index range of each, which correlated filters (a canary
// group whose members all carry the ring label and one model) make costly.
var driveMax = 20000

// devicePlan chooses how the filters of q are written. With two filters
// or more, the one with the fewest devices under driveMax drives the
// search (sqlcommon.Plan.Drive); when none is that small, or a sorted
// search has a single label, a label whose other filters are all on copied
// DevInfo values drives it (labelWalk). Otherwise the DevInfo filters are chosen
// as follows. In ID order they stay IN subqueries on device_devinfo, whose
// index lists a value's devices in ID order. Sorted by last_seen or
// created, a filter on a value the order indexes carry is a term on that
// copy, tested inside each entry of the walk, unless the value is rare
// (fewer than facetRare devices, counted on device_devinfo's index up to
// that bound): the planner has no statistic on how a value's devices
// spread over the order, and the walk costs Limit / (its share of the
// fleet) entries.
func (s *Store) devicePlan(ctx context.Context, q *storage.DeviceQuery) (sqlcommon.Plan, error) {
	var p sqlcommon.Plan
	if t, checks, err := s.driver(ctx, q); err != nil || t != nil {
		p.Drive, p.Checks = t, checks
		return p, err
	}
	if q.Sort != storage.SortLastSeen && q.Sort != storage.SortCreated {
		return p, nil
	}
	for uri, v := range q.DevInfo {
		if dialect.Facets[uri] == "" {
			continue
		}
		n, err := s.countUpTo(ctx, `SELECT count(*) FROM (SELECT 1 FROM device_devinfo WHERE uri = $1 AND value = $2 LIMIT $3) x`,
			facetRare, uri, v)
		if err != nil {
			return p, err
		}
		if n < facetRare {
			// A rare value drives; the others are tested on the rows
			// it reads, as subqueries.
			return sqlcommon.Plan{}, nil
		}
		if p.FacetTerms == nil {
			p.FacetTerms = map[string]bool{}
		}
		p.FacetTerms[uri] = true
	}
	return p, nil
}

// driver returns the filter of q that drives it, or nil: the one with the
// fewest devices, if under driveMax, when q has two filters or more
// (labels, DevInfo values, group), and the others probed, fewest devices
// first. A label without a value cannot drive.
func (s *Store) driver(ctx context.Context, q *storage.DeviceQuery) (*sqlcommon.Term, []sqlcommon.Term, error) {
	terms := len(q.Labels) + len(q.DevInfo)
	if q.Group != "" {
		terms++
	}
	if driveMax <= 0 {
		return nil, nil, nil
	}
	if terms < 2 {
		return labelWalk(q), nil, nil
	}
	var best *sqlcommon.Term
	bound := driveMax
	type counted struct {
		t sqlcommon.Term
		n int // at least, when it reached the probe's bound
	}
	var all []counted
	try := func(t sqlcommon.Term, query string, args ...any) error {
		n, err := s.countUpTo(ctx, query, bound, args...)
		all = append(all, counted{t, n})
		if err == nil && n < bound {
			best, bound = &t, n
		}
		return err
	}
	// The group first: a static group is usually the smallest, and its
	// count bounds the probes of the other filters.
	if q.Group != "" {
		if err := try(sqlcommon.Term{Kind: sqlcommon.TermGroup},
			`SELECT count(*) FROM (SELECT 1 FROM group_members WHERE group_name = $1 LIMIT $2) x`, q.Group); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q.Labels)) {
		if q.Labels[k] == "" {
			continue
		}
		if err := try(sqlcommon.Term{Kind: sqlcommon.TermLabel, Key: k},
			`SELECT count(*) FROM (SELECT 1 FROM device_labels WHERE key = $1 AND value = $2 LIMIT $3) x`, k, q.Labels[k]); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q.DevInfo)) {
		if err := try(sqlcommon.Term{Kind: sqlcommon.TermDevInfo, Key: k},
			`SELECT count(*) FROM (SELECT 1 FROM device_devinfo WHERE uri = $1 AND value = $2 LIMIT $3) x`, k, q.DevInfo[k]); err != nil {
			return nil, nil, err
		}
	}
	if best == nil {
		return labelWalk(q), nil, nil
	}
	slices.SortStableFunc(all, func(a, b counted) int { return a.n - b.n })
	checks := make([]sqlcommon.Term, 0, len(all))
	for _, c := range all {
		if c.t != *best {
			checks = append(checks, c.t)
		}
	}
	if len(checks) < 2 {
		return best, checks, nil
	}
	// The fleet's counts say nothing of how the filters overlap (all the
	// members of a canary group can have its ring label): the checks are
	// ordered by how many of a sample of the driver's devices pass them.
	pass, err := s.samplePasses(ctx, q, *best, checks)
	if err != nil {
		return nil, nil, err
	}
	ix := make([]int, len(checks))
	for i := range ix {
		ix[i] = i
	}
	slices.SortStableFunc(ix, func(a, b int) int { return pass[a] - pass[b] })
	ordered := make([]sqlcommon.Term, len(checks))
	for i, j := range ix {
		ordered[i] = checks[j]
	}
	return best, ordered, nil
}

// labelWalk returns the label filter that drives q when no filter is small
// enough to (driver): q's only label, with a value, whose other filters are
// all on DevInfo values its rows carry copies of (dialect.TermCopies), in a
// search sorted by last contact or creation or with another filter. Its
// rows are then walked in the page's order, the other filters tested in
// each index entry, and the walk stops at the page's end: it reads Limit
// divided by the share of the label's devices that pass entries, where
// the device order (or, in ID order, the planner's join of each filter's
// whole index range) would read as many divided by the share of the fleet.
// IDs and an ID prefix leave the choice to the planner.
func labelWalk(q *storage.DeviceQuery) *sqlcommon.Term {
	if len(q.Labels) != 1 || q.Group != "" || len(q.IDs) > 0 || q.IDPrefix != "" {
		return nil
	}
	if len(q.DevInfo) == 0 && q.Sort != storage.SortLastSeen && q.Sort != storage.SortCreated {
		return nil
	}
	for uri := range q.DevInfo {
		if dialect.TermCopies[uri] == "" {
			return nil
		}
	}
	for k, v := range q.Labels {
		if v != "" {
			return &sqlcommon.Term{Kind: sqlcommon.TermLabel, Key: k}
		}
	}
	return nil
}

// checkSample is the number of the driving filter's devices (the first in
// ID order) on which the other filters are tried to order their checks.
const checkSample = 256

// samplePasses returns how many of the first checkSample devices of the
// filter drive pass each of checks, or the counts it remembers.
func (s *Store) samplePasses(ctx context.Context, q *storage.DeviceQuery, drive sqlcommon.Term, checks []sqlcommon.Term) ([]int, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	src, where := sqlcommon.TermSource(q, drive, arg)
	sel := make([]string, len(checks))
	for i, c := range checks {
		sel[i] = "count(*) FILTER (WHERE " + sqlcommon.TermCheck(q, c, arg, "s.device_id") + ")"
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM (SELECT device_id FROM " + src + " WHERE " +
		strings.Join(where, " AND ") + " LIMIT " + strconv.Itoa(checkSample) + ") s"
	at := time.Now()
	keys := make([]string, len(checks))
	pass := make([]int, len(checks))
	cached := true
	for i := range checks {
		keys[i] = countKey(append([]any{query, strconv.Itoa(i)}, args...)...)
		n, ok := s.counts.get(keys[i], checkSample, at)
		pass[i], cached = n, cached && ok
	}
	if cached {
		return pass, nil
	}
	dst := make([]any, len(pass))
	for i := range pass {
		dst[i] = &pass[i]
	}
	if err := s.db.QueryRow(ctx, query, args...).Scan(dst...); err != nil {
		return nil, wrap(err)
	}
	for i, n := range pass {
		s.counts.put(keys[i], n, checkSample+1, at)
	}
	return pass, nil
}

// countUpTo runs a count(*) probe whose last parameter is its LIMIT, n,
// or returns the count it remembers (planCounts).
func (s *Store) countUpTo(ctx context.Context, query string, n int, args ...any) (int, error) {
	k := countKey(append([]any{query}, args...)...)
	at := time.Now()
	if c, ok := s.counts.get(k, n, at); ok {
		return c, nil
	}
	var c int
	if err := s.db.QueryRow(ctx, query, append(args, n)...).Scan(&c); err != nil {
		return 0, wrap(err)
	}
	s.counts.put(k, c, n, at)
	return c, nil
}

// QueryDevices returns one page of the devices q selects (storage.DeviceQuerier).
func (s *Store) QueryDevices(ctx context.Context, q storage.DeviceQuery) ([]*storage.Device, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	plan, err := s.devicePlan(ctx, &q)
	if err != nil {
		return nil, "", err
	}
	query, args := sqlcommon.DeviceQuery(dialect, deviceCols, &q, after, plan)
	rows, err := s.db.Query(ctx, query, args...)
	ds, err := collect(rows, err, s.scanDevice)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ds) > q.Limit {
		ds = ds[:q.Limit]
		next = q.NextCursor(ds[len(ds)-1])
	}
	return ds, next, nil
}

// inTxDo runs fn in the Store's transaction, or in a new one.
func (s *Store) inTxDo(ctx context.Context, fn func(in *Store) error) error {
	return s.Batch(ctx, func(in storage.Store) error { return fn(in.(*Store)) })
}

// UpdateLabels changes the labels of the devices in one transaction, the
// rows locked while they are rewritten; device_labels follows through the
// trigger of migration inventory.
func (s *Store) UpdateLabels(ctx context.Context, ids []string, set map[string]string, remove []string) (int, error) {
	if err := sqlcommon.CheckLabels(set, remove); err != nil {
		return 0, err
	}
	if err := checkText(idFields(ids)...); err != nil {
		return 0, err
	}
	n := 0
	err := s.inTxDo(ctx, func(in *Store) error {
		rows, err := in.db.Query(ctx, `SELECT id, labels FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return wrap(err)
		}
		type change struct {
			id     string
			labels any
		}
		var changes []change
		for rows.Next() {
			var id string
			var labels map[string]string
			if err := rows.Scan(&id, &labels); err != nil {
				rows.Close()
				return wrap(err)
			}
			l, changed := sqlcommon.MergeLabels(labels, set, remove)
			if !changed {
				continue
			}
			v, err := jsonOrNull(l)
			if err != nil {
				rows.Close()
				return err
			}
			changes = append(changes, change{id, v})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err)
		}
		if len(changes) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		for _, c := range changes {
			b.Queue(`UPDATE devices SET labels = $1 WHERE id = $2`, c.labels, c.id)
		}
		if err := in.db.SendBatch(ctx, b).Close(); err != nil {
			return wrap(err)
		}
		n = len(changes)
		return nil
	})
	return n, err
}

func idFields(ids []string) []string {
	f := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		f = append(f, "device id", id)
	}
	return f
}

// ---- groups ----

const groupCols = `name, description, selector, created_at`

func scanGroup(row pgx.Row) (*storage.Group, error) {
	var g storage.Group
	var created pgtype.Timestamptz
	if err := row.Scan(&g.Name, &g.Description, &g.Selector, &created); err != nil {
		return nil, wrap(err)
	}
	g.CreatedAt = fromTS(created)
	return &g, nil
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, g *storage.Group) error {
	if g.Name == "" {
		return errors.New("storage: group name is empty")
	}
	if err := checkText("group name", g.Name, "group description", g.Description, "group selector", g.Selector); err != nil {
		return err
	}
	created := norm(g.CreatedAt)
	if created.IsZero() {
		created = now()
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO device_groups (`+groupCols+`) VALUES ($1, $2, $3, $4)`,
		g.Name, g.Description, g.Selector, created); err != nil {
		return fmt.Errorf("group %s: %w", g.Name, wrap(err))
	}
	g.CreatedAt = created
	return nil
}

// GetGroup returns the group or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, name string) (*storage.Group, error) {
	g, err := scanGroup(s.db.QueryRow(ctx, `SELECT `+groupCols+` FROM device_groups WHERE name = $1`, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	return g, err
}

// ListGroups pages through groups by name.
func (s *Store) ListGroups(ctx context.Context, after string, n int) ([]*storage.Group, error) {
	rows, err := s.db.Query(ctx, `SELECT `+groupCols+` FROM device_groups WHERE name > $1 ORDER BY name LIMIT $2`, after, limit(n))
	return collect(rows, err, scanGroup)
}

// DeleteGroup removes a group; its member rows cascade.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	err := affected(s.db.Exec(ctx, `DELETE FROM device_groups WHERE name = $1`, name))
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	return err
}

// staticGroup checks, inside a transaction, that name is a static group
// and locks it against deletion until the transaction ends.
func (s *Store) staticGroup(ctx context.Context, name string) error {
	var sel string
	err := s.db.QueryRow(ctx, `SELECT selector FROM device_groups WHERE name = $1 FOR SHARE`, name).Scan(&sel)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	case err != nil:
		return wrap(err)
	case sel != "":
		return fmt.Errorf("%w: group %s", storage.ErrDynamicGroup, name)
	}
	return nil
}

// AddGroupMembers adds devices to a static group, all or none.
func (s *Store) AddGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	if err := checkText(idFields(ids)...); err != nil {
		return 0, err
	}
	n := 0
	err := s.inTxDo(ctx, func(in *Store) error {
		if err := in.staticGroup(ctx, name); err != nil {
			return err
		}
		var missing *string
		err := in.db.QueryRow(ctx, `SELECT x FROM unnest($1::text[]) x
			WHERE NOT EXISTS (SELECT 1 FROM devices WHERE id = x) LIMIT 1`, ids).Scan(&missing)
		switch {
		case err == nil && missing != nil:
			return fmt.Errorf("%w: device %s", storage.ErrNotFound, strconv.Quote(*missing))
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return wrap(err)
		}
		tag, err := in.db.Exec(ctx, `INSERT INTO group_members (group_name, device_id)
			SELECT DISTINCT $1::text, x FROM unnest($2::text[]) x ON CONFLICT DO NOTHING`, name, ids)
		if err != nil {
			return wrap(err)
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}

// RemoveGroupMembers removes devices from a static group.
func (s *Store) RemoveGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	if err := checkText(idFields(ids)...); err != nil {
		return 0, err
	}
	n := 0
	err := s.inTxDo(ctx, func(in *Store) error {
		if err := in.staticGroup(ctx, name); err != nil {
			return err
		}
		tag, err := in.db.Exec(ctx, `DELETE FROM group_members WHERE group_name = $1 AND device_id = ANY($2::text[])`, name, ids)
		if err != nil {
			return wrap(err)
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}
