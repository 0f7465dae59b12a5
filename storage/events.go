package storage

import (
	"context"
	"time"
)

// EventStore keeps what devices reported (generic alerts, client events)
// and the session milestones the server records.
type EventStore interface {
	AddEvent(ctx context.Context, e *Event) error // assigns ID, CreatedAt if zero
	// ListEvents returns events of a device ("" = all) with ID > afterID, ordered by ID.
	ListEvents(ctx context.Context, deviceID string, afterID int64, limit int) ([]*Event, error)
	// DeleteEventsBefore removes events created before t (retention);
	// returns how many.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}
