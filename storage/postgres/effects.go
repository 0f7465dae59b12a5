package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/tracez"
)

var _ storage.EffectsWriter = (*Store)(nil)

var (
	// With a device update as well, the session's statement carries it (one
	// statement fewer per message); each guard keeps its own SQLSTATE. One
	// of each per device update statement (deviceWrite).
	effSessionInsertDevice, effSessionUpdateDevice, effDevice [len(updateQueries)]string
)

func init() {
	for w, q := range updateQueries {
		effSessionInsertDevice[w] = sessionInsertWith(q)
		effSessionUpdateDevice[w] = sessionUpdateWith(q)
		effDevice[w] = deviceGuarded(q)
	}
}

func sessionInsertWith(update string) string {
	return `WITH i AS (INSERT INTO sessions (` + sessionCols + `) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
		ON CONFLICT DO NOTHING RETURNING 1), d AS (` + shiftParams(update, 7) + ` RETURNING 1)
		SELECT CASE WHEN (SELECT count(*) FROM i) <> 1 THEN omadm_abort('` + codeSessionExists + `', 'session exists')
		WHEN (SELECT count(*) FROM d) <> 1 THEN omadm_abort('` + codeDeviceMissing + `', 'device not found') ELSE 1 END`
}

func sessionUpdateWith(update string) string {
	return `WITH u AS (UPDATE sessions SET token = $1, state = $2, version = version + 1, closed = $3,
		updated_at = $4 WHERE device_id = $5 AND session_id = $6 AND version = $7 RETURNING created_at),
		d AS (` + shiftParams(update, 7) + ` RETURNING 1)
		SELECT CASE WHEN (SELECT count(*) FROM u) <> 1
			THEN omadm_abort('` + codeSessionConflict + `', 'session version moved')::text::timestamptz
		WHEN (SELECT count(*) FROM d) <> 1 THEN omadm_abort('` + codeDeviceMissing + `', 'device not found')::text::timestamptz
		ELSE (SELECT max(created_at) FROM u) END`
}

func deviceGuarded(update string) string {
	return `WITH u AS (` + update + ` RETURNING 1)
		SELECT CASE WHEN count(*) = 1 THEN 1 ELSE omadm_abort('` + codeDeviceMissing + `', 'device not found') END FROM u`
}

// shiftParams renumbers the parameters of q by n ($1 becomes $(1+n)), for
// a statement placed after n parameters of another.
func shiftParams(q string, n int) string {
	return regexp.MustCompile(`\$[0-9]+`).ReplaceAllStringFunc(q, func(p string) string {
		i, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(i+n)
	})
}

// SQLSTATEs raised through omadm_abort (migration 0003) by the guards of
// WriteEffects.
const (
	codeSessionConflict = "OMC01" // the session's version moved
	codeSessionExists   = "OMC02" // the session (or its token) exists already
	codeDeviceMissing   = "OMN01" // the device is gone
	codeGuard           = "OMG01" // a guarded job is terminal or gone
)

