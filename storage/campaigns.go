package storage

import (
	"context"
	"time"
)

// CampaignState is the life-cycle state of a campaign.
type CampaignState string

// Campaign states. creating (its targets are being snapshotted) → running ⇄
// paused → completed; cancelling (its open operations are being cancelled) →
// cancelled from running or paused.
const (
	CampaignCreating   CampaignState = "creating"
	CampaignRunning    CampaignState = "running"
	CampaignPaused     CampaignState = "paused"
	CampaignCancelling CampaignState = "cancelling"
	CampaignCancelled  CampaignState = "cancelled"
	CampaignCompleted  CampaignState = "completed"
)

// Terminal reports whether a campaign in this state is over.
func (s CampaignState) Terminal() bool { return s == CampaignCancelled || s == CampaignCompleted }

// Valid reports whether s is one of the campaign states.
func (s CampaignState) Valid() bool {
	switch s {
	case CampaignCreating, CampaignRunning, CampaignPaused, CampaignCancelling, CampaignCancelled, CampaignCompleted:
		return true
	}
	return false
}

// TargetState is a campaign device's outcome.
type TargetState string

// Campaign device states: pending (not started) → notified (its operation
// is created and package 0 sent; the device has not taken it yet) →
// in_progress (the device took the operation) → succeeded, failed,
// timed_out or cancelled (the operation's end); skipped when the device
// could not be given the operation (deleted since the snapshot).
const (
	TargetPending    TargetState = "pending"
	TargetNotified   TargetState = "notified"
	TargetInProgress TargetState = "in_progress"
	TargetSucceeded  TargetState = "succeeded"
	TargetFailed     TargetState = "failed"
	TargetTimedOut   TargetState = "timed_out"
	TargetCancelled  TargetState = "cancelled"
	TargetSkipped    TargetState = "skipped"
)

// TargetStates lists every campaign device state, in life-cycle order.
var TargetStates = []TargetState{TargetPending, TargetNotified, TargetInProgress, TargetSucceeded, TargetFailed,
	TargetTimedOut, TargetCancelled, TargetSkipped}

// TargetOpen lists the states of a device whose operation is in flight.
var TargetOpen = []TargetState{TargetNotified, TargetInProgress}

// TargetFailures lists the states a rollout policy counts as failures.
var TargetFailures = []TargetState{TargetFailed, TargetTimedOut}

// Terminal reports whether a device in this state is done.
func (s TargetState) Terminal() bool {
	switch s {
	case TargetSucceeded, TargetFailed, TargetTimedOut, TargetCancelled, TargetSkipped:
		return true
	}
	return false
}

// Valid reports whether s is one of the campaign device states.
func (s TargetState) Valid() bool {
	for _, v := range TargetStates {
		if s == v {
			return true
		}
	}
	return false
}

// Campaign is one operation template rolled out to a snapshot of devices.
type Campaign struct {
	ID   int64
	Name string
	// Spec is the campaign's definition (operation template, target,
	// rollout policy), JSON owned by the fleet layer; stores keep it as is.
	Spec   []byte
	State  CampaignState
	Reason string // why it is paused or was cancelled
	Total  int    // devices snapshotted
	// Wave is the index of the current wave; WaveStartedAt when it started,
	// WaveDoneAt when all its devices ended (zero while running).
	Wave          int
	WaveStartedAt time.Time
	WaveDoneAt    time.Time
	// FailAck is how many failures of the current wave a resume accepted
	// (the failure threshold counts the ones after it).
	FailAck int
	// LeaseOwner holds the campaign until LeaseUntil: the one node that
	// drives it (see CampaignStore.LeaseCampaign).
	LeaseOwner string
	LeaseUntil time.Time
	// Version counts the stored changes (optimistic concurrency).
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	DoneAt    time.Time
}

// CampaignDevice is one target of a campaign and its outcome.
type CampaignDevice struct {
	CampaignID int64
	DeviceID   string
	Seq        int // 0-based position in the rollout order (waves take Seq ranges)
	State      TargetState
	// OperationID is the device's operation (0 while pending).
	OperationID int64
	// Notifies counts the package 0 sent for it; NextNotify is when the
	// next one is due (zero: none).
	Notifies   int
	NextNotify time.Time
	Error      string
	// Version counts the stored changes of the row (optimistic concurrency).
	Version   int64
	UpdatedAt time.Time
	DoneAt    time.Time
}

// CampaignFilter selects campaigns in ListCampaigns.
type CampaignFilter struct {
	States  []CampaignState // empty = all
	AfterID int64           // paging: only IDs > AfterID
	Limit   int             // 0 = 100
}

