package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
	"github.com/omadm/omadm/storage/secret"
)

var (
	_ storage.Inventory  = (*Store)(nil)
	_ storage.GroupStore = (*Store)(nil)
)

// invStmts are the prepared statements of the fleet inventory.
type invStmts struct {
	getLabels, setLabels, importDevice                                    *sql.Stmt
	insertGroup, getGroup, listGroups, deleteGroup, groupKind, deviceSeen *sql.Stmt
	addMember, removeMember                                               *sql.Stmt
	insertLabel, insertLabelSeen, insertDevInfo, addCount                 *sql.Stmt
	// Multi-row inserts of an import: byRows[k] inserts 1<<k rows.
	// importLabels inserts the label rows of devices that were seen,
	// importLabelsUnseen those of devices never seen (sort_unseen 0), and
	// importSeen the label_seen rows of the devices that were seen
	// (migration label_sort_keys).
	importDevices, importLabels, importLabelsUnseen, importSeen, importDevInfo []*sql.Stmt
	importedIDs                                                                *sql.Stmt
}

// Rows per multi-row statement of an import: devices (15 values each) and
// label rows (3 or 4 values each) or DevInfo rows (3 values each).
const (
	importDeviceRows = 64
	importIndexRows  = 256
)

func (s *Store) prepareInventory(p func(db *sql.DB, dst **sql.Stmt, q string)) {
	st := &s.st.inv
	w, r := s.w, s.r
	p(w, &st.getLabels, `SELECT labels FROM devices WHERE id = ?`)
	p(w, &st.setLabels, `UPDATE devices SET labels = ? WHERE id = ?`)
	p(w, &st.importDevice, `INSERT INTO devices (`+deviceCols+`, password, server_password)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '') ON CONFLICT (id) DO NOTHING`)
	p(w, &st.insertGroup, `INSERT INTO device_groups (name, description, selector, created_at) VALUES (?, ?, ?, ?)`)
	p(r, &st.getGroup, `SELECT name, description, selector, created_at FROM device_groups WHERE name = ?`)
	p(r, &st.listGroups, `SELECT name, description, selector, created_at FROM device_groups WHERE name > ? ORDER BY name LIMIT ?`)
	p(w, &st.deleteGroup, `DELETE FROM device_groups WHERE name = ?`)
	p(w, &st.groupKind, `SELECT selector FROM device_groups WHERE name = ?`)
	p(w, &st.deviceSeen, `SELECT count(*) FROM devices WHERE id = ?`)
	p(w, &st.addMember, `INSERT INTO group_members (group_name, device_id, created_at, last_seen)
		SELECT ?, id, created_at, last_seen FROM devices WHERE id = ? ON CONFLICT DO NOTHING`)
	p(w, &st.removeMember, `DELETE FROM group_members WHERE group_name = ? AND device_id = ?`)
	p(w, &st.insertLabel, `INSERT INTO device_labels (device_id, key, value, sort_unseen) VALUES (?, ?, ?, ?)`)
	p(w, &st.insertLabelSeen, `INSERT INTO label_seen (key, value, last_seen, device_id) VALUES (?, ?, ?, ?)`)
	p(w, &st.insertDevInfo, `INSERT INTO device_devinfo (device_id, uri, value) VALUES (?, ?, ?)`)
	p(w, &st.addCount, `INSERT INTO inventory_counts (kind, key, value, n) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key, value) DO UPDATE SET n = n + excluded.n`)
	// OR IGNORE: no row of an import can abort its statement, so SQLite
	// keeps no statement journal for it; a statement that inserted fewer
	// devices than it was given reads back the IDs it inserted (importedIDs).
	multi := func(dst *[]*sql.Stmt, max int, head, row, tail string) {
		for n := 1; n <= max; n *= 2 {
			*dst = append(*dst, nil)
			p(w, &(*dst)[len(*dst)-1], head+strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")+tail)
		}
	}
	multi(&st.importDevices, importDeviceRows, `INSERT OR IGNORE INTO devices (`+deviceCols+`, password, server_password) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`, ``)
	p(w, &st.importedIDs, `SELECT id FROM devices WHERE rowid BETWEEN ? AND ?`)
	multi(&st.importLabels, importIndexRows, `INSERT OR IGNORE INTO device_labels (device_id, key, value) VALUES `, `(?, ?, ?)`, ``)
	multi(&st.importLabelsUnseen, importIndexRows, `INSERT OR IGNORE INTO device_labels (device_id, key, value, sort_unseen) VALUES `, `(?, ?, ?, 0)`, ``)
	multi(&st.importSeen, importIndexRows, `INSERT OR IGNORE INTO label_seen (device_id, key, value, last_seen) VALUES `, `(?, ?, ?, ?)`, ``)
	multi(&st.importDevInfo, importIndexRows, `INSERT OR IGNORE INTO device_devinfo (device_id, uri, value) VALUES `, `(?, ?, ?)`, ``)
}

// chunks calls fn with the bounds of consecutive pieces of n rows whose
// sizes are powers of two of at most 1<<(levels-1), largest first, and the
// level (log2 of the size) of each.
func chunks(n, levels int, fn func(lo, hi, k int) error) error {
	for lo := 0; lo < n; {
		k := levels - 1
		for 1<<k > n-lo {
			k--
		}
		if err := fn(lo, lo+1<<k, k); err != nil {
			return err
		}
		lo += 1 << k
	}
	return nil
}

// insertRows inserts rows of width values each with the multi-row
// statements byRows.
func (s *Store) insertRows(ctx context.Context, byRows []*sql.Stmt, rows []any, width int) error {
	bound := map[int]bound{}
	return chunks(len(rows)/width, len(byRows), func(lo, hi, k int) error {
		b, ok := bound[k]
		if !ok {
			b = s.use(ctx, byRows[k])
			bound[k] = b
		}
		_, err := b.ExecContext(ctx, rows[width*lo:width*hi]...)
		return wrap(err)
	})
}

// indexNewDevice inserts the label and DevInfo rows of a device just
// inserted (inside a batch) and, when it was seen (seen: its stored last
// contact), its label_seen rows. Later changes reach them through the
// triggers of migrations inventory and label_sort_keys.
func (s *Store) indexNewDevice(ctx context.Context, d *storage.Device, seen any) error {
	var unseen any
	if seen == nil {
		unseen = 0
	}
	for k, v := range d.Labels {
		if _, err := s.use(ctx, s.st.inv.insertLabel).ExecContext(ctx, d.ID, k, v, unseen); err != nil {
			return wrap(err)
		}
		if seen == nil {
			continue
		}
		if _, err := s.use(ctx, s.st.inv.insertLabelSeen).ExecContext(ctx, k, v, seen, d.ID); err != nil {
			return wrap(err)
		}
	}
	for k, v := range d.DevInfo {
		if _, err := s.use(ctx, s.st.inv.insertDevInfo).ExecContext(ctx, d.ID, k, v); err != nil {
			return wrap(err)
		}
	}
	return s.addCounts(ctx, countsOf(slices.Values([]*storage.Device{d})))
}

type countKey struct{ kind, key, value string }

// countsOf tallies the label and DevInfo values of new devices.
func countsOf(ds iter.Seq[*storage.Device]) map[countKey]int {
	c := map[countKey]int{}
	for d := range ds {
		for k, v := range d.Labels {
			c[countKey{"l", k, v}]++
		}
		for k, v := range d.DevInfo {
			c[countKey{"d", k, v}]++
		}
	}
	return c
}

// addCounts adds new devices' values to inventory_counts.
func (s *Store) addCounts(ctx context.Context, c map[countKey]int) error {
	if len(c) == 0 {
		return nil
	}
	b := s.use(ctx, s.st.inv.addCount)
	for k, n := range c {
		if _, err := b.ExecContext(ctx, k.kind, k.key, k.value, n); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// QueryDevices returns one page of the devices q selects (storage.DeviceQuerier).
func (s *Store) QueryDevices(ctx context.Context, q storage.DeviceQuery) ([]*storage.Device, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	query, args, err := s.planQuery(ctx, &q, after)
	if err != nil {
		return nil, "", err
	}
	var rows *sql.Rows
	if s.tx != nil {
		rows, err = s.tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = s.r.QueryContext(ctx, query, args...)
	}
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

// UpdateLabels changes the labels of the devices in one batch; the
// device_labels rows follow through the trigger of migration inventory.
func (s *Store) UpdateLabels(ctx context.Context, ids []string, set map[string]string, remove []string) (int, error) {
	if err := sqlcommon.CheckLabels(set, remove); err != nil {
		return 0, err
	}
	if s.tx == nil {
		var n int
		err := s.solo(ctx, func(in *Store) error {
			var err error
			n, err = in.UpdateLabels(ctx, ids, set, remove)
			return err
		})
		return n, err
	}
	n := 0
	for _, id := range ids {
		var raw sql.NullString
		err := s.use(ctx, s.st.inv.getLabels).QueryRowContext(ctx, id).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, wrap(err)
		}
		var labels map[string]string
		if err := unjson(raw, &labels, "labels"); err != nil {
			return 0, err
		}
		labels, changed := sqlcommon.MergeLabels(labels, set, remove)
		if !changed {
			continue
		}
		v, err := jsonOrNull(labels)
		if err != nil {
			return 0, err
		}
		if _, err := s.use(ctx, s.st.inv.setLabels).ExecContext(ctx, v, id); err != nil {
			return 0, wrap(err)
		}
		n++
	}
	return n, nil
}

// ImportDevices inserts the devices in one batch, skipping taken IDs, with
// multi-row statements: the devices (64 a statement; one that inserts fewer
// than it was given reads back which by rowid), then their label,
// label_seen and DevInfo rows. It is PrepareImport and StoreImport in one
// (see storage.ImportPreparer): the checks and the stored form of each
// device are computed before the batch takes the writer, so the writer lock
// covers only the inserts.
func (s *Store) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	return s.StoreImport(ctx, s.PrepareImport(ds))
}

var _ storage.ImportPreparer = (*Store)(nil)

// importCand is a device of an import that passed its checks.
type importCand struct {
	i       int    // index in the import
	hash    string // PasswordHash
	created time.Time
}

// importPrep is an import unit made ready for the writer: everything but
// the inserts, in the order the writer needs it.
type importPrep struct {
	ds    []*storage.Device
	key   *secret.Key  // of the store that sealed the server passwords
	errs  []error      // refusals of the checks (never changed afterwards)
	cands []importCand // in device ID order
	// The statement arguments of every candidate: devices (deviceRowVals
	// each, cands order); label rows of devices never seen (unseen) and of
	// devices seen (labels), DevInfo rows (3 values each) and the label_seen
	// rows of the devices seen (seen, 4 values each), in primary key order;
	// and the inventory counts they add. All as if every candidate is
	// stored: the writer drops the rows of devices whose ID was taken.
	vals, unseen, labels, devinfo, seen []any
	counts                              map[countKey]int
}

func (p *importPrep) Devices() []*storage.Device { return p.ds }

// deviceRowVals is the number of values of a device row of an import.
const deviceRowVals = 15

// prepareParallelMin is the batch size from which PrepareImport spreads the
// per-device work over goroutines.
const prepareParallelMin = 256

// PrepareImport checks the devices of an import and computes their stored
// form and the statement arguments (storage.ImportPreparer); it needs no
// transaction.
func (s *Store) PrepareImport(ds []*storage.Device) storage.PreparedImport {
	p := &importPrep{ds: ds, key: s.key, errs: make([]error, len(ds))}
	args := make([][]any, len(ds))
	prep := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := ds[i]
			if d.ID == "" {
				p.errs[i] = errors.New("storage: device id is empty")
				continue
			}
			a, err := s.deviceArgs(d)
			if err == nil {
				err = sqlcommon.CheckLabels(d.Labels, nil)
			}
			if err != nil {
				p.errs[i] = err
				continue
			}
			args[i] = a
		}
	}
	if w := runtime.GOMAXPROCS(0); w > 1 && len(ds) >= prepareParallelMin {
		var wg sync.WaitGroup
		per := (len(ds) + w - 1) / w
		for lo := 0; lo < len(ds); lo += per {
			wg.Go(func() { prep(lo, min(len(ds), lo+per)) })
		}
		wg.Wait()
	} else {
		prep(0, len(ds))
	}
	created := now()
	first := make(sqlcommon.ImportIDs, len(ds))
	p.cands = make([]importCand, 0, len(ds))
	nl, nd := 0, 0
	for i, d := range ds {
		if args[i] == nil {
			continue
		}
		if err := first.Repeat(d.ID); err != nil {
			p.errs[i] = err
			continue
		}
		c := norm(d.CreatedAt)
		if c.IsZero() {
			c = created
		}
		p.cands = append(p.cands, importCand{i, args[i][2].(string), c})
		nl, nd = nl+len(d.Labels), nd+len(d.DevInfo)
	}
	// In key order, each insert lands beside the one before it in the
	// b-tree (pages already in the cache, cursors moving forward); the
	// index rows below are built in this order (sortedRows needs it).
	slices.SortFunc(p.cands, func(a, b importCand) int { return strings.Compare(ds[a.i].ID, ds[b.i].ID) })
	p.vals = make([]any, 0, deviceRowVals*len(p.cands))
	var labels []indexRow
	unseen, devinfo := make([]indexRow, 0, nl), make([]indexRow, 0, nd)
	for _, c := range p.cands {
		d := ds[c.i]
		seen := micros(d.LastSeen)
		p.vals = append(append(append(p.vals, d.ID), args[c.i]...), c.created.UnixMicro(), seen)
		for k, v := range d.Labels {
			if seen == nil {
				unseen = append(unseen, indexRow{key: k, value: v, id: d.ID})
			} else {
				labels = append(labels, indexRow{k, v, d.ID, seen})
			}
		}
		for k, v := range d.DevInfo {
			devinfo = append(devinfo, indexRow{key: k, value: v, id: d.ID})
		}
	}
	// Devices of an import are rarely seen yet: theirs are the unseen
	// rows, with nothing in label_seen.
	p.unseen, p.labels, p.devinfo = sortedRows(unseen), sortedRows(labels), sortedRows(devinfo)
	p.seen = seenRows(labels)
	p.counts = countsOf(func(yield func(*storage.Device) bool) {
		for _, c := range p.cands {
			if !yield(ds[c.i]) {
				return
			}
		}
	})
	return p
}

