package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/omadm/omadm/storage"
)

// campaignData holds the campaigns and their devices (under Store.mu).
type campaignData struct {
	byID    map[int64]*storage.Campaign
	devices map[int64][]*storage.CampaignDevice // campaign → its devices by Seq
	next    int64
}

func memNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func copyCampaign(c *storage.Campaign) *storage.Campaign {
	x := *c
	x.Spec = slices.Clone(c.Spec)
	return &x
}

func copyCD(d *storage.CampaignDevice) *storage.CampaignDevice {
	x := *d
	return &x
}

func (s *Store) lock(ctx context.Context) error {
	s.mu.Lock()
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	return nil
}

// CreateCampaign implements storage.CampaignStore.
func (s *Store) CreateCampaign(ctx context.Context, c *storage.Campaign) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := storable(c.Name, c.Reason, string(c.Spec)); err != nil {
		return err
	}
	if c.State == "" {
		c.State = storage.CampaignCreating
	}
	if !c.State.Valid() {
		return fmt.Errorf("memstore: invalid campaign state %q", c.State)
	}
	cd := &s.camps
	if cd.byID == nil {
		cd.byID, cd.devices = map[int64]*storage.Campaign{}, map[int64][]*storage.CampaignDevice{}
	}
	cd.next++
	c.ID, c.Version = cd.next, 1
	c.CreatedAt = memNow()
	c.UpdatedAt = c.CreatedAt
	cd.byID[c.ID] = copyCampaign(c)
	return nil
}

