package storage

import (
	"context"
	"fmt"
)

// TraceByteKeeper bounds the wire traces by their total size (besides the
// per-device count and the age bound of Housekeeper). The stored size of
// a trace is its body as stored (compressed where the backend compresses
// it) plus its decoded text; the SQL backends keep the total in a counter
// their triggers maintain, so reading it costs one short read whatever
// the table holds.
type TraceByteKeeper interface {
	// TraceBytes returns the bytes the stored traces take.
	TraceBytes(ctx context.Context) (int64, error)
	// DeleteOldestTraces visits the oldest limit traces (lowest IDs) and
	// deletes, in one write, the oldest of them up to and including the
	// one that brings the bytes deleted to at least excess (all of them
	// when together they hold less). It returns how many traces and bytes
	// it deleted; 0, 0 when there is no trace or excess <= 0.
	DeleteOldestTraces(ctx context.Context, limit int, excess int64) (deleted int, freed int64, err error)
}

// CheckTraceBytes is the argument check every TraceByteKeeper shares.
func CheckTraceBytes(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("storage: trace size sweep of %d rows", limit)
	}
	return nil
}
