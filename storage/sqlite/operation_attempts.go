package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Retries are rare next to the other writes: their statements are not
// prepared.

var _ storage.OperationAttemptStore = (*Store)(nil)

func scanAttempt(sc scanner) (*storage.OperationAttempt, error) {
	var a storage.OperationAttempt
	var state string
	var late int
	var started, ended sql.NullInt64
	if err := sc.Scan(&a.OperationID, &a.Attempt, &a.DeviceID, &a.JobID, &a.Correlator, &state, &a.ExecStatus,
		&a.Result, &a.EventID, &late, &a.Error, &started, &ended); err != nil {
		return nil, wrap(err)
	}
	a.State, a.Late = storage.OpState(state), late != 0
	a.StartedAt, a.EndedAt = fromMicros(started), fromMicros(ended)
	return &a, nil
}

// ReattemptOperation implements storage.OperationAttemptStore.
func (s *Store) ReattemptOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.ReattemptOperation(ctx, op, from...) })
	}
	if err := sqlcommon.CheckOp(op); err != nil {
		return err
	}
	if op.Attempt < 1 {
		return fmt.Errorf("sqlite: operation %d: attempt %d", op.ID, op.Attempt)
	}
	t := now()
	query, fromArgs := sqlcommon.ReattemptOp(from, true)
	args := append([]any{string(op.State), op.ExecStatus, op.Result, op.ResultData, op.EventID, op.Error,
		micros(op.DoneAt), t.UnixMicro(), op.ID, op.Attempt, micros(op.AttemptAt), op.JobID, op.Correlator, micros(op.Deadline)}, fromArgs...)
	err := affected(s.tx.ExecContext(context.WithoutCancel(ctx), query, args...))
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
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.AddOperationAttempt(ctx, a) })
	}
	if err := sqlcommon.CheckText("attempt device id", a.DeviceID, "attempt correlator", a.Correlator,
		"attempt error", a.Error, "attempt state", string(a.State)); err != nil {
		return err
	}
	late := 0
	if a.Late {
		late = 1
	}
	_, err := s.tx.ExecContext(context.WithoutCancel(ctx), q(sqlcommon.InsertAttempt), a.OperationID, a.Attempt, a.DeviceID,
		a.JobID, a.Correlator, string(a.State), a.ExecStatus, a.Result, a.EventID, late, a.Error, micros(a.StartedAt), micros(a.EndedAt))
	if err != nil {
		return wrap(err)
	}
	a.StartedAt, a.EndedAt = norm(a.StartedAt), norm(a.EndedAt)
	return nil
}

// OperationAttempts implements storage.OperationAttemptStore.
func (s *Store) OperationAttempts(ctx context.Context, operationID int64) ([]*storage.OperationAttempt, error) {
	rows, err := s.reader().QueryContext(ctx, q(sqlcommon.ListAttempts), operationID)
	out, err := collect(rows, err, scanAttempt)
	if out == nil && err == nil {
		out = []*storage.OperationAttempt{}
	}
	return out, err
}

// AttemptByCorrelator implements storage.OperationAttemptStore.
func (s *Store) AttemptByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.OperationAttempt, error) {
	return scanAttempt(s.reader().QueryRowContext(ctx, q(sqlcommon.AttemptByCorr), deviceID, correlator))
}

// SetLateReport implements storage.OperationAttemptStore.
func (s *Store) SetLateReport(ctx context.Context, operationID int64, attempt int, eventID int64, result int) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.SetLateReport(ctx, operationID, attempt, eventID, result) })
	}
	err := affected(s.tx.ExecContext(context.WithoutCancel(ctx), q(sqlcommon.SetLateReport), eventID, result, operationID, attempt, 1))
	if errors.Is(err, storage.ErrNotFound) {
		var n int
		if err := s.tx.QueryRowContext(ctx, q(sqlcommon.AttemptExists), operationID, attempt).Scan(&n); err != nil {
			return wrap(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: operation %d attempt %d", storage.ErrNotFound, operationID, attempt)
		}
		return fmt.Errorf("%w: operation %d attempt %d has a report", storage.ErrConflict, operationID, attempt)
	}
	return err
}
