package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Operations are written on the writer (inside the caller's batch, or one
// of their own) and read from the reader pool; their statements are the
// shared ones of sqlcommon.

var _ storage.OperationStore = (*Store)(nil)

type dbtx interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// reader is the transaction of a batch, or the reader pool.
func (s *Store) reader() dbtx {
	if s.tx != nil {
		return s.tx
	}
	return s.r
}

func q(query string) string { return sqlcommon.Dialect(query, true) }

func scanOp(sc scanner) (*storage.Operation, error) {
	var o storage.Operation
	var params sql.NullString
	var state string
	var deadline, created, updated, done, attemptAt sql.NullInt64
	var timeout, backoff, maxBackoff int64
	if err := sc.Scan(&o.ID, &o.DeviceID, &o.MO, &o.Name, &o.Node, &params, &o.Correlator, &o.JobID, &state,
		&o.ExecStatus, &o.Result, &o.ResultData, &o.EventID, &o.Error, &deadline, &created, &updated, &done,
		&o.Attempt, &attemptAt, &o.MaxAttempts, &timeout, &backoff, &maxBackoff); err != nil {
		return nil, wrap(err)
	}
	o.AttemptAt = fromMicros(attemptAt)
	o.Timeout, o.Backoff, o.MaxBackoff = time.Duration(timeout)*time.Microsecond, time.Duration(backoff)*time.Microsecond, time.Duration(maxBackoff)*time.Microsecond
	o.State = storage.OpState(state)
	if err := unjson(params, &o.Params, "operation parameters"); err != nil {
		return nil, err
	}
	o.Deadline, o.CreatedAt, o.UpdatedAt, o.DoneAt = fromMicros(deadline), fromMicros(created), fromMicros(updated), fromMicros(done)
	if o.AttemptAt.IsZero() {
		o.AttemptAt = o.CreatedAt
	}
	return &o, nil
}

// CreateOperation implements storage.OperationStore.
func (s *Store) CreateOperation(ctx context.Context, op *storage.Operation) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateOperation(ctx, op) })
	}
	if err := sqlcommon.CheckOp(op); err != nil {
		return err
	}
	params, err := jsonOrNull(op.Params)
	if err != nil {
		return err
	}
	state := op.State
	if state == "" {
		state = storage.OpQueued
	}
	t := now()
	attemptAt := op.AttemptAt
	if attemptAt.IsZero() {
		attemptAt = t
	}
	var id int64
	err = s.use(ctx, s.st.insertOp).QueryRowContext(ctx, op.DeviceID, op.MO, op.Name, op.Node, params,
		op.Correlator, op.JobID, string(state), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		micros(op.Deadline), t.UnixMicro(), t.UnixMicro(), micros(op.DoneAt),
		max(op.Attempt, 1), micros(attemptAt), max(op.MaxAttempts, 1), op.Timeout.Microseconds(), op.Backoff.Microseconds(), op.MaxBackoff.Microseconds()).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	op.ID, op.State, op.CreatedAt, op.UpdatedAt = id, state, t, t
	op.Deadline, op.DoneAt, op.AttemptAt = norm(op.Deadline), norm(op.DoneAt), norm(attemptAt)
	op.Attempt, op.MaxAttempts = max(op.Attempt, 1), max(op.MaxAttempts, 1)
	return nil
}

func (s *Store) oneOp(ctx context.Context, x *sql.Stmt, args ...any) (*storage.Operation, error) {
	return scanOp(s.use(ctx, x).QueryRowContext(ctx, args...))
}

// GetOperation implements storage.OperationStore.
func (s *Store) GetOperation(ctx context.Context, id int64) (*storage.Operation, error) {
	return s.oneOp(ctx, s.st.getOp, id)
}

// OperationByCorrelator implements storage.OperationStore.
func (s *Store) OperationByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.Operation, error) {
	return s.oneOp(ctx, s.st.opByCorr, deviceID, correlator)
}

// OperationByJob implements storage.OperationStore.
func (s *Store) OperationByJob(ctx context.Context, jobID int64) (*storage.Operation, error) {
	return s.oneOp(ctx, s.st.opByJob, jobID)
}

// ListOperations implements storage.OperationStore.
func (s *Store) ListOperations(ctx context.Context, f storage.OperationFilter) ([]*storage.Operation, error) {
	query, args := sqlcommon.ListOps(f, true)
	rows, err := s.reader().QueryContext(ctx, query, args...)
	return collect(rows, err, scanOp)
}

// ExpiredOperations implements storage.OperationStore.
func (s *Store) ExpiredOperations(ctx context.Context, t time.Time, n int) ([]*storage.Operation, error) {
	rows, err := s.use(ctx, s.st.expiredOps).QueryContext(ctx, t.UnixMicro(), limit(n))
	return collect(rows, err, scanOp)
}

// TransitionOperation implements storage.OperationStore.
func (s *Store) TransitionOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.TransitionOperation(ctx, op, from...) })
	}
	if err := sqlcommon.CheckOp(op); err != nil {
		return err
	}
	t := now()
	query, fromArgs := sqlcommon.TransitionOp(from, true)
	args := append([]any{string(op.State), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		micros(op.DoneAt), t.UnixMicro(), op.ID}, fromArgs...)
	var err error
	if x, ok := s.st.transitionOp[sqlcommon.TransitionKey(from)]; ok {
		err = affected(s.use(ctx, x).ExecContext(ctx, args...))
	} else {
		err = affected(s.tx.ExecContext(context.WithoutCancel(ctx), query, args...))
	}
	if errors.Is(err, storage.ErrNotFound) {
		return s.opUnchanged(ctx, op.ID, from)
	}
	if err == nil {
		op.UpdatedAt, op.DoneAt = t, norm(op.DoneAt)
	}
	return err
}

// EventsByCorrelator implements storage.OperationStore.
func (s *Store) EventsByCorrelator(ctx context.Context, deviceID, correlator string) ([]*storage.Event, error) {
	rows, err := s.use(ctx, s.st.eventsByCorr).QueryContext(ctx, deviceID, correlator)
	return collect(rows, err, scanEvent)
}

// opUnchanged says why a conditional update of operation id changed no row:
// ErrNotFound when it is gone, ErrConflict when its state is not in from.
func (s *Store) opUnchanged(ctx context.Context, id int64, from []storage.OpState) error {
	var n int
	if err := s.use(ctx, s.st.opExists).QueryRowContext(ctx, id).Scan(&n); err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: operation %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: operation %d is not in state %v", storage.ErrConflict, id, from)
}
