package storage

import (
	"context"
	"time"
)

// OperationAttempt is one ended attempt of an operation that was made
// again: its job, its correlator and how it ended. The current attempt is
// the Operation itself.
type OperationAttempt struct {
	OperationID int64
	Attempt     int // 1, 2, …
	DeviceID    string
	JobID       int64
	Correlator  string
	State       OpState // how it ended: failed or timed_out
	ExecStatus  int
	Result      int
	// EventID is the report that ended it, or a report with its correlator
	// that came after it ended (a late report: kept, but it changes
	// nothing); 0 when none.
	EventID   int64
	Late      bool // EventID is a late report
	Error     string
	StartedAt time.Time
	EndedAt   time.Time
}

// OperationAttemptStore keeps operations' retries: the transition that
// changes an operation's attempt (its job, correlator and deadline) and the
// history of the attempts that ended. Like OperationStore's, every state
// change is conditional, so of several nodes starting the same next attempt
// (in a batch with the new job) exactly one succeeds.
type OperationAttemptStore interface {
	// ReattemptOperation stores what TransitionOperation stores and op's
	// Attempt, AttemptAt, JobID, Correlator and Deadline, only when the
	// stored operation is in one of the states from. ErrConflict when it
	// is not, ErrNotFound when op is gone, ErrExists when the device has
	// another operation with op's Correlator.
	ReattemptOperation(ctx context.Context, op *Operation, from ...OpState) error
	// AddOperationAttempt records an ended attempt; ErrExists when that
	// attempt of that operation is already recorded.
	AddOperationAttempt(ctx context.Context, a *OperationAttempt) error
	// OperationAttempts returns an operation's recorded attempts by number.
	OperationAttempts(ctx context.Context, operationID int64) ([]*OperationAttempt, error)
	// AttemptByCorrelator returns the recorded attempt of one of the
	// device's operations that carried correlator (ErrNotFound if none).
	AttemptByCorrelator(ctx context.Context, deviceID, correlator string) (*OperationAttempt, error)
	// SetLateReport stores eventID and result as the late report of a
	// recorded attempt that has no report yet (Late set); ErrConflict when
	// it has one, ErrNotFound when there is no such attempt.
	SetLateReport(ctx context.Context, operationID int64, attempt int, eventID int64, result int) error
}
