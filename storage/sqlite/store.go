package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/tracez"
)

type scanner interface{ Scan(dest ...any) error }

// ---- devices ----

// deviceArgs returns the values of the mutable device columns, in the order
// of the update statement: credentials in their stored form (the password
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
	hash := storage.HashPassword(d)
	sealed, err := s.key.SealFor(d.ID, d.ServerPassword)
	if err != nil {
		return nil, err
	}
	return []any{d.AuthScheme, d.Username, hash, sealed, d.ServerAuthScheme, d.CertSHA256, d.TransportAuth,
		d.ServerNonce, d.ClientNonce, d.NotifyAddr, devinfo, labels}, nil
}

// CreateDevice stores a new device; CreatedAt defaults to now.
func (s *Store) CreateDevice(ctx context.Context, d *storage.Device) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateDevice(ctx, d) })
	}
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
	args = append(append([]any{d.ID}, args...), created.UnixMicro(), micros(d.LastSeen))
	if _, err := s.use(ctx, s.st.createDevice).ExecContext(ctx, args...); err != nil {
		return wrap(err)
	}
	if err := s.indexNewDevice(ctx, d, args[len(args)-1]); err != nil { // inventory.go
		return err
	}
	d.PasswordHash = args[3].(string)
	d.CreatedAt, d.LastSeen = created, norm(d.LastSeen)
	return nil
}

// scanDevice reads the columns of deviceCols and opens the sealed server
// password.
func (s *Store) scanDevice(sc scanner) (*storage.Device, error) {
	var d storage.Device
	var devinfo, labels sql.NullString
	var created, seen sql.NullInt64
	var sealed []byte
	if err := sc.Scan(&d.ID, &d.AuthScheme, &d.Username, &d.PasswordHash, &sealed, &d.ServerAuthScheme,
		&d.CertSHA256, &d.TransportAuth, &d.ServerNonce, &d.ClientNonce, &d.NotifyAddr, &devinfo, &labels,
		&created, &seen); err != nil {
		return nil, wrap(err)
	}
	var err error
	if d.ServerPassword, err = s.key.OpenFor(d.ID, sealed); err != nil {
		return nil, err
	}
	if err := unjson(devinfo, &d.DevInfo, "devinfo"); err != nil {
		return nil, err
	}
	if err := unjson(labels, &d.Labels, "labels"); err != nil {
		return nil, err
	}
	d.CreatedAt, d.LastSeen = fromMicros(created), fromMicros(seen)
	return &d, nil
}

// GetDevice returns the device or ErrNotFound.
func (s *Store) GetDevice(ctx context.Context, id string) (*storage.Device, error) {
	return s.scanDevice(s.use(ctx, s.st.getDevice).QueryRowContext(ctx, id))
}

// UpdateDevice overwrites every field but ID and CreatedAt.
func (s *Store) UpdateDevice(ctx context.Context, d *storage.Device) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.UpdateDevice(ctx, d) })
	}
	args, err := s.deviceArgs(d)
	if err != nil {
		return err
	}
	devinfo, labels := args[10], args[11]
	args = append(args[:10], micros(d.LastSeen), d.ID)
	if err := affected(s.use(ctx, s.st.updateDevice).ExecContext(ctx, args...)); err != nil {
		return err
	}
	if _, err := s.use(ctx, s.st.updateDeviceInfo).ExecContext(ctx, devinfo, labels, d.ID); err != nil {
		return wrap(err)
	}
	d.PasswordHash = args[2].(string)
	return nil
}

var _ storage.DeviceContactWriter = (*Store)(nil)

// UpdateDeviceContact is UpdateDevice without labels, and without DevInfo
// unless devInfo is set (storage.DeviceContactWriter).
func (s *Store) UpdateDeviceContact(ctx context.Context, d *storage.Device, devInfo bool) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.UpdateDeviceContact(ctx, d, devInfo) })
	}
	args, err := s.deviceArgs(d)
	if err != nil {
		return err
	}
	info := args[10]
	args = append(args[:10], micros(d.LastSeen), d.ID)
	if err := affected(s.use(ctx, s.st.updateDevice).ExecContext(ctx, args...)); err != nil {
		return err
	}
	if devInfo {
		if _, err := s.use(ctx, s.st.updateDevInfo).ExecContext(ctx, info, d.ID); err != nil {
			return wrap(err)
		}
	}
	d.PasswordHash = args[2].(string)
	return nil
}

