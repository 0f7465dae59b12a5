package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

var _ storage.Housekeeper = (*Store)(nil)

// traceRange returns the first limit traces with an ID above afterID, in
// ID order (a scan of every device: memstore is for tests and small
// deployments).
func (s *Store) traceRange(afterID int64, limit int) []*storage.TraceEntry {
	var out []*storage.TraceEntry
	for _, trs := range s.traces {
		for _, t := range trs {
			if t.ID > afterID {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *storage.TraceEntry) int { return int(a.ID - b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// TraceCuts implements storage.Housekeeper.
func (s *Store) TraceCuts(ctx context.Context, afterID int64, limit, keep int) ([]storage.TraceCut, int64, error) {
	if err := storage.CheckHousekeeping(limit, keep); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	r := s.traceRange(afterID, limit)
	if len(r) == 0 {
		return nil, 0, nil
	}
	var cuts []storage.TraceCut
	seen := map[string]bool{}
	for _, t := range r {
		if seen[t.DeviceID] {
			continue
		}
		seen[t.DeviceID] = true
		if trs := s.traces[t.DeviceID]; len(trs) > keep {
			cuts = append(cuts, storage.TraceCut{DeviceID: t.DeviceID, ID: trs[len(trs)-keep-1].ID})
		}
	}
	return cuts, r[len(r)-1].ID, nil
}

// DeleteTraceCuts implements storage.Housekeeper.
func (s *Store) DeleteTraceCuts(ctx context.Context, cuts []storage.TraceCut) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cuts {
		n += s.deleteTraces(c.DeviceID, func(t *storage.TraceEntry) bool { return t.ID <= c.ID })
	}
	return n, nil
}

// DeleteTracesBefore implements storage.Housekeeper.
func (s *Store) DeleteTracesBefore(ctx context.Context, afterID int64, limit int, t time.Time) (int, int64, bool, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, 0, false, err
	}
	r := s.traceRange(afterID, limit)
	if len(r) == 0 {
		return 0, 0, false, nil
	}
	last, newer := r[len(r)-1].ID, false
	devs := map[string]bool{}
	for _, x := range r {
		if x.CreatedAt.Before(t) {
			devs[x.DeviceID] = true
		} else {
			newer = true
		}
	}
	n := 0
	for dev := range devs {
		n += s.deleteTraces(dev, func(x *storage.TraceEntry) bool {
			return x.ID > afterID && x.ID <= last && x.CreatedAt.Before(t)
		})
	}
	return n, last, newer, nil
}

// deleteTraces deletes dev's traces for which del is true.
func (s *Store) deleteTraces(dev string, del func(*storage.TraceEntry) bool) int {
	trs := s.traces[dev]
	kept := slices.DeleteFunc(slices.Clone(trs), del)
	if len(kept) < len(trs) {
		remember(s.state, s.traces, dev)
	}
	if len(kept) == 0 {
		delete(s.traces, dev)
	} else {
		s.traces[dev] = kept
	}
	return len(trs) - len(kept)
}

// DeleteClosedSessionsBefore implements storage.Housekeeper.
func (s *Store) DeleteClosedSessionsBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if err := storage.CheckHousekeeping(limit, 0); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for k, x := range s.sessions {
		if n == limit {
			break
		}
		if x.Closed && x.UpdatedAt.Before(t) {
			s.dropSession(k, x)
			n++
		}
	}
	return n, nil
}
