package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
	"github.com/omadm/omadm/storage/internal/tracez"
)

const (
	deviceCols  = `id, auth_scheme, username, password_hash, server_password_sealed, server_auth_scheme, cert_sha256, transport_auth, server_nonce, client_nonce, notify_addr, devinfo, labels, created_at, last_seen`
	jobCols     = `id, device_id, spec, state, status, results, child_status, error, session_id, attempts, created_at, sent_at, done_at`
	sessionCols = sqlcommon.SessionCols
	eventCols   = sqlcommon.EventCols
	treeCols    = sqlcommon.TreeCols
	traceCols   = sqlcommon.TraceCols
	terminal    = `('done', 'failed', 'cancelled')`
)

// ---- devices ----

// deviceArgs returns the values of the mutable device columns, in the order
// of the update statements: credentials in their stored form (the password
// hash, the sealed server password).
func (s *Store) deviceArgs(d *storage.Device) ([]any, error) {
	if err := checkText("device id", d.ID, "auth scheme", d.AuthScheme, "username", d.Username,
		"password", d.Password, "server password", d.ServerPassword, "notify address", d.NotifyAddr,
		"server auth scheme", d.ServerAuthScheme, "certificate hash", d.CertSHA256, "transport auth", d.TransportAuth); err != nil {
		return nil, err
	}
	devinfo, err := jsonOrNull(d.DevInfo)
	if err != nil {
		return nil, err
	}
	labels, err := jsonOrNull(d.Labels)
	if err != nil {
		return nil, err
	}
	sealed, err := s.key.SealFor(d.ID, d.ServerPassword)
	if err != nil {
		return nil, err
	}
	return []any{d.AuthScheme, d.Username, storage.HashPassword(d), sealed, d.ServerAuthScheme, d.CertSHA256,
		d.TransportAuth, d.ServerNonce, d.ClientNonce, d.NotifyAddr, devinfo, labels}, nil
}

// The device update statements share the columns every write of a device
// sets ($1–$10, deviceArgs' first ten values) and the legacy plaintext
// columns password and server_password, which stay empty.
const (
	updateDeviceSet = `UPDATE devices SET auth_scheme = $1, username = $2, password_hash = $3,
		server_password_sealed = $4, server_auth_scheme = $5, cert_sha256 = $6, transport_auth = $7,
		server_nonce = $8, client_nonce = $9, notify_addr = $10, `
	plaintextEmpty = `, password = '', server_password = ''`

	// updateDevice writes every mutable column.
	updateDevice = updateDeviceSet + `devinfo = $11, labels = $12, last_seen = $13` + plaintextEmpty + ` WHERE id = $14`
	// updateDeviceContact leaves DevInfo and labels, updateDeviceInfoOnly
	// the labels, as stored (storage.DeviceContactWriter).
	updateDeviceContact  = updateDeviceSet + `last_seen = $11` + plaintextEmpty + ` WHERE id = $12`
	updateDeviceInfoOnly = updateDeviceSet + `devinfo = $11, last_seen = $12` + plaintextEmpty + ` WHERE id = $13`
)

// CreateDevice stores a new device; CreatedAt defaults to now.
func (s *Store) CreateDevice(ctx context.Context, d *storage.Device) error {
	if d.ID == "" {
		return errors.New("storage: device id is empty")
	}
	args, err := s.deviceArgs(d)
	if err != nil {
		return err
	}
	created := norm(d.CreatedAt)
	if created.IsZero() {
		created = now()
	}
	hash := args[2].(string)
	args = append(append([]any{d.ID}, args...), created, ts(norm(d.LastSeen)))
	if _, err := s.db.Exec(ctx, `INSERT INTO devices (`+deviceCols+`, password, server_password)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', '')`, args...); err != nil {
		return wrap(err)
	}
	d.PasswordHash = hash
	d.CreatedAt, d.LastSeen = created, norm(d.LastSeen)
	return nil
}

