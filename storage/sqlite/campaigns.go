package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Campaigns are written on the writer (inside the caller's batch, or one of
// their own) with the statements shared in sqlcommon; the single writer
// makes every conditional update atomic.

var _ storage.CampaignStore = (*Store)(nil)

func scanCampaign(sc scanner) (*storage.Campaign, error) {
	var c storage.Campaign
	var spec, state string
	var ws, wd, lu, created, updated, done sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Name, &spec, &state, &c.Reason, &c.Total, &c.Wave, &ws, &wd, &c.FailAck,
		&c.LeaseOwner, &lu, &c.Version, &created, &updated, &done); err != nil {
		return nil, wrap(err)
	}
	c.Spec, c.State = []byte(spec), storage.CampaignState(state)
	c.WaveStartedAt, c.WaveDoneAt, c.LeaseUntil = fromMicros(ws), fromMicros(wd), fromMicros(lu)
	c.CreatedAt, c.UpdatedAt, c.DoneAt = fromMicros(created), fromMicros(updated), fromMicros(done)
	return &c, nil
}

func scanCampaignDevice(sc scanner) (*storage.CampaignDevice, error) {
	var d storage.CampaignDevice
	var state string
	var next, updated, done sql.NullInt64
	if err := sc.Scan(&d.CampaignID, &d.Seq, &d.DeviceID, &state, &d.OperationID, &d.Notifies, &next, &d.Error,
		&d.Version, &updated, &done); err != nil {
		return nil, wrap(err)
	}
	d.State = storage.TargetState(state)
	d.NextNotify, d.UpdatedAt, d.DoneAt = fromMicros(next), fromMicros(updated), fromMicros(done)
	return &d, nil
}

func microsAny(t time.Time) any { return micros(t) }

// CreateCampaign implements storage.CampaignStore.
func (s *Store) CreateCampaign(ctx context.Context, c *storage.Campaign) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateCampaign(ctx, c) })
	}
	if err := sqlcommon.CheckCampaign(c); err != nil {
		return err
	}
	if c.State == "" {
		c.State = storage.CampaignCreating
	}
	t := now()
	var id int64
	err := s.tx.QueryRowContext(ctx, q(sqlcommon.InsertCampaign), c.Name, string(c.Spec), string(c.State), c.Reason, c.Total,
		c.Wave, micros(c.WaveStartedAt), micros(c.WaveDoneAt), c.FailAck, t.UnixMicro(), micros(c.DoneAt)).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = id, 1, t, t
	c.WaveStartedAt, c.WaveDoneAt, c.DoneAt = norm(c.WaveStartedAt), norm(c.WaveDoneAt), norm(c.DoneAt)
	return nil
}

// GetCampaign implements storage.CampaignStore.
func (s *Store) GetCampaign(ctx context.Context, id int64) (*storage.Campaign, error) {
	return scanCampaign(s.use(ctx, s.st.getCampaign).QueryRowContext(ctx, id))
}

// ListCampaigns implements storage.CampaignStore.
func (s *Store) ListCampaigns(ctx context.Context, f storage.CampaignFilter) ([]*storage.Campaign, error) {
	query, args := sqlcommon.ListCampaigns(f, true)
	rows, err := s.reader().QueryContext(ctx, query, args...)
	return collect(rows, err, scanCampaign)
}

// UpdateCampaign implements storage.CampaignStore.
func (s *Store) UpdateCampaign(ctx context.Context, c *storage.Campaign) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.UpdateCampaign(ctx, c) })
	}
	if err := sqlcommon.CheckCampaign(c); err != nil {
		return err
	}
	t := now()
	err := affected(s.use(ctx, s.st.updateCampaign).ExecContext(ctx, c.Name, string(c.Spec), string(c.State), c.Reason,
		c.Total, c.Wave, micros(c.WaveStartedAt), micros(c.WaveDoneAt), c.FailAck, micros(c.DoneAt), t.UnixMicro(), c.ID, c.Version))
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

// campaignMiss tells a conditional update that changed nothing apart:
// ErrNotFound for a missing campaign, ErrConflict otherwise.
func (s *Store) campaignMiss(ctx context.Context, id int64) error {
	var n int
	if err := s.reader().QueryRowContext(ctx, q(sqlcommon.CampaignExists), id).Scan(&n); err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: campaign %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: campaign %d changed meanwhile", storage.ErrConflict, id)
}

// LeaseCampaign implements storage.CampaignStore.
func (s *Store) LeaseCampaign(ctx context.Context, id int64, owner string, at, until time.Time) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.LeaseCampaign(ctx, id, owner, at, until) })
	}
	if err := checkText("lease owner", owner); err != nil {
		return err
	}
	err := affected(s.use(ctx, s.st.leaseCampaign).ExecContext(ctx, id, owner, until.UnixMicro(), at.UnixMicro()))
	if errors.Is(err, storage.ErrNotFound) {
		return s.campaignMiss(ctx, id)
	}
	return err
}

// ReleaseCampaign implements storage.CampaignStore.
func (s *Store) ReleaseCampaign(ctx context.Context, id int64, owner string) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.ReleaseCampaign(ctx, id, owner) })
	}
	_, err := s.tx.ExecContext(ctx, q(sqlcommon.ReleaseCampaign), id, owner)
	return wrap(err)
}

