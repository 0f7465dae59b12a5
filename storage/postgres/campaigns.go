package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Campaigns use the statements shared with SQLite (sqlcommon). Every change
// is one conditional UPDATE (a row lock in PostgreSQL), so of several nodes
// making the same change exactly one changes the row.

var _ storage.CampaignStore = (*Store)(nil)

func scanCampaign(row pgx.Row) (*storage.Campaign, error) {
	var c storage.Campaign
	var spec, state string
	var ws, wd, lu, created, updated, done pgtype.Timestamptz
	if err := row.Scan(&c.ID, &c.Name, &spec, &state, &c.Reason, &c.Total, &c.Wave, &ws, &wd, &c.FailAck,
		&c.LeaseOwner, &lu, &c.Version, &created, &updated, &done); err != nil {
		return nil, wrap(err)
	}
	c.Spec, c.State = []byte(spec), storage.CampaignState(state)
	c.WaveStartedAt, c.WaveDoneAt, c.LeaseUntil = fromTS(ws), fromTS(wd), fromTS(lu)
	c.CreatedAt, c.UpdatedAt, c.DoneAt = fromTS(created), fromTS(updated), fromTS(done)
	return &c, nil
}

func scanCampaignDevice(row pgx.Row) (*storage.CampaignDevice, error) {
	var d storage.CampaignDevice
	var state string
	var next, updated, done pgtype.Timestamptz
	if err := row.Scan(&d.CampaignID, &d.Seq, &d.DeviceID, &state, &d.OperationID, &d.Notifies, &next, &d.Error,
		&d.Version, &updated, &done); err != nil {
		return nil, wrap(err)
	}
	d.State = storage.TargetState(state)
	d.NextNotify, d.UpdatedAt, d.DoneAt = fromTS(next), fromTS(updated), fromTS(done)
	return &d, nil
}

func tsAny(t time.Time) any { return ts(norm(t)) }

// CreateCampaign implements storage.CampaignStore.
func (s *Store) CreateCampaign(ctx context.Context, c *storage.Campaign) error {
	if err := sqlcommon.CheckCampaign(c); err != nil {
		return err
	}
	if c.State == "" {
		c.State = storage.CampaignCreating
	}
	t := norm(time.Now())
	var id int64
	err := s.db.QueryRow(ctx, sqlcommon.InsertCampaign, c.Name, string(c.Spec), string(c.State), c.Reason, c.Total,
		c.Wave, tsAny(c.WaveStartedAt), tsAny(c.WaveDoneAt), c.FailAck, t, tsAny(c.DoneAt)).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, t, t
	c.WaveStartedAt, c.WaveDoneAt, c.DoneAt = norm(c.WaveStartedAt), norm(c.WaveDoneAt), norm(c.DoneAt)
	return nil
}

// GetCampaign implements storage.CampaignStore.
func (s *Store) GetCampaign(ctx context.Context, id int64) (*storage.Campaign, error) {
	return scanCampaign(s.db.QueryRow(ctx, sqlcommon.GetCampaign, id))
}

// ListCampaigns implements storage.CampaignStore.
func (s *Store) ListCampaigns(ctx context.Context, f storage.CampaignFilter) ([]*storage.Campaign, error) {
	query, args := sqlcommon.ListCampaigns(f, false)
	rows, err := s.db.Query(ctx, query, args...)
	return collect(rows, err, scanCampaign)
}

func (s *Store) campaignMiss(ctx context.Context, id int64) error {
	var n int
	if err := s.db.QueryRow(ctx, sqlcommon.CampaignExists, id).Scan(&n); err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: campaign %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: campaign %d changed meanwhile", storage.ErrConflict, id)
}

