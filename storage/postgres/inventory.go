package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
}

// QueryDevices returns one page of the devices q selects (storage.DeviceQuerier).
func (s *Store) QueryDevices(ctx context.Context, q storage.DeviceQuery) ([]*storage.Device, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	query, args := sqlcommon.DeviceQuery(dialect, deviceCols, &q, after)
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

// ImportDevices inserts the devices in one pipelined transaction, skipping
// taken IDs (ON CONFLICT DO NOTHING: the transaction survives them).
func (s *Store) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	errs := make([]error, len(ds))
	type row struct {
		i       int
		hash    string
		created time.Time
	}
	var queued []row
	b := &pgx.Batch{}
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
		queued = append(queued, row{i, args[2].(string), c})
		args = append(append([]any{d.ID}, args...), c, ts(norm(d.LastSeen)))
		b.Queue(`INSERT INTO devices (`+deviceCols+`, password, server_password)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', '') ON CONFLICT (id) DO NOTHING`, args...)
	}
	if len(queued) == 0 {
		return errs, nil
	}
	err := s.inTxDo(ctx, func(in *Store) error {
		br := in.db.SendBatch(ctx, b)
		for _, r := range queued {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return wrap(err)
			}
			if tag.RowsAffected() == 0 {
				errs[r.i] = fmt.Errorf("%w: device %s", storage.ErrExists, ds[r.i].ID)
			}
		}
		return wrap(br.Close())
	})
	if err != nil {
		return nil, err
	}
	for _, r := range queued {
		if errs[r.i] == nil {
			d := ds[r.i]
			d.PasswordHash = r.hash
			d.CreatedAt, d.LastSeen = r.created, norm(d.LastSeen)
		}
	}
	return errs, nil
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
