package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
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
}

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
	p(w, &st.addMember, `INSERT INTO group_members (group_name, device_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	p(w, &st.removeMember, `DELETE FROM group_members WHERE group_name = ? AND device_id = ?`)
}

var dialect = sqlcommon.QueryDialect{
	Param:   func(int) string { return "?" },
	SeenKey: "ifnull(last_seen, 0)",
	Time:    func(k int64) any { return k },
	IDList: func(p string, ids []string) (string, any) {
		b, _ := json.Marshal(ids)
		return "id IN (SELECT value FROM json_each(" + p + "))", string(b)
	},
}

// QueryDevices returns one page of the devices q selects (storage.DeviceQuerier).
func (s *Store) QueryDevices(ctx context.Context, q storage.DeviceQuery) ([]*storage.Device, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	query, args := sqlcommon.DeviceQuery(dialect, deviceCols, &q, after)
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

// ImportDevices inserts the devices in one batch, skipping taken IDs.
func (s *Store) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	if s.tx == nil {
		var errs []error
		err := s.solo(ctx, func(in *Store) error {
			var err error
			errs, err = in.ImportDevices(ctx, ds)
			return err
		})
		return errs, err
	}
	errs := make([]error, len(ds))
	created := now()
	for i, d := range ds {
		if d.ID == "" {
			errs[i] = errors.New("storage: device id is empty")
			continue
		}
		args, err := s.deviceArgs(d)
		if err != nil {
			errs[i] = err
			continue
		}
		c := norm(d.CreatedAt)
		if c.IsZero() {
			c = created
		}
		args = append(append([]any{d.ID}, args...), c.UnixMicro(), micros(d.LastSeen))
		res, err := s.use(ctx, s.st.inv.importDevice).ExecContext(ctx, args...)
		if err != nil {
			return nil, wrap(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, wrap(err)
		} else if n == 0 {
			errs[i] = fmt.Errorf("%w: device %s", storage.ErrExists, d.ID)
			continue
		}
		d.PasswordHash = args[3].(string)
		d.CreatedAt, d.LastSeen = c, norm(d.LastSeen)
	}
	return errs, nil
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