// CampaignDeviceFilter selects a campaign's devices, ordered by Seq.
type CampaignDeviceFilter struct {
	CampaignID int64
	States     []TargetState // empty = all
	// FromSeq and BelowSeq bound Seq: FromSeq ≤ Seq < BelowSeq (BelowSeq 0:
	// no upper bound). FromSeq is also the paging cursor.
	FromSeq, BelowSeq int
	// NotifyDue, when set, keeps the devices whose NextNotify is set and
	// not after it.
	NotifyDue time.Time
	Limit     int // 0 = 100
}

// CampaignStore keeps campaigns and their device snapshots. Every state
// change is a conditional write, so several server processes sharing one
// database may drive campaigns: a lease row says which one drives each, and
// a device's row moves only from the version read.
type CampaignStore interface {
	// CreateCampaign stores c, assigning ID, Version (1), CreatedAt and
	// UpdatedAt; State defaults to creating.
	CreateCampaign(ctx context.Context, c *Campaign) error
	GetCampaign(ctx context.Context, id int64) (*Campaign, error)
	// ListCampaigns returns campaigns ordered by ID.
	ListCampaigns(ctx context.Context, f CampaignFilter) ([]*Campaign, error)
	// UpdateCampaign stores c's Name, Spec, State, Reason, Total, Wave,
	// WaveStartedAt, WaveDoneAt, FailAck and DoneAt when the stored Version
	// is c.Version, then increments c.Version and sets UpdatedAt (the lease
	// is left alone). ErrConflict when the version differs, ErrNotFound
	// when c is gone.
	UpdateCampaign(ctx context.Context, c *Campaign) error
	// LeaseCampaign gives the campaign's lease to owner until `until` when
	// no one holds it, its holder's lease ended before now, or owner holds
	// it already (a renewal): one conditional update. ErrConflict when
	// another owner holds it, ErrNotFound for an unknown campaign.
	LeaseCampaign(ctx context.Context, id int64, owner string, now, until time.Time) error
	// ReleaseCampaign ends owner's lease (nothing when owner does not hold it).
	ReleaseCampaign(ctx context.Context, id int64, owner string) error
	// DeleteCampaign removes a campaign and its devices (not their operations).
	DeleteCampaign(ctx context.Context, id int64) error

	// AddCampaignDevices adds devices to a campaign with multi-row inserts
	// (State defaults to pending, Version to 1); ErrExists when a Seq is
	// taken.
	AddCampaignDevices(ctx context.Context, campaignID int64, ds []CampaignDevice) error
	// ListCampaignDevices returns a campaign's devices by f, ordered by Seq.
	ListCampaignDevices(ctx context.Context, f CampaignDeviceFilter) ([]*CampaignDevice, error)
	// TransitionCampaignDevice stores d's State, OperationID, Notifies,
	// NextNotify, Error and DoneAt when the stored row's Version is
	// d.Version, then increments d.Version: one conditional update, so of
	// two nodes moving a device exactly one does. Inside a batch with the
	// operation's creation, it is what makes a device get one operation.
	// ErrConflict when the version differs, ErrNotFound when d is gone.
	TransitionCampaignDevice(ctx context.Context, d *CampaignDevice) error
	// CountCampaignDevices counts a campaign's devices by state among those
	// with fromSeq ≤ Seq < belowSeq (belowSeq 0: no upper bound) and, when
	// states are given, in one of them. Counting the in-flight states
	// (TargetOpen) or the failures (TargetFailures) goes through an index
	// of those states only, whatever the campaign's size.
	CountCampaignDevices(ctx context.Context, campaignID int64, fromSeq, belowSeq int, states ...TargetState) (map[TargetState]int, error)
	// SyncCampaignDevices moves the campaign's notified and in_progress
	// devices to their operations' states (queued: notified; sent,
	// accepted, retry_wait: in_progress; the terminal states as they are,
	// with the operation's Error and DoneAt) and a device whose operation is
	// gone to skipped; it returns how many devices changed. A device moved
	// from in_progress back to notified (its operation's next attempt was
	// queued) has NextNotify set to now, so it is notified again.
	SyncCampaignDevices(ctx context.Context, campaignID int64, now time.Time) (int, error)
	// SetCampaignDevices moves every device of the campaign in one of the
	// states from to state `to`, with reason as Error and DoneAt now when
	// `to` is terminal; it returns how many.
	SetCampaignDevices(ctx context.Context, campaignID int64, to TargetState, reason string, now time.Time, from ...TargetState) (int, error)
}

// MaxCampaignSpec bounds a campaign's stored Spec.
const MaxCampaignSpec = 1 << 20
