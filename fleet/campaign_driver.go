package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omadm/omadm/storage"
)

// maxStartsPerPass bounds the devices one pass starts for one campaign, so
// a pass stays well inside the lease it renews.
const maxStartsPerPass = 2000

// leaseRenewEvery is how many device starts go between lease renewals.
const leaseRenewEvery = 250

// Drive makes one pass over the campaigns that need work (running, paused,
// cancelling): for each one this node holds the lease of, or can take, it
// brings the devices' outcomes up to their operations, pauses on too many
// failures, ends or advances a finished wave, re-notifies devices that have
// not taken their operation and starts new devices within the in-flight
// bound and the notification rate. It returns how many devices it started.
//
// Several nodes may call it at once: a campaign is driven by the holder of
// its lease only, and each device's start is one conditional write in the
// transaction that creates its operation and job, so even two nodes that
// both believe they hold a lease never give a device two operations.
func (c *Campaigns) Drive(ctx context.Context) (int, error) {
	var after int64
	started := 0
	listed := map[int64]bool{}
	for {
		cs, err := c.s.ListCampaigns(ctx, storage.CampaignFilter{AfterID: after, Limit: 100,
			States: []storage.CampaignState{storage.CampaignRunning, storage.CampaignPaused, storage.CampaignCancelling}})
		if err != nil {
			return started, err
		}
		for _, camp := range cs {
			after = camp.ID
			listed[camp.ID] = true
			n, err := c.driveOne(ctx, camp.ID)
			started += n
			if errors.Is(err, errLeaseLost) {
				c.watch(ctx, camp)
				continue
			}
			if err != nil && ctx.Err() == nil {
				c.log().Warn("campaigns: driving a campaign", "campaign", camp.ID, "err", err)
			}
		}
		if len(cs) < 100 {
			break
		}
	}
	if err := c.prune(ctx); err != nil && ctx.Err() == nil {
		c.log().Warn("campaigns: deleting finished campaigns", "err", err)
	}
	// Campaigns another node drove that ended since the last pass.
	c.mu.Lock()
	var ended []int64
	for id := range c.seen {
		if !listed[id] {
			ended = append(ended, id)
		}
	}
	c.mu.Unlock()
	for _, id := range ended {
		if camp, err := c.s.GetCampaign(ctx, id); err == nil {
			c.watch(ctx, camp)
		}
		c.mu.Lock()
		delete(c.seen, id)
		c.mu.Unlock()
	}
	return started, ctx.Err()
}

// prunePerPass bounds the finished campaigns one pass deletes.
const prunePerPass = 10

