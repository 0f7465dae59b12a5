package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
)

var _ storage.MessageReader = (*Store)(nil)

// ReadMessage sends the device and session (one joined statement) and
// pending-jobs queries of r in one pipelined round trip and reads each
// answer as its own method would.
func (s *Store) ReadMessage(ctx context.Context, r *storage.MessageRead) error {
	var b pgx.Batch
	if r.Token != "" {
		b.Queue(readByToken, r.DeviceID, r.Token)
	} else {
		b.Queue(readByID, r.DeviceID, r.SessionID)
	}
	if r.Pending {
		b.Queue(`SELECT `+jobCols+` FROM jobs WHERE device_id = $1
		AND state IN ('queued', 'sent') AND (state = 'queued' OR session_id <> $2) ORDER BY id LIMIT `+fmt.Sprint(maxLimit),
			r.DeviceID, r.SessionID)
	}
	br := s.db.SendBatch(ctx, &b)
	var ns nullSession
	r.Device, r.DeviceErr = s.scanDevice(withExtra{br.QueryRow(), ns.dests()})
	if r.DeviceErr == nil {
		r.Session, r.SessionErr = ns.session()
	} else {
		r.SessionErr = r.DeviceErr
	}
	if r.Pending {
		rows, err := br.Query()
		r.PendingJobs, r.PendingErr = collect(rows, err, scanJob)
	}
	if err := br.Close(); err != nil {
		return wrap(err)
	}
	if errors.Is(r.DeviceErr, storage.ErrNotFound) {
		// No device row to join the session to: read it alone, as
		// GetSession/GetSessionByToken would (a message of an unknown
		// device, rare).
		if r.Token != "" {
			r.Session, r.SessionErr = s.GetSessionByToken(ctx, r.Token)
		} else {
			r.Session, r.SessionErr = s.GetSession(ctx, r.DeviceID, r.SessionID)
		}
	}
	return nil
}

// The device and the session of a message in one statement (a LEFT JOIN:
// the session columns are NULL when there is none). By token the session
// may belong to another device; the engine refuses it then.
var (
	readByID = `SELECT ` + prefixed("d.", deviceCols) + `, ` + prefixed("s.", sessionCols) + `
		FROM devices d LEFT JOIN sessions s ON s.device_id = d.id AND s.session_id = $2 WHERE d.id = $1`
	readByToken = `SELECT ` + prefixed("d.", deviceCols) + `, ` + prefixed("s.", sessionCols) + `
		FROM devices d LEFT JOIN sessions s ON s.token = $2 AND s.token <> '' WHERE d.id = $1`
)

// prefixed qualifies every column of a comma-separated list with p ("d.").
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = p + c
	}
	return strings.Join(parts, ", ")
}

// withExtra is a row that appends extra destinations to every Scan, so
// that scanDevice reads the device columns of a joined row and the rest
// lands in the extra ones.
type withExtra struct {
	row   pgx.Row
	extra []any
}

func (w withExtra) Scan(dest ...any) error {
	return w.row.Scan(append(dest, w.extra...)...)
}

// nullSession receives the session columns of a LEFT JOIN (all NULL when
// there is no session).
type nullSession struct {
	deviceID, sessionID, token pgtype.Text
	state                      []byte
	version                    pgtype.Int8
	closed                     pgtype.Bool
	created, updated           pgtype.Timestamptz
}

func (n *nullSession) dests() []any {
	return []any{&n.deviceID, &n.sessionID, &n.token, &n.state, &n.version, &n.closed, &n.created, &n.updated}
}

func (n *nullSession) session() (*storage.Session, error) {
	if !n.deviceID.Valid {
		return nil, storage.ErrNotFound
	}
	return &storage.Session{DeviceID: n.deviceID.String, SessionID: n.sessionID.String, Token: n.token.String,
		State: n.state, Version: n.version.Int64, Closed: n.closed.Bool,
		CreatedAt: fromTS(n.created), UpdatedAt: fromTS(n.updated)}, nil
}

// GetJobs reads the jobs with the given IDs in one query.
func (s *Store) GetJobs(ctx context.Context, ids []int64) ([]*storage.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ANY($1) ORDER BY id`, ids)
	return collect(rows, err, scanJob)
}