// StoreImport inserts a prepared import (storage.ImportPreparer), in a batch
// of its own unless already in one.
func (s *Store) StoreImport(ctx context.Context, pi storage.PreparedImport) ([]error, error) {
	p, ok := pi.(*importPrep)
	if !ok || p.key != s.key {
		return nil, storage.ErrForeignImport
	}
	errs := slices.Clone(p.errs)
	if len(p.cands) == 0 {
		return errs, nil
	}
	var err error
	if s.tx == nil {
		err = s.solo(ctx, func(in *Store) error { return in.insertImport(ctx, p, errs) })
	} else {
		err = s.insertImport(ctx, p, errs)
	}
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// indexRow is a label or DevInfo row of an import; a label row of a device
// seen carries its last contact (stored form).
type indexRow struct {
	key, value, id string
	seen           any
}

// insertImport inserts the prepared devices (inside a batch); errs gets the
// taken IDs.
func (s *Store) insertImport(ctx context.Context, p *importPrep, errs []error) error {
	// Only a taken ID (in the store, or stored since the unit was prepared)
	// makes a device row be ignored: until a statement inserts fewer rows
	// than it was given, all were inserted.
	var inserted map[string]bool
	bound := map[int]bound{}
	err := chunks(len(p.cands), len(s.st.inv.importDevices), func(lo, hi, k int) error {
		b, ok := bound[k]
		if !ok {
			b = s.use(ctx, s.st.inv.importDevices[k])
			bound[k] = b
		}
		res, err := b.ExecContext(ctx, p.vals[deviceRowVals*lo:deviceRowVals*hi]...)
		if err != nil {
			return wrap(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap(err)
		}
		if inserted == nil && int(n) == hi-lo {
			return nil
		}
		if inserted == nil {
			inserted = make(map[string]bool, len(p.cands))
			for _, c := range p.cands[:lo] {
				inserted[p.ds[c.i].ID] = true
			}
		}
		if n == 0 {
			return nil
		}
		last, err := res.LastInsertId()
		if err != nil {
			return wrap(err)
		}
		return s.importedIDs(ctx, p, lo, hi, last-n+1, last, inserted)
	})
	if err != nil {
		return err
	}
	unseen, labels, devinfo, seen, counts := p.unseen, p.labels, p.devinfo, p.seen, p.counts
	if inserted != nil {
		for _, c := range p.cands {
			if id := p.ds[c.i].ID; !inserted[id] {
				errs[c.i] = fmt.Errorf("%w: device %s", storage.ErrExists, id)
			}
		}
		unseen, labels = rowsOf(unseen, 3, inserted), rowsOf(labels, 3, inserted)
		devinfo, seen = rowsOf(devinfo, 3, inserted), rowsOf(seen, 4, inserted)
		counts = countsOf(func(yield func(*storage.Device) bool) {
			for _, c := range p.cands {
				if inserted[p.ds[c.i].ID] && !yield(p.ds[c.i]) {
					return
				}
			}
		})
	}
	if err := s.insertRows(ctx, s.st.inv.importLabelsUnseen, unseen, 3); err != nil {
		return err
	}
	if err := s.insertRows(ctx, s.st.inv.importLabels, labels, 3); err != nil {
		return err
	}
	if err := s.insertRows(ctx, s.st.inv.importSeen, seen, 4); err != nil {
		return err
	}
	if err := s.insertRows(ctx, s.st.inv.importDevInfo, devinfo, 3); err != nil {
		return err
	}
	if err := s.addCounts(ctx, counts); err != nil {
		return err
	}
	// Only once nothing can fail any more: a batch that is rolled back
	// leaves its devices as they were given.
	for _, c := range p.cands {
		if errs[c.i] != nil {
			continue
		}
		d := p.ds[c.i]
		d.PasswordHash = c.hash
		d.CreatedAt, d.LastSeen = c.created, norm(d.LastSeen)
	}
	return nil
}

// importedIDs adds to inserted the IDs of the devices of p.cands[lo:hi]
// that one statement inserted, as the rows first…last. SQLite gives a new
// row of a table without AUTOINCREMENT the rowid after the largest in the
// table (https://sqlite.org/autoinc.html), so the rows one statement
// inserts have consecutive rowids ending at the last insert rowid; should
// that not hold (the largest rowid reached, SQLite then picks rowids at
// random), the IDs read back do not match the statement's and the unit
// fails instead of reporting a wrong device as stored.
func (s *Store) importedIDs(ctx context.Context, p *importPrep, lo, hi int, first, last int64, inserted map[string]bool) error {
	rows, err := s.use(ctx, s.st.inv.importedIDs).QueryContext(ctx, first, last)
	if err != nil {
		return wrap(err)
	}
	defer rows.Close()
	given := make(map[string]bool, hi-lo)
	for _, c := range p.cands[lo:hi] {
		given[p.ds[c.i].ID] = true
	}
	n := int64(0)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return wrap(err)
		}
		if !given[id] || inserted[id] {
			return fmt.Errorf("sqlite: import: row %d..%d holds device %s, not one the statement inserted", first, last, id)
		}
		inserted[id] = true
		n++
	}
	if err := rows.Err(); err != nil {
		return wrap(err)
	}
	if n != last-first+1 {
		return fmt.Errorf("sqlite: import: %d of the %d rows %d..%d the statement inserted are devices", n, last-first+1, first, last)
	}
	return nil
}

