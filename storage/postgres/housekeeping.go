package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.Housekeeper = (*Store)(nil)

// Housekeeping statements: each visits a bounded range of trace IDs (the
// primary key) and is a short statement of its own.
const (
	traceRangeEnd   = sqlcommon.TraceRangeEnd
	traceCuts       = sqlcommon.TraceCuts
	deleteTraceCuts = `DELETE FROM traces t USING unnest($1::text[], $2::bigint[]) AS c(device_id, cut)
		WHERE t.device_id = c.device_id AND t.id <= c.cut`
	oldRange = `SELECT max(id), coalesce(bool_or(created_at >= $3), false)
		FROM (SELECT id, created_at FROM traces WHERE id > $1 ORDER BY id LIMIT $2) r`
	deleteOldTraces  = sqlcommon.DeleteOldTraces
	deleteClosedSess = `DELETE FROM sessions WHERE ctid IN
		(SELECT ctid FROM sessions WHERE updated_at < $1 AND closed ORDER BY updated_at LIMIT $2)`
)

// TraceCuts reports the devices of the next limit traces that have more
// than keep traces (storage.Housekeeper). It only reads.
func (s *Store) TraceCuts(ctx context.Context, afterID int64, limit, keep int) ([]storage.TraceCut, int64, error) {
	if err := storage.CheckHousekeeping(limit, keep); err != nil {
		return nil, 0, err
	}
	var last pgtype.Int8
	if err := s.db.QueryRow(ctx, traceRangeEnd, afterID, limit).Scan(&last); err != nil {
		return nil, 0, wrap(err)
	}
	if !last.Valid {
		return nil, 0, nil
	}
	rows, err := s.db.Query(ctx, traceCuts, afterID, last.Int64, keep)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	cuts, err := sqlcommon.ReadTraceCuts(rows)
	return cuts, last.Int64, wrap(err)
}

// DeleteTraceCuts deletes what the cuts name in one statement (storage.Housekeeper).
func (s *Store) DeleteTraceCuts(ctx context.Context, cuts []storage.TraceCut) (int, error) {
	if len(cuts) == 0 {
		return 0, nil
	}
	devs := make([]string, len(cuts))
	ids := make([]int64, len(cuts))
	for i, c := range cuts {
		devs[i], ids[i] = c.DeviceID, c.ID
	}
	tag, err := s.db.Exec(ctx, deleteTraceCuts, devs, ids)
	if err != nil {
		return 0, wrap(err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteTracesBefore deletes the traces created before t among the next
// limit above afterID (storage.Housekeeper).
func (s *Store) DeleteTracesBefore(ctx context.Context, afterID int64, limit int, t time.Time) (int, int64, bool, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, 0, false, err
	}
	var last pgtype.Int8
	var newer bool
	if err := s.db.QueryRow(ctx, oldRange, afterID, limit, t).Scan(&last, &newer); err != nil {
		return 0, 0, false, wrap(err)
	}
	if !last.Valid {
		return 0, 0, false, nil
	}
	tag, err := s.db.Exec(ctx, deleteOldTraces, afterID, last.Int64, t)
	if err != nil {
		return 0, 0, false, wrap(err)
	}
	return int(tag.RowsAffected()), last.Int64, newer, nil
}

// DeleteClosedSessionsBefore deletes up to limit closed sessions idle
// since before t (storage.Housekeeper).
func (s *Store) DeleteClosedSessionsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, err
	}
	tag, err := s.db.Exec(ctx, deleteClosedSess, t, limit)
	if err != nil {
		return 0, wrap(err)
	}
	return int(tag.RowsAffected()), nil
}
