package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

var _ storage.OperationAttemptStore = (*Store)(nil)

func copyAttempt(a *storage.OperationAttempt) *storage.OperationAttempt {
	c := *a
	c.StartedAt, c.EndedAt = wall(a.StartedAt), wall(a.EndedAt)
	return &c
}

// ReattemptOperation implements storage.OperationAttemptStore.
func (s *Store) ReattemptOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storable(op.ResultData, op.Error, op.Correlator); err != nil {
		return err
	}
	old, ok := s.ops[op.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if !slices.Contains(from, old.State) || !op.State.Valid() || op.Attempt < 1 {
		return storage.ErrConflict
	}
	if op.Correlator != old.Correlator {
		if _, taken := s.opCorr[corrKey(old.DeviceID, op.Correlator)]; taken {
			return storage.ErrExists
		}
		oldKey, newKey := corrKey(old.DeviceID, old.Correlator), corrKey(old.DeviceID, op.Correlator)
		remember(s.state, s.opCorr, oldKey)
		remember(s.state, s.opCorr, newKey)
		delete(s.opCorr, oldKey)
		s.opCorr[newKey] = old.ID
	}
	if op.JobID != old.JobID {
		remember(s.state, s.opJob, old.JobID)
		remember(s.state, s.opJob, op.JobID)
		if s.opJob[old.JobID] == old.ID {
			delete(s.opJob, old.JobID)
		}
		if _, taken := s.opJob[op.JobID]; !taken && op.JobID != 0 {
			s.opJob[op.JobID] = old.ID
		}
	}
	if s.open {
		keepValue(s.state, old) // changed in place below
	}
	old.State, old.ExecStatus, old.Result, old.ResultData = op.State, op.ExecStatus, op.Result, op.ResultData
	old.EventID, old.Error, old.DoneAt = op.EventID, op.Error, wall(op.DoneAt.Truncate(time.Microsecond))
	old.Attempt, old.AttemptAt, old.JobID, old.Correlator = op.Attempt, wall(op.AttemptAt.Truncate(time.Microsecond)), op.JobID, op.Correlator
	old.Deadline = wall(op.Deadline.Truncate(time.Microsecond))
	old.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	op.UpdatedAt, op.DoneAt, op.AttemptAt, op.Deadline = old.UpdatedAt, old.DoneAt, old.AttemptAt, old.Deadline
	return nil
}

// AddOperationAttempt implements storage.OperationAttemptStore.
func (s *Store) AddOperationAttempt(ctx context.Context, a *storage.OperationAttempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storable(a.DeviceID, a.Correlator, a.Error, string(a.State)); err != nil {
		return err
	}
	if _, ok := s.ops[a.OperationID]; !ok {
		return storage.ErrNotFound
	}
	for _, x := range s.attempts[a.OperationID] {
		if x.Attempt == a.Attempt {
			return storage.ErrExists
		}
	}
	if s.attempts == nil {
		s.attempts = map[int64][]*storage.OperationAttempt{}
	}
	c := copyAttempt(a)
	c.StartedAt, c.EndedAt = wall(a.StartedAt.Truncate(time.Microsecond)), wall(a.EndedAt.Truncate(time.Microsecond))
	// A new slice: a batch's undo puts the old one back as it was.
	list := append(slices.Clone(s.attempts[a.OperationID]), c)
	slices.SortFunc(list, func(x, y *storage.OperationAttempt) int { return x.Attempt - y.Attempt })
	remember(s.state, s.attempts, a.OperationID)
	s.attempts[a.OperationID] = list
	a.StartedAt, a.EndedAt = c.StartedAt, c.EndedAt
	return nil
}

// OperationAttempts implements storage.OperationAttemptStore.
func (s *Store) OperationAttempts(ctx context.Context, operationID int64) ([]*storage.OperationAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []*storage.OperationAttempt{}
	for _, a := range s.attempts[operationID] {
		out = append(out, copyAttempt(a))
	}
	return out, nil
}

// AttemptByCorrelator implements storage.OperationAttemptStore.
func (s *Store) AttemptByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.OperationAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var best *storage.OperationAttempt
	for _, list := range s.attempts {
		for _, a := range list {
			if a.DeviceID == deviceID && a.Correlator == correlator &&
				(best == nil || a.OperationID < best.OperationID || a.OperationID == best.OperationID && a.Attempt < best.Attempt) {
				best = a
			}
		}
	}
	if best == nil {
		return nil, storage.ErrNotFound
	}
	return copyAttempt(best), nil
}

// SetLateReport implements storage.OperationAttemptStore.
func (s *Store) SetLateReport(ctx context.Context, operationID int64, attempt int, eventID int64, result int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, a := range s.attempts[operationID] {
		if a.Attempt == attempt {
			if a.EventID != 0 {
				return storage.ErrConflict
			}
			if s.open {
				keepValue(s.state, a)
			}
			a.EventID, a.Result, a.Late = eventID, result, true
			return nil
		}
	}
	return storage.ErrNotFound
}