// rowsOf keeps the rows (of width values, the first the device ID) of
// the devices in ids.
func rowsOf(rows []any, width int, ids map[string]bool) []any {
	out := make([]any, 0, len(rows))
	for j := 0; j < len(rows); j += width {
		if ids[rows[j].(string)] {
			out = append(out, rows[j:j+width]...)
		}
	}
	return out
}

// sortedRows orders index rows given in device ID order by their primary
// key (key, value, device) and flattens them into statement arguments
// (device, key, value): rows are grouped by (key, value), each group keeps
// the device order, and only the groups are sorted.
func sortedRows(rs []indexRow) []any {
	type pair struct{ key, value string }
	groups := map[pair][]string{}
	for _, r := range rs {
		k := pair{r.key, r.value}
		groups[k] = append(groups[k], r.id)
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b pair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	out := make([]any, 0, 3*len(rs))
	for _, k := range keys {
		key, value := any(k.key), any(k.value)
		for _, id := range groups[k] {
			out = append(out, id, key, value)
		}
	}
	return out
}

// seenRows orders the label rows of devices seen by the primary key of
// label_seen (key, value, last contact, device) and flattens them into
// statement arguments (device, key, value, last contact).
func seenRows(rs []indexRow) []any {
	slices.SortFunc(rs, func(a, b indexRow) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := strings.Compare(a.value, b.value); c != 0 {
			return c
		}
		if c := cmp.Compare(a.seen.(int64), b.seen.(int64)); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]any, 0, 4*len(rs))
	for _, r := range rs {
		out = append(out, r.id, r.key, r.value, r.seen)
	}
	return out
}

