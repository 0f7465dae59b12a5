package api

import (
	"fmt"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// CampaignRequest is the body of POST /campaigns: one operation template
// rolled out to a snapshot of devices, in waves, under a rollout policy.
type CampaignRequest struct {
	Name     string           `json:"name,omitempty"`
	Template CampaignTemplate `json:"template"`
	Target   CampaignTarget   `json:"target"`
	Policy   CampaignPolicy   `json:"policy,omitempty"`
	// Paused creates the campaign paused: resume starts it.
	Paused bool `json:"paused,omitempty"`
}

// CampaignTemplate is the operation every target device gets: an
// OperationRequest without the device (see OperationRequest for the MOs,
// operations and parameters).
type CampaignTemplate struct {
	MO        string         `json:"mo"`
	Operation string         `json:"operation,omitempty"`
	Node      string         `json:"node,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
	// Timeout of each device's operation, e.g. "2h" (default: the MO's).
	Timeout string `json:"timeout,omitempty"`
	// Retry changes the MO's retry policy for each device's operation.
	Retry *RetryRequest `json:"retry,omitempty"`
}

// CampaignTarget says which devices the campaign takes, snapshotted at
// creation. Give exactly one of Devices, All, Selector, or a query (Group,
// Labels, IDPrefix, together).
type CampaignTarget struct {
	// Devices is an explicit list, rolled out in this order.
	Devices []string `json:"devices,omitempty"`
	All     bool     `json:"all,omitempty"`
	// Selector is a device selector expression.
	Selector string            `json:"selector,omitempty"`
	Group    string            `json:"group,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	IDPrefix string            `json:"id_prefix,omitempty"`
	// Count is, in answers, how many devices an explicit list had.
	Count int `json:"count,omitempty"`
}

// CampaignPolicy is the rollout policy; zero fields take the defaults.
type CampaignPolicy struct {
	// Waves are cumulative sizes, counts or percentages: ["5%", "25%",
	// "100%"]. A last wave of 100% is implied; empty is one wave.
	Waves []string `json:"waves,omitempty"`
	// MaxInFlight bounds the devices with an open operation (default 100,
	// -1: no bound).
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// NotifyRate is package 0 per second (default 10), NotifyBurst the
	// token bucket's size (default one second's worth).
	NotifyRate  float64 `json:"notify_rate,omitempty"`
	NotifyBurst int     `json:"notify_burst,omitempty"`
	// MaxFailures and MaxFailurePercent pause the campaign when the
	// current wave has more failed or timed-out devices (0: no limit).
	MaxFailures       int     `json:"max_failures,omitempty"`
	MaxFailurePercent float64 `json:"max_failure_percent,omitempty"`
	// WaveWait is the pause between waves, e.g. "1h".
	WaveWait string `json:"wave_wait,omitempty"`
	// WaveGate is "auto" (default) or "manual" (pause after each wave).
	WaveGate string `json:"wave_gate,omitempty"`
	// RenotifyInterval (default "10m") and MaxNotifies (default 3, -1:
	// never) re-send package 0 to devices that have not taken their
	// operation.
	RenotifyInterval string `json:"renotify_interval,omitempty"`
	MaxNotifies      int    `json:"max_notifies,omitempty"`
}

// Campaign is a campaign's view with its live progress.
type Campaign struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
	// State: creating, running, paused, cancelling, cancelled, completed.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Total  int    `json:"total"`
	// Wave is the current wave (1-based) of Waves, the waves' cumulative
	// sizes in devices.
	Wave  int   `json:"wave"`
	Waves []int `json:"waves"`
	// Counts are the devices by outcome (pending, notified, in_progress,
	// succeeded, failed, timed_out, cancelled, skipped); Done the ended ones.
	Counts   map[string]int   `json:"counts"`
	Done     int              `json:"done"`
	Template CampaignTemplate `json:"template"`
	Target   CampaignTarget   `json:"target"`
	Policy   CampaignPolicy   `json:"policy"`
	// LeaseOwner is the server node driving the campaign until LeaseUntil.
	LeaseOwner string     `json:"lease_owner,omitempty"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
}

// Terminal reports whether the campaign is over.
func (c *Campaign) Terminal() bool { return storage.CampaignState(c.State).Terminal() }

// CampaignList is one page of campaigns; Next is the ?after= cursor.
type CampaignList struct {
	Campaigns []Campaign `json:"campaigns"`
	Next      string     `json:"next,omitempty"`
}

// CampaignDevice is one target device of a campaign and its outcome.
type CampaignDevice struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	// State: pending, notified, in_progress, succeeded, failed, timed_out,
	// cancelled or skipped.
	State      string     `json:"state"`
	Operation  int64      `json:"operation,omitempty"`
	Notifies   int        `json:"notifies,omitempty"`
	NextNotify *time.Time `json:"next_notify,omitempty"`
	Error      string     `json:"error,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
}