// scanDevice reads the columns of deviceCols and opens the sealed server
// password.
func (s *Store) scanDevice(row pgx.Row) (*storage.Device, error) {
	var d storage.Device
	var created, seen pgtype.Timestamptz
	var sealed []byte
	if err := row.Scan(&d.ID, &d.AuthScheme, &d.Username, &d.PasswordHash, &sealed, &d.ServerAuthScheme,
		&d.CertSHA256, &d.TransportAuth, &d.ServerNonce, &d.ClientNonce, &d.NotifyAddr, &d.DevInfo, &d.Labels,
		&created, &seen); err != nil {
		return nil, wrap(err)
	}
	var err error
	if d.ServerPassword, err = s.key.OpenFor(d.ID, sealed); err != nil {
		return nil, err
	}
	d.CreatedAt, d.LastSeen = fromTS(created), fromTS(seen)
	return &d, nil
}

// GetDevice returns the device or ErrNotFound.
func (s *Store) GetDevice(ctx context.Context, id string) (*storage.Device, error) {
	return s.scanDevice(s.db.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id))
}

// UpdateDevice overwrites every field but ID and CreatedAt.
func (s *Store) UpdateDevice(ctx context.Context, d *storage.Device) error {
	return s.updateDevice(ctx, d, writeAll)
}

var _ storage.DeviceContactWriter = (*Store)(nil)

// UpdateDeviceContact is UpdateDevice leaving the labels, and unless
// devInfo the DevInfo, as stored (storage.DeviceContactWriter). Without
// devInfo nothing in the statement names either, so the inventory trigger
// does not run.
func (s *Store) UpdateDeviceContact(ctx context.Context, d *storage.Device, devInfo bool) error {
	return s.updateDevice(ctx, d, deviceWriteOf(true, devInfo))
}

// deviceWrite says which columns a device update writes.
type deviceWrite int

const (
	writeAll     deviceWrite = iota // updateDevice
	writeContact                    // updateDeviceContact: no DevInfo, no labels
	writeInfo                       // updateDeviceInfoOnly: DevInfo, no labels
)

func deviceWriteOf(contact, devInfo bool) deviceWrite {
	switch {
	case !contact:
		return writeAll
	case devInfo:
		return writeInfo
	}
	return writeContact
}

// updateQueries are the device update statements by deviceWrite.
var updateQueries = [...]string{writeAll: updateDevice, writeContact: updateDeviceContact, writeInfo: updateDeviceInfoOnly}

func (s *Store) updateDevice(ctx context.Context, d *storage.Device, w deviceWrite) error {
	args, err := s.deviceUpdateArgs(d, w)
	if err != nil {
		return err
	}
	if err := affected(s.db.Exec(ctx, updateQueries[w], args...)); err != nil {
		return err
	}
	d.PasswordHash = args[2].(string)
	return nil
}

// deviceUpdateArgs are the parameters of updateQueries[w].
func (s *Store) deviceUpdateArgs(d *storage.Device, w deviceWrite) ([]any, error) {
	args, err := s.deviceArgs(d)
	if err != nil {
		return nil, err
	}
	switch w {
	case writeContact:
		args = args[:10] // without DevInfo and labels
	case writeInfo:
		args = args[:11] // without labels
	}
	return append(args, ts(norm(d.LastSeen)), d.ID), nil
}

// ListDevices pages through devices ordered by ID (bytewise, COLLATE "C").
func (s *Store) ListDevices(ctx context.Context, afterID string, n int) ([]*storage.Device, error) {
	rows, err := s.db.Query(ctx, `SELECT `+deviceCols+` FROM devices WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit(n))
	return collect(rows, err, s.scanDevice)
}

// DeleteDevice removes the device; foreign keys cascade to its jobs,
// sessions, events, tree cache and traces in the same statement.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	return affected(s.db.Exec(ctx, `DELETE FROM devices WHERE id = $1`, id))
}

// CountDevices counts enrolled devices.
func (s *Store) CountDevices(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM devices`).Scan(&n)
	return n, wrap(err)
}

