package memstore

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/omadm/omadm/storage"
)

func copyOp(o *storage.Operation) *storage.Operation {
	c := *o
	c.Params = maps.Clone(o.Params)
	c.Deadline, c.CreatedAt, c.UpdatedAt, c.DoneAt = wall(o.Deadline), wall(o.CreatedAt), wall(o.UpdatedAt), wall(o.DoneAt)
	c.AttemptAt = wall(o.AttemptAt)
	return &c
}

func corrKey(deviceID, correlator string) string { return deviceID + "\x00" + correlator }

// CreateOperation implements storage.OperationStore.
func (s *Store) CreateOperation(ctx context.Context, op *storage.Operation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storable(op.DeviceID, op.MO, op.Name, op.Node, op.Correlator, op.ResultData, op.Error); err != nil {
		return err
	}
	for k, v := range op.Params {
		if err := storable(k, v); err != nil {
			return err
		}
	}
	if _, ok := s.devices[op.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	if s.ops == nil {
		s.ops, s.opCorr, s.opJob = map[int64]*storage.Operation{}, map[string]int64{}, map[int64]int64{}
	}
	if _, ok := s.opCorr[corrKey(op.DeviceID, op.Correlator)]; ok {
		return storage.ErrExists
	}
	if op.State == "" {
		op.State = storage.OpQueued
	}
	if !op.State.Valid() {
		return storage.ErrConflict
	}
	if op.Attempt < 0 || op.MaxAttempts < 0 || op.Timeout < 0 || op.Backoff < 0 || op.MaxBackoff < 0 {
		return storage.ErrConflict
	}
	s.nextOp++
	op.ID = s.nextOp
	op.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	op.UpdatedAt = op.CreatedAt
	op.Attempt, op.MaxAttempts = max(op.Attempt, 1), max(op.MaxAttempts, 1)
	if op.AttemptAt.IsZero() {
		op.AttemptAt = op.CreatedAt
	}
	op.AttemptAt = wall(op.AttemptAt.Truncate(time.Microsecond))
	op.Deadline = wall(op.Deadline.Truncate(time.Microsecond))
	s.ops[op.ID] = copyOp(op)
	s.opCorr[corrKey(op.DeviceID, op.Correlator)] = op.ID
	if _, taken := s.opJob[op.JobID]; !taken && op.JobID != 0 {
		s.opJob[op.JobID] = op.ID // the first operation of a job, as the SQL stores answer
	}
	return nil
}

func (s *Store) getOp(ctx context.Context, find func() (int64, bool)) (*storage.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, ok := find()
	if !ok {
		return nil, storage.ErrNotFound
	}
	o, ok := s.ops[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return copyOp(o), nil
}

// GetOperation implements storage.OperationStore.
func (s *Store) GetOperation(ctx context.Context, id int64) (*storage.Operation, error) {
	return s.getOp(ctx, func() (int64, bool) { return id, true })
}

// OperationByCorrelator implements storage.OperationStore.
func (s *Store) OperationByCorrelator(ctx context.Context, deviceID, correlator string) (*storage.Operation, error) {
	return s.getOp(ctx, func() (int64, bool) { id, ok := s.opCorr[corrKey(deviceID, correlator)]; return id, ok })
}

// OperationByJob implements storage.OperationStore.
func (s *Store) OperationByJob(ctx context.Context, jobID int64) (*storage.Operation, error) {
	return s.getOp(ctx, func() (int64, bool) { id, ok := s.opJob[jobID]; return id, ok })
}

func (s *Store) sortedOps(keep func(*storage.Operation) bool) []*storage.Operation {
	var out []*storage.Operation
	for _, o := range s.ops {
		if keep(o) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ListOperations implements storage.OperationStore.
func (s *Store) ListOperations(ctx context.Context, f storage.OperationFilter) ([]*storage.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	ops := s.sortedOps(func(o *storage.Operation) bool {
		return (f.DeviceID == "" || o.DeviceID == f.DeviceID) && o.ID > f.AfterID &&
			(len(f.States) == 0 || slices.Contains(f.States, o.State))
	})
	out := make([]*storage.Operation, 0, min(limit, len(ops)))
	for _, o := range ops[:min(limit, len(ops))] {
		out = append(out, copyOp(o))
	}
	return out, nil
}

// ExpiredOperations implements storage.OperationStore.
func (s *Store) ExpiredOperations(ctx context.Context, t time.Time, limit int) ([]*storage.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	ops := s.sortedOps(func(o *storage.Operation) bool {
		return !o.State.Terminal() && !o.Deadline.IsZero() && o.Deadline.Before(t)
	})
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Deadline.Before(ops[j].Deadline) })
	out := make([]*storage.Operation, 0, min(limit, len(ops)))
	for _, o := range ops[:min(limit, len(ops))] {
		out = append(out, copyOp(o))
	}
	return out, nil
}

// TransitionOperation implements storage.OperationStore.
func (s *Store) TransitionOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storable(op.ResultData, op.Error); err != nil {
		return err
	}
	old, ok := s.ops[op.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if !slices.Contains(from, old.State) {
		return storage.ErrConflict
	}
	if !op.State.Valid() {
		return storage.ErrConflict
	}
	old.State, old.ExecStatus, old.Result, old.ResultData = op.State, op.ExecStatus, op.Result, op.ResultData
	old.EventID, old.Error, old.DoneAt = op.EventID, op.Error, wall(op.DoneAt.Truncate(time.Microsecond))
	old.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	op.UpdatedAt, op.DoneAt = old.UpdatedAt, old.DoneAt
	return nil
}

// EventsByCorrelator implements storage.OperationStore.
func (s *Store) EventsByCorrelator(ctx context.Context, deviceID, correlator string) ([]*storage.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*storage.Event
	if correlator == "" {
		return out, nil
	}
	for _, e := range s.events {
		if e.DeviceID == deviceID && e.Correlator == correlator {
			out = append(out, copyEvent(e))
		}
	}
	return out, nil
}
