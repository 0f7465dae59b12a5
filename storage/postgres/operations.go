package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Operations use the statements shared with SQLite (sqlcommon). Every state
// change is one conditional UPDATE, so of several nodes making the same
// transition exactly one changes the row.

var _ storage.OperationStore = (*Store)(nil)

func scanOp(row pgx.Row) (*storage.Operation, error) {
	var o storage.Operation
	var params []byte
	var state string
	var deadline, created, updated, done, attemptAt pgtype.Timestamptz
	var timeout, backoff, maxBackoff int64
	if err := row.Scan(&o.ID, &o.DeviceID, &o.MO, &o.Name, &o.Node, &params, &o.Correlator, &o.JobID, &state,
		&o.ExecStatus, &o.Result, &o.ResultData, &o.EventID, &o.Error, &deadline, &created, &updated, &done,
		&o.Attempt, &attemptAt, &o.MaxAttempts, &timeout, &backoff, &maxBackoff); err != nil {
		return nil, wrap(err)
	}
	o.AttemptAt = fromTS(attemptAt)
	o.Timeout, o.Backoff, o.MaxBackoff = time.Duration(timeout)*time.Microsecond, time.Duration(backoff)*time.Microsecond, time.Duration(maxBackoff)*time.Microsecond
	o.State = storage.OpState(state)
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, &o.Params); err != nil {
			return nil, fmt.Errorf("postgres: stored operation parameters are not valid JSON: %w", err)
		}
	}
	o.Deadline, o.CreatedAt, o.UpdatedAt, o.DoneAt = fromTS(deadline), fromTS(created), fromTS(updated), fromTS(done)
	if o.AttemptAt.IsZero() {
		o.AttemptAt = o.CreatedAt
	}
	return &o, nil
}

// CreateOperation implements storage.OperationStore.
func (s *Store) CreateOperation(ctx context.Context, op *storage.Operation) error {
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
	t := norm(time.Now())
	attemptAt := norm(op.AttemptAt)
	if attemptAt.IsZero() {
		attemptAt = t
	}
	var id int64
	err = s.db.QueryRow(ctx, sqlcommon.InsertOp, op.DeviceID, op.MO, op.Name, op.Node, params,
		op.Correlator, op.JobID, string(state), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		ts(norm(op.Deadline)), t, t, ts(norm(op.DoneAt)),
		max(op.Attempt, 1), attemptAt, max(op.MaxAttempts, 1), op.Timeout.Microseconds(), op.Backoff.Microseconds(), op.MaxBackoff.Microseconds()).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	op.ID, op.State, op.CreatedAt, op.UpdatedAt = id, state, t, t
	op.Deadline, op.DoneAt, op.AttemptAt = norm(op.Deadline), norm(op.DoneAt), attemptAt
	op.Attempt, op.MaxAttempts = max(op.Attempt, 1), max(op.MaxAttempts, 1)
	return nil
}

// GetOperation implements storage.OperationStore.
func (s *Store) GetOperation(ctx context.Context, id int64) (*storage.Operation, error) {
	return scanOp(s.db.QueryRow(ctx, sqlcommon.GetOp, id))
}

// OperationByCorrelator implements storage.OperationStore.
func (s *Store) OperationByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.Operation, error) {
	return scanOp(s.db.QueryRow(ctx, sqlcommon.OpByCorr, deviceID, correlator))
}

// OperationByJob implements storage.OperationStore.
func (s *Store) OperationByJob(ctx context.Context, jobID int64) (*storage.Operation, error) {
	return scanOp(s.db.QueryRow(ctx, sqlcommon.OpByJob, jobID))
}

// ListOperations implements storage.OperationStore.
func (s *Store) ListOperations(ctx context.Context, f storage.OperationFilter) ([]*storage.Operation, error) {
	query, args := sqlcommon.ListOps(f, false)
	rows, err := s.db.Query(ctx, query, args...)
	return collect(rows, err, scanOp)
}

// ExpiredOperations implements storage.OperationStore.
func (s *Store) ExpiredOperations(ctx context.Context, t time.Time, n int) ([]*storage.Operation, error) {
	rows, err := s.db.Query(ctx, sqlcommon.ExpiredOps, t, limit(n))
	return collect(rows, err, scanOp)
}

// TransitionOperation implements storage.OperationStore.
func (s *Store) TransitionOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	if err := sqlcommon.CheckOp(op); err != nil {
		return err
	}
	t := norm(time.Now())
	query, fromArgs := sqlcommon.TransitionOp(from, false)
	args := append([]any{string(op.State), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		ts(norm(op.DoneAt)), t, op.ID}, fromArgs...)
	err := affected(s.db.Exec(ctx, query, args...))
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
	rows, err := s.db.Query(ctx, fmt.Sprintf(sqlcommon.EventsByCorr, eventCols), deviceID, correlator)
	return collect(rows, err, scanEvent)
}

// opUnchanged says why a conditional update of operation id changed no row:
// ErrNotFound when it is gone, ErrConflict when its state is not in from.
func (s *Store) opUnchanged(ctx context.Context, id int64, from []storage.OpState) error {
	var exists bool
	if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM operations WHERE id = $1)`, id).Scan(&exists); err != nil {
		return wrap(err)
	}
	if !exists {
		return fmt.Errorf("%w: operation %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: operation %d is not in state %v", storage.ErrConflict, id, from)
}