// prune deletes finished campaigns that ended more than Keep ago. Any
// node may: a campaign deleted twice is simply gone.
func (c *Campaigns) prune(ctx context.Context) error {
	if c.o.Keep <= 0 {
		return nil
	}
	cutoff := c.now().Add(-c.o.Keep)
	cs, err := c.s.ListCampaigns(ctx, storage.CampaignFilter{States: []storage.CampaignState{storage.CampaignCompleted, storage.CampaignCancelled}, Limit: 500})
	if err != nil {
		return err
	}
	n := 0
	for _, camp := range cs {
		if n == prunePerPass {
			break
		}
		if camp.DoneAt.IsZero() || !camp.DoneAt.Before(cutoff) {
			continue
		}
		if err := c.s.DeleteCampaign(ctx, camp.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n++
		c.log().Info("finished campaign deleted", "campaign", camp.ID, "state", camp.State, "done_at", camp.DoneAt)
	}
	return nil
}

// watch reports a campaign another node drives to OnChange when its stored
// version moved since the last report and someone is watching.
func (c *Campaigns) watch(ctx context.Context, camp *storage.Campaign) {
	if c.o.OnChange == nil || c.o.Watching == nil || !c.o.Watching() {
		return
	}
	c.mu.Lock()
	v, ok := c.seen[camp.ID]
	c.seen[camp.ID] = camp.Version
	c.mu.Unlock()
	if !ok || v != camp.Version {
		c.changed(ctx, camp)
	}
}

// errLeaseLost stops a pass whose lease another node took.
var errLeaseLost = errors.New("fleet: campaign lease lost")

func (c *Campaigns) lease(ctx context.Context, id int64) error {
	now := c.now()
	err := c.s.LeaseCampaign(ctx, id, c.o.Node, now, now.Add(c.o.LeaseTTL))
	if errors.Is(err, storage.ErrConflict) {
		c.forget(id)
		return errLeaseLost
	}
	return err
}

func (c *Campaigns) driveOne(ctx context.Context, id int64) (int, error) {
	if err := c.lease(ctx, id); err != nil {
		return 0, err
	}
	c.mu.Lock()
	delete(c.seen, id)
	c.mu.Unlock()
	camp, err := c.s.GetCampaign(ctx, id)
	if err != nil {
		return 0, err
	}
	spec, err := Spec(camp)
	if err != nil {
		return 0, err
	}
	now := c.now()
	synced, err := c.s.SyncCampaignDevices(ctx, id, now)
	if err != nil {
		return 0, err
	}
	switch camp.State {
	case storage.CampaignCancelling:
		return 0, c.finishCancel(ctx, camp)
	case storage.CampaignPaused:
		if synced > 0 {
			c.progressed(ctx, camp)
		}
		return 0, nil
	case storage.CampaignRunning:
	default:
		return 0, nil
	}
	p := &spec.Policy
	from, below := waveRange(spec.WaveEnds, camp.Wave)
	// Two counts through the indexes of the in-flight and the failed
	// states, and a look for one pending device: no pass reads the whole
	// wave.
	open, err := c.s.CountCampaignDevices(ctx, id, from, below, storage.TargetOpen...)
	if err != nil {
		return 0, err
	}
	failed, err := c.s.CountCampaignDevices(ctx, id, from, below, storage.TargetFailures...)
	if err != nil {
		return 0, err
	}
	failures := failed[storage.TargetFailed] + failed[storage.TargetTimedOut] - camp.FailAck
	size := below - from
	if reason := failureLimit(p, failures, size); reason != "" {
		reason = fmt.Sprintf("wave %d of %d: %s", camp.Wave+1, len(spec.WaveEnds), reason)
		_, err := c.update(ctx, id, func(x *storage.Campaign) error {
			if x.State != storage.CampaignRunning || x.Wave != camp.Wave {
				return fmt.Errorf("%w: campaign %d changed", ErrCampaignState, id)
			}
			x.State, x.Reason = storage.CampaignPaused, reason
			return nil
		})
		if err == nil {
			c.log().Warn("campaign paused", "campaign", id, "reason", reason)
			camp.State, camp.Reason = storage.CampaignPaused, reason
			c.changed(ctx, camp)
		}
		return 0, ignoreState(err)
	}
	inFlight := open[storage.TargetNotified] + open[storage.TargetInProgress]
	next, err := c.pending(ctx, id, from, below, 1)
	if err != nil {
		return 0, err
	}
	if inFlight == 0 && len(next) == 0 {
		return 0, c.waveDone(ctx, camp, spec)
	}
	renotified, err := c.renotify(ctx, camp, p, now)
	if err != nil {
		return 0, err
	}
	started := 0
	if room := min(p.maxInFlight()-inFlight, maxStartsPerPass); room > 0 && len(next) > 0 {
		got := c.take(id, p, now, room)
		started, err = c.startSome(ctx, camp, spec, from, below, got, now)
		c.giveBack(id, got-started)
	}
	if synced > 0 || started > 0 || renotified > 0 {
		c.progressed(ctx, camp)
	}
	return started, err
}

// progressed reports a pass that moved devices: the campaign's version is
// bumped (so the nodes watching it see a change) and OnChange called.
func (c *Campaigns) progressed(ctx context.Context, camp *storage.Campaign) {
	upd, err := c.update(ctx, camp.ID, func(*storage.Campaign) error { return nil })
	if err != nil {
		c.log().Warn("campaigns: recording progress", "campaign", camp.ID, "err", err)
		return
	}
	c.changed(ctx, upd)
}

func ignoreState(err error) error {
	if errors.Is(err, ErrCampaignState) {
		return nil
	}
	return err
}

// failureLimit says why the wave's failures exceed the policy ("" when not).
func failureLimit(p *Policy, failures, size int) string {
	switch {
	case p.MaxFailures > 0 && failures > p.MaxFailures:
		return fmt.Sprintf("%d devices failed, more than max_failures %d", failures, p.MaxFailures)
	case p.MaxFailurePercent > 0 && size > 0 && float64(failures)*100 > p.MaxFailurePercent*float64(size):
		return fmt.Sprintf("%d of %d devices failed, more than max_failure_percent %g%%", failures, size, p.MaxFailurePercent)
	}
	return ""
}

// waveDone ends the campaign after its last wave, or moves to the next
// wave (at once, after WaveWait, or paused for a manual gate).
func (c *Campaigns) waveDone(ctx context.Context, camp *storage.Campaign, spec *CampaignSpec) error {
	now := c.now()
	last := camp.Wave >= len(spec.WaveEnds)-1
	upd, err := c.update(ctx, camp.ID, func(x *storage.Campaign) error {
		if x.State != storage.CampaignRunning || x.Wave != camp.Wave {
			return fmt.Errorf("%w: campaign %d changed", ErrCampaignState, x.ID)
		}
		if x.WaveDoneAt.IsZero() || x.WaveDoneAt.Before(x.WaveStartedAt) {
			x.WaveDoneAt = now
		}
		switch {
		case last:
			x.State, x.DoneAt, x.Reason = storage.CampaignCompleted, now, ""
		case spec.Policy.WaveGate == "manual":
			x.State, x.Reason = storage.CampaignPaused, fmt.Sprintf("wave %d of %d done; resume starts the next", x.Wave+1, len(spec.WaveEnds))
			x.Wave, x.WaveStartedAt, x.FailAck = x.Wave+1, time.Time{}, 0
		case now.Before(x.WaveDoneAt.Add(spec.Policy.WaveWait)):
			if x.WaveDoneAt.Equal(now) {
				return nil // record when the wave ended
			}
			return fmt.Errorf("%w: waiting between waves", ErrCampaignState)
		default:
			x.Wave, x.WaveStartedAt, x.FailAck = x.Wave+1, now, 0
		}
		return nil
	})
	if err != nil {
		return ignoreState(err)
	}
	if last {
		c.forget(camp.ID)
		if err := c.s.ReleaseCampaign(ctx, camp.ID, c.o.Node); err != nil {
			c.log().Warn("campaigns: releasing a finished campaign", "campaign", camp.ID, "err", err)
		}
		c.log().Info("campaign completed", "campaign", camp.ID, "devices", camp.Total)
	}
	c.changed(ctx, upd)
	return nil
}

// renotify sends package 0 again to the notified devices whose next
// notification is due, within the rate; a device past MaxNotifies is no
// longer notified (its operation times out unless it comes by itself).
//
// A device in progress whose operation is still only sent (its command went
// out in a session that ended without the device's Status, e.g. a server
// killed mid-session) is notified again too: the command stays queued for it
// and goes out in the next session, which nothing else would start. Once
// the device accepted the operation (202) it reports by itself and is not
// notified again.
func (c *Campaigns) renotify(ctx context.Context, camp *storage.Campaign, p *Policy, now time.Time) (int, error) {
	if c.o.Notifier == nil || p.maxNotifies() == 0 {
		return 0, nil
	}
	ds, err := c.s.ListCampaignDevices(ctx, storage.CampaignDeviceFilter{CampaignID: camp.ID,
		States: storage.TargetOpen, NotifyDue: now, Limit: maxStartsPerPass})
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	ds, err = c.awaitingSession(ctx, ds)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	got := c.take(camp.ID, p, now, len(ds))
	sent := 0
	for _, d := range ds {
		if d.Notifies >= p.maxNotifies() {
			d.NextNotify = time.Time{}
			if err := c.s.TransitionCampaignDevice(ctx, d); err != nil && !errors.Is(err, storage.ErrConflict) {
				return sent, err
			}
			continue
		}
		if sent == got {
			break
		}
		// Recorded before it is sent: a crash in between loses one
		// notification (the next is due an interval later), never sends
		// one twice.
		d.Notifies++
		d.NextNotify = now.Add(p.renotify())
		if err := c.s.TransitionCampaignDevice(ctx, d); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			return sent, err
		}
		sent++
		c.notify(ctx, d)
	}
	c.giveBack(camp.ID, got-sent)
	return sent, nil
}