// ---- jobs ----

func jobArgs(j *storage.Job) (results, childStatus any, err error) {
	if !validState(j.State) {
		return nil, nil, fmt.Errorf("storage: invalid job state %q", j.State)
	}
	if err := checkText("job error", j.Error, "job session id", j.SessionID); err != nil {
		return nil, nil, err
	}
	if results, err = jsonOrNull(j.Results); err != nil {
		return nil, nil, err
	}
	if childStatus, err = jsonOrNull(j.ChildStatus); err != nil {
		return nil, nil, err
	}
	return results, childStatus, nil
}

// CreateJob queues a job for an existing device (ErrNotFound otherwise).
func (s *Store) CreateJob(ctx context.Context, j *storage.Job) error {
	if j.State == "" {
		j.State = storage.JobQueued
	}
	results, childStatus, err := jobArgs(j)
	if err != nil {
		return err
	}
	spec, err := json.Marshal(j.Spec)
	if err != nil {
		return fmt.Errorf("storage: encode job spec: %w", err)
	}
	created := norm(j.CreatedAt)
	if created.IsZero() {
		created = now()
	}
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO jobs (device_id, spec, state, status, results, child_status, error,
		session_id, attempts, created_at, sent_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id`, j.DeviceID, json.RawMessage(spec), string(j.State), j.Status, results, childStatus, j.Error,
		j.SessionID, j.Attempts, created, ts(norm(j.SentAt)), ts(norm(j.DoneAt))).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	j.ID, j.CreatedAt, j.SentAt, j.DoneAt = id, created, norm(j.SentAt), norm(j.DoneAt)
	return nil
}

func scanJob(row pgx.Row) (*storage.Job, error) {
	var j storage.Job
	var state string
	var created, sent, done pgtype.Timestamptz
	if err := row.Scan(&j.ID, &j.DeviceID, &j.Spec, &state, &j.Status, &j.Results, &j.ChildStatus, &j.Error,
		&j.SessionID, &j.Attempts, &created, &sent, &done); err != nil {
		return nil, wrap(err)
	}
	j.State = storage.JobState(state)
	j.CreatedAt, j.SentAt, j.DoneAt = fromTS(created), fromTS(sent), fromTS(done)
	return &j, nil
}

// GetJob returns the job or ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id int64) (*storage.Job, error) {
	return scanJob(s.db.QueryRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = $1`, id))
}

// ListJobs pages through jobs ordered by ID.
func (s *Store) ListJobs(ctx context.Context, f storage.JobFilter) ([]*storage.Job, error) {
	args := []any{f.AfterID, limit(f.Limit)}
	where := []string{"id > $1"}
	if f.DeviceID != "" {
		args = append(args, f.DeviceID)
		where = append(where, fmt.Sprintf("device_id = $%d", len(args)))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			if !validState(st) {
				return nil, fmt.Errorf("storage: invalid job state %q", st)
			}
			states[i] = string(st)
		}
		args = append(args, states)
		where = append(where, fmt.Sprintf("state = ANY($%d)", len(args)))
	}
	rows, err := s.db.Query(ctx, `SELECT `+jobCols+` FROM jobs WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id LIMIT $2`, args...)
	return collect(rows, err, scanJob)
}

// PendingJobs returns queued jobs and jobs sent in another session, ordered
// by ID, at most 10000 (the next call returns the rest once these are done).
func (s *Store) PendingJobs(ctx context.Context, deviceID, sessionID string) ([]*storage.Job, error) {
	rows, err := s.db.Query(ctx, `SELECT `+jobCols+` FROM jobs WHERE device_id = $1
		AND state IN ('queued', 'sent') AND (state = 'queued' OR session_id <> $2) ORDER BY id LIMIT `+fmt.Sprint(maxLimit),
		deviceID, sessionID)
	return collect(rows, err, scanJob)
}

