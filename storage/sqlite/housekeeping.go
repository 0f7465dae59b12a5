package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.Housekeeper = (*Store)(nil)

// Housekeeping statements. They run rarely, so they are not prepared: the
// reads go to the reader pool (never the writer), the writes run on the
// batch transaction, each a short write that joins the group commit.
const (
	deleteTraceCut = `DELETE FROM traces WHERE device_id = ? AND id <= ?`
	// oldRange is the highest ID of the first ?2 traces above ?1 and
	// whether any of them was created at or after ?3.
	oldRange         = `SELECT max(id), max(created_at >= ?3) FROM (SELECT id, created_at FROM traces WHERE id > ?1 ORDER BY id LIMIT ?2)`
	deleteClosedSess = `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE updated_at < ? AND closed = 1 ORDER BY updated_at LIMIT ?)`
)

// The range end, the cuts and the old traces' delete are the shared ones
// (the range walks the table's first pages in rowid order).
var (
	traceRangeEnd   = q(sqlcommon.TraceRangeEnd)
	traceCuts       = q(sqlcommon.TraceCuts)
	deleteOldTraces = q(sqlcommon.DeleteOldTraces)
)

// TraceCuts reports the devices of the next limit traces that have more
// than keep traces (storage.Housekeeper). It only reads, on the reader pool.
func (s *Store) TraceCuts(ctx context.Context, afterID int64, limit, keep int) ([]storage.TraceCut, int64, error) {
	if err := storage.CheckHousekeeping(limit, keep); err != nil {
		return nil, 0, err
	}
	db := s.reader()
	var last sql.NullInt64
	if err := db.QueryRowContext(ctx, traceRangeEnd, afterID, limit).Scan(&last); err != nil {
		return nil, 0, wrap(err)
	}
	if !last.Valid {
		return nil, 0, nil
	}
	rows, err := db.QueryContext(ctx, traceCuts, afterID, last.Int64, keep)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	cuts, err := sqlcommon.ReadTraceCuts(rows)
	return cuts, last.Int64, wrap(err)
}

// DeleteTraceCuts deletes what the cuts name, in one write (storage.Housekeeper).
func (s *Store) DeleteTraceCuts(ctx context.Context, cuts []storage.TraceCut) (int, error) {
	if len(cuts) == 0 {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, c := range cuts {
			res, err := tx.ExecContext(ctx, deleteTraceCut, c.DeviceID, c.ID)
			if err != nil {
				return wrap(err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}

// DeleteTracesBefore deletes the traces created before t among the next
// limit above afterID, in one write (storage.Housekeeper).
func (s *Store) DeleteTracesBefore(ctx context.Context, afterID int64, limit int, t time.Time) (int, int64, bool, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, 0, false, err
	}
	var last, newer sql.NullInt64
	if err := s.reader().QueryRowContext(ctx, oldRange, afterID, limit, t.UnixMicro()).Scan(&last, &newer); err != nil {
		return 0, 0, false, wrap(err)
	}
	if !last.Valid {
		return 0, 0, false, nil
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, deleteOldTraces, afterID, last.Int64, t.UnixMicro())
		if err != nil {
			return wrap(err)
		}
		n, err = res.RowsAffected()
		return wrap(err)
	})
	return int(n), last.Int64, newer.Int64 != 0, err
}

// DeleteClosedSessionsBefore deletes up to limit closed sessions idle
// since before t, in one write (storage.Housekeeper).
func (s *Store) DeleteClosedSessionsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, err
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, deleteClosedSess, t.UnixMicro(), limit)
		if err != nil {
			return wrap(err)
		}
		n, err = res.RowsAffected()
		return wrap(err)
	})
	return int(n), err
}

// write runs fn on the batch transaction: the current one inside a batch,
// a batch of its own (joining the group commit) otherwise.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	return s.solo(ctx, func(in *Store) error { return fn(in.tx) })
}
