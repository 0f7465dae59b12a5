package storage

import (
	"context"
	"fmt"
	"time"
)

// Housekeeper is an optional ability of a Store (found by type assertion):
// retention work done set-based and in bounded steps, so that a table of
// tens of millions of traces is kept at its limits without a write per
// device and without holding a single writer (SQLite) for long. Every
// method does a bounded amount of work (limit rows); the caller loops,
// carrying the returned cursor.
type Housekeeper interface {
	// TraceCuts visits the first limit traces with an ID above afterID (in
	// ID order) and reports, for each device among them that has more than
	// keep traces in all, the newest of its traces that falls outside its
	// keep newest (a TraceCut). It only reads. last is the highest ID
	// visited, 0 when there is no trace above afterID.
	TraceCuts(ctx context.Context, afterID int64, limit, keep int) (cuts []TraceCut, last int64, err error)
	// DeleteTraceCuts deletes, for each cut, the device's traces with an ID
	// at or below cut.ID, all in one write; it returns how many.
	DeleteTraceCuts(ctx context.Context, cuts []TraceCut) (int, error)
	// DeleteTracesBefore visits the first limit traces with an ID above
	// afterID and deletes those created before t, in one write. last is
	// the highest ID visited (0: none above afterID); newer reports that a
	// visited trace was created at or after t (IDs grow with time, so the
	// caller sweeping from the oldest can stop there).
	DeleteTracesBefore(ctx context.Context, afterID int64, limit int, t time.Time) (deleted int, last int64, newer bool, err error)
	// DeleteClosedSessionsBefore deletes at most limit closed sessions
	// (with their chunks) last updated before t, in one write; it returns
	// how many.
	DeleteClosedSessionsBefore(ctx context.Context, t time.Time, limit int) (int, error)
}

// TraceCut names a device's traces to delete: those with an ID at or below ID.
type TraceCut struct {
	DeviceID string
	ID       int64
}

// CheckHousekeeping is the argument check every Housekeeper shares.
func CheckHousekeeping(limit, keep int) error {
	if limit <= 0 {
		return fmt.Errorf("storage: housekeeping batch of %d rows", limit)
	}
	if keep < 0 {
		return fmt.Errorf("storage: negative trace retention %d", keep)
	}
	return nil
}
