package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/omadm/omadm/storage"
)

var _ storage.Batcher = (*Store)(nil)

// maxGroup bounds how many batches share one transaction (group commit).
const maxGroup = 64

// Batch runs fn as one atomic unit (see storage.Batcher) on the writer
// connection. Reads through the Store fn receives go through the same
// transaction, so they see its writes and, since the write lock is held from
// the start, nothing another connection commits meanwhile. Called on a Store
// already inside a batch it runs fn in the same unit.
//
// Group commit: SQLite has one writer, and most of a small transaction's cost
// is its commit (writing the changed pages to the WAL). Batches that arrive
// while another is running are queued; the goroutine that finds the writer
// free becomes the leader, runs the queued batches one after another in one
// transaction, each inside its own SAVEPOINT (an error or panic rolls back
// only that batch's writes), and commits once for all. Batch returns only
// after the commit that holds fn's writes, so each batch is exactly as
// durable and as atomic as a transaction of its own.
func (s *Store) Batch(ctx context.Context, fn func(storage.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	b := &pendingBatch{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := s.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.queue = append(g.queue, b)
	if g.leading {
		g.mu.Unlock()
		<-b.done
	} else {
		g.leading = true
		g.mu.Unlock()
		s.lead()
	}
	if b.panicked {
		panic(b.panicVal)
	}
	return b.err
}

// groupState is the queue of batches waiting for the writer.
type groupState struct {
	mu      sync.Mutex
	leading bool // a goroutine is running queued batches
	lending bool // a read borrowed the idle writer connection (warm.go)
	reads   []*pendingRead
	queue   []*pendingBatch
	closed  bool       // Close began: no new batches
	idle    *sync.Cond // on mu; signalled when the leader stops
}

// errClosed is what a batch started after Close gets.
var errClosed = errors.New("sqlite: store is closed")

// drain refuses new batches and waits until the queued ones are committed,
// so that Close never pulls the statements from under a running group.
func (g *groupState) drain() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.leading || g.lending {
		g.idle.Wait()
	}
}

type pendingBatch struct {
	ctx      context.Context
	fn       func(storage.Store) error
	err      error
	panicked bool
	panicVal any
	done     chan struct{}
}

// lead runs queued batches, a group per transaction, until the queue is empty.
func (s *Store) lead() {
	g := s.group
	w := s.warmStore()
	for {
		g.mu.Lock()
		if len(g.reads) > 0 {
			// Reads queued during the last group run before the next
			// one (warm.go).
			rs := g.takeReads()
			g.mu.Unlock()
			w.runReads(rs)
			continue
		}
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.leading = false
			g.idle.Broadcast()
			g.mu.Unlock()
			return
		}
		if n < maxGroup {
			// Let the goroutines that are ready to run reach the queue
			// first: a message whose batch is a moment away joins this
			// commit instead of paying one of its own. Under the session
			// benchmark this cuts commits by a third (1.25 to 1.8
			// batches each) for a few microseconds of the leader's time.
			g.mu.Unlock()
			runtime.Gosched()
			g.mu.Lock()
			n = min(len(g.queue), maxGroup)
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		s.runGroup(group)
		for _, b := range group {
			close(b.done)
		}
		if s.ckpt != nil {
			s.ckpt.finish(s.w)
		}
	}
}

// runGroup runs the batches of one transaction; every batch gets its error.
func (s *Store) runGroup(group []*pendingBatch) {
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, b := range group {
			b.err = wrap(err)
		}
		return
	}
	in := &Store{w: s.w, r: s.r, st: s.st, bulk: s.bulk, group: s.group, key: s.key, tx: tx}
	var ok []*pendingBatch
	for _, b := range group {
		if err := b.ctx.Err(); err != nil {
			b.err = err
			continue
		}
		var fatal error
		if b.err, fatal = s.runOne(tx, in, b, len(group) == 1); fatal != nil {
			// The savepoint could not be undone: the transaction may hold
			// this batch's writes, so none of the group may commit.
			tx.Rollback()
			for _, o := range group {
				if o.err == nil {
					o.err = fatal
				}
			}
			return
		}
		if b.err == nil && !b.panicked {
			ok = append(ok, b)
		}
	}
	if len(ok) == 0 {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		for _, b := range ok {
			b.err = wrap(err)
		}
	}
}

// runOne runs one batch inside its savepoint, recovering a panic so that the
// other batches of the group are unaffected (Batch re-raises it in the
// batch's own goroutine). fatal reports that the savepoint could not be
// undone, which dooms the whole transaction.
func (s *Store) runOne(tx *sql.Tx, in *Store, b *pendingBatch, solo bool) (err, fatal error) {
	if solo {
		// Alone in its transaction: rolling the whole transaction back is
		// the undo, no savepoint needed.
		defer func() {
			if v := recover(); v != nil {
				b.panicked, b.panicVal = true, v
			}
		}()
		return b.fn(in), nil
	}
	bg := context.Background()
	if _, err := tx.StmtContext(bg, s.st.savepoint).ExecContext(bg); err != nil {
		return wrap(err), nil
	}
	undo := func() error {
		if _, err := tx.StmtContext(bg, s.st.rollbackTo).ExecContext(bg); err != nil {
			return fmt.Errorf("sqlite: rolling back a batch: %w", err)
		}
		if _, err := tx.StmtContext(bg, s.st.release).ExecContext(bg); err != nil {
			return fmt.Errorf("sqlite: rolling back a batch: %w", err)
		}
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			b.panicked, b.panicVal = true, v
			fatal = undo()
		}
	}()
	if err := b.fn(in); err != nil {
		return err, undo()
	}
	if _, err := tx.StmtContext(bg, s.st.release).ExecContext(bg); err != nil {
		return wrap(err), undo()
	}
	return nil, nil
}

// use returns x ready to run with ctx: inside a batch, the writer-prepared
// twin of a reader statement bound to the batch transaction (a transaction
// can only use statements of its own connection pool).
//
// Inside a batch the statement runs without ctx's cancellation: the leader
// checks each batch's context before running it, the statements of one
// message are short, and the driver would otherwise start a watcher
// goroutine for every statement on the single writer's critical path.
func (s *Store) use(ctx context.Context, x *sql.Stmt) bound {
	if s.tx == nil {
		if s.warm {
			if w, ok := s.st.twin[x]; ok {
				x = w
			}
		}
		return bound{x, ctx}
	}
	if w, ok := s.st.twin[x]; ok {
		x = w
	}
	ctx = context.WithoutCancel(ctx)
	return bound{s.tx.StmtContext(ctx, x), ctx}
}

// bound is a statement with the context it runs with; the context passed to
// its methods is ignored in favour of that one (see use).
type bound struct {
	x   *sql.Stmt
	ctx context.Context
}

func (b bound) ExecContext(_ context.Context, args ...any) (sql.Result, error) {
	return b.x.ExecContext(b.ctx, args...)
}

func (b bound) QueryContext(_ context.Context, args ...any) (*sql.Rows, error) {
	return b.x.QueryContext(b.ctx, args...)
}

func (b bound) QueryRowContext(_ context.Context, args ...any) *sql.Row {
	return b.x.QueryRowContext(b.ctx, args...)
}

// solo runs a write that is not inside a batch as a batch of its own, so
// that it joins the group commit instead of committing alone (a job queued
// through the API while devices are in session shares their transaction).
func (s *Store) solo(ctx context.Context, fn func(in *Store) error) error {
	return s.Batch(ctx, func(in storage.Store) error { return fn(in.(*Store)) })
}

func newGroupState() *groupState {
	g := &groupState{}
	g.idle = sync.NewCond(&g.mu)
	return g
}