// SQL of WriteEffects. Guards turn "no row changed" into an error, so that
// the implicit transaction of the pipeline rolls back as a whole.
const (
	effSessionInsert = `WITH i AS (INSERT INTO sessions (` + sessionCols + `) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
		ON CONFLICT DO NOTHING RETURNING 1)
		SELECT CASE WHEN count(*) = 1 THEN 1 ELSE omadm_abort('` + codeSessionExists + `', 'session exists') END FROM i`
	effSessionUpdate = `WITH u AS (UPDATE sessions SET token = $1, state = $2, version = version + 1, closed = $3,
		updated_at = $4 WHERE device_id = $5 AND session_id = $6 AND version = $7 RETURNING created_at)
		SELECT CASE WHEN count(*) = 1 THEN max(created_at)
		ELSE omadm_abort('` + codeSessionConflict + `', 'session version moved')::text::timestamptz END FROM u`
	effJobSet = `UPDATE jobs SET state = $1, status = $2, results = $3, child_status = $4,
		error = $5, session_id = $6, attempts = $7, sent_at = $8, done_at = $9
		WHERE id = $10 AND state NOT IN ` + terminal + ` RETURNING 1`
	// effJob reports, in the same statement, whether a refused job exists
	// at all (ErrConflict vs ErrNotFound).
	effJob        = `WITH u AS (` + effJobSet + `) SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM jobs WHERE id = $10)`
	effJobGuarded = `WITH u AS (` + effJobSet + `)
		SELECT CASE WHEN count(*) = 1 THEN 1 ELSE omadm_abort('` + codeGuard + `', 'job ' || $10::bigint || ' changed meanwhile') END FROM u`
	effNode = `INSERT INTO tree_nodes (` + treeCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (device_id, uri) DO UPDATE SET format = excluded.format, type = excluded.type,
		value = excluded.value, updated_at = excluded.updated_at`
	effEvent = `INSERT INTO events (device_id, session_id, kind, type, source, target, format,
		mark, data, correlator, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
	effTrace = `INSERT INTO traces (device_id, session_id, direction, msg_id, content_type, body,
		decoded, created_at, codec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	// Many events or traces (bulkRecords or more: the write-behind batches)
	// are one multi-row INSERT from arrays: one statement (and, for traces,
	// one run of the statement-level trace_bytes trigger) instead of one per
	// record. A message's few records keep the plain INSERT, which costs
	// the server less than planning the array form. Rows are inserted in the arrays'
	// order, so their identities ascend in that order; the returned IDs are
	// sorted before they are handed out.
	effEvents = `INSERT INTO events (device_id, session_id, kind, type, source, target, format,
		mark, data, correlator, created_at)
		SELECT d, s, k, ty, so, ta, f, m, da, c, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
		$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
		WITH ORDINALITY AS v(d, s, k, ty, so, ta, f, m, da, c, t, n) ORDER BY n RETURNING id`
	effTraces = `INSERT INTO traces (device_id, session_id, direction, msg_id, content_type, body,
		decoded, created_at, codec)
		SELECT d, s, dir, m, ct, b, dec, t, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
		$5::text[], $6::bytea[], $7::text[], $8::timestamptz[], $9::smallint[])
		WITH ORDINALITY AS v(d, s, dir, m, ct, b, dec, t, k, n) ORDER BY n RETURNING id`
	// effPrune is pruneDeviceTraces for several devices in one statement
	// (one run of the trace_bytes delete trigger).
	effPrune = `DELETE FROM traces t USING (SELECT u.d, (SELECT id FROM traces WHERE device_id = u.d
		ORDER BY id DESC OFFSET $2 LIMIT 1) AS cut FROM unnest($1::text[]) AS u(d)) x
		WHERE t.device_id = x.d AND t.id <= x.cut`
)

// WriteEffects stores e in one pipelined round trip (pgx.Batch): every
// statement is queued, sent together and its result read back in order.
// Outside a Batch the pipeline is one implicit transaction (no BEGIN or
// COMMIT round trips); inside one it is part of the Batch's transaction.
// Guards abort the pipeline through omadm_abort, so an error means nothing
// was stored. (pgx sends a batch's statements followed by a single Sync,
// which PostgreSQL runs as one implicit transaction; the conformance suite
// checks that a refused guard outside a Batch leaves nothing behind.)
//
// Outside a Batch, concurrent calls share pipelines (group commit, see
// group.go): one implicit transaction, one commit, for several messages.
func (s *Store) WriteEffects(ctx context.Context, e *storage.Effects) error {
	if !s.inTx && s.group != nil && groupable(e) {
		// Trace bodies are compressed here, by the caller, not by the
		// leader of the shared pipeline.
		return s.group.write(ctx, s, e, packTraces(e.Traces))
	}
	var b pgx.Batch
	t := now()
	pruned, err := s.queueEffects(&b, e, t, nil)
	if err != nil || b.Len() == 0 {
		return err
	}
	// Results are applied to e only once the whole pipeline succeeded.
	br := s.db.SendBatch(ctx, &b)
	r, err := readEffects(br, e, pruned)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return s.effectsErr(ctx, e, err)
	}
	r.apply(e, t)
	return nil
}

// queueEffects checks e and queues its statements on b (nothing when it
// fails); pruned are the devices whose trace trims follow the records.
// packs holds trace bodies already compressed (the others are compressed
// here).
func (s *Store) queueEffects(b *pgx.Batch, e *storage.Effects, t time.Time, packs map[*storage.TraceEntry]packedTrace) (pruned []string, err error) {
	e.JobErrs = make([]error, len(e.Jobs))
	n := b.Len()
	defer func() {
		if err != nil {
			b.QueuedQueries = b.QueuedQueries[:n]
		}
	}()
	if ss := e.Session; ss != nil {
		if ss.DeviceID == "" || ss.SessionID == "" {
			return nil, errors.New("storage: session needs a device id and a session id")
		}
		if err := checkText("session device id", ss.DeviceID, "session id", ss.SessionID, "session token", ss.Token); err != nil {
			return nil, err
		}
		state := ss.State
		if state == nil {
			state = []byte{}
		}
		var dev []any
		w := deviceWriteOf(e.DeviceContact, e.DeviceInfo)
		if d := e.Device; d != nil {
			if dev, err = s.deviceUpdateArgs(d, w); err != nil {
				return nil, err
			}
		}
		insertQ, updateQ := effSessionInsertDevice[w], effSessionUpdateDevice[w]
		if ss.Version == 0 {
			created := norm(ss.CreatedAt)
			if created.IsZero() {
				created = t
			}
			if dev != nil {
				b.Queue(insertQ, append([]any{ss.DeviceID, ss.SessionID, ss.Token, state, ss.Closed, created, t}, dev...)...)
			} else {
				b.Queue(effSessionInsert, ss.DeviceID, ss.SessionID, ss.Token, state, ss.Closed, created, t)
			}
		} else if dev != nil {
			b.Queue(updateQ, append([]any{ss.Token, state, ss.Closed, t, ss.DeviceID, ss.SessionID, ss.Version}, dev...)...)
		} else {
			b.Queue(effSessionUpdate, ss.Token, state, ss.Closed, t, ss.DeviceID, ss.SessionID, ss.Version)
		}
	}
	for _, r := range e.DropChunks {
		b.Queue(deleteChunks, r.DeviceID, r.SessionID)
	}
	for _, c := range e.Chunks {
		if c.Seq < 0 {
			return nil, fmt.Errorf("postgres: chunk seq %d is negative", c.Seq)
		}
		if err := checkText("chunk device id", c.DeviceID, "chunk session id", c.SessionID); err != nil {
			return nil, err
		}
		b.Queue(appendChunk, c.DeviceID, c.SessionID, c.Seq, blob(c.Data))
	}
	if d := e.Device; d != nil && e.Session == nil {
		w := deviceWriteOf(e.DeviceContact, e.DeviceInfo)
		args, err := s.deviceUpdateArgs(d, w)
		if err != nil {
			return nil, err
		}
		b.Queue(effDevice[w], args...)
	}
	for i, j := range e.Jobs {
		results, childStatus, err := jobArgs(j)
		if err != nil {
			return nil, err
		}
		q := effJob
		if i < e.Guarded {
			q = effJobGuarded
		}
		b.Queue(q, string(j.State), j.Status, results, childStatus, j.Error, j.SessionID, j.Attempts,
			ts(norm(j.SentAt)), ts(norm(j.DoneAt)), j.ID)
	}
	for i := range e.Nodes {
		n := &e.Nodes[i]
		if err := checkText("node device id", n.DeviceID, "node uri", n.URI, "node format", n.Format,
			"node type", n.Type, "node value", n.Value); err != nil {
			return nil, err
		}
		updated := norm(n.UpdatedAt)
		if updated.IsZero() {
			updated = t
		}
		b.Queue(effNode, n.DeviceID, n.URI, n.Format, n.Type, n.Value, updated)
	}
	var evCols [11][]string
	var evTimes []time.Time
	for _, ev := range e.Events {
		if err := checkText("event device id", ev.DeviceID, "event session id", ev.SessionID, "event kind", ev.Kind,
			"event type", ev.Type, "event source", ev.Source, "event target", ev.Target, "event format", ev.Format,
			"event mark", ev.Mark, "event data", ev.Data, "event correlator", ev.Correlator); err != nil {
			return nil, err
		}
		created := norm(ev.CreatedAt)
		if created.IsZero() {
			created = t
		}
		if len(e.Events) < bulkRecords {
			b.Queue(effEvent, ev.DeviceID, ev.SessionID, ev.Kind, ev.Type, ev.Source, ev.Target, ev.Format, ev.Mark,
				ev.Data, ev.Correlator, created)
			continue
		}
		for i, v := range [...]string{ev.DeviceID, ev.SessionID, ev.Kind, ev.Type, ev.Source, ev.Target, ev.Format,
			ev.Mark, ev.Data, ev.Correlator} {
			evCols[i] = append(evCols[i], v)
		}
		evTimes = append(evTimes, created)
	}
	if len(e.Events) >= bulkRecords {
		b.Queue(effEvents, evCols[0], evCols[1], evCols[2], evCols[3], evCols[4], evCols[5], evCols[6], evCols[7],
			evCols[8], evCols[9], evTimes)
	}
	var trCols [6][]string
	var trBodies [][]byte
	var trTimes []time.Time
	var trCodecs []int16
	for _, tr := range e.Traces {
		if err := checkText("trace device id", tr.DeviceID, "trace session id", tr.SessionID, "trace direction",
			tr.Direction, "trace msg id", tr.MsgID, "trace content type", tr.ContentType, "trace decoded", tr.Decoded); err != nil {
			return nil, err
		}
		created := norm(tr.CreatedAt)
		if created.IsZero() {
			created = t
		}
		p, ok := packs[tr]
		if !ok {
			p = packTrace(tr)
		}
		if len(e.Traces) < bulkRecords {
			b.Queue(effTrace, tr.DeviceID, tr.SessionID, tr.Direction, tr.MsgID, p.ct, blob(p.data),
				tr.Decoded, created, p.codec)
			continue
		}
		for i, v := range [...]string{tr.DeviceID, tr.SessionID, tr.Direction, tr.MsgID, p.ct, tr.Decoded} {
			trCols[i] = append(trCols[i], v)
		}
		body := p.data
		if body == nil {
			body = []byte{}
		}
		trBodies = append(trBodies, body)
		trTimes = append(trTimes, created)
		trCodecs = append(trCodecs, int16(p.codec))
	}
	if len(e.Traces) >= bulkRecords {
		b.Queue(effTraces, trCols[0], trCols[1], trCols[2], trCols[3], trCols[4], trBodies, trCols[5], trTimes, trCodecs)
	}
	if e.TraceKeep > 0 {
		pruned = storage.TraceDevices(e)
		switch len(pruned) {
		case 0:
		case 1:
			b.Queue(pruneDeviceTraces, pruned[0], e.TraceKeep)
		default:
			b.Queue(effPrune, pruned, e.TraceKeep)
		}
	}
	return pruned, nil
}

// readEffects reads the results of e's statements (queued by
// queueEffects) from br, in order.
func readEffects(br pgx.BatchResults, e *storage.Effects, pruned []string) (*effResults, error) {
	var r effResults
	if err := r.read(br, e); err != nil {
		return nil, err
	}
	if len(pruned) > 0 {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// packedTrace is a trace body in its stored form (storage/internal/tracez).
type packedTrace struct {
	codec int
	ct    string
	data  []byte
}

func packTrace(t *storage.TraceEntry) packedTrace {
	n, ct, data := tracez.Pack(t.ContentType, t.Body)
	return packedTrace{n, ct, data}
}

func packTraces(ts []*storage.TraceEntry) map[*storage.TraceEntry]packedTrace {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[*storage.TraceEntry]packedTrace, len(ts))
	for _, t := range ts {
		m[t] = packTrace(t)
	}
	return m
}

// effResults holds what the pipeline returned until it is known to have
// committed.
type effResults struct {
	created time.Time // session created_at (update)
	jobOK   []bool
	jobErrs []error
	ids     []int64 // events, then traces
}

func (r *effResults) read(br pgx.BatchResults, e *storage.Effects) error {
	if ss := e.Session; ss != nil {
		if ss.Version == 0 {
			var one int
			if err := br.QueryRow().Scan(&one); err != nil {
				return err
			}
		} else if err := br.QueryRow().Scan(&r.created); err != nil {
			return err
		}
	}
	for range len(e.DropChunks) + len(e.Chunks) {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if e.Device != nil && e.Session == nil {
		var one int
		if err := br.QueryRow().Scan(&one); err != nil {
			return err
		}
	}
	r.jobOK = make([]bool, len(e.Jobs))
	r.jobErrs = make([]error, len(e.Jobs))
	for i, j := range e.Jobs {
		if i < e.Guarded {
			var one int
			if err := br.QueryRow().Scan(&one); err != nil {
				return err
			}
			r.jobOK[i] = true
			continue
		}
		var n int64
		var exists bool
		if err := br.QueryRow().Scan(&n, &exists); err != nil {
			return err
		}
		switch {
		case n > 0:
			r.jobOK[i] = true
		case exists:
			r.jobErrs[i] = fmt.Errorf("%w: job %d is already in a terminal state", storage.ErrConflict, j.ID)
		default:
			r.jobErrs[i] = fmt.Errorf("%w: job %d", storage.ErrNotFound, j.ID)
		}
	}
	for range e.Nodes {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	r.ids = make([]int64, 0, len(e.Events)+len(e.Traces))
	for _, n := range [...]int{len(e.Events), len(e.Traces)} {
		var err error
		if r.ids, err = readIDs(br, r.ids, n); err != nil {
			return err
		}
	}
	return nil
}

// bulkRecords is how many events or traces of one Effects make one
// multi-row INSERT (effEvents, effTraces) rather than one each.
const bulkRecords = 8

// readIDs appends the n IDs that the INSERTs of n records returned
// (effEvent/effTrace each, or effEvents/effTraces for bulkRecords or more),
// ascending.
func readIDs(br pgx.BatchResults, ids []int64, n int) ([]int64, error) {
	if n < bulkRecords {
		for range n {
			var id int64
			if err := br.QueryRow().Scan(&id); err != nil {
				return ids, err
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	rows, err := br.Query()
	if err != nil {
		return ids, err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return ids, err
	}
	if len(got) != n {
		return ids, fmt.Errorf("postgres: %d records inserted, %d IDs returned", n, len(got))
	}
	slices.Sort(got)
	return append(ids, got...), nil
}

func (r *effResults) apply(e *storage.Effects, t time.Time) {
	if ss := e.Session; ss != nil {
		if ss.Version == 0 {
			if ss.CreatedAt = norm(ss.CreatedAt); ss.CreatedAt.IsZero() {
				ss.CreatedAt = t
			}
			ss.Version = 1
		} else {
			ss.Version++
			ss.CreatedAt = r.created.UTC()
		}
		ss.UpdatedAt = t
	}
	for i, j := range e.Jobs {
		if r.jobOK[i] {
			j.SentAt, j.DoneAt = norm(j.SentAt), norm(j.DoneAt)
		}
		e.JobErrs[i] = r.jobErrs[i]
	}
	for i, ev := range e.Events {
		ev.ID = r.ids[i]
		if ev.CreatedAt = norm(ev.CreatedAt); ev.CreatedAt.IsZero() {
			ev.CreatedAt = t
		}
	}
	for i, tr := range e.Traces {
		tr.ID = r.ids[len(e.Events)+i]
		if tr.CreatedAt = norm(tr.CreatedAt); tr.CreatedAt.IsZero() {
			tr.CreatedAt = t
		}
	}
}

// effectsErr maps a failed pipeline to the storage sentinels.
func (s *Store) effectsErr(ctx context.Context, e *storage.Effects, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return wrap(err)
	}
	switch pe.Code {
	case codeSessionConflict:
		ss := e.Session
		return fmt.Errorf("%w: session %s/%s is not at version %d", storage.ErrConflict, ss.DeviceID, ss.SessionID, ss.Version)
	case codeSessionExists:
		// Tell a session created by another node from a taken token, as
		// SaveSession does. (Inside a Batch the transaction is aborted; the
		// pool answers.)
		ss := e.Session
		var exists bool
		if qerr := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE device_id = $1 AND session_id = $2)`,
			ss.DeviceID, ss.SessionID).Scan(&exists); qerr != nil {
			return wrap(qerr)
		}
		if exists {
			return fmt.Errorf("%w: session %s/%s was created by another node", storage.ErrConflict, ss.DeviceID, ss.SessionID)
		}
		return fmt.Errorf("%w: session token is taken by another session", storage.ErrExists)
	case codeDeviceMissing:
		return fmt.Errorf("%w: device %s", storage.ErrNotFound, e.Device.ID)
	case codeGuard:
		return fmt.Errorf("%w: %s", storage.ErrGuard, pe.Message)
	}
	return wrap(err)
}