// ListDevices pages through devices ordered by ID (bytewise).
func (s *Store) ListDevices(ctx context.Context, afterID string, n int) ([]*storage.Device, error) {
	rows, err := s.use(ctx, s.st.listDevices).QueryContext(ctx, afterID, limit(n))
	return collect(rows, err, s.scanDevice)
}

// DeleteDevice removes the device; foreign keys cascade to its jobs,
// sessions, events, tree cache and traces in the same statement.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	return affected(s.use(ctx, s.st.deleteDevice).ExecContext(ctx, id))
}

// CountDevices counts enrolled devices.
func (s *Store) CountDevices(ctx context.Context) (int, error) {
	var n int
	err := s.use(ctx, s.st.countDevices).QueryRowContext(ctx).Scan(&n)
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
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateJob(ctx, j) })
	}
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
	err = s.use(ctx, s.st.createJob).QueryRowContext(ctx, j.DeviceID, string(spec), string(j.State), j.Status, results,
		childStatus, j.Error, j.SessionID, j.Attempts, created.UnixMicro(), micros(j.SentAt), micros(j.DoneAt)).Scan(&id)
	if err != nil {
		return wrap(err)
	}
	j.ID, j.CreatedAt, j.SentAt, j.DoneAt = id, created, norm(j.SentAt), norm(j.DoneAt)
	return nil
}

func scanJob(sc scanner) (*storage.Job, error) {
	var j storage.Job
	var spec string
	var results, childStatus sql.NullString
	var created, sent, done sql.NullInt64
	if err := sc.Scan(&j.ID, &j.DeviceID, &spec, &j.State, &j.Status, &results, &childStatus, &j.Error,
		&j.SessionID, &j.Attempts, &created, &sent, &done); err != nil {
		return nil, wrap(err)
	}
	if err := json.Unmarshal([]byte(spec), &j.Spec); err != nil {
		return nil, fmt.Errorf("sqlite: job %d: stored spec is not valid JSON: %w", j.ID, err)
	}
	if err := unjson(results, &j.Results, "job results"); err != nil {
		return nil, err
	}
	if err := unjson(childStatus, &j.ChildStatus, "job child status"); err != nil {
		return nil, err
	}
	j.CreatedAt, j.SentAt, j.DoneAt = fromMicros(created), fromMicros(sent), fromMicros(done)
	return &j, nil
}

// GetJob returns the job or ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id int64) (*storage.Job, error) {
	return scanJob(s.use(ctx, s.st.getJob).QueryRowContext(ctx, id))
}

// ListJobs pages through jobs ordered by ID.
func (s *Store) ListJobs(ctx context.Context, f storage.JobFilter) ([]*storage.Job, error) {
	var where []string
	var args []any
	if f.DeviceID != "" {
		where, args = append(where, "device_id = ?"), append(args, f.DeviceID)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			if !validState(st) {
				return nil, fmt.Errorf("storage: invalid job state %q", st)
			}
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	where, args = append(where, "id > ?"), append(args, f.AfterID)
	args = append(args, limit(f.Limit))
	q := `SELECT ` + jobCols + ` FROM jobs WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ?`
	var rows *sql.Rows
	var err error
	if s.tx != nil {
		rows, err = s.tx.QueryContext(ctx, q, args...)
	} else {
		rows, err = s.r.QueryContext(ctx, q, args...)
	}
	return collect(rows, err, scanJob)
}

// PendingJobs returns queued jobs and jobs sent in another session, ordered
// by ID, at most 10000 (the next call returns the rest once these are done).
func (s *Store) PendingJobs(ctx context.Context, deviceID, sessionID string) ([]*storage.Job, error) {
	rows, err := s.use(ctx, s.st.pendingJobs).QueryContext(ctx, deviceID, sessionID)
	return collect(rows, err, scanJob)
}

// UpdateJob stores state, status, results, child statuses, error, session,
// attempts and the sent/done times in one guarded statement; the spec, device
// and creation time never change. A terminal stored job gives ErrConflict.
func (s *Store) UpdateJob(ctx context.Context, j *storage.Job) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.UpdateJob(ctx, j) })
	}
	results, childStatus, err := jobArgs(j)
	if err != nil {
		return err
	}
	res, err := s.use(ctx, s.st.updateJob).ExecContext(ctx, string(j.State), j.Status, results, childStatus, j.Error,
		j.SessionID, j.Attempts, micros(j.SentAt), micros(j.DoneAt), j.ID)
	if err := affected(res, err); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			j.SentAt, j.DoneAt = norm(j.SentAt), norm(j.DoneAt)
		}
		return err
	}
	return s.missingOrConflict(ctx, j.ID)
}

