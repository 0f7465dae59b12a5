package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.DeviceIDQuerier = (*Store)(nil)

// QueryDeviceIDs returns the IDs of one page of QueryDevices
// (storage.DeviceIDQuerier): the same query, reading only the ID and the
// sort keys the cursor needs.
func (s *Store) QueryDeviceIDs(ctx context.Context, q storage.DeviceQuery) ([]string, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	plan, err := s.devicePlan(ctx, &q)
	if err != nil {
		return nil, "", err
	}
	query, args := sqlcommon.DeviceQuery(dialect, "id, created_at, last_seen", &q, after, plan)
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err)
	}
	defer rows.Close()
	ids := make([]string, 0, q.Limit+1)
	var last storage.Device
	for rows.Next() {
		var id string
		var created, seen pgtype.Timestamptz
		if err := rows.Scan(&id, &created, &seen); err != nil {
			return nil, "", wrap(err)
		}
		ids = append(ids, id)
		if len(ids) == q.Limit {
			last = storage.Device{ID: id, CreatedAt: fromTS(created), LastSeen: fromTS(seen)}
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
