package storage

import (
	"context"
	"errors"
)

// MessageRead is what the DM engine reads before it handles a message: the
// device, the session (by RespURI token, or by device and SessionID) and,
// optionally, the device's pending jobs. Each part has its own error, as if
// read by GetDevice, GetSessionByToken/GetSession and PendingJobs.
type MessageRead struct {
	DeviceID  string
	SessionID string
	Token     string // when set the session is read by token
	Pending   bool   // also read PendingJobs(DeviceID, SessionID)

	Device      *Device
	DeviceErr   error
	Session     *Session
	SessionErr  error
	PendingJobs []*Job
	PendingErr  error
}

// MessageReader is an optional ability of a Store (found by type
// assertion): do the reads of a MessageRead in one round trip (PostgreSQL:
// one pipelined batch), and read several jobs at once.
type MessageReader interface {
	ReadMessage(ctx context.Context, r *MessageRead) error
	// GetJobs returns the jobs with the given IDs that exist, in any order.
	GetJobs(ctx context.Context, ids []int64) ([]*Job, error)
}

// ReadMessage fills r through s's MessageReader when it has one, and with
// the individual methods otherwise. The returned error is for failures that
// are not about one part (a lost connection); the parts' own errors are in r.
func ReadMessage(ctx context.Context, s Store, r *MessageRead) error {
	if m, ok := s.(MessageReader); ok {
		return m.ReadMessage(ctx, r)
	}
	r.Device, r.DeviceErr = s.GetDevice(ctx, r.DeviceID)
	if r.DeviceErr != nil {
		return nil
	}
	if r.Token != "" {
		r.Session, r.SessionErr = s.GetSessionByToken(ctx, r.Token)
	} else {
		r.Session, r.SessionErr = s.GetSession(ctx, r.DeviceID, r.SessionID)
	}
	if r.Pending {
		r.PendingJobs, r.PendingErr = s.PendingJobs(ctx, r.DeviceID, r.SessionID)
	}
	return nil
}

// GetJobs returns the jobs with the given IDs that exist, through s's
// MessageReader when it has one and with GetJob otherwise.
func GetJobs(ctx context.Context, s Store, ids []int64) ([]*Job, error) {
	if m, ok := s.(MessageReader); ok {
		return m.GetJobs(ctx, ids)
	}
	out := make([]*Job, 0, len(ids))
	for _, id := range ids {
		j, err := s.GetJob(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