// awaitingSession keeps the devices that still need a session for their
// operation: every notified one, and those in progress whose operation is
// only sent. An in-progress device past that point (accepted, or finished
// and not yet synced) stops being due.
func (c *Campaigns) awaitingSession(ctx context.Context, ds []*storage.CampaignDevice) ([]*storage.CampaignDevice, error) {
	keep := ds[:0]
	for _, d := range ds {
		if d.State != storage.TargetInProgress {
			keep = append(keep, d)
			continue
		}
		op, err := c.s.GetOperation(ctx, d.OperationID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			continue // the next sync records it as skipped
		case err != nil:
			return nil, err
		case op.State == storage.OpSent:
			keep = append(keep, d)
			continue
		}
		d.NextNotify = time.Time{}
		if err := c.s.TransitionCampaignDevice(ctx, d); err != nil && !errors.Is(err, storage.ErrConflict) {
			return nil, err
		}
	}
	return keep, nil
}

func (c *Campaigns) notify(ctx context.Context, d *storage.CampaignDevice) {
	if err := c.o.Notifier.Notify(ctx, d.DeviceID); err != nil {
		c.log().Debug("campaigns: package 0 not sent", "campaign", d.CampaignID, "device", d.DeviceID, "err", err)
	}
}

// pending returns up to n pending devices of the range, from where the last
// look found the first one.
func (c *Campaigns) pending(ctx context.Context, id int64, from, below, n int) ([]*storage.CampaignDevice, error) {
	c.mu.Lock()
	from = max(from, c.pendingFrom[id])
	c.mu.Unlock()
	ds, err := c.s.ListCampaignDevices(ctx, storage.CampaignDeviceFilter{CampaignID: id,
		States: []storage.TargetState{storage.TargetPending}, FromSeq: from, BelowSeq: below, Limit: n})
	if err == nil && len(ds) > 0 {
		c.mu.Lock()
		c.pendingFrom[id] = ds[0].Seq
		c.mu.Unlock()
	}
	return ds, err
}