// UpdateCampaign implements storage.CampaignStore.
func (s *Store) UpdateCampaign(ctx context.Context, c *storage.Campaign) error {
	if err := sqlcommon.CheckCampaign(c); err != nil {
		return err
	}
	t := norm(time.Now())
	err := affected(s.db.Exec(ctx, sqlcommon.UpdateCampaign, c.Name, string(c.Spec), string(c.State), c.Reason,
		c.Total, c.Wave, tsAny(c.WaveStartedAt), tsAny(c.WaveDoneAt), c.FailAck, tsAny(c.DoneAt), t, c.ID, c.Version))
	if errors.Is(err, storage.ErrNotFound) {
		return s.campaignMiss(ctx, c.ID)
	}
	if err != nil {
		return err
	}
	c.Version++
	c.UpdatedAt = t
	c.WaveStartedAt, c.WaveDoneAt, c.DoneAt = norm(c.WaveStartedAt), norm(c.WaveDoneAt), norm(c.DoneAt)
	return nil
}

// LeaseCampaign implements storage.CampaignStore.
func (s *Store) LeaseCampaign(ctx context.Context, id int64, owner string, at, until time.Time) error {
	if err := sqlcommon.CheckText("lease owner", owner); err != nil {
		return err
	}
	err := affected(s.db.Exec(ctx, sqlcommon.LeaseCampaign, id, owner, norm(until), norm(at)))
	if errors.Is(err, storage.ErrNotFound) {
		return s.campaignMiss(ctx, id)
	}
	return err
}

// ReleaseCampaign implements storage.CampaignStore.
func (s *Store) ReleaseCampaign(ctx context.Context, id int64, owner string) error {
	_, err := s.db.Exec(ctx, sqlcommon.ReleaseCampaign, id, owner)
	return wrap(err)
}

// DeleteCampaign implements storage.CampaignStore.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	return affected(s.db.Exec(ctx, sqlcommon.DeleteCampaign, id))
}

// campaignDeviceChunk is how many rows one INSERT … SELECT unnest carries.
const campaignDeviceChunk = 10000

