package postgres

import (
	"context"

	"github.com/omadm/omadm/storage"
)

var _ storage.TraceByteKeeper = (*Store)(nil)

const (
	// traceBytes sums the per-connection slots the triggers of traces keep
	// (at most 64 rows).
	traceBytes = `SELECT coalesce(sum(bytes), 0)::bigint FROM trace_bytes`
	// deleteOldest deletes the oldest of the first $1 traces up to the one
	// that brings the bytes deleted to $2 (all of them when they hold
	// less), in one statement, and counts what it deleted.
	deleteOldest = `WITH r AS (SELECT id, octet_length(body) + octet_length(decoded) AS sz FROM traces ORDER BY id LIMIT $1),
		c AS (SELECT max(id) AS cut FROM (SELECT id, sum(sz) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - sz AS before FROM r) w
			WHERE before < $2),
		d AS (DELETE FROM traces t USING c WHERE t.id <= c.cut RETURNING octet_length(t.body) + octet_length(t.decoded) AS sz)
		SELECT count(*)::bigint, coalesce(sum(sz), 0)::bigint FROM d`
)

// TraceBytes implements storage.TraceByteKeeper.
func (s *Store) TraceBytes(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, traceBytes).Scan(&n); err != nil {
		return 0, wrap(err)
	}
	return n, nil
}

// DeleteOldestTraces implements storage.TraceByteKeeper.
func (s *Store) DeleteOldestTraces(ctx context.Context, limit int, excess int64) (int, int64, error) {
	if err := storage.CheckTraceBytes(limit); err != nil {
		return 0, 0, err
	}
	if excess <= 0 {
		return 0, 0, nil
	}
	var n, freed int64
	if err := s.db.QueryRow(ctx, deleteOldest, limit, excess).Scan(&n, &freed); err != nil {
		return 0, 0, wrap(err)
	}
	return int(n), freed, nil
}
