package memstore

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

// Batches. A batch holds the store's mutex from start to end, so it is the
// only writer and nobody sees its writes before it ends (like SQLite's
// single writer). Its function works on a txStore: the same state without
// the locking. Every write made while a batch is open appends to
// state.undo how to revert it; a failed (or panicking) function has them
// run, newest first. The entries revert one map key, one slice length or
// one record each, so a batch costs in proportion to what it writes, never
// to what the store holds.
//
// The writes of memstore.go, housekeeping.go, tracebytes.go, profiles.go and
// tokens.go record their own entries; those of operations, campaigns and
// groups are recorded by the txStore methods below, around the Store's.

var (
	_ storage.Batcher       = (*Store)(nil)
	_ storage.EffectsWriter = (*Store)(nil)
)

// Batch implements storage.Batcher. Called on the Store a batch hands its
// function, it runs fn inside that batch (as the SQL backends do: an error
// of fn is the outer function's to return, and then nothing is stored).
func (s *Store) Batch(ctx context.Context, fn func(s storage.Store) error) error {
	if s.tx != nil {
		return fn(s.tx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &txStore{Store: &Store{mu: noLock{}, state: s.state}}
	t.tx = t
	s.open = true
	defer func() {
		s.open = false
		clear(s.undo)
		s.undo = s.undo[:0]
	}()
	return t.unit(fn)
}

// WriteEffects implements storage.EffectsWriter: the individual writes in
// one batch (inside the batch s belongs to, if any), none of them stored and
// the session's version unchanged when one fails.
func (s *Store) WriteEffects(ctx context.Context, e *storage.Effects) error {
	var saved storage.Session
	if e.Session != nil {
		saved = *e.Session
	}
	err := s.Batch(ctx, func(tx storage.Store) error { return storage.WriteEach(ctx, tx, e) })
	if err != nil && e.Session != nil {
		*e.Session = saved
	}
	return err
}

// txStore is the Store a batch hands its function.
type txStore struct{ *Store }

// unit runs fn and undoes its writes when it fails or panics.
func (t *txStore) unit(fn func(s storage.Store) error) (err error) {
	done := false
	defer func() {
		if !done {
			t.rollback()
		}
	}()
	err = fn(t)
	done = err == nil
	return err
}

// noLock is the mutex of a txStore: its batch holds the real one.
type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

// rollback runs the undo entries, newest first.
func (st *state) rollback() {
	for i := len(st.undo) - 1; i >= 0; i-- {
		st.undo[i]()
		st.undo[i] = nil
	}
	st.undo = st.undo[:0]
}

// remember records, when a batch is open, how to put m[k] back as it is now
// (a value, or no entry). Writes that replace a map's entry call it first;
// records stored by pointer are replaced, not changed in place, where a
// batch may write them.
func remember[K comparable, V any](st *state, m map[K]V, k K) {
	if !st.open {
		return
	}
	old, ok := m[k]
	st.undo = append(st.undo, func() {
		if ok {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// keepEventCount records how to drop events appended from now on.
func (st *state) keepEventCount() {
	if st.open {
		n := len(st.events)
		st.undo = append(st.undo, func() { st.events = st.events[:n] })
	}
}

// keepEvents records the event list as it is, before a change in place.
func (st *state) keepEvents() {
	if st.open {
		old := slices.Clone(st.events)
		st.undo = append(st.undo, func() { st.events = old })
	}
}

// keepChunk records how to take back chunk seq of session key (a free
// seq: a taken one is refused before anything changes).
func (st *state) keepChunk(key string, seq int) {
	if !st.open {
		return
	}
	prev, had := st.chunks[key]
	st.undo = append(st.undo, func() {
		if seq < len(prev) {
			prev[seq] = nil // written in place: the slice was long enough
		}
		if had {
			st.chunks[key] = prev
		} else {
			delete(st.chunks, key)
		}
	})
}

// dropSession deletes a session with its token and chunks.
func (st *state) dropSession(key string, x *storage.Session) {
	remember(st, st.tokens, x.Token)
	delete(st.tokens, x.Token)
	remember(st, st.sessions, key)
	delete(st.sessions, key)
	remember(st, st.chunks, key)
	delete(st.chunks, key)
}

// keepMemberships records the groups device id belongs to, before
// dropMemberships.
func (st *state) keepMemberships(id string) {
	if !st.open {
		return
	}
	for _, m := range st.inv.members {
		if m[id] {
			st.undo = append(st.undo, func() { m[id] = true })
		}
	}
}

// keepToken records an API token's fields before a change in place.
func (st *state) keepToken(t *storage.APIToken) {
	if st.open {
		old := *t
		st.undo = append(st.undo, func() { *t = old })
	}
}

// keepValue records *p before a change in place.
func keepValue[T any](st *state, p *T) {
	if p != nil {
		old := *p
		st.undo = append(st.undo, func() { *p = old })
	}
}

// Close implements storage.Store: not inside a batch.
func (t *txStore) Close() error { return storage.ErrInBatch }

// CreateOperation implements storage.OperationStore inside a batch.
func (t *txStore) CreateOperation(ctx context.Context, op *storage.Operation) error {
	_, jobTaken := t.opJob[op.JobID]
	if err := t.Store.CreateOperation(ctx, op); err != nil {
		return err
	}
	id, ck, job := op.ID, corrKey(op.DeviceID, op.Correlator), op.JobID
	t.undo = append(t.undo, func() {
		delete(t.ops, id)
		delete(t.opCorr, ck)
		if !jobTaken {
			delete(t.opJob, job)
		}
	})
	return nil
}

// TransitionOperation implements storage.OperationStore inside a batch.
func (t *txStore) TransitionOperation(ctx context.Context, op *storage.Operation, from ...storage.OpState) error {
	keepValue(t.state, t.ops[op.ID])
	return t.Store.TransitionOperation(ctx, op, from...)
}

// CreateCampaign implements storage.CampaignStore inside a batch.
func (t *txStore) CreateCampaign(ctx context.Context, c *storage.Campaign) error {
	if err := t.Store.CreateCampaign(ctx, c); err != nil {
		return err
	}
	id := c.ID
	t.undo = append(t.undo, func() { delete(t.camps.byID, id) })
	return nil
}

// UpdateCampaign implements storage.CampaignStore inside a batch.
func (t *txStore) UpdateCampaign(ctx context.Context, c *storage.Campaign) error {
	remember(t.state, t.camps.byID, c.ID)
	return t.Store.UpdateCampaign(ctx, c)
}

// LeaseCampaign implements storage.CampaignStore inside a batch.
func (t *txStore) LeaseCampaign(ctx context.Context, id int64, owner string, now, until time.Time) error {
	keepValue(t.state, t.camps.byID[id])
	return t.Store.LeaseCampaign(ctx, id, owner, now, until)
}

// ReleaseCampaign implements storage.CampaignStore inside a batch.
func (t *txStore) ReleaseCampaign(ctx context.Context, id int64, owner string) error {
	keepValue(t.state, t.camps.byID[id])
	return t.Store.ReleaseCampaign(ctx, id, owner)
}

// DeleteCampaign implements storage.CampaignStore inside a batch.
func (t *txStore) DeleteCampaign(ctx context.Context, id int64) error {
	remember(t.state, t.camps.byID, id)
	remember(t.state, t.camps.devices, id)
	return t.Store.DeleteCampaign(ctx, id)
}

// AddCampaignDevices implements storage.CampaignStore inside a batch (the
// device list is sorted in place, so its order is kept too).
func (t *txStore) AddCampaignDevices(ctx context.Context, campaignID int64, ds []storage.CampaignDevice) error {
	old, had := t.camps.devices[campaignID]
	old = slices.Clone(old)
	t.undo = append(t.undo, func() {
		if had {
			t.camps.devices[campaignID] = old
		} else {
			delete(t.camps.devices, campaignID)
		}
	})
	return t.Store.AddCampaignDevices(ctx, campaignID, ds)
}

// TransitionCampaignDevice implements storage.CampaignStore inside a batch.
func (t *txStore) TransitionCampaignDevice(ctx context.Context, d *storage.CampaignDevice) error {
	keepValue(t.state, t.findCD(d.CampaignID, d.Seq))
	return t.Store.TransitionCampaignDevice(ctx, d)
}

// keepCampaignDevices records every device record of a campaign before
// changes in place.
func (t *txStore) keepCampaignDevices(campaignID int64) {
	for _, d := range t.camps.devices[campaignID] {
		keepValue(t.state, d)
	}
}

// SyncCampaignDevices implements storage.CampaignStore inside a batch.
func (t *txStore) SyncCampaignDevices(ctx context.Context, campaignID int64, now time.Time) (int, error) {
	t.keepCampaignDevices(campaignID)
	return t.Store.SyncCampaignDevices(ctx, campaignID, now)
}

// SetCampaignDevices implements storage.CampaignStore inside a batch.
func (t *txStore) SetCampaignDevices(ctx context.Context, campaignID int64, to storage.TargetState, reason string, now time.Time, from ...storage.TargetState) (int, error) {
	t.keepCampaignDevices(campaignID)
	return t.Store.SetCampaignDevices(ctx, campaignID, to, reason, now, from...)
}

// UpdateLabels implements storage.Inventory inside a batch (labels are
// changed in place).
func (t *txStore) UpdateLabels(ctx context.Context, ids []string, set map[string]string, remove []string) (int, error) {
	for _, id := range ids {
		if d := t.devices[id]; d != nil {
			old := d.Labels
			t.undo = append(t.undo, func() { d.Labels = old })
		}
	}
	return t.Store.UpdateLabels(ctx, ids, set, remove)
}

// ImportDevices implements storage.Inventory inside a batch.
func (t *txStore) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	return t.StoreImport(ctx, t.PrepareImport(ds))
}

// CreateGroup implements storage.GroupStore inside a batch.
func (t *txStore) CreateGroup(ctx context.Context, g *storage.Group) error {
	remember(t.state, t.inv.groups, g.Name)
	remember(t.state, t.inv.members, g.Name)
	return t.Store.CreateGroup(ctx, g)
}

// DeleteGroup implements storage.GroupStore inside a batch.
func (t *txStore) DeleteGroup(ctx context.Context, name string) error {
	remember(t.state, t.inv.groups, name)
	remember(t.state, t.inv.members, name)
	return t.Store.DeleteGroup(ctx, name)
}

// keepMembers records a group's member set before changes in place.
func (t *txStore) keepMembers(name string) {
	if m := t.inv.members[name]; m != nil {
		old := maps.Clone(m)
		t.undo = append(t.undo, func() {
			clear(m)
			maps.Copy(m, old)
		})
	}
}

// AddGroupMembers implements storage.GroupStore inside a batch.
func (t *txStore) AddGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	t.keepMembers(name)
	return t.Store.AddGroupMembers(ctx, name, ids)
}

// RemoveGroupMembers implements storage.GroupStore inside a batch.
func (t *txStore) RemoveGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	t.keepMembers(name)
	return t.Store.RemoveGroupMembers(ctx, name, ids)
}
