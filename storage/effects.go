package storage

import (
	"context"
	"errors"
	"fmt"
)

// Effects is everything one DM message changes: the session, the device
// record, jobs, tree cache, events and wire traces. WriteEffects stores it
// as one atomic unit, in as few statements and round trips as the backend
// allows.
type Effects struct {
	// Session, when set, is saved first (SaveSession, with its version check).
	Session *Session
	// DropChunks are sessions whose large-object chunks are deleted, then
	// Chunks are appended (ChunkStore, after the session is saved). A store
	// without the ChunkStore ability fails a write that has either.
	DropChunks []SessionRef
	Chunks     []*Chunk
	Device     *Device // UpdateDevice when non-nil
	// DeviceContact marks Device as a DM message's copy of its device: a
	// store keeps the stored labels, and the stored DevInfo unless
	// DeviceInfo is set (DeviceContactWriter).
	DeviceContact bool
	DeviceInfo    bool
	// Jobs are updated in order (UpdateJob). The first Guarded of them must
	// all change: if the terminal guard refuses one, WriteEffects stores
	// nothing and returns ErrGuard.
	Jobs    []*Job
	Guarded int
	Nodes   []TreeNode    // PutTreeNodes
	Events  []*Event      // AddEvent of each, in order (IDs are assigned)
	Traces  []*TraceEntry // AddTrace of each, in order (IDs are assigned)
	// TraceKeep, when > 0, trims the traces of every device in Traces to the
	// newest TraceKeep after they are added, in the same atomic unit
	// (PruneDeviceTraces): retention kept per session at the cost of one
	// index read of that device, instead of a sweep of the whole table.
	TraceKeep int

	// JobErrs is filled by WriteEffects: JobErrs[i] is what UpdateJob
	// returned for Jobs[i] when that is ErrConflict or ErrNotFound (the
	// job's guard refused the change; for i >= Guarded the rest is stored).
	JobErrs []error
}

// ErrGuard reports that a guarded job of an Effects was already terminal
// (cancelled meanwhile) or gone, so nothing was stored.
var ErrGuard = errors.New("storage: a guarded job changed meanwhile")

// EffectsWriter is an optional ability of a Store (found by type assertion):
// store an Effects atomically in as few round trips as possible (PostgreSQL:
// one pipelined implicit transaction, no BEGIN/COMMIT).
//
// The outcome equals SaveSession, DeleteChunks and AppendChunks,
// UpdateDevice, UpdateJob of each job, PutTreeNodes, AddEvent and AddTrace in
// that order, inside one batch. When
// it returns an error nothing of e is stored (called inside a batch, the
// batch must not commit) and the Session keeps its Version:
// ErrConflict/ErrExists from the session, ErrNotFound
// for a missing device, ErrGuard for a refused guarded job, or a database
// error.
type EffectsWriter interface {
	WriteEffects(ctx context.Context, e *Effects) error
}

// WriteEffects stores e through s's EffectsWriter when it has one, and
// otherwise with the individual methods inside one batch (atomic when s is
// a Batcher, write by write when it is not).
func WriteEffects(ctx context.Context, s Store, e *Effects) error {
	if w, ok := s.(EffectsWriter); ok {
		return w.WriteEffects(ctx, e)
	}
	var saved Session
	if e.Session != nil {
		saved = *e.Session
	}
	err := InBatch(ctx, s, func(s Store) error { return writeEach(ctx, s, e) })
	if err != nil && e.Session != nil {
		*e.Session = saved // nothing was stored: the version did not move
	}
	return err
}

// WriteEach stores e with s's individual methods in the order WriteEffects
// promises, without a batch of its own: for a backend's EffectsWriter that
// prepares something first and then runs this inside its own batch.
func WriteEach(ctx context.Context, s Store, e *Effects) error { return writeEach(ctx, s, e) }

func writeEach(ctx context.Context, s Store, e *Effects) error {
	e.JobErrs = make([]error, len(e.Jobs))
	if e.Session != nil {
		if err := s.SaveSession(ctx, e.Session); err != nil {
			return err
		}
	}
	if len(e.DropChunks) > 0 || len(e.Chunks) > 0 {
		cs, ok := s.(ChunkStore)
		if !ok {
			return errors.New("storage: this store cannot keep large-object chunks")
		}
		for _, r := range e.DropChunks {
			if err := cs.DeleteChunks(ctx, r.DeviceID, r.SessionID); err != nil {
				return err
			}
		}
		if len(e.Chunks) > 0 {
			if err := cs.AppendChunks(ctx, e.Chunks); err != nil {
				return err
			}
		}
	}
	if e.Device != nil {
		var err error
		if c, ok := s.(DeviceContactWriter); ok && e.DeviceContact {
			err = c.UpdateDeviceContact(ctx, e.Device, e.DeviceInfo)
		} else {
			err = s.UpdateDevice(ctx, e.Device)
		}
		if err != nil {
			return err
		}
	}
	for i, j := range e.Jobs {
		if err := s.UpdateJob(ctx, j); err != nil {
			if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
				return err
			}
			if i < e.Guarded {
				return fmt.Errorf("%w: job %d: %w", ErrGuard, j.ID, err)
			}
			e.JobErrs[i] = err
		}
	}
	if len(e.Nodes) > 0 {
		if err := s.PutTreeNodes(ctx, e.Nodes); err != nil {
			return err
		}
	}
	if b, ok := s.(BulkAdder); ok {
		if len(e.Events) > 0 {
			if err := b.AddEvents(ctx, e.Events); err != nil {
				return err
			}
		}
		if len(e.Traces) > 0 {
			if err := b.AddTraces(ctx, e.Traces); err != nil {
				return err
			}
		}
	} else {
		for _, ev := range e.Events {
			if err := s.AddEvent(ctx, ev); err != nil {
				return err
			}
		}
		for _, t := range e.Traces {
			if err := s.AddTrace(ctx, t); err != nil {
				return err
			}
		}
	}
	if e.TraceKeep > 0 {
		for _, id := range TraceDevices(e) {
			if _, err := PruneDeviceTraces(ctx, s, id, e.TraceKeep); err != nil {
				return err
			}
		}
	}
	return nil
}

// BulkAdder is an optional ability of a Store (found by type assertion):
// add many traces or events with few statements. WriteEffects uses it for
// the records of an Effects; the outcome equals AddTrace/AddEvent of each in
// order (IDs ascending in that order, CreatedAt defaulted), all or nothing.
type BulkAdder interface {
	AddTraces(ctx context.Context, ts []*TraceEntry) error
	AddEvents(ctx context.Context, evs []*Event) error
}