// missingOrConflict tells why a guarded job update changed nothing.
func (s *Store) missingOrConflict(ctx context.Context, id int64) error {
	var n int
	if err := s.use(ctx, s.st.jobExists).QueryRowContext(ctx, id).Scan(&n); err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: job %d", storage.ErrNotFound, id)
	}
	return fmt.Errorf("%w: job %d is already in a terminal state", storage.ErrConflict, id)
}

// CancelJob marks a queued or sent job cancelled and returns it.
func (s *Store) CancelJob(ctx context.Context, id int64) (*storage.Job, error) {
	j, err := scanJob(s.use(ctx, s.st.cancelJob).QueryRowContext(ctx, now().UnixMicro(), id))
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
		err = s.use(ctx, s.st.countAllJobs).QueryRowContext(ctx).Scan(&n)
	} else {
		err = s.use(ctx, s.st.countJobs).QueryRowContext(ctx, string(state)).Scan(&n)
	}
	return n, wrap(err)
}

// DeleteJobsBefore removes finished jobs created before t, sweepChunk at a
// time. Job IDs grow with creation time, so the old jobs are a prefix of
// the table: the first job created at or after t is found on a reader
// (walking only the old prefix), and each chunk's DELETE walks IDs below it
// on the writer instead of the whole table.
func (s *Store) DeleteJobsBefore(ctx context.Context, t time.Time) (int, error) {
	var bound int64
	err := s.use(ctx, s.st.firstJobSince).QueryRowContext(ctx, t.UnixMicro()).Scan(&bound)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		bound = math.MaxInt64 // every job is older than t
	case err != nil:
		return 0, wrap(err)
	}
	return s.sweep(ctx, s.st.deleteJobs, bound, t.UnixMicro())
}

// ---- sessions ----

// SaveSession inserts (Version 0) or updates (stored version == s.Version) in
// one statement, so of several nodes saving the same version exactly one wins.
func (s *Store) SaveSession(ctx context.Context, ss *storage.Session) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.SaveSession(ctx, ss) })
	}
	if ss.DeviceID == "" || ss.SessionID == "" {
		return errors.New("storage: session needs a device id and a session id")
	}
	if err := checkText("session device id", ss.DeviceID, "session id", ss.SessionID, "session token", ss.Token); err != nil {
		return err
	}
	t := now()
	if ss.Version == 0 {
		created := norm(ss.CreatedAt)
		if created.IsZero() {
			created = t
		}
		_, err := s.use(ctx, s.st.insertSession).ExecContext(ctx, ss.DeviceID, ss.SessionID, ss.Token, blob(ss.State),
			boolInt(ss.Closed), created.UnixMicro(), t.UnixMicro())
		if err != nil {
			// A uniqueness failure is either the session created by another
			// node first (ErrConflict) or a token used by another session
			// (ErrExists); SQLite may report either index first, so look.
			if err = wrap(err); errors.Is(err, storage.ErrExists) {
				var n int
				if e := s.use(ctx, s.st.sessionExists).QueryRowContext(ctx, ss.DeviceID, ss.SessionID).Scan(&n); e != nil {
					return wrap(e)
				}
				if n > 0 {
					return fmt.Errorf("%w: session %s/%s was created by another node", storage.ErrConflict, ss.DeviceID, ss.SessionID)
				}
			}
			return err
		}
		ss.Version, ss.CreatedAt, ss.UpdatedAt = 1, created, t
		return nil
	}
	var created int64
	err := s.use(ctx, s.st.updateSession).QueryRowContext(ctx, ss.Token, blob(ss.State), boolInt(ss.Closed), t.UnixMicro(),
		ss.DeviceID, ss.SessionID, ss.Version).Scan(&created)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: session %s/%s is not at version %d", storage.ErrConflict, ss.DeviceID, ss.SessionID, ss.Version)
		}
		return wrap(err)
	}
	ss.Version++
	ss.CreatedAt, ss.UpdatedAt = time.UnixMicro(created).UTC(), t
	return nil
}

