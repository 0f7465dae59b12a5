package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/omadm/omadm/storage"
)

var _ storage.MessageReader = (*Store)(nil)

// ReadMessage reads the device and the session of a DM message in one
// statement (a LEFT JOIN, so one read transaction and one pass over a page
// cache that every commit of the writer empties), then the pending jobs when
// asked. Each part gets the error its own method would give.
func (s *Store) ReadMessage(ctx context.Context, r *storage.MessageRead) error {
	if s.tx == nil && s.onWriter(func(w *Store) { w.readMessage(ctx, r) }) {
		return nil
	}
	s.readMessage(ctx, r)
	return nil
}

func (s *Store) readMessage(ctx context.Context, r *storage.MessageRead) {
	var row *sql.Row
	if r.Token != "" {
		row = s.use(ctx, s.st.readByToken).QueryRowContext(ctx, r.Token, r.DeviceID)
	} else {
		row = s.use(ctx, s.st.readByID).QueryRowContext(ctx, r.SessionID, r.DeviceID)
	}
	var ss nullSession
	r.Device, r.DeviceErr = s.scanDevice(withExtra{row, ss.dests()})
	switch {
	case r.DeviceErr == nil:
		r.Session, r.SessionErr = ss.session()
	case errors.Is(r.DeviceErr, storage.ErrNotFound):
		// No device row to join the session to: read it alone, as
		// GetSession/GetSessionByToken would.
		if r.Token != "" {
			r.Session, r.SessionErr = s.GetSessionByToken(ctx, r.Token)
		} else {
			r.Session, r.SessionErr = s.GetSession(ctx, r.DeviceID, r.SessionID)
		}
	default:
		r.SessionErr = r.DeviceErr
	}
	if r.Pending {
		r.PendingJobs, r.PendingErr = s.PendingJobs(ctx, r.DeviceID, r.SessionID)
	}
}

// GetJobs reads the jobs with the given IDs in one statement (the IDs
// travel as a JSON array).
func (s *Store) GetJobs(ctx context.Context, ids []int64) ([]*storage.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	var jobs []*storage.Job
	read := func(s *Store) {
		rows, qerr := s.use(ctx, s.st.getJobs).QueryContext(ctx, string(arg))
		jobs, err = collect(rows, qerr, scanJob)
	}
	if s.tx != nil || !s.onWriter(read) {
		read(s)
	}
	return jobs, err
}

// withExtra is a scanner that appends extra destinations to every Scan, so
// that scanDevice reads the device columns of a joined row and the rest
// lands in the extra ones.
type withExtra struct {
	row   *sql.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error {
	return w.row.Scan(append(dest, w.extra...)...)
}

// nullSession receives the session columns of a LEFT JOIN (all NULL when
// there is no session).
type nullSession struct {
	deviceID, sessionID, token sql.NullString
	state                      []byte
	version, closed            sql.NullInt64
	created, updated           sql.NullInt64
}

func (n *nullSession) dests() []any {
	return []any{&n.deviceID, &n.sessionID, &n.token, &n.state, &n.version, &n.closed, &n.created, &n.updated}
}

func (n *nullSession) session() (*storage.Session, error) {
	if !n.deviceID.Valid {
		return nil, storage.ErrNotFound
	}
	return &storage.Session{DeviceID: n.deviceID.String, SessionID: n.sessionID.String, Token: n.token.String,
		State: n.state, Version: n.version.Int64, Closed: n.closed.Int64 != 0,
		CreatedAt: fromMicros(n.created), UpdatedAt: fromMicros(n.updated)}, nil
}

// prefixed qualifies every column of a comma-separated list with p ("d.").
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = p + c
	}
	return strings.Join(parts, ", ")
}
