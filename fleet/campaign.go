package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/storage"
)

// Campaign defaults and limits.
const (
	DefaultMaxInFlight      = 100
	DefaultNotifyRate       = 10.0
	DefaultRenotifyInterval = 10 * time.Minute
	DefaultMaxNotifies      = 3
	DefaultLeaseTTL         = 30 * time.Second
	// MaxWaves bounds a rollout policy's waves.
	MaxWaves = 32
	// snapshotPage is how many targets one insert of the snapshot carries.
	snapshotPage = 10000
	// maxNameLen bounds a campaign's name.
	maxNameLen = 200
)

// ErrCampaignState is returned when a campaign cannot make the change asked
// for in its state (resuming a running one, cancelling a finished one).
var ErrCampaignState = errors.New("fleet: campaign is not in a state for that")

// Template is a campaign's operation: a Request without the device.
type Template struct {
	MO        string         `json:"mo"`
	Operation string         `json:"operation,omitempty"`
	Node      string         `json:"node,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
	// Timeout of each device's operation (0: the MO's default).
	Timeout time.Duration `json:"timeout,omitempty"`
	// Retry overrides the MO's retry policy for each device's operation.
	Retry *RetryOverride `json:"retry,omitempty"`
}

// request is the template's request for one device.
func (t *Template) request(deviceID string) Request {
	return Request{DeviceID: deviceID, MO: t.MO, Operation: t.Operation, Node: t.Node, Params: t.Params, Timeout: t.Timeout, Retry: t.Retry}
}

// Target says which devices a campaign takes; the devices are snapshotted
// when the campaign is created. Exactly one of Devices, All, Selector and
// Query is used.
type Target struct {
	// Devices is an explicit list, rolled out in the order given (repeats
	// are dropped). An ID no device has ends skipped.
	Devices []string `json:"-"`
	// All takes every enrolled device, in ID order.
	All bool `json:"all,omitempty"`
	// Selector is a selector expression (see CampaignOptions.ParseSelector).
	Selector string `json:"selector,omitempty"`
	// Query selects devices by group, labels, ID prefix… (needs a store
	// that implements storage.DeviceQuerier).
	Query *storage.DeviceQuery `json:"query,omitempty"`
	// Count is how many devices the explicit list had (stored in place of
	// the list).
	Count int `json:"count,omitempty"`
}

// Policy is a campaign's rollout policy. Zero fields take the defaults.
type Policy struct {
	// Waves are cumulative sizes, each a count ("50") or a percentage of
	// the targets ("5%"): "5%,25%,100%" starts 5% of the devices, then up
	// to 25%, then the rest. A last wave of 100% is implied. Empty: one
	// wave.
	Waves []string `json:"waves,omitempty"`
	// MaxInFlight bounds the devices whose operation is open at once
	// (default DefaultMaxInFlight; -1: no bound).
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// NotifyRate bounds the package 0 sent per second, first notifications
	// and re-notifications together (a token bucket of NotifyBurst, default
	// one second's worth); default DefaultNotifyRate.
	NotifyRate  float64 `json:"notify_rate,omitempty"`
	NotifyBurst int     `json:"notify_burst,omitempty"`
	// MaxFailures and MaxFailurePercent pause the campaign when the
	// current wave has more failed or timed-out devices than that count, or
	// than that percentage of the wave's devices (0: no such limit).
	MaxFailures       int     `json:"max_failures,omitempty"`
	MaxFailurePercent float64 `json:"max_failure_percent,omitempty"`
	// WaveWait is how long to wait after a wave ended before starting the
	// next one.
	WaveWait time.Duration `json:"wave_wait,omitempty"`
	// WaveGate is "auto" (default: the next wave starts by itself) or
	// "manual" (the campaign pauses after each wave; resume starts the next).
	WaveGate string `json:"wave_gate,omitempty"`
	// RenotifyInterval is how long a notified device that has not taken its
	// operation waits before package 0 is sent again, at most MaxNotifies
	// times in all (defaults DefaultRenotifyInterval, DefaultMaxNotifies;
	// MaxNotifies -1: notify never, for devices that poll).
	RenotifyInterval time.Duration `json:"renotify_interval,omitempty"`
	MaxNotifies      int           `json:"max_notifies,omitempty"`
}

// CampaignSpec is what a campaign stores as its storage.Campaign.Spec.
type CampaignSpec struct {
	Template Template `json:"template"`
	Target   Target   `json:"target"`
	Policy   Policy   `json:"policy"`
	// WaveEnds are the waves' cumulative ends in Seq, computed from the
	// policy and the snapshot's size.
	WaveEnds []int `json:"wave_ends,omitempty"`
}

// CampaignRequest asks for a campaign.
type CampaignRequest struct {
	Name     string
	Template Template
	Target   Target
	Policy   Policy
	// Paused creates the campaign paused (resume starts it).
	Paused bool
}

// Notifier sends package 0 to a device (*server.Engine implements it).
type Notifier interface {
	Notify(ctx context.Context, deviceID string) error
}

// CampaignOptions configure Campaigns.
type CampaignOptions struct {
	// Notifier sends package 0 (nil: devices are not notified; they take
	// their operations at their next session).
	Notifier Notifier
	// Node names this process in campaign leases (default host-pid-random).
	Node string
	// LeaseTTL is how long a lease lasts without renewal: a node that dies
	// holding one is replaced after at most that (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// ParseSelector turns Target.Selector into a device query (nil:
	// ParseSelector).
	ParseSelector func(string) (storage.DeviceQuery, error)
	// OnChange, when set, is called after a campaign changed (state, wave
	// or device outcomes) with the campaign as stored and its counts. It
	// must not block.
	OnChange func(*storage.Campaign, map[storage.TargetState]int)
	// Keep is how long a finished (completed or cancelled) campaign and
	// its device outcomes are kept before the Scheduler deletes them (0:
	// forever). The devices' operations and jobs follow their own
	// retention.
	Keep time.Duration
	// Watching, when set, says whether anyone follows OnChange now: a node
	// then reports the changes other nodes make to the campaigns they drive
	// (seen as new versions in storage) too. Nil: never.
	Watching func() bool
}

// Campaigns creates campaigns and drives them: the Scheduler calls Drive on
// every campaign tick.
type Campaigns struct {
	m  *Manager
	s  storage.Store
	o  CampaignOptions
	mu sync.Mutex
	// buckets are the notification token buckets of the campaigns this
	// node drives.
	buckets map[int64]*bucket
	// seen are the versions of the campaigns other nodes drive, as last
	// reported to OnChange.
	seen map[int64]int64
	// pendingFrom is, per campaign, a Seq below which no device is pending
	// (devices never become pending again), where the next look for
	// pending devices starts.
	pendingFrom map[int64]int
}

// NewCampaigns returns the campaign layer on m's store.
func NewCampaigns(m *Manager, o CampaignOptions) *Campaigns {
	if o.Node == "" {
		host, _ := os.Hostname()
		o.Node = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), newCorrelator("")[:6])
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.ParseSelector == nil {
		o.ParseSelector = ParseSelector
	}
	return &Campaigns{m: m, s: m.o.Store, o: o, buckets: map[int64]*bucket{}, seen: map[int64]int64{}, pendingFrom: map[int64]int{}}
}

// Node is the name this process uses in leases.
func (c *Campaigns) Node() string { return c.o.Node }

func (c *Campaigns) now() time.Time { return c.m.o.Now() }

func (c *Campaigns) log() *slog.Logger { return c.m.o.Logger }

// ---- validation ----

// parseWaves turns the policy's waves into cumulative ends for n targets.
func parseWaves(waves []string, n int) ([]int, error) {
	if len(waves) > MaxWaves {
		return nil, invalid("policy.waves", "at most %d waves", MaxWaves)
	}
	var ends []int
	last := 0
	for i, w := range waves {
		w = strings.TrimSpace(w)
		var end int
		if p, ok := strings.CutSuffix(w, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f <= 0 || f > 100 || math.IsNaN(f) {
				return nil, invalid(fmt.Sprintf("policy.waves[%d]", i), "%q: want a percentage in (0, 100] such as 5%%", w)
			}
			end = int(math.Ceil(f * float64(n) / 100))
		} else {
			k, err := strconv.Atoi(w)
			if err != nil || k <= 0 {
				return nil, invalid(fmt.Sprintf("policy.waves[%d]", i), "%q: want a device count or a percentage such as 5%%", w)
			}
			end = min(k, n)
		}
		if end < last {
			return nil, invalid(fmt.Sprintf("policy.waves[%d]", i), "%q: waves are cumulative and must not shrink", w)
		}
		if end > last {
			ends = append(ends, end)
			last = end
		}
	}
	if last < n {
		ends = append(ends, n)
	}
	return ends, nil
}

func validatePolicy(p *Policy) error {
	// The syntax now; whether counts and percentages mixed grow depends on
	// the snapshot's size, checked when it is known.
	if _, err := parseWaves(p.Waves, 0); err != nil {
		return err
	}
	switch {
	case p.MaxInFlight < -1:
		return invalid("policy.max_in_flight", "%d: want a positive count (-1: no bound)", p.MaxInFlight)
	case p.NotifyRate < 0 || math.IsNaN(p.NotifyRate) || math.IsInf(p.NotifyRate, 0):
		return invalid("policy.notify_rate", "want a positive rate (package 0 per second)")
	case p.NotifyBurst < 0:
		return invalid("policy.notify_burst", "want a positive count")
	case p.MaxFailures < 0:
		return invalid("policy.max_failures", "want a positive count")
	case p.MaxFailurePercent < 0 || p.MaxFailurePercent > 100 || math.IsNaN(p.MaxFailurePercent):
		return invalid("policy.max_failure_percent", "want a percentage between 0 and 100")
	case p.WaveWait < 0 || p.WaveWait > MaxTimeout:
		return invalid("policy.wave_wait", "want a duration of at most %s", MaxTimeout)
	case p.WaveGate != "" && p.WaveGate != "auto" && p.WaveGate != "manual":
		return invalid("policy.wave_gate", "%q: want auto or manual", p.WaveGate)
	case p.RenotifyInterval < 0 || p.RenotifyInterval > MaxTimeout:
		return invalid("policy.renotify_interval", "want a duration of at most %s", MaxTimeout)
	case p.MaxNotifies < -1:
		return invalid("policy.max_notifies", "want a positive count (-1: never notify)")
	}
	return nil
}

func (p *Policy) maxInFlight() int {
	switch {
	case p.MaxInFlight == 0:
		return DefaultMaxInFlight
	case p.MaxInFlight < 0:
		return math.MaxInt32
	}
	return p.MaxInFlight
}

func (p *Policy) rate() float64 { return cmpFloat(p.NotifyRate, DefaultNotifyRate) }

func (p *Policy) burst() float64 {
	if p.NotifyBurst > 0 {
		return float64(p.NotifyBurst)
	}
	return math.Max(1, math.Ceil(p.rate()))
}

func (p *Policy) renotify() time.Duration { return cmpDur(p.RenotifyInterval, DefaultRenotifyInterval) }

func (p *Policy) maxNotifies() int {
	if p.MaxNotifies == 0 {
		return DefaultMaxNotifies
	}
	return max(p.MaxNotifies, 0)
}

func cmpFloat(a, b float64) float64 {
	if a > 0 {
		return a
	}
	return b
}

// ---- creation ----

// Create checks r, stores the campaign and snapshots its targets: one row
// per device, inserted in pages of snapshotPage. The campaign is "creating"
// until the snapshot is complete, then running (or paused when r.Paused);
// a snapshot that fails removes the campaign.
func (c *Campaigns) Create(ctx context.Context, r *CampaignRequest) (*storage.Campaign, error) {
	if len(r.Name) > maxNameLen || !storage.Printable(r.Name) {
		return nil, invalid("name", "must be at most %d printable characters", maxNameLen)
	}
	probe := r.Template.request("")
	if _, _, err := c.m.planResolved(ctx, &probe); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Field = "template." + fe.Field
		}
		return nil, err
	}
	if err := validatePolicy(&r.Policy); err != nil {
		return nil, err
	}
	next, err := c.targets(ctx, &r.Target)
	if err != nil {
		return nil, err
	}
	spec := CampaignSpec{Template: r.Template, Target: r.Target, Policy: r.Policy}
	if spec.Target.Devices != nil {
		spec.Target.Count = len(spec.Target.Devices)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if len(b) > storage.MaxCampaignSpec {
		return nil, invalid("template", "the campaign's definition is %d bytes, at most %d", len(b), storage.MaxCampaignSpec)
	}
	camp := &storage.Campaign{Name: r.Name, Spec: b, State: storage.CampaignCreating}
	if err := c.s.CreateCampaign(ctx, camp); err != nil {
		return nil, err
	}
	n, err := c.snapshot(ctx, camp.ID, next)
	if err == nil {
		spec.WaveEnds, err = parseWaves(r.Policy.Waves, n)
	}
	if err != nil {
		if derr := c.s.DeleteCampaign(context.WithoutCancel(ctx), camp.ID); derr != nil {
			c.log().Warn("campaigns: removing a campaign whose snapshot failed", "campaign", camp.ID, "err", derr)
		}
		return nil, err
	}
	if camp.Spec, err = json.Marshal(spec); err != nil {
		return nil, err
	}
	camp.Total, camp.State, camp.WaveStartedAt = n, storage.CampaignRunning, c.now()
	if r.Paused {
		camp.State, camp.Reason = storage.CampaignPaused, "created paused"
	}
	if n == 0 {
		camp.State, camp.DoneAt, camp.Reason = storage.CampaignCompleted, c.now(), "no target devices"
	}
	if err := c.s.UpdateCampaign(ctx, camp); err != nil {
		return nil, err
	}
	c.changed(ctx, camp)
	return camp, nil
}

// targets returns the function that yields the target device IDs page by
// page (nil page at the end), after checking the target.
func (c *Campaigns) targets(ctx context.Context, t *Target) (func() ([]string, error), error) {
	given := 0
	if t.Devices != nil {
		given++
	}
	if t.All {
		given++
	}
	if t.Selector != "" {
		given++
	}
	if t.Query != nil {
		given++
	}
	if given != 1 {
		return nil, invalid("target", "give exactly one of devices, all, selector and query")
	}
	switch {
	case t.Devices != nil:
		seen := make(map[string]struct{}, len(t.Devices))
		ids := make([]string, 0, len(t.Devices))
		for i, id := range t.Devices {
			if id == "" || len(id) > storage.MaxURILen || !storage.Printable(id) {
				return nil, invalid(fmt.Sprintf("target.devices[%d]", i), "%q is not a device id", id)
			}
			if _, dup := seen[id]; !dup {
				seen[id] = struct{}{}
				ids = append(ids, id)
			}
		}
		t.Devices = ids
		done := false
		return func() ([]string, error) {
			if done {
				return nil, nil
			}
			done = true
			return ids, nil
		}, nil
	case t.All:
		if iq, ok := c.s.(storage.DeviceIDQuerier); ok {
			return idPages(ctx, iq, storage.DeviceQuery{Limit: snapshotPage}), nil
		}
		after, done := "", false
		return func() ([]string, error) {
			if done {
				return nil, nil
			}
			ds, err := c.s.ListDevices(ctx, after, snapshotPage)
			if err != nil {
				return nil, err
			}
			done = len(ds) < snapshotPage
			ids := make([]string, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
			}
			if len(ds) > 0 {
				after = ds[len(ds)-1].ID
			}
			return ids, nil
		}, nil
	}
	q := t.Query
	if t.Selector != "" {
		if c.o.ParseSelector == nil {
			return nil, invalid("target.selector", "this server does not take selectors; give devices, all or query")
		}
		sq, err := c.o.ParseSelector(t.Selector)
		if err != nil {
			return nil, invalid("target.selector", "%v", err)
		}
		q = &sq
	}
	// A dynamic group is replaced by its selector, evaluated now.
	query, err := Resolve(ctx, c.s, *q)
	if err != nil {
		var se *SelectorError
		if errors.Is(err, storage.ErrNotFound) || errors.As(err, &se) {
			return nil, invalid("target", "%v", err)
		}
		return nil, err
	}
	dq := storage.DeviceQuerier(c.s)
	query.Cursor, query.Limit = "", snapshotPage
	done := false
	if iq, ok := c.s.(storage.DeviceIDQuerier); ok {
		return idPages(ctx, iq, query), nil
	}
	return func() ([]string, error) {
		if done {
			return nil, nil
		}
		ds, next, err := dq.QueryDevices(ctx, query)
		if err != nil {
			return nil, err
		}
		done, query.Cursor = next == "", next
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		return ids, nil
	}, nil
}

// idPages pages through the IDs of the devices query selects (its Limit is
// the page size). Reading only the IDs matters at a million targets, where
// reading and decoding the devices' records was most of the snapshot's time.
func idPages(ctx context.Context, iq storage.DeviceIDQuerier, query storage.DeviceQuery) func() ([]string, error) {
	done := false
	return func() ([]string, error) {
		if done {
			return nil, nil
		}
		ids, next, err := iq.QueryDeviceIDs(ctx, query)
		if err != nil {
			return nil, err
		}
		done, query.Cursor = next == "", next
		return ids, nil
	}
}

// snapshot stores the targets as the campaign's devices and returns how many.
func (c *Campaigns) snapshot(ctx context.Context, id int64, next func() ([]string, error)) (int, error) {
	n := 0
	rows := make([]storage.CampaignDevice, 0, snapshotPage)
	for {
		ids, err := next()
		if err != nil {
			return n, err
		}
		if len(ids) == 0 {
			return n, nil
		}
		for lo := 0; lo < len(ids); lo += snapshotPage {
			rows = rows[:0]
			for _, d := range ids[lo:min(lo+snapshotPage, len(ids))] {
				rows = append(rows, storage.CampaignDevice{DeviceID: d, Seq: n})
				n++
			}
			if err := c.s.AddCampaignDevices(ctx, id, rows); err != nil {
				return n, err
			}
		}
	}
}

// ---- reads and operator actions ----

// Spec decodes a campaign's stored definition.
func Spec(camp *storage.Campaign) (*CampaignSpec, error) {
	var s CampaignSpec
	if err := json.Unmarshal(camp.Spec, &s); err != nil {
		return nil, fmt.Errorf("fleet: campaign %d: stored definition: %w", camp.ID, err)
	}
	return &s, nil
}

// Get returns a campaign and its device counts by state.
func (c *Campaigns) Get(ctx context.Context, id int64) (*storage.Campaign, map[storage.TargetState]int, error) {
	camp, err := c.s.GetCampaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	counts, err := c.s.CountCampaignDevices(ctx, id, 0, 0)
	return camp, counts, err
}

// List returns campaigns ordered by ID.
func (c *Campaigns) List(ctx context.Context, f storage.CampaignFilter) ([]*storage.Campaign, error) {
	return c.s.ListCampaigns(ctx, f)
}

// Devices returns a page of a campaign's devices.
func (c *Campaigns) Devices(ctx context.Context, f storage.CampaignDeviceFilter) ([]*storage.CampaignDevice, error) {
	if _, err := c.s.GetCampaign(ctx, f.CampaignID); err != nil {
		return nil, err
	}
	return c.s.ListCampaignDevices(ctx, f)
}

// update applies fn to the stored campaign and stores it, retrying when
// another node changed it meanwhile; fn returns ErrCampaignState (wrapped)
// to refuse.
func (c *Campaigns) update(ctx context.Context, id int64, fn func(*storage.Campaign) error) (*storage.Campaign, error) {
	for range 8 {
		camp, err := c.s.GetCampaign(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(camp); err != nil {
			return camp, err
		}
		err = c.s.UpdateCampaign(ctx, camp)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return camp, nil
	}
	return nil, fmt.Errorf("%w: campaign %d keeps changing", storage.ErrConflict, id)
}

// Pause stops starting devices (those in flight go on); ErrCampaignState
// unless it is running.
func (c *Campaigns) Pause(ctx context.Context, id int64, reason string) (*storage.Campaign, error) {
	camp, err := c.update(ctx, id, func(camp *storage.Campaign) error {
		if camp.State != storage.CampaignRunning {
			return fmt.Errorf("%w: campaign %d is %s", ErrCampaignState, id, camp.State)
		}
		camp.State, camp.Reason = storage.CampaignPaused, cmpStr(reason, "paused by the operator")
		return nil
	})
	if err == nil {
		c.changed(ctx, camp)
	}
	return camp, err
}

// Resume runs a paused campaign again: the failures of the current wave so
// far no longer count toward its threshold. ErrCampaignState unless paused.
func (c *Campaigns) Resume(ctx context.Context, id int64) (*storage.Campaign, error) {
	camp, err := c.update(ctx, id, func(camp *storage.Campaign) error {
		if camp.State != storage.CampaignPaused {
			return fmt.Errorf("%w: campaign %d is %s", ErrCampaignState, id, camp.State)
		}
		spec, err := Spec(camp)
		if err != nil {
			return err
		}
		from, below := waveRange(spec.WaveEnds, camp.Wave)
		counts, err := c.s.CountCampaignDevices(ctx, id, from, below, storage.TargetFailures...)
		if err != nil {
			return err
		}
		camp.State, camp.Reason = storage.CampaignRunning, ""
		camp.FailAck = counts[storage.TargetFailed] + counts[storage.TargetTimedOut]
		if camp.WaveStartedAt.IsZero() {
			camp.WaveStartedAt = c.now()
		}
		return nil
	})
	if err == nil {
		c.changed(ctx, camp)
	}
	return camp, err
}

// Cancel ends a campaign: devices not started end cancelled, open
// operations are cancelled (their devices end cancelled, or with the
// outcome the device reported first). ErrCampaignState when it is over.
func (c *Campaigns) Cancel(ctx context.Context, id int64) (*storage.Campaign, error) {
	camp, err := c.update(ctx, id, func(camp *storage.Campaign) error {
		if camp.State.Terminal() {
			return fmt.Errorf("%w: campaign %d is %s", ErrCampaignState, id, camp.State)
		}
		if camp.State != storage.CampaignCancelling {
			camp.State, camp.Reason = storage.CampaignCancelling, "cancelled by the operator"
		}
		return nil
	})
	if err != nil {
		return camp, err
	}
	if err := c.finishCancel(ctx, camp); err != nil {
		// The scheduler finishes it.
		c.log().Warn("campaigns: cancelling", "campaign", id, "err", err)
	}
	return camp, nil
}

// finishCancel cancels a cancelling campaign's devices and operations and
// marks it cancelled; any node may run it (again) until it is.
func (c *Campaigns) finishCancel(ctx context.Context, camp *storage.Campaign) error {
	now := c.now()
	if _, err := c.s.SetCampaignDevices(ctx, camp.ID, storage.TargetCancelled, "the campaign was cancelled", now, storage.TargetPending); err != nil {
		return err
	}
	for from := 0; ; {
		ds, err := c.s.ListCampaignDevices(ctx, storage.CampaignDeviceFilter{CampaignID: camp.ID, States: storage.TargetOpen, FromSeq: from, Limit: 500})
		if err != nil {
			return err
		}
		for _, d := range ds {
			from = d.Seq + 1
			if _, err := c.m.Cancel(ctx, d.OperationID); err != nil && !errors.Is(err, ErrFinished) && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if len(ds) < 500 {
			break
		}
	}
	if _, err := c.s.SyncCampaignDevices(ctx, camp.ID, now); err != nil {
		return err
	}
	upd, err := c.update(ctx, camp.ID, func(x *storage.Campaign) error {
		if x.State != storage.CampaignCancelling {
			return fmt.Errorf("%w: campaign %d is %s", ErrCampaignState, x.ID, x.State)
		}
		x.State, x.DoneAt = storage.CampaignCancelled, c.now()
		return nil
	})
	if errors.Is(err, ErrCampaignState) {
		return nil // another node finished it
	}
	if err != nil {
		return err
	}
	*camp = *upd
	c.changed(ctx, camp)
	return nil
}

// changed reports a campaign change to OnChange with fresh counts.
func (c *Campaigns) changed(ctx context.Context, camp *storage.Campaign) {
	if c.o.OnChange == nil {
		return
	}
	counts, err := c.s.CountCampaignDevices(ctx, camp.ID, 0, 0)
	if err != nil {
		c.log().Warn("campaigns: counting devices", "campaign", camp.ID, "err", err)
		return
	}
	x := *camp
	c.o.OnChange(&x, counts)
}

// waveRange is the Seq range of wave i.
func waveRange(ends []int, i int) (from, below int) {
	if len(ends) == 0 {
		return 0, 0
	}
	i = min(max(i, 0), len(ends)-1)
	if i > 0 {
		from = ends[i-1]
	}
	return from, ends[i]
}

// ---- notification token bucket ----

type bucket struct {
	tokens float64
	last   time.Time
}

// take returns how many of want tokens the campaign's bucket gives now.
func (c *Campaigns) take(id int64, p *Policy, now time.Time, want int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buckets[id]
	if b == nil {
		b = &bucket{tokens: p.burst(), last: now}
		c.buckets[id] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(p.burst(), b.tokens+el.Seconds()*p.rate())
		b.last = now
	}
	n := min(want, int(b.tokens))
	b.tokens -= float64(n)
	return n
}

// giveBack returns unused tokens.
func (c *Campaigns) giveBack(id int64, n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.buckets[id]; b != nil {
		b.tokens += float64(n)
	}
}

func (c *Campaigns) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.buckets, id)
	delete(c.pendingFrom, id)
}
