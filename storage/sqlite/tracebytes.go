package sqlite

import (
	"context"
	"database/sql"

	"github.com/omadm/omadm/storage"
)

var _ storage.TraceByteKeeper = (*Store)(nil)

const (
	// traceBytes is the running total the triggers of traces keep.
	traceBytes = `SELECT bytes FROM trace_bytes WHERE id = 1`
	// oldestCut is the highest ID among the oldest ?1 traces such that the
	// traces before it hold less than ?2 bytes: deleting up to it frees
	// ?2 bytes or all the range holds.
	oldestCut = `SELECT max(id) FROM (SELECT id, sum(sz) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - sz AS before
		FROM (SELECT id, length(body) + length(CAST(decoded AS BLOB)) AS sz FROM traces ORDER BY id LIMIT ?1)) WHERE before < ?2`
	deleteOldest = `DELETE FROM traces WHERE id <= ? RETURNING length(body) + length(CAST(decoded AS BLOB))`
)

// TraceBytes implements storage.TraceByteKeeper: one row's read.
func (s *Store) TraceBytes(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.reader().QueryRowContext(ctx, traceBytes).Scan(&n); err != nil {
		return 0, wrap(err)
	}
	return n.Int64, nil
}

// DeleteOldestTraces implements storage.TraceByteKeeper: the cut is found
// on the reader pool, the deletion is one write.
func (s *Store) DeleteOldestTraces(ctx context.Context, limit int, excess int64) (int, int64, error) {
	if err := storage.CheckTraceBytes(limit); err != nil {
		return 0, 0, err
	}
	if excess <= 0 {
		return 0, 0, nil
	}
	var cut sql.NullInt64
	if err := s.reader().QueryRowContext(ctx, oldestCut, limit, excess).Scan(&cut); err != nil {
		return 0, 0, wrap(err)
	}
	if !cut.Valid {
		return 0, 0, nil
	}
	var n int
	var freed int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, freed = 0, 0
		rows, err := tx.QueryContext(ctx, deleteOldest, cut.Int64)
		if err != nil {
			return wrap(err)
		}
		defer rows.Close()
		for rows.Next() {
			var sz int64
			if err := rows.Scan(&sz); err != nil {
				return wrap(err)
			}
			n++
			freed += sz
		}
		return wrap(rows.Err())
	})
	return n, freed, err
}
