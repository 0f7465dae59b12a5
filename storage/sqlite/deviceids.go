package sqlite

import (
	"context"
	"database/sql"

	"github.com/omadm/omadm/storage"
)

var _ storage.DeviceIDQuerier = (*Store)(nil)

// QueryDeviceIDs returns the IDs of one page of QueryDevices
// (storage.DeviceIDQuerier): the same plan, reading only the ID and the
// sort keys the cursor needs.
func (s *Store) QueryDeviceIDs(ctx context.Context, q storage.DeviceQuery) ([]string, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	query, args, err := s.planQueryCols(ctx, &q, after, "devices.id, devices.created_at, devices.last_seen")
	if err != nil {
		return nil, "", err
	}
	var rows *sql.Rows
	if s.tx != nil {
		rows, err = s.tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = s.r.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	ids := make([]string, 0, q.Limit+1)
	var last storage.Device
	for rows.Next() {
		var id string
		var created, seen sql.NullInt64
		if err := rows.Scan(&id, &created, &seen); err != nil {
			return nil, "", wrap(err)
		}
		ids = append(ids, id)
		if len(ids) == q.Limit {
			last = storage.Device{ID: id, CreatedAt: fromMicros(created), LastSeen: fromMicros(seen)}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err)
	}
	next := ""
	if len(ids) > q.Limit {
		ids = ids[:q.Limit]
		next = q.NextCursor(&last)
	}
	return ids, next, nil
}