// ---- groups ----

func scanGroup(sc scanner) (*storage.Group, error) {
	var g storage.Group
	var created sql.NullInt64
	if err := sc.Scan(&g.Name, &g.Description, &g.Selector, &created); err != nil {
		return nil, wrap(err)
	}
	g.CreatedAt = fromMicros(created)
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
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateGroup(ctx, g) })
	}
	if _, err := s.use(ctx, s.st.inv.insertGroup).ExecContext(ctx, g.Name, g.Description, g.Selector, created.UnixMicro()); err != nil {
		return fmt.Errorf("group %s: %w", g.Name, wrap(err))
	}
	g.CreatedAt = created
	return nil
}

// GetGroup returns the group or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, name string) (*storage.Group, error) {
	g, err := scanGroup(s.use(ctx, s.st.inv.getGroup).QueryRowContext(ctx, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	return g, err
}

// ListGroups pages through groups by name.
func (s *Store) ListGroups(ctx context.Context, after string, n int) ([]*storage.Group, error) {
	rows, err := s.use(ctx, s.st.inv.listGroups).QueryContext(ctx, after, limit(n))
	return collect(rows, err, scanGroup)
}

// DeleteGroup removes a group; its member rows cascade.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	err := affected(s.use(ctx, s.st.inv.deleteGroup).ExecContext(ctx, name))
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	return err
}

