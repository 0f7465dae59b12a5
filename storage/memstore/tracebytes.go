package memstore

import (
	"context"

	"github.com/omadm/omadm/storage"
)

var _ storage.TraceByteKeeper = (*Store)(nil)

// traceSize is a trace's stored size: memstore keeps bodies as given.
func traceSize(t *storage.TraceEntry) int64 { return int64(len(t.Body) + len(t.Decoded)) }

// TraceBytes implements storage.TraceByteKeeper by summing the traces
// (memstore is for tests and small deployments).
func (s *Store) TraceBytes(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	for _, trs := range s.traces {
		for _, t := range trs {
			n += traceSize(t)
		}
	}
	return n, nil
}

// DeleteOldestTraces implements storage.TraceByteKeeper.
func (s *Store) DeleteOldestTraces(ctx context.Context, limit int, excess int64) (int, int64, error) {
	if err := storage.CheckTraceBytes(limit); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if excess <= 0 {
		return 0, 0, nil
	}
	var cut, freed int64
	for _, t := range s.traceRange(0, limit) {
		if freed >= excess {
			break
		}
		cut, freed = t.ID, freed+traceSize(t)
	}
	if cut == 0 {
		return 0, 0, nil
	}
	n := 0
	for dev := range s.traces {
		n += s.deleteTraces(dev, func(t *storage.TraceEntry) bool { return t.ID <= cut })
	}
	return n, freed, nil
}