// AddCampaignDevices implements storage.CampaignStore: arrays of the rows'
// values, unnested by one INSERT per chunk.
func (s *Store) AddCampaignDevices(ctx context.Context, campaignID int64, ds []storage.CampaignDevice) error {
	return s.Batch(ctx, func(in storage.Store) error {
		st := in.(*Store)
		var n int
		if err := st.db.QueryRow(ctx, sqlcommon.CampaignExists, campaignID).Scan(&n); err != nil {
			return wrap(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: campaign %d", storage.ErrNotFound, campaignID)
		}
		t := norm(time.Now())
		for lo := 0; lo < len(ds); lo += campaignDeviceChunk {
			hi := min(lo+campaignDeviceChunk, len(ds))
			seqs := make([]int32, 0, hi-lo)
			ids := make([]string, 0, hi-lo)
			states := make([]string, 0, hi-lo)
			for i := lo; i < hi; i++ {
				d := &ds[i]
				if err := sqlcommon.CheckCampaignDevice(d); err != nil {
					return err
				}
				state := d.State
				if state == "" {
					state = storage.TargetPending
				}
				seqs, ids, states = append(seqs, int32(d.Seq)), append(ids, d.DeviceID), append(states, string(state))
			}
			if _, err := st.db.Exec(ctx, `INSERT INTO campaign_devices (campaign_id, seq, device_id, state, updated_at)
				SELECT $1, u.seq, u.device_id, u.state, $5 FROM unnest($2::integer[], $3::text[], $4::text[]) AS u (seq, device_id, state)`,
				campaignID, seqs, ids, states, t); err != nil {
				return wrap(err)
			}
		}
		for i := range ds {
			ds[i].CampaignID, ds[i].Version = campaignID, 1
			if ds[i].State == "" {
				ds[i].State = storage.TargetPending
			}
		}
		return nil
	})
}

// ListCampaignDevices implements storage.CampaignStore.
func (s *Store) ListCampaignDevices(ctx context.Context, f storage.CampaignDeviceFilter) ([]*storage.CampaignDevice, error) {
	query, args := sqlcommon.ListCampaignDevices(f, false, tsAny)
	rows, err := s.db.Query(ctx, query, args...)
	return collect(rows, err, scanCampaignDevice)
}

// TransitionCampaignDevice implements storage.CampaignStore.
func (s *Store) TransitionCampaignDevice(ctx context.Context, d *storage.CampaignDevice) error {
	if err := sqlcommon.CheckCampaignDevice(d); err != nil {
		return err
	}
	t := norm(time.Now())
	err := affected(s.db.Exec(ctx, sqlcommon.TransitionCampaignDevice, string(d.State), d.OperationID, d.Notifies,
		tsAny(d.NextNotify), d.Error, tsAny(d.DoneAt), t, d.CampaignID, d.Seq, d.Version))
	if errors.Is(err, storage.ErrNotFound) {
		var n int
		if err := s.db.QueryRow(ctx, sqlcommon.CampaignDeviceExists, d.CampaignID, d.Seq).Scan(&n); err != nil {
			return wrap(err)
		}
		if n == 0 {
			return fmt.Errorf("%w: campaign %d has no device at %d", storage.ErrNotFound, d.CampaignID, d.Seq)
		}
		return fmt.Errorf("%w: campaign %d device %s changed meanwhile", storage.ErrConflict, d.CampaignID, d.DeviceID)
	}
	if err != nil {
		return err
	}
	d.Version++
	d.UpdatedAt, d.NextNotify, d.DoneAt = t, norm(d.NextNotify), norm(d.DoneAt)
	return nil
}

// CountCampaignDevices implements storage.CampaignStore.
func (s *Store) CountCampaignDevices(ctx context.Context, campaignID int64, fromSeq, belowSeq int, states ...storage.TargetState) (map[storage.TargetState]int, error) {
	if belowSeq <= 0 {
		belowSeq = sqlcommon.NoSeqBound
	}
	query := sqlcommon.CountCampaignDevices
	if len(states) > 0 {
		query = sqlcommon.CountCampaignDevicesIn(states, false)
	}
	rows, err := s.db.Query(ctx, query, campaignID, fromSeq, belowSeq)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := map[storage.TargetState]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, wrap(err)
		}
		out[storage.TargetState(st)] = n
	}
	return out, wrap(rows.Err())
}

// SyncCampaignDevices implements storage.CampaignStore.
func (s *Store) SyncCampaignDevices(ctx context.Context, campaignID int64, at time.Time) (int, error) {
	t := norm(time.Now())
	a, err := s.db.Exec(ctx, sqlcommon.SyncCampaignDevices, campaignID, t, norm(at))
	if err != nil {
		return 0, wrap(err)
	}
	b, err := s.db.Exec(ctx, sqlcommon.SyncGoneCampaignDevices, campaignID, norm(at))
	if err != nil {
		return int(a.RowsAffected()), wrap(err)
	}
	return int(a.RowsAffected() + b.RowsAffected()), nil
}

// SetCampaignDevices implements storage.CampaignStore.
func (s *Store) SetCampaignDevices(ctx context.Context, campaignID int64, to storage.TargetState, reason string, at time.Time, from ...storage.TargetState) (int, error) {
	if !to.Valid() {
		return 0, fmt.Errorf("storage: invalid campaign device state %q", to)
	}
	if err := sqlcommon.CheckText("reason", reason); err != nil {
		return 0, err
	}
	query, fromArgs := sqlcommon.SetCampaignDevices(from, false)
	var done any
	if to.Terminal() {
		done = norm(at)
	}
	tag, err := s.db.Exec(ctx, query, append([]any{campaignID, string(to), reason, done, norm(time.Now())}, fromArgs...)...)
	if err != nil {
		return 0, wrap(err)
	}
	return int(tag.RowsAffected()), nil
}
