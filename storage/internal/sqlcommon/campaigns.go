package sqlcommon

import (
	"fmt"
	"strings"
	"time"

	"github.com/omadm/omadm/storage"
)

// The campaign statements, shared by both dialects ($N placeholders; see
// Dialect). Times are passed through the backend's own converter.

// CampaignCols are the campaigns columns in the order the backends scan them.
const CampaignCols = `id, name, spec, state, reason, total, wave, wave_started_at, wave_done_at, fail_ack, lease_owner, lease_until, version, created_at, updated_at, done_at`

// CampaignDeviceCols are the campaign_devices columns in scan order.
const CampaignDeviceCols = `campaign_id, seq, device_id, state, operation_id, notifies, next_notify, error, version, updated_at, done_at`

// Campaign statements.
const (
	InsertCampaign = `INSERT INTO campaigns (name, spec, state, reason, total, wave, wave_started_at, wave_done_at, fail_ack,
		version, created_at, updated_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10, $11) RETURNING id`
	GetCampaign    = `SELECT ` + CampaignCols + ` FROM campaigns WHERE id = $1`
	UpdateCampaign = `UPDATE campaigns SET name = $1, spec = $2, state = $3, reason = $4, total = $5, wave = $6,
		wave_started_at = $7, wave_done_at = $8, fail_ack = $9, done_at = $10, updated_at = $11, version = version + 1
		WHERE id = $12 AND version = $13`
	CampaignExists = `SELECT count(*) FROM campaigns WHERE id = $1`
	LeaseCampaign  = `UPDATE campaigns SET lease_owner = $2, lease_until = $3
		WHERE id = $1 AND (lease_owner = '' OR lease_owner = $2 OR lease_until IS NULL OR lease_until < $4)`
	ReleaseCampaign = `UPDATE campaigns SET lease_owner = '', lease_until = NULL WHERE id = $1 AND lease_owner = $2`
	DeleteCampaign  = `DELETE FROM campaigns WHERE id = $1`
	// TransitionCampaignDevice's arguments: state, operation_id, notifies,
	// next_notify, error, done_at, updated_at, campaign_id, seq, version.
	TransitionCampaignDevice = `UPDATE campaign_devices SET state = $1, operation_id = $2, notifies = $3, next_notify = $4,
		error = $5, done_at = $6, updated_at = $7, version = version + 1 WHERE campaign_id = $8 AND seq = $9 AND version = $10`
	CampaignDeviceExists = `SELECT count(*) FROM campaign_devices WHERE campaign_id = $1 AND seq = $2`
	CountCampaignDevices = `SELECT state, count(*) FROM campaign_devices WHERE campaign_id = $1 AND seq >= $2 AND seq < $3 GROUP BY state`
	// SyncCampaignDevices moves open devices to their operation's state
	// (arguments: campaign id, updated_at, the caller's time). A device
	// back from in progress to notified (its operation's next attempt was
	// queued) is due for a notification at the caller's time.
	SyncCampaignDevices = `UPDATE campaign_devices SET
		state = CASE o.state WHEN 'queued' THEN 'notified' WHEN 'sent' THEN 'in_progress' WHEN 'accepted' THEN 'in_progress' WHEN 'retry_wait' THEN 'in_progress' ELSE o.state END,
		error = CASE WHEN o.state IN ('failed', 'timed_out', 'cancelled') THEN o.error ELSE campaign_devices.error END,
		done_at = o.done_at,
		next_notify = CASE WHEN o.state = 'queued' AND campaign_devices.state = 'in_progress' THEN $3
			WHEN o.state IN ('queued', 'sent', 'accepted', 'retry_wait') THEN campaign_devices.next_notify ELSE NULL END,
		updated_at = $2, version = campaign_devices.version + 1
		FROM operations o
		WHERE campaign_devices.campaign_id = $1 AND campaign_devices.state IN ('notified', 'in_progress')
		AND o.id = campaign_devices.operation_id
		AND campaign_devices.state <> CASE o.state WHEN 'queued' THEN 'notified' WHEN 'sent' THEN 'in_progress' WHEN 'accepted' THEN 'in_progress' WHEN 'retry_wait' THEN 'in_progress' ELSE o.state END`
	// SyncGoneCampaignDevices ends open devices whose operation is gone
	// (arguments: campaign id, time).
	SyncGoneCampaignDevices = `UPDATE campaign_devices SET state = 'skipped', error = 'its operation was deleted',
		done_at = $2, next_notify = NULL, updated_at = $2, version = version + 1
		WHERE campaign_id = $1 AND state IN ('notified', 'in_progress')
		AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.id = campaign_devices.operation_id)`
)

