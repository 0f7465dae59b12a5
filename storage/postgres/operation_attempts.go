package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.OperationAttemptStore = (*Store)(nil)

func scanAttempt(row pgx.Row) (*storage.OperationAttempt, error) {
	var a storage.OperationAttempt
	var state string
	var started, ended pgtype.Timestamptz
	if err := row.Scan(&a.OperationID, &a.Attempt, &a.DeviceID, &a.JobID, &a.Correlator, &state, &a.ExecStatus,
		&a.Result, &a.EventID, &a.Late, &a.Error, &started, &ended); err != nil {
		return nil, wrap(err)
	}
	a.State = storage.OpState(state)
	a.StartedAt, a.EndedAt = fromTS(started), fromTS(ended)
	return &a, nil
}

// ReattemptOperation implements storage.OperationAttemptStore: one
// conditional UPDATE, so of several nodes starting an operation's next
// attempt (each in a batch with its new job) exactly one commits.
func (s *Store) ReattemptOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	if err := sqlcommon.CheckOp(op); err != nil {
		return err
	}
	if op.Attempt < 1 {
		return fmt.Errorf("postgres: operation %d: attempt %d", op.ID, op.Attempt)
	}
	t := norm(now())
	query, fromArgs := sqlcommon.ReattemptOp(from, false)
	args := append([]any{string(op.State), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		ts(norm(op.DoneAt)), t, op.ID, op.Attempt, ts(norm(op.AttemptAt)), op.JobID, op.Correlator, ts(norm(op.Deadline))}, fromArgs...)
	err := affected(s.db.Exec(ctx, query, args...))
	if errors.Is(err, storage.ErrNotFound) {
		return s.opUnchanged(ctx, op.ID, from)
	}
	if err == nil {
		op.UpdatedAt, op.DoneAt, op.AttemptAt, op.Deadline = t, norm(op.DoneAt), norm(op.AttemptAt), norm(op.Deadline)
	}
	return err
}

// AddOperationAttempt implements storage.OperationAttemptStore.
func (s *Store) AddOperationAttempt(ctx context.Context, a *storage.OperationAttempt) error {
	if err := sqlcommon.CheckText("attempt device id", a.DeviceID, "attempt correlator", a.Correlator,
		"attempt error", a.Error, "attempt state", string(a.State)); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, sqlcommon.InsertAttempt, a.OperationID, a.Attempt, a.DeviceID, a.JobID, a.Correlator,
		string(a.State), a.ExecStatus, a.Result, a.EventID, a.Late, a.Error, ts(norm(a.StartedAt)), ts(norm(a.EndedAt)))
	if err != nil {
		return wrap(err)
	}
	a.StartedAt, a.EndedAt = norm(a.StartedAt), norm(a.EndedAt)
	return nil
}

// OperationAttempts implements storage.OperationAttemptStore.
func (s *Store) OperationAttempts(ctx context.Context, operationID int64) ([]*storage.OperationAttempt, error) {
	rows, err := s.db.Query(ctx, sqlcommon.ListAttempts, operationID)
	out, err := collect(rows, err, scanAttempt)
	if out == nil && err == nil {
		out = []*storage.OperationAttempt{}
	}
	return out, err
}

// AttemptByCorrelator implements storage.OperationAttemptStore.
func (s *Store) AttemptByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.OperationAttempt, error) {
	return scanAttempt(s.db.QueryRow(ctx, sqlcommon.AttemptByCorr, deviceID, correlator))
}

// SetLateReport implements storage.OperationAttemptStore.
func (s *Store) SetLateReport(ctx context.Context, operationID int64, attempt int, eventID int64, result int) error {
	err := affected(s.db.Exec(ctx, sqlcommon.SetLateReport, eventID, result, operationID, attempt, true))
	if errors.Is(err, storage.ErrNotFound) {
		var n int
		if err := s.db.QueryRow(ctx, sqlcommon.AttemptExists, operationID, attempt).Scan(&n); err != nil {
			return wrap(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: operation %d attempt %d", storage.ErrNotFound, operationID, attempt)
		}
		return fmt.Errorf("%w: operation %d attempt %d has a report", storage.ErrConflict, operationID, attempt)
	}
	return err
}