// UpdateJob stores state, status, results, child statuses, error, session,
// attempts and the sent/done times in one guarded statement; the spec, device
// and creation time never change. A terminal stored job gives ErrConflict,
// also when the terminal state was committed by another node a moment before.
func (s *Store) UpdateJob(ctx context.Context, j *storage.Job) error {
	results, childStatus, err := jobArgs(j)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, `UPDATE jobs SET state = $1, status = $2, results = $3, child_status = $4,
		error = $5, session_id = $6, attempts = $7, sent_at = $8, done_at = $9
		WHERE id = $10 AND state NOT IN `+terminal, string(j.State), j.Status, results, childStatus, j.Error,
		j.SessionID, j.Attempts, ts(norm(j.SentAt)), ts(norm(j.DoneAt)), j.ID)
	if err := affected(tag, err); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			j.SentAt, j.DoneAt = norm(j.SentAt), norm(j.DoneAt)
		}
		return err
	}
	return s.missingOrConflict(ctx, j.ID)
}

// missingOrConflict tells why a guarded job update changed nothing.
func (s *Store) missingOrConflict(ctx context.Context, id int64) error {
	var exists bool
	if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)`, id).Scan(&exists); err != nil {
		return wrap(err)
	}
	if !exists {
		return fmt.Errorf("%w: job %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: job %d is already in a terminal state", storage.ErrConflict, id)
}

// DeleteJobsBefore removes finished jobs created before t, sweepChunk at a
// time. Job IDs grow with creation time, so the old jobs are a prefix of
// the table: the first job created at or after t bounds the ID range each
// chunk's DELETE walks (through the primary key) instead of the whole table.
func (s *Store) DeleteJobsBefore(ctx context.Context, t time.Time) (int, error) {
	var bound int64
	err := s.db.QueryRow(ctx, `SELECT id FROM jobs WHERE created_at >= $1 ORDER BY id LIMIT 1`, t).Scan(&bound)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		bound = math.MaxInt64 // every job is older than t
	case err != nil:
		return 0, wrap(err)
	}
	return s.sweep(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
		WHERE id < $1 AND created_at < $2 AND state IN `+terminal+` ORDER BY id LIMIT $3)`, bound, t)
}