// NoSeqBound stands for "no upper bound" on Seq.
const NoSeqBound = 1<<31 - 1

// ListCampaigns builds ListCampaigns' query and arguments.
func ListCampaigns(f storage.CampaignFilter, sqlite bool) (string, []any) {
	q := `SELECT ` + CampaignCols + ` FROM campaigns WHERE id > $1`
	args := []any{f.AfterID}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			args = append(args, string(s))
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += " AND state IN (" + strings.Join(ph, ", ") + ")"
	}
	args = append(args, Limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return Dialect(q, sqlite), args
}

// ListCampaignDevices builds ListCampaignDevices' query and arguments; tm
// converts a time to the backend's stored form.
func ListCampaignDevices(f storage.CampaignDeviceFilter, sqlite bool, tm func(time.Time) any) (string, []any) {
	below := f.BelowSeq
	if below <= 0 {
		below = NoSeqBound
	}
	q := `SELECT ` + CampaignDeviceCols + ` FROM campaign_devices WHERE campaign_id = $1 AND seq >= $2 AND seq < $3`
	args := []any{f.CampaignID, f.FromSeq, below}
	if len(f.States) > 0 {
		// The states are written into the statement (valid names only),
		// so that the partial index of the open states serves a query for
		// them.
		q += " AND state IN (" + stateList(f.States) + ")"
	}
	if !f.NotifyDue.IsZero() {
		args = append(args, tm(f.NotifyDue))
		q += fmt.Sprintf(" AND next_notify IS NOT NULL AND next_notify <= $%d", len(args))
	}
	args = append(args, Limit(f.Limit))
	q += fmt.Sprintf(" ORDER BY seq LIMIT $%d", len(args))
	return Dialect(q, sqlite), args
}

// CountCampaignDevicesIn is CountCampaignDevices for some states, written
// into the statement (valid names only) so that the partial indexes of the
// in-flight and the failed states serve it.
func CountCampaignDevicesIn(states []storage.TargetState, sqlite bool) string {
	return Dialect(`SELECT state, count(*) FROM campaign_devices WHERE campaign_id = $1 AND seq >= $2 AND seq < $3 AND state IN (`+
		stateList(states)+`) GROUP BY state`, sqlite)
}

// stateList is states as SQL literals (valid names only; NULL for none).
func stateList(states []storage.TargetState) string {
	lit := make([]string, 0, len(states))
	for _, s := range states {
		if s.Valid() {
			lit = append(lit, "'"+string(s)+"'")
		}
	}
	if len(lit) == 0 {
		return "NULL"
	}
	return strings.Join(lit, ", ")
}

// SetCampaignDevices builds SetCampaignDevices' statement: arguments are
// the campaign id, the new state, the reason, done_at (NULL when the state
// is not terminal), updated_at, then the from-states.
func SetCampaignDevices(from []storage.TargetState, sqlite bool) (string, []any) {
	ph := make([]string, len(from))
	args := make([]any, len(from))
	for i, s := range from {
		ph[i] = fmt.Sprintf("$%d", 6+i)
		args[i] = string(s)
	}
	if len(from) == 0 {
		ph = []string{"NULL"}
	}
	q := `UPDATE campaign_devices SET state = $2, error = $3, done_at = $4, next_notify = CASE WHEN $4 IS NULL THEN next_notify ELSE NULL END,
		updated_at = $5, version = version + 1 WHERE campaign_id = $1 AND state IN (` + strings.Join(ph, ", ") + `)`
	if !sqlite {
		q = strings.ReplaceAll(q, "$4", "$4::timestamptz")
	}
	return Dialect(q, sqlite), args
}

// CheckCampaign rejects a campaign a SQL text column cannot hold.
func CheckCampaign(c *storage.Campaign) error {
	if err := CheckText("campaign name", c.Name, "campaign spec", string(c.Spec), "campaign reason", c.Reason); err != nil {
		return err
	}
	if len(c.Spec) > storage.MaxCampaignSpec {
		return fmt.Errorf("storage: campaign spec of %d bytes (at most %d)", len(c.Spec), storage.MaxCampaignSpec)
	}
	if c.State != "" && !c.State.Valid() {
		return fmt.Errorf("storage: invalid campaign state %q", c.State)
	}
	return nil
}

// CheckCampaignDevice rejects a campaign device a SQL column cannot hold.
func CheckCampaignDevice(d *storage.CampaignDevice) error {
	if err := CheckText("campaign device id", d.DeviceID, "campaign device error", d.Error); err != nil {
		return err
	}
	if d.State != "" && !d.State.Valid() {
		return fmt.Errorf("storage: invalid campaign device state %q", d.State)
	}
	return nil
}