// DeleteCampaign implements storage.CampaignStore.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.DeleteCampaign(ctx, id) })
	}
	return affected(s.tx.ExecContext(ctx, q(sqlcommon.DeleteCampaign), id))
}

// campaignDeviceRows is how many rows one multi-row insert carries.
const campaignDeviceRows = 256

// AddCampaignDevices implements storage.CampaignStore.
func (s *Store) AddCampaignDevices(ctx context.Context, campaignID int64, ds []storage.CampaignDevice) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.AddCampaignDevices(ctx, campaignID, ds) })
	}
	var n int
	if err := s.tx.QueryRowContext(ctx, q(sqlcommon.CampaignExists), campaignID).Scan(&n); err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: campaign %d", storage.ErrNotFound, campaignID)
	}
	// The campaign and the time are the same for every row: written into
	// the statement, three values per row are bound.
	const head = `INSERT INTO campaign_devices (campaign_id, seq, device_id, state, updated_at) VALUES `
	row := fmt.Sprintf("(%d, ?, ?, ?, %d)", campaignID, now().UnixMicro())
	cols := head
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, 3*campaignDeviceRows)
	for lo := 0; lo < len(ds); lo += campaignDeviceRows {
		hi := min(lo+campaignDeviceRows, len(ds))
		args = args[:0]
		for i := lo; i < hi; i++ {
			d := &ds[i]
			if err := sqlcommon.CheckCampaignDevice(d); err != nil {
				return err
			}
			st := d.State
			if st == "" {
				st = storage.TargetPending
			}
			args = append(args, d.Seq, d.DeviceID, string(st))
		}
		var err error
		if hi-lo == campaignDeviceRows {
			if full == nil {
				if full, err = s.tx.PrepareContext(ctx, cols+strings.TrimSuffix(strings.Repeat(row+", ", campaignDeviceRows), ", ")); err != nil {
					return wrap(err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = s.tx.ExecContext(ctx, cols+strings.TrimSuffix(strings.Repeat(row+", ", hi-lo), ", "), args...)
		}
		if err != nil {
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
}

// ListCampaignDevices implements storage.CampaignStore.
func (s *Store) ListCampaignDevices(ctx context.Context, f storage.CampaignDeviceFilter) ([]*storage.CampaignDevice, error) {
	query, args := sqlcommon.ListCampaignDevices(f, true, microsAny)
	rows, err := s.reader().QueryContext(ctx, query, args...)
	return collect(rows, err, scanCampaignDevice)
}

// TransitionCampaignDevice implements storage.CampaignStore.
func (s *Store) TransitionCampaignDevice(ctx context.Context, d *storage.CampaignDevice) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.TransitionCampaignDevice(ctx, d) })
	}
	if err := sqlcommon.CheckCampaignDevice(d); err != nil {
		return err
	}
	t := now()
	err := affected(s.use(ctx, s.st.transitionCD).ExecContext(ctx, string(d.State), d.OperationID, d.Notifies,
		micros(d.NextNotify), d.Error, micros(d.DoneAt), t.UnixMicro(), d.CampaignID, d.Seq, d.Version))
	if errors.Is(err, storage.ErrNotFound) {
		var n int
		if err := s.tx.QueryRowContext(ctx, q(sqlcommon.CampaignDeviceExists), d.CampaignID, d.Seq).Scan(&n); err != nil {
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
	var rows *sql.Rows
	var err error
	if len(states) == 0 {
		rows, err = s.use(ctx, s.st.countCD).QueryContext(ctx, campaignID, fromSeq, belowSeq)
	} else {
		rows, err = s.reader().QueryContext(ctx, sqlcommon.CountCampaignDevicesIn(states, true), campaignID, fromSeq, belowSeq)
	}
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
	var n int
	err := s.solo(ctx, func(in *Store) error {
		n = 0
		t := now().UnixMicro()
		for _, stmt := range []string{sqlcommon.SyncCampaignDevices, sqlcommon.SyncGoneCampaignDevices} {
			args := []any{campaignID, t, at.UnixMicro()}
			if stmt == sqlcommon.SyncGoneCampaignDevices {
				args = []any{campaignID, at.UnixMicro()}
			}
			res, err := in.tx.ExecContext(ctx, q(stmt), args...)
			if err != nil {
				return wrap(err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return wrap(err)
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

// SetCampaignDevices implements storage.CampaignStore.
func (s *Store) SetCampaignDevices(ctx context.Context, campaignID int64, to storage.TargetState, reason string, at time.Time, from ...storage.TargetState) (int, error) {
	if !to.Valid() {
		return 0, fmt.Errorf("storage: invalid campaign device state %q", to)
	}
	if err := checkText("reason", reason); err != nil {
		return 0, err
	}
	var n int
	err := s.solo(ctx, func(in *Store) error {
		query, fromArgs := sqlcommon.SetCampaignDevices(from, true)
		var done any
		if to.Terminal() {
			done = at.UnixMicro()
		}
		res, err := in.tx.ExecContext(ctx, query, append([]any{campaignID, string(to), reason, done, now().UnixMicro()}, fromArgs...)...)
		if err != nil {
			return wrap(err)
		}
		k, err := res.RowsAffected()
		n = int(k)
		return wrap(err)
	})
	return n, err
}
