package storage

import (
	"context"
	"time"
)

// OpState is the life-cycle state of an operation (an MO action on one
// device: its job, its correlator and the device's report).
type OpState string

// Operation states. queued → sent → accepted (the device answered the Exec
// 202 and reports later) → succeeded, failed or timed_out; cancelled from any
// open state. A 200 to the Exec ends the operation at once (succeeded); a
// failed parameter Replace or Exec fails it. An attempt that failed or timed
// out and that the operation's retry policy lets it make again goes to
// retry_wait (open) until its Deadline, the time of the next attempt, which
// then starts from queued with a new job and correlator.
const (
	OpQueued    OpState = "queued"
	OpSent      OpState = "sent"
	OpAccepted  OpState = "accepted"
	OpSucceeded OpState = "succeeded"
	OpFailed    OpState = "failed"
	OpTimedOut  OpState = "timed_out"
	OpCancelled OpState = "cancelled"
	OpRetryWait OpState = "retry_wait"
)

// OpOpen lists the states an operation may still leave.
var OpOpen = []OpState{OpQueued, OpSent, OpAccepted, OpRetryWait}

// Terminal reports whether no further change happens to an operation in this state.
func (s OpState) Terminal() bool {
	return s == OpSucceeded || s == OpFailed || s == OpTimedOut || s == OpCancelled
}

// Valid reports whether s is one of the operation states.
func (s OpState) Valid() bool {
	switch s {
	case OpQueued, OpSent, OpAccepted, OpSucceeded, OpFailed, OpTimedOut, OpCancelled, OpRetryWait:
		return true
	}
	return false
}

// Operation is a named MO action on one device (a FUMO update, a LAWMO wipe,
// a generic Exec): the job that carries it, the correlator of its Exec, its
// state and the device's final report.
type Operation struct {
	ID       int64
	DeviceID string
	MO       string            // "fumo", "lawmo", "exec", …
	Name     string            // the MO's operation name, e.g. DownloadAndUpdate, Wipe
	Node     string            // the MO instance's node on the device, e.g. ./FwUpdate/Default
	Params   map[string]string // the request's parameters, as given
	// Correlator is the current attempt's Exec correlator; the device's
	// 1226 report carries it. Unique per device (earlier attempts'
	// correlators are kept in their OperationAttempt).
	Correlator string
	JobID      int64 // the current attempt's job (Exec, or Sequence of Replaces and Exec)
	State      OpState
	ExecStatus int    // the device's status for the Exec (0 until known)
	Result     int    // the report's result code (0 until a report)
	ResultData string // the report's Data as stored in its event
	EventID    int64  // the report's event (0 until a report)
	Error      string // why it failed, timed out or was cancelled
	// Deadline is when the current attempt times out; in retry_wait, when
	// the next attempt starts.
	Deadline time.Time
	// Attempt is the number of the current attempt (1 for the first; 0 is
	// stored as 1), AttemptAt when it started.
	Attempt   int
	AttemptAt time.Time
	// MaxAttempts is how many attempts the operation may make in all (0 is
	// stored as 1: no retry); Timeout is each attempt's timeout, Backoff the
	// pause before the second attempt (doubled for each further one, at
	// most MaxBackoff).
	MaxAttempts int
	Timeout     time.Duration
	Backoff     time.Duration
	MaxBackoff  time.Duration
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DoneAt      time.Time // zero while open
}

// OperationFilter selects operations in ListOperations.
type OperationFilter struct {
	DeviceID string    // "" = all devices
	States   []OpState // empty = all states
	AfterID  int64     // paging: only IDs > AfterID
	Limit    int       // 0 = backend default (100)
}

// OperationStore keeps operations and finds a device's report for one: the
// events carrying a correlator, through an index, and the operation a
// correlator or a job belongs to. Every method is safe with many server
// processes sharing one database: state changes are conditional updates.
type OperationStore interface {
	// CreateOperation stores op, assigning ID, CreatedAt and UpdatedAt
	// (State defaults to queued). ErrExists when the device already has an
	// operation with op's correlator; ErrNotFound for an unknown device.
	CreateOperation(ctx context.Context, op *Operation) error
	GetOperation(ctx context.Context, id int64) (*Operation, error)
	// OperationByCorrelator returns the device's operation with that correlator.
	OperationByCorrelator(ctx context.Context, deviceID, correlator string) (*Operation, error)
	// OperationByJob returns the operation that owns a job.
	OperationByJob(ctx context.Context, jobID int64) (*Operation, error)
	// ListOperations returns operations ordered by ID.
	ListOperations(ctx context.Context, f OperationFilter) ([]*Operation, error)
	// ExpiredOperations returns up to limit (0 = 100) open operations whose
	// Deadline is before t, earliest deadline first.
	ExpiredOperations(ctx context.Context, t time.Time, limit int) ([]*Operation, error)
	// TransitionOperation stores op's State, ExecStatus, Result, ResultData,
	// EventID, Error and DoneAt, and sets UpdatedAt, only when the stored
	// operation is in one of the states from: one conditional update, so of
	// two nodes making the same transition exactly one succeeds. ErrConflict
	// when the stored state is not in from, ErrNotFound when op is gone.
	TransitionOperation(ctx context.Context, op *Operation, from ...OpState) error
	// EventsByCorrelator returns the device's events carrying correlator
	// (not ""), ordered by ID, through an index on (device, correlator).
	EventsByCorrelator(ctx context.Context, deviceID, correlator string) ([]*Event, error)
}
