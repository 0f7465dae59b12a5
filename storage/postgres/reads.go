package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
)

var _ storage.MessageReader = (*Store)(nil)

// ReadMessage sends the device, session and pending-jobs queries of r in one
// pipelined round trip and reads each answer as its own method would.
func (s *Store) ReadMessage(ctx context.Context, r *storage.MessageRead) error {
	var b pgx.Batch
	b.Queue(`SELECT `+deviceCols+` FROM devices WHERE id = $1`, r.DeviceID)
	if r.Token != "" {
		b.Queue(`SELECT `+sessionCols+` FROM sessions WHERE token = $1 AND token <> ''`, r.Token)
	} else {
		b.Queue(`SELECT `+sessionCols+` FROM sessions WHERE device_id = $1 AND session_id = $2`, r.DeviceID, r.SessionID)
	}
	if r.Pending {
		b.Queue(`SELECT `+jobCols+` FROM jobs WHERE device_id = $1
		AND state IN ('queued', 'sent') AND (state = 'queued' OR session_id <> $2) ORDER BY id LIMIT `+fmt.Sprint(maxLimit),
			r.DeviceID, r.SessionID)
	}
	br := s.db.SendBatch(ctx, &b)
	r.Device, r.DeviceErr = s.scanDevice(br.QueryRow())
	r.Session, r.SessionErr = scanSession(br.QueryRow())
	if r.Pending {
		rows, err := br.Query()
		r.PendingJobs, r.PendingErr = collect(rows, err, scanJob)
	}
	return wrap(br.Close())
}

// GetJobs reads the jobs with the given IDs in one query.
func (s *Store) GetJobs(ctx context.Context, ids []int64) ([]*storage.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ANY($1) ORDER BY id`, ids)
	return collect(rows, err, scanJob)
}