// startSome starts up to n pending devices of the wave's range.
func (c *Campaigns) startSome(ctx context.Context, camp *storage.Campaign, spec *CampaignSpec, from, below, n int, now time.Time) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	ds, err := c.pending(ctx, camp.ID, from, below, n)
	if err != nil {
		return 0, err
	}
	notify := c.o.Notifier != nil && spec.Policy.maxNotifies() > 0
	started := 0
	for lo := 0; lo < len(ds); lo += startChunk {
		if lo > 0 && lo%leaseRenewEvery < startChunk {
			if err := c.lease(ctx, camp.ID); err != nil {
				return started, err
			}
			if cur, err := c.s.GetCampaign(ctx, camp.ID); err != nil || cur.State != storage.CampaignRunning {
				return started, err // paused or cancelled meanwhile
			}
		}
		k, err := c.startAll(ctx, spec, ds[lo:min(lo+startChunk, len(ds))], notify, now)
		started += k
		if err != nil {
			return started, err
		}
	}
	return started, nil
}

// startChunk is how many devices one transaction starts.
const startChunk = 64

// startAll starts pending devices in one transaction: for each, the move
// to notified (conditional on the row's version: a device another node
// moved meanwhile is left alone), its job and its operation. A device
// that cannot be started that way (deleted since the snapshot) makes the
// chunk fall back to one transaction per device.
func (c *Campaigns) startAll(ctx context.Context, spec *CampaignSpec, ds []*storage.CampaignDevice, notify bool, now time.Time) (int, error) {
	type planned struct {
		d  storage.CampaignDevice
		op *storage.Operation
	}
	plans := make([]planned, 0, len(ds))
	specs := make([]storage.JobSpec, 0, len(ds))
	for _, d := range ds {
		r := spec.Template.request(d.DeviceID)
		op, jspec, err := c.m.planResolved(ctx, &r)
		if err != nil {
			return c.startEach(ctx, spec, ds, notify, now)
		}
		next := *d
		next.State = storage.TargetNotified
		if notify {
			next.Notifies, next.NextNotify = 1, now.Add(spec.Policy.renotify())
		}
		plans = append(plans, planned{d: next, op: op})
		specs = append(specs, jspec)
	}
	var done []int
	err := storage.InBatch(ctx, c.s, func(s storage.Store) error {
		done = done[:0]
		for i := range plans {
			p := &plans[i]
			d := p.d
			if err := s.TransitionCampaignDevice(ctx, &d); errors.Is(err, storage.ErrConflict) {
				continue // another node moved it
			} else if err != nil {
				return err
			}
			j := &storage.Job{DeviceID: d.DeviceID, Spec: specs[i], State: storage.JobQueued}
			if err := s.CreateJob(ctx, j); err != nil {
				return err
			}
			p.op.JobID = j.ID
			if err := s.CreateOperation(ctx, p.op); err != nil {
				return err
			}
			d.OperationID = p.op.ID
			if err := s.TransitionCampaignDevice(ctx, &d); err != nil {
				return err
			}
			p.d = d
			done = append(done, i)
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExists) {
		return c.startEach(ctx, spec, ds, notify, now)
	}
	if err != nil {
		return 0, err
	}
	for _, i := range done {
		c.m.changed(plans[i].op)
		if notify {
			c.notify(ctx, &plans[i].d)
		}
	}
	return len(done), nil
}

// startEach starts devices one transaction each.
func (c *Campaigns) startEach(ctx context.Context, spec *CampaignSpec, ds []*storage.CampaignDevice, notify bool, now time.Time) (int, error) {
	started := 0
	for _, d := range ds {
		ok, err := c.start(ctx, spec, d, notify, now)
		if err != nil {
			return started, err
		}
		if ok {
			started++
		}
	}
	return started, nil
}

// start gives one pending device its operation: the job, the operation and
// the device's move to notified are one atomic unit, conditional on the
// device's row not having changed since it was read. It reports whether
// the device was started.
func (c *Campaigns) start(ctx context.Context, spec *CampaignSpec, d *storage.CampaignDevice, notify bool, now time.Time) (bool, error) {
	r := spec.Template.request(d.DeviceID)
	op, jspec, err := c.m.planResolved(ctx, &r)
	if err != nil {
		d.State, d.Error, d.DoneAt = storage.TargetSkipped, err.Error(), now
		return false, ignoreConflict(c.s.TransitionCampaignDevice(ctx, d))
	}
	next := *d
	next.State = storage.TargetNotified
	if notify {
		next.Notifies, next.NextNotify = 1, now.Add(spec.Policy.renotify())
	}
	j := &storage.Job{DeviceID: d.DeviceID, Spec: jspec, State: storage.JobQueued}
	err = storage.InBatch(ctx, c.s, func(s storage.Store) error {
		if err := s.CreateJob(ctx, j); err != nil {
			return err
		}
		op.JobID = j.ID
		if err := s.CreateOperation(ctx, op); err != nil {
			return err
		}
		next.OperationID = op.ID
		return s.TransitionCampaignDevice(ctx, &next)
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return false, nil // another node moved it
	case errors.Is(err, storage.ErrNotFound):
		d.State, d.Error, d.DoneAt = storage.TargetSkipped, "no such device", now
		return false, ignoreConflict(c.s.TransitionCampaignDevice(ctx, d))
	case err != nil:
		return false, err
	}
	*d = next
	c.m.changed(op)
	if notify {
		c.notify(ctx, d)
	}
	return true, nil
}

func ignoreConflict(err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