func scanSession(sc scanner) (*storage.Session, error) {
	var ss storage.Session
	var closed int
	var created, updated sql.NullInt64
	if err := sc.Scan(&ss.DeviceID, &ss.SessionID, &ss.Token, &ss.State, &ss.Version, &closed, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	ss.Closed = closed != 0
	ss.CreatedAt, ss.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &ss, nil
}

// GetSession returns a session by device and SyncML SessionID.
func (s *Store) GetSession(ctx context.Context, deviceID, sessionID string) (*storage.Session, error) {
	return scanSession(s.use(ctx, s.st.getSession).QueryRowContext(ctx, deviceID, sessionID))
}

// GetSessionByToken returns the session whose RespURI token is token.
func (s *Store) GetSessionByToken(ctx context.Context, token string) (*storage.Session, error) {
	return scanSession(s.use(ctx, s.st.getSessionByToken).QueryRowContext(ctx, token))
}

// DeleteSessionsBefore removes sessions last updated before t, sweepChunk
// at a time: each chunk is a write of its own that joins the group commit,
// so a busy server's minute of expired sessions (hundreds of thousands of
// rows) never holds the single writer for long.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	return s.sweep(ctx, s.st.deleteSessions, t.UnixMicro())
}

// sweep runs del (a DELETE taking args and then a row limit) until it
// deletes fewer than sweepChunk rows, each run its own write.
func (s *Store) sweep(ctx context.Context, del *sql.Stmt, args ...any) (int, error) {
	args = append(args, sweepChunk)
	total := 0
	for {
		var n int64
		err := s.solo(ctx, func(in *Store) error {
			res, err := in.use(ctx, del).ExecContext(ctx, args...)
			if err != nil {
				return wrap(err)
			}
			n, err = res.RowsAffected()
			return wrap(err)
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < sweepChunk {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// ---- events ----

// DeleteEventsBefore removes events created before t, sweepChunk at a time
// (each chunk its own write, joining the group commit).
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	return s.sweep(ctx, s.st.deleteEvents, t.UnixMicro())
}

// AddEvent stores an event for an existing device, assigning ID and, when
// zero, CreatedAt: AddEvents of one.
func (s *Store) AddEvent(ctx context.Context, e *storage.Event) error {
	return s.AddEvents(ctx, []*storage.Event{e})
}

func scanEvent(sc scanner) (*storage.Event, error) {
	var e storage.Event
	var created sql.NullInt64
	if err := sc.Scan(&e.ID, &e.DeviceID, &e.SessionID, &e.Kind, &e.Type, &e.Source, &e.Target, &e.Format,
		&e.Mark, &e.Data, &e.Correlator, &created); err != nil {
		return nil, wrap(err)
	}
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

// ListEvents pages through events ordered by ID.
func (s *Store) ListEvents(ctx context.Context, deviceID string, afterID int64, n int) ([]*storage.Event, error) {
	var rows *sql.Rows
	var err error
	if deviceID == "" {
		rows, err = s.use(ctx, s.st.listAllEvents).QueryContext(ctx, afterID, limit(n))
	} else {
		rows, err = s.use(ctx, s.st.listEvents).QueryContext(ctx, deviceID, afterID, limit(n))
	}
	return collect(rows, err, scanEvent)
}

// ---- tree cache ----

// PutTreeNodes upserts all nodes in one transaction: all or none are stored.
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
	return s.Batch(ctx, func(in storage.Store) error {
		// in is bound to the transaction (s itself when already in a batch).
		put := in.(*Store).use(ctx, s.st.putTree)
		t := now()
		for i := range nodes {
			n := &nodes[i]
			updated := norm(n.UpdatedAt)
			if updated.IsZero() {
				updated = t
			}
			if _, err := put.ExecContext(ctx, n.DeviceID, n.URI, n.Format, n.Type, n.Value, updated.UnixMicro()); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
}

func scanTree(sc scanner) (*storage.TreeNode, error) {
	var n storage.TreeNode
	var updated sql.NullInt64
	if err := sc.Scan(&n.DeviceID, &n.URI, &n.Format, &n.Type, &n.Value, &updated); err != nil {
		return nil, wrap(err)
	}
	n.UpdatedAt = fromMicros(updated)
	return &n, nil
}

// ListTreeNodes returns nodes equal to prefix or below it ("./A" matches
// "./A/B" but not "./AB"), ordered by URI.
func (s *Store) ListTreeNodes(ctx context.Context, deviceID, prefix string) ([]storage.TreeNode, error) {
	var rows *sql.Rows
	var err error
	if prefix == "" {
		rows, err = s.use(ctx, s.st.listTree).QueryContext(ctx, deviceID)
	} else {
		p, lo, hi := prefixRange(prefix)
		rows, err = s.use(ctx, s.st.listTreePrefix).QueryContext(ctx, deviceID, p, lo, hi)
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
		_, err = s.use(ctx, s.st.deleteTree).ExecContext(ctx, deviceID)
	} else {
		p, lo, hi := prefixRange(prefix)
		_, err = s.use(ctx, s.st.deleteTreePrefix).ExecContext(ctx, deviceID, p, lo, hi)
	}
	return wrap(err)
}

// ---- traces ----

// AddTrace stores one wire message of an existing device: AddTraces of one.
func (s *Store) AddTrace(ctx context.Context, t *storage.TraceEntry) error {
	return s.AddTraces(ctx, []*storage.TraceEntry{t})
}

func scanTrace(sc scanner) (*storage.TraceEntry, error) {
	var t storage.TraceEntry
	var created sql.NullInt64
	var codec int
	if err := sc.Scan(&t.ID, &t.DeviceID, &t.SessionID, &t.Direction, &t.MsgID, &t.ContentType, &t.Body,
		&t.Decoded, &created, &codec); err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt = fromMicros(created)
	var err error
	if t.ContentType, t.Body, err = tracez.Unpack(codec, t.ContentType, t.Body); err != nil {
		return nil, fmt.Errorf("sqlite: trace %d: %w", t.ID, err)
	}
	return &t, nil
}

// ListTraces returns the newest n traces, oldest first.
func (s *Store) ListTraces(ctx context.Context, deviceID, sessionID string, n int) ([]*storage.TraceEntry, error) {
	var rows *sql.Rows
	var err error
	if sessionID == "" {
		rows, err = s.use(ctx, s.st.listTraces).QueryContext(ctx, deviceID, limit(n))
	} else {
		rows, err = s.use(ctx, s.st.listSessionTraces).QueryContext(ctx, deviceID, sessionID, limit(n))
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
	_, err := s.use(ctx, s.st.pruneTraces).ExecContext(ctx, keepPerDevice)
	return wrap(err)
}

// PruneDeviceTraces keeps the newest keep traces of one device
// (storage.DeviceTracePruner); it reads only that device's index entries.
func (s *Store) PruneDeviceTraces(ctx context.Context, deviceID string, keep int) (int, error) {
	if keep < 0 {
		return 0, fmt.Errorf("storage: negative trace retention %d", keep)
	}
	if s.tx == nil {
		var n int
		err := s.solo(ctx, func(in *Store) (err error) {
			n, err = in.PruneDeviceTraces(ctx, deviceID, keep)
			return err
		})
		return n, err
	}
	res, err := s.use(ctx, s.st.pruneDeviceTraces).ExecContext(ctx, deviceID, keep)
	if err != nil {
		return 0, wrap(err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap(err)
}

var _ storage.DeviceTracePruner = (*Store)(nil)

// ---- helpers ----

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return wrap(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func collect[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]*T, error) {
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