// CampaignDeviceList is one page of a campaign's devices; Next is the
// ?cursor= of the next page.
type CampaignDeviceList struct {
	Devices []CampaignDevice `json:"devices"`
	Next    string           `json:"next,omitempty"`
}

// CampaignPause is the optional body of POST /campaigns/{id}/pause.
type CampaignPause struct {
	Reason string `json:"reason,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// CampaignFrom converts a stored campaign and its counts to the API view.
func CampaignFrom(c *storage.Campaign, counts map[storage.TargetState]int) Campaign {
	out := Campaign{ID: c.ID, Name: c.Name, State: string(c.State), Reason: c.Reason, Total: c.Total, Wave: c.Wave + 1,
		Counts: map[string]int{}, LeaseOwner: c.LeaseOwner, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		DoneAt: optTime(c.DoneAt), Waves: []int{}}
	for _, s := range storage.TargetStates {
		out.Counts[string(s)] = counts[s]
		if s.Terminal() {
			out.Done += counts[s]
		}
	}
	if c.LeaseOwner != "" {
		out.LeaseUntil = optTime(c.LeaseUntil)
	}
	spec, err := fleet.Spec(c)
	if err != nil {
		return out
	}
	if spec.WaveEnds != nil {
		out.Waves = spec.WaveEnds
	}
	if len(out.Waves) > 0 {
		out.Wave = min(out.Wave, len(out.Waves))
	}
	t := spec.Template
	out.Template = CampaignTemplate{MO: t.MO, Operation: t.Operation, Node: t.Node, Params: t.Params, Timeout: durString(t.Timeout), Retry: RetryFrom(t.Retry)}
	g := spec.Target
	out.Target = CampaignTarget{All: g.All, Selector: g.Selector, Count: g.Count}
	if g.Query != nil {
		out.Target.Group, out.Target.Labels, out.Target.IDPrefix = g.Query.Group, g.Query.Labels, g.Query.IDPrefix
	}
	p := spec.Policy
	out.Policy = CampaignPolicy{Waves: p.Waves, MaxInFlight: p.MaxInFlight, NotifyRate: p.NotifyRate, NotifyBurst: p.NotifyBurst,
		MaxFailures: p.MaxFailures, MaxFailurePercent: p.MaxFailurePercent, WaveWait: durString(p.WaveWait),
		WaveGate: p.WaveGate, RenotifyInterval: durString(p.RenotifyInterval), MaxNotifies: p.MaxNotifies}
	return out
}

// CampaignDeviceFrom converts a stored campaign device to the API view.
func CampaignDeviceFrom(d *storage.CampaignDevice) CampaignDevice {
	return CampaignDevice{Device: d.DeviceID, Seq: d.Seq, State: string(d.State), Operation: d.OperationID,
		Notifies: d.Notifies, NextNotify: optTime(d.NextNotify), Error: d.Error, UpdatedAt: d.UpdatedAt, DoneAt: optTime(d.DoneAt)}
}

// duration parses an optional duration field.
func duration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, &ValidationError{Field: field, Msg: fmt.Sprintf("%q: want a duration such as 90s or 24h", s)}
	}
	return d, nil
}

// ToFleet is the fleet request r stands for; a malformed duration is a
// *ValidationError naming its field.
func (r *CampaignRequest) ToFleet() (*fleet.CampaignRequest, error) {
	out := &fleet.CampaignRequest{Name: r.Name, Paused: r.Paused}
	t := r.Template
	timeout, err := duration("template.timeout", t.Timeout)
	if err != nil {
		return nil, err
	}
	retry, err := t.Retry.ToFleet("template.retry")
	if err != nil {
		return nil, err
	}
	out.Template = fleet.Template{MO: t.MO, Operation: t.Operation, Node: t.Node, Params: t.Params, Timeout: timeout, Retry: retry}
	g := r.Target
	out.Target = fleet.Target{Devices: g.Devices, All: g.All, Selector: g.Selector}
	if g.Group != "" || len(g.Labels) > 0 || g.IDPrefix != "" {
		out.Target.Query = &storage.DeviceQuery{Group: g.Group, Labels: g.Labels, IDPrefix: g.IDPrefix}
	}
	p := r.Policy
	ww, err := duration("policy.wave_wait", p.WaveWait)
	if err != nil {
		return nil, err
	}
	ri, err := duration("policy.renotify_interval", p.RenotifyInterval)
	if err != nil {
		return nil, err
	}
	out.Policy = fleet.Policy{Waves: p.Waves, MaxInFlight: p.MaxInFlight, NotifyRate: p.NotifyRate, NotifyBurst: p.NotifyBurst,
		MaxFailures: p.MaxFailures, MaxFailurePercent: p.MaxFailurePercent, WaveWait: ww, WaveGate: p.WaveGate,
		RenotifyInterval: ri, MaxNotifies: p.MaxNotifies}
	return out, nil
}