// CancelJob marks a queued or sent job cancelled and returns it.
func (s *Store) CancelJob(ctx context.Context, id int64) (*storage.Job, error) {
	j, err := scanJob(s.db.QueryRow(ctx, `UPDATE jobs SET state = 'cancelled', done_at = $1
		WHERE id = $2 AND state NOT IN `+terminal+` RETURNING `+jobCols, now(), id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.missingOrConflict(ctx, id)
	}
	return j, err
}

// CountJobs counts jobs in a state over all devices ("" counts every job).
func (s *Store) CountJobs(ctx context.Context, state storage.JobState) (int, error) {
	var n int
	var err error
	if state == "" {
		err = s.db.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n)
	} else {
		err = s.db.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE state = $1`, string(state)).Scan(&n)
	}
	return n, wrap(err)
}

// ---- sessions ----

// SaveSession inserts (Version 0) or updates (stored version == s.Version) in
// one statement, so of several nodes saving the same version exactly one wins.
func (s *Store) SaveSession(ctx context.Context, ss *storage.Session) error {
	if ss.DeviceID == "" || ss.SessionID == "" {
		return errors.New("storage: session needs a device id and a session id")
	}
	if err := checkText("session device id", ss.DeviceID, "session id", ss.SessionID, "session token", ss.Token); err != nil {
		return err
	}
	t := now()
	state := ss.State
	if state == nil {
		state = []byte{}
	}
	if ss.Version == 0 {
		created := norm(ss.CreatedAt)
		if created.IsZero() {
			created = t
		}
		// ON CONFLICT DO NOTHING rather than a unique-violation error, which
		// would abort an enclosing batch transaction: a session created by
		// another node first is ErrConflict, a token of another session ErrExists.
		tag, err := s.db.Exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
			ON CONFLICT DO NOTHING`, ss.DeviceID, ss.SessionID, ss.Token, state, ss.Closed, created, t)
		if err != nil {
			return wrap(err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if e := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE device_id = $1 AND session_id = $2)`,
				ss.DeviceID, ss.SessionID).Scan(&exists); e != nil {
				return wrap(e)
			}
			if exists {
				return fmt.Errorf("%w: session %s/%s was created by another node", storage.ErrConflict, ss.DeviceID, ss.SessionID)
			}
			return fmt.Errorf("%w: session token is taken by another session", storage.ErrExists)
		}
		ss.Version, ss.CreatedAt, ss.UpdatedAt = 1, created, t
		return nil
	}
	var created time.Time
	err := s.db.QueryRow(ctx, `UPDATE sessions SET token = $1, state = $2, version = version + 1, closed = $3,
		updated_at = $4 WHERE device_id = $5 AND session_id = $6 AND version = $7 RETURNING created_at`,
		ss.Token, state, ss.Closed, t, ss.DeviceID, ss.SessionID, ss.Version).Scan(&created)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: session %s/%s is not at version %d", storage.ErrConflict, ss.DeviceID, ss.SessionID, ss.Version)
		}
		return wrap(err)
	}
	ss.Version++
	ss.CreatedAt, ss.UpdatedAt = created.UTC(), t
	return nil
}

func scanSession(row pgx.Row) (*storage.Session, error) {
	var ss storage.Session
	var created, updated pgtype.Timestamptz
	if err := row.Scan(&ss.DeviceID, &ss.SessionID, &ss.Token, &ss.State, &ss.Version, &ss.Closed, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	ss.CreatedAt, ss.UpdatedAt = fromTS(created), fromTS(updated)
	return &ss, nil
}

// GetSession returns a session by device and SyncML SessionID.
func (s *Store) GetSession(ctx context.Context, deviceID, sessionID string) (*storage.Session, error) {
	return scanSession(s.db.QueryRow(ctx, sqlcommon.GetSession, deviceID, sessionID))
}

// GetSessionByToken returns the session whose RespURI token is token.
func (s *Store) GetSessionByToken(ctx context.Context, token string) (*storage.Session, error) {
	return scanSession(s.db.QueryRow(ctx, sqlcommon.GetSessionByToken, token))
}

// DeleteSessionsBefore removes sessions last updated before t, sweepChunk
// at a time, so that a busy server's expired sessions go in short
// transactions.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	return s.sweep(ctx, `DELETE FROM sessions WHERE ctid IN
		(SELECT ctid FROM sessions WHERE updated_at < $1 ORDER BY updated_at LIMIT $2)`, t)
}

// sweep runs del (a DELETE taking args and then a row limit) until it
// deletes fewer than sweepChunk rows.
func (s *Store) sweep(ctx context.Context, del string, args ...any) (int, error) {
	args = append(args, sweepChunk)
	total := 0
	for {
		tag, err := s.db.Exec(ctx, del, args...)
		if err != nil {
			return total, wrap(err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < sweepChunk {
			return total, nil
		}
	}
}

// ---- events ----

// DeleteEventsBefore removes events created before t, sweepChunk at a time.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	return s.sweep(ctx, sqlcommon.DeleteEventsStep, t)
}

// AddEvent stores an event for an existing device, assigning ID and, when
// zero, CreatedAt.
func (s *Store) AddEvent(ctx context.Context, e *storage.Event) error {
	if err := checkText("event device id", e.DeviceID, "event session id", e.SessionID, "event kind", e.Kind,
		"event type", e.Type, "event source", e.Source, "event target", e.Target, "event format", e.Format,
		"event mark", e.Mark, "event data", e.Data, "event correlator", e.Correlator); err != nil {
		return err
	}
	created := norm(e.CreatedAt)
	if created.IsZero() {
		created = now()
	}
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO events (device_id, session_id, kind, type, source, target, format,
		mark, data, correlator, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		e.DeviceID, e.SessionID, e.Kind, e.Type, e.Source, e.Target, e.Format, e.Mark, e.Data, e.Correlator,
		created).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	e.ID, e.CreatedAt = id, created
	return nil
}

func scanEvent(row pgx.Row) (*storage.Event, error) {
	var e storage.Event
	var created pgtype.Timestamptz
	if err := row.Scan(&e.ID, &e.DeviceID, &e.SessionID, &e.Kind, &e.Type, &e.Source, &e.Target, &e.Format,
		&e.Mark, &e.Data, &e.Correlator, &created); err != nil {
		return nil, wrap(err)
	}
	e.CreatedAt = fromTS(created)
	return &e, nil
}

// ListEvents pages through events ordered by ID.
func (s *Store) ListEvents(ctx context.Context, deviceID string, afterID int64, n int) ([]*storage.Event, error) {
	var rows pgx.Rows
	var err error
	if deviceID == "" {
		rows, err = s.db.Query(ctx, sqlcommon.ListAllEvents, afterID, limit(n))
	} else {
		rows, err = s.db.Query(ctx, sqlcommon.ListEvents, deviceID, afterID, limit(n))
	}
	return collect(rows, err, scanEvent)
}

// ---- tree cache ----

// PutTreeNodes upserts all nodes in one transaction (one batch round trip):
// all or none are stored.
func (s *Store) PutTreeNodes(ctx context.Context, nodes []storage.TreeNode) error {
	if len(nodes) == 0 {
		return nil
	}
	for i := range nodes {
		n := &nodes[i]
		if err := checkText("node device id", n.DeviceID, "node uri", n.URI, "node format", n.Format,
			"node type", n.Type, "node value", n.Value); err != nil {
			return err
		}
	}
	t := now()
	err := s.Batch(ctx, func(in storage.Store) error {
		var b pgx.Batch
		for i := range nodes {
			n := &nodes[i]
			updated := norm(n.UpdatedAt)
			if updated.IsZero() {
				updated = t
			}
			b.Queue(sqlcommon.PutTreeNode, n.DeviceID, n.URI, n.Format, n.Type, n.Value, updated)
		}
		return in.(*Store).db.SendBatch(ctx, &b).Close()
	})
	return wrap(err)
}

func scanTree(row pgx.Row) (*storage.TreeNode, error) {
	var n storage.TreeNode
	var updated pgtype.Timestamptz
	if err := row.Scan(&n.DeviceID, &n.URI, &n.Format, &n.Type, &n.Value, &updated); err != nil {
		return nil, wrap(err)
	}
	n.UpdatedAt = fromTS(updated)
	return &n, nil
}

// ListTreeNodes returns nodes equal to prefix or below it ("./A" matches
// "./A/B" but not "./AB"), ordered by URI (bytewise).
func (s *Store) ListTreeNodes(ctx context.Context, deviceID, prefix string) ([]storage.TreeNode, error) {
	var rows pgx.Rows
	var err error
	if prefix == "" {
		rows, err = s.db.Query(ctx, sqlcommon.ListTree, deviceID)
	} else {
		p, lo, hi := prefixRange(prefix)
		rows, err = s.db.Query(ctx, sqlcommon.ListTreePrefix, deviceID, p, lo, hi)
	}
	ptrs, err := collect(rows, err, scanTree)
	if err != nil {
		return nil, err
	}
	out := make([]storage.TreeNode, len(ptrs))
	for i, n := range ptrs {
		out[i] = *n
	}
	return out, nil
}

// DeleteTreeNodes removes the nodes ListTreeNodes would return.
func (s *Store) DeleteTreeNodes(ctx context.Context, deviceID, prefix string) error {
	var err error
	if prefix == "" {
		_, err = s.db.Exec(ctx, sqlcommon.DeleteTree, deviceID)
	} else {
		p, lo, hi := prefixRange(prefix)
		_, err = s.db.Exec(ctx, sqlcommon.DeleteTreePrefix, deviceID, p, lo, hi)
	}
	return wrap(err)
}

// ---- traces ----

// AddTrace stores one wire message of an existing device.
func (s *Store) AddTrace(ctx context.Context, t *storage.TraceEntry) error {
	if err := checkText("trace device id", t.DeviceID, "trace session id", t.SessionID, "trace direction",
		t.Direction, "trace msg id", t.MsgID, "trace content type", t.ContentType, "trace decoded", t.Decoded); err != nil {
		return err
	}
	created := norm(t.CreatedAt)
	if created.IsZero() {
		created = now()
	}
	var id int64
	codec, ct, body := tracez.Pack(t.ContentType, t.Body)
	err := s.db.QueryRow(ctx, `INSERT INTO traces (device_id, session_id, direction, msg_id, content_type, body,
		decoded, created_at, codec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, t.DeviceID, t.SessionID,
		t.Direction, t.MsgID, ct, blob(body), t.Decoded, created, codec).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	t.ID, t.CreatedAt = id, created
	return nil
}

func scanTrace(row pgx.Row) (*storage.TraceEntry, error) {
	var t storage.TraceEntry
	var created pgtype.Timestamptz
	var codec int16
	if err := row.Scan(&t.ID, &t.DeviceID, &t.SessionID, &t.Direction, &t.MsgID, &t.ContentType, &t.Body,
		&t.Decoded, &created, &codec); err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt = fromTS(created)
	var err error
	if t.ContentType, t.Body, err = tracez.Unpack(int(codec), t.ContentType, t.Body); err != nil {
		return nil, fmt.Errorf("postgres: trace %d: %w", t.ID, err)
	}
	return &t, nil
}

// ListTraces returns the newest n traces, oldest first.
func (s *Store) ListTraces(ctx context.Context, deviceID, sessionID string, n int) ([]*storage.TraceEntry, error) {
	var rows pgx.Rows
	var err error
	if sessionID == "" {
		rows, err = s.db.Query(ctx, sqlcommon.ListTraces, deviceID, limit(n))
	} else {
		rows, err = s.db.Query(ctx, sqlcommon.ListSessionTraces, deviceID, sessionID, limit(n))
	}
	out, err := collect(rows, err, scanTrace)
	slices.Reverse(out)
	return out, err
}

// PruneTraces keeps the newest keepPerDevice traces of every device.
func (s *Store) PruneTraces(ctx context.Context, keepPerDevice int) error {
	if keepPerDevice < 0 {
		return fmt.Errorf("storage: negative trace retention %d", keepPerDevice)
	}
	_, err := s.db.Exec(ctx, sqlcommon.PruneTraces, keepPerDevice)
	return wrap(err)
}

// pruneDeviceTraces deletes a device's traces older than its (keep+1)-th
// newest, found by an index-only walk of traces_device backwards.
const pruneDeviceTraces = sqlcommon.PruneDeviceTraces

// PruneDeviceTraces keeps the newest keep traces of one device
// (storage.DeviceTracePruner); it reads only that device's index entries.
func (s *Store) PruneDeviceTraces(ctx context.Context, deviceID string, keep int) (int, error) {
	if keep < 0 {
		return 0, fmt.Errorf("storage: negative trace retention %d", keep)
	}
	tag, err := s.db.Exec(ctx, pruneDeviceTraces, deviceID, keep)
	if err != nil {
		return 0, wrap(err)
	}
	return int(tag.RowsAffected()), nil
}

var _ storage.DeviceTracePruner = (*Store)(nil)

// ---- helpers ----

// affected turns "no row changed" into ErrNotFound.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err())
}
