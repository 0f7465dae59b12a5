package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/omadm/omadm/storage"
)

var _ storage.BulkAdder = (*Store)(nil)

// Multi-row INSERT statements are prepared at Open (a statement cannot be
// prepared on the writer while a batch holds its only connection) for
// power-of-two row counts up to bulkRows; n rows are inserted as the binary
// decomposition of n (and bulkRows-row statements for the rest).
const bulkRows = 64

// bulkTable is one table's multi-row INSERTs: byRows[k] inserts 1<<k rows.
type bulkTable struct {
	table, cols string
	ncol        int
	byRows      []*sql.Stmt
}

var (
	traceBulk = bulkTable{table: "traces", cols: `device_id, session_id, direction, msg_id, content_type, body, decoded, created_at, codec`, ncol: 9}
	eventBulk = bulkTable{table: "events", cols: `device_id, session_id, kind, type, source, target, format, mark, data, correlator, created_at`, ncol: 11}
)

// bulkStmts are the prepared multi-row INSERTs of the writer.
type bulkStmts struct {
	traces, events bulkTable
}

func prepareBulk(ctx context.Context, w *sql.DB) (*bulkStmts, error) {
	b := &bulkStmts{traces: traceBulk, events: eventBulk}
	for _, t := range []*bulkTable{&b.traces, &b.events} {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", t.ncol), ", ") + ")"
		for n := 1; n <= bulkRows; n *= 2 {
			q := "INSERT INTO " + t.table + " (" + t.cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
			x, err := w.PrepareContext(ctx, q)
			if err != nil {
				b.close()
				return nil, fmt.Errorf("sqlite: prepare %s bulk insert: %w", t.table, err)
			}
			t.byRows = append(t.byRows, x)
		}
	}
	return b, nil
}

func (b *bulkStmts) close() {
	if b == nil {
		return
	}
	for _, t := range []*bulkTable{&b.traces, &b.events} {
		for _, x := range t.byRows {
			x.Close()
		}
		t.byRows = nil
	}
}

// bulkInsert inserts n rows of t; args(i) are row i's values. The rows' IDs
// are consecutive (INTEGER PRIMARY KEY AUTOINCREMENT on the single writer:
// each new row gets the table's largest ID plus one), so each statement's
// last insert ID gives them all; setID(i, id) records them.
func (s *Store) bulkInsert(ctx context.Context, t *bulkTable, n int, args func(i int) ([]any, error),
	setID func(i int, id int64)) error {
	if len(t.byRows) == 0 {
		return errClosed
	}
	for lo := 0; lo < n; {
		k := len(t.byRows) - 1
		for 1<<k > n-lo {
			k--
		}
		hi := lo + 1<<k
		vals := make([]any, 0, (hi-lo)*t.ncol)
		for i := lo; i < hi; i++ {
			a, err := args(i)
			if err != nil {
				return err
			}
			vals = append(vals, a...)
		}
		res, err := s.use(ctx, t.byRows[k]).ExecContext(ctx, vals...)
		if err != nil {
			return wrap(err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return wrap(err)
		}
		for i := lo; i < hi; i++ {
			setID(i, last-int64(hi-1-i))
		}
		lo = hi
	}
	return nil
}

// AddTraces stores traces of existing devices with multi-row inserts (see
// storage.BulkAdder), assigning IDs and, when zero, CreatedAt; in a batch of
// its own unless already in one. Bodies are stored compressed
// (storage/internal/tracez), compressed before the writer is taken.
func (s *Store) AddTraces(ctx context.Context, ts []*storage.TraceEntry) error {
	if s.tx == nil {
		packs := packTraces(ts)
		return s.solo(ctx, func(in *Store) error {
			c := *in
			c.packs = packs
			return c.AddTraces(ctx, ts)
		})
	}
	at := now()
	created := make([]int64, len(ts))
	return s.bulkInsert(ctx, &s.bulk.traces, len(ts),
		func(i int) ([]any, error) {
			t := ts[i]
			if err := checkText("trace device id", t.DeviceID, "trace session id", t.SessionID, "trace direction",
				t.Direction, "trace msg id", t.MsgID, "trace content type", t.ContentType, "trace decoded", t.Decoded); err != nil {
				return nil, err
			}
			c := norm(t.CreatedAt)
			if c.IsZero() {
				c = at
			}
			created[i] = c.UnixMicro()
			p, ok := s.packs[t]
			if !ok {
				p = packTrace(t)
			}
			return []any{t.DeviceID, t.SessionID, t.Direction, t.MsgID, p.ct, blob(p.data), t.Decoded, created[i], p.codec}, nil
		},
		func(i int, id int64) {
			ts[i].ID, ts[i].CreatedAt = id, fromMicros(sql.NullInt64{Int64: created[i], Valid: true})
		})
}

// AddEvents stores events of existing devices with multi-row inserts (see
// storage.BulkAdder); in a batch of its own unless already in one.
func (s *Store) AddEvents(ctx context.Context, evs []*storage.Event) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.AddEvents(ctx, evs) })
	}
	at := now()
	created := make([]int64, len(evs))
	return s.bulkInsert(ctx, &s.bulk.events, len(evs),
		func(i int) ([]any, error) {
			e := evs[i]
			if err := checkText("event device id", e.DeviceID, "event session id", e.SessionID, "event kind", e.Kind,
				"event type", e.Type, "event source", e.Source, "event target", e.Target, "event format", e.Format,
				"event mark", e.Mark, "event data", e.Data, "event correlator", e.Correlator); err != nil {
				return nil, err
			}
			c := norm(e.CreatedAt)
			if c.IsZero() {
				c = at
			}
			created[i] = c.UnixMicro()
			return []any{e.DeviceID, e.SessionID, e.Kind, e.Type, e.Source, e.Target, e.Format, e.Mark, e.Data, e.Correlator, created[i]}, nil
		},
		func(i int, id int64) {
			evs[i].ID, evs[i].CreatedAt = id, fromMicros(sql.NullInt64{Int64: created[i], Valid: true})
		})
}