// staticGroup checks, inside a batch, that name is a static group.
func (s *Store) staticGroup(ctx context.Context, name string) error {
	var sel string
	err := s.use(ctx, s.st.inv.groupKind).QueryRowContext(ctx, name).Scan(&sel)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	return s.changeMembers(ctx, name, ids, true)
}

// RemoveGroupMembers removes devices from a static group.
func (s *Store) RemoveGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	return s.changeMembers(ctx, name, ids, false)
}

func (s *Store) changeMembers(ctx context.Context, name string, ids []string, add bool) (int, error) {
	if s.tx == nil {
		var n int
		err := s.solo(ctx, func(in *Store) error {
			var err error
			n, err = in.changeMembers(ctx, name, ids, add)
			return err
		})
		return n, err
	}
	if err := s.staticGroup(ctx, name); err != nil {
		return 0, err
	}
	x := s.st.inv.removeMember
	if add {
		x = s.st.inv.addMember
	}
	n := 0
	for _, id := range ids {
		if add {
			var c int
			if err := s.use(ctx, s.st.inv.deviceSeen).QueryRowContext(ctx, id).Scan(&c); err != nil {
				return 0, wrap(err)
			}
			if c == 0 {
				return 0, fmt.Errorf("%w: device %s", storage.ErrNotFound, strconv.Quote(id))
			}
		}
		res, err := s.use(ctx, x).ExecContext(ctx, name, id)
		if err != nil {
			return 0, wrap(err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, wrap(err)
		}
		n += int(k)
	}
	return n, nil
}