// GetCampaign implements storage.CampaignStore.
func (s *Store) GetCampaign(ctx context.Context, id int64) (*storage.Campaign, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	c, ok := s.camps.byID[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return copyCampaign(c), nil
}

// ListCampaigns implements storage.CampaignStore.
func (s *Store) ListCampaigns(ctx context.Context, f storage.CampaignFilter) ([]*storage.Campaign, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*storage.Campaign
	for _, c := range s.camps.byID {
		if c.ID > f.AfterID && (len(f.States) == 0 || slices.Contains(f.States, c.State)) {
			out = append(out, copyCampaign(c))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if n := limitOr(f.Limit); len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func limitOr(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// UpdateCampaign implements storage.CampaignStore.
func (s *Store) UpdateCampaign(ctx context.Context, c *storage.Campaign) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := storable(c.Name, c.Reason, string(c.Spec)); err != nil {
		return err
	}
	if !c.State.Valid() {
		return fmt.Errorf("memstore: invalid campaign state %q", c.State)
	}
	cur, ok := s.camps.byID[c.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if cur.Version != c.Version {
		return fmt.Errorf("%w: campaign %d changed (version %d, not %d)", storage.ErrConflict, c.ID, cur.Version, c.Version)
	}
	n := copyCampaign(c)
	n.LeaseOwner, n.LeaseUntil, n.CreatedAt = cur.LeaseOwner, cur.LeaseUntil, cur.CreatedAt
	n.Version++
	n.UpdatedAt = memNow()
	s.camps.byID[c.ID] = n
	c.Version, c.UpdatedAt, c.LeaseOwner, c.LeaseUntil = n.Version, n.UpdatedAt, n.LeaseOwner, n.LeaseUntil
	return nil
}

// LeaseCampaign implements storage.CampaignStore.
func (s *Store) LeaseCampaign(ctx context.Context, id int64, owner string, now, until time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	c, ok := s.camps.byID[id]
	if !ok {
		return storage.ErrNotFound
	}
	if c.LeaseOwner != "" && c.LeaseOwner != owner && !c.LeaseUntil.Before(now) {
		return fmt.Errorf("%w: campaign %d is leased by %s", storage.ErrConflict, id, c.LeaseOwner)
	}
	c.LeaseOwner, c.LeaseUntil = owner, until.UTC().Truncate(time.Microsecond)
	return nil
}

// ReleaseCampaign implements storage.CampaignStore.
func (s *Store) ReleaseCampaign(ctx context.Context, id int64, owner string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if c, ok := s.camps.byID[id]; ok && c.LeaseOwner == owner {
		c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	}
	return nil
}

// DeleteCampaign implements storage.CampaignStore.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.camps.byID[id]; !ok {
		return storage.ErrNotFound
	}
	delete(s.camps.byID, id)
	delete(s.camps.devices, id)
	return nil
}

// AddCampaignDevices implements storage.CampaignStore.
func (s *Store) AddCampaignDevices(ctx context.Context, campaignID int64, ds []storage.CampaignDevice) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.camps.byID[campaignID]; !ok {
		return storage.ErrNotFound
	}
	cur := s.camps.devices[campaignID]
	taken := map[int]bool{}
	for _, d := range cur {
		taken[d.Seq] = true
	}
	t := memNow()
	add := make([]*storage.CampaignDevice, 0, len(ds))
	for _, d := range ds {
		if err := storable(d.DeviceID, d.Error); err != nil {
			return err
		}
		if taken[d.Seq] {
			return fmt.Errorf("%w: campaign %d already has a device at %d", storage.ErrExists, campaignID, d.Seq)
		}
		taken[d.Seq] = true
		d.CampaignID = campaignID
		if d.State == "" {
			d.State = storage.TargetPending
		}
		d.Version, d.UpdatedAt = 1, t
		add = append(add, copyCD(&d))
	}
	all := append(cur, add...)
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	s.camps.devices[campaignID] = all
	return nil
}

func matchCD(d *storage.CampaignDevice, f storage.CampaignDeviceFilter) bool {
	if d.Seq < f.FromSeq || (f.BelowSeq > 0 && d.Seq >= f.BelowSeq) {
		return false
	}
	if len(f.States) > 0 && !slices.Contains(f.States, d.State) {
		return false
	}
	if !f.NotifyDue.IsZero() && (d.NextNotify.IsZero() || d.NextNotify.After(f.NotifyDue)) {
		return false
	}
	return true
}

// ListCampaignDevices implements storage.CampaignStore.
func (s *Store) ListCampaignDevices(ctx context.Context, f storage.CampaignDeviceFilter) ([]*storage.CampaignDevice, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	n := limitOr(f.Limit)
	var out []*storage.CampaignDevice
	for _, d := range s.camps.devices[f.CampaignID] {
		if matchCD(d, f) {
			out = append(out, copyCD(d))
			if len(out) == n {
				break
			}
		}
	}
	return out, nil
}

func (s *Store) findCD(campaignID int64, seq int) *storage.CampaignDevice {
	ds := s.camps.devices[campaignID]
	i := sort.Search(len(ds), func(i int) bool { return ds[i].Seq >= seq })
	if i < len(ds) && ds[i].Seq == seq {
		return ds[i]
	}
	return nil
}

// TransitionCampaignDevice implements storage.CampaignStore.
func (s *Store) TransitionCampaignDevice(ctx context.Context, d *storage.CampaignDevice) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := storable(d.Error); err != nil {
		return err
	}
	if !d.State.Valid() {
		return fmt.Errorf("memstore: invalid campaign device state %q", d.State)
	}
	cur := s.findCD(d.CampaignID, d.Seq)
	if cur == nil {
		return storage.ErrNotFound
	}
	if cur.Version != d.Version {
		return fmt.Errorf("%w: campaign %d device %s changed", storage.ErrConflict, d.CampaignID, cur.DeviceID)
	}
	t := memNow()
	cur.State, cur.OperationID, cur.Notifies, cur.Error = d.State, d.OperationID, d.Notifies, d.Error
	cur.NextNotify, cur.DoneAt = d.NextNotify.UTC().Truncate(time.Microsecond), d.DoneAt.UTC().Truncate(time.Microsecond)
	if d.NextNotify.IsZero() {
		cur.NextNotify = time.Time{}
	}
	if d.DoneAt.IsZero() {
		cur.DoneAt = time.Time{}
	}
	cur.Version++
	cur.UpdatedAt = t
	d.Version, d.UpdatedAt, d.NextNotify, d.DoneAt = cur.Version, t, cur.NextNotify, cur.DoneAt
	return nil
}

// CountCampaignDevices implements storage.CampaignStore.
func (s *Store) CountCampaignDevices(ctx context.Context, campaignID int64, fromSeq, belowSeq int, states ...storage.TargetState) (map[storage.TargetState]int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := map[storage.TargetState]int{}
	f := storage.CampaignDeviceFilter{FromSeq: fromSeq, BelowSeq: belowSeq, States: states}
	for _, d := range s.camps.devices[campaignID] {
		if matchCD(d, f) {
			out[d.State]++
		}
	}
	return out, nil
}

// TargetOf maps an operation state to its device's campaign state.
func targetOf(st storage.OpState) storage.TargetState {
	switch st {
	case storage.OpQueued:
		return storage.TargetNotified
	case storage.OpSent, storage.OpAccepted, storage.OpRetryWait:
		return storage.TargetInProgress
	}
	return storage.TargetState(st)
}

// SyncCampaignDevices implements storage.CampaignStore.
func (s *Store) SyncCampaignDevices(ctx context.Context, campaignID int64, now time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	t := memNow()
	for _, d := range s.camps.devices[campaignID] {
		if d.State != storage.TargetNotified && d.State != storage.TargetInProgress {
			continue
		}
		op, ok := s.ops[d.OperationID]
		to := storage.TargetSkipped
		if ok {
			to = targetOf(op.State)
		}
		if to == d.State {
			continue
		}
		if to == storage.TargetNotified && d.State == storage.TargetInProgress {
			d.NextNotify = now.UTC().Truncate(time.Microsecond) // a retry's new attempt: notify the device again
		}
		d.State = to
		switch {
		case !ok:
			d.Error, d.DoneAt = fmt.Sprintf("its operation %d was deleted", d.OperationID), now.UTC().Truncate(time.Microsecond)
		case to.Terminal():
			d.Error, d.DoneAt, d.NextNotify = op.Error, op.DoneAt, time.Time{}
		}
		d.Version++
		d.UpdatedAt = t
		n++
	}
	return n, nil
}

// SetCampaignDevices implements storage.CampaignStore.
func (s *Store) SetCampaignDevices(ctx context.Context, campaignID int64, to storage.TargetState, reason string, now time.Time, from ...storage.TargetState) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	if err := storable(reason); err != nil {
		return 0, err
	}
	n := 0
	t := memNow()
	for _, d := range s.camps.devices[campaignID] {
		if !slices.Contains(from, d.State) {
			continue
		}
		d.State, d.Error = to, reason
		if to.Terminal() {
			d.DoneAt, d.NextNotify = now.UTC().Truncate(time.Microsecond), time.Time{}
		}
		d.Version++
		d.UpdatedAt = t
		n++
	}
	return n, nil
}
