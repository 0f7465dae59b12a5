package sqlite

import "time"

// Reads of a DM message on the writer connection.
//
// A read on a connection of the read-only pool that follows a commit of the
// writer starts with an empty page cache: SQLite drops a connection's cache
// whenever the WAL moved since that connection's last read, so every page
// the read touches is fetched again, the recently written ones (the hot
// pages every message touches) with a pread from the WAL. Under the session
// benchmark the device-and-session read cost about 290 µs there against
// 90 µs on the writer, whose cache is never stale: it made every change.
//
// So the reads a DM message cannot do without (ReadMessage, GetJobs) run on
// the writer connection, between its transactions, never inside one (a
// group's uncommitted writes must not be seen: one of its batches may still
// roll back):
//   - when the writer is idle, the reading goroutine borrows it (lending),
//     and before giving it back runs the reads queued meanwhile;
//   - when a group is running, the read is queued and the leader runs the
//     queued reads before its next transaction.
//
// A queued read that has not started after maxReadWait runs on the pool
// instead, so a read can never wait on a batch that waits on it (a batch
// function reading through the outer Store), and a long group costs a read
// no more than that.

// maxReadWait bounds how long a read waits for the writer before it takes
// the read-only pool.
const maxReadWait = 20 * time.Millisecond

// pendingRead is a read waiting for the writer connection.
type pendingRead struct {
	fn       func(*Store)
	started  bool // on the group's mu: the writer took it
	done     chan struct{}
	panicVal any // a panic of fn, re-raised in the reading goroutine
}

// onWriter runs fn with a Store whose reads use the writer connection and
// reports true, or reports false without running fn when fn must run on the
// read-only pool instead (s is inside a batch, the store is closing, or the
// writer stayed busy for maxReadWait).
func (s *Store) onWriter(fn func(*Store)) bool {
	if s.tx != nil || s.warm {
		return false
	}
	g := s.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	if !g.leading && !g.lending {
		g.lending = true
		g.mu.Unlock()
		w := s.warmStore()
		defer w.lendDone() // also when fn panics: the writer is not left lent
		fn(w)
		return true
	}
	r := &pendingRead{fn: fn, done: make(chan struct{})}
	g.reads = append(g.reads, r)
	g.mu.Unlock()
	t := time.NewTimer(maxReadWait)
	defer t.Stop()
	select {
	case <-r.done:
		r.rethrow()
		return true
	case <-t.C:
	}
	g.mu.Lock()
	if r.started {
		g.mu.Unlock()
		<-r.done
		r.rethrow()
		return true
	}
	for i, q := range g.reads {
		if q == r {
			g.reads = append(g.reads[:i:i], g.reads[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	return false
}

// warmStore is s with its reads on the writer connection.
func (s *Store) warmStore() *Store {
	c := *s
	c.warm = true
	return &c
}

// lendDone ends a loan of the idle writer: the reads queued meanwhile run
// first, unless a group is waiting for the connection (its leader runs them
// before its transaction).
func (w *Store) lendDone() {
	g := w.group
	for {
		g.mu.Lock()
		if g.leading || len(g.reads) == 0 {
			g.lending = false
			g.idle.Broadcast()
			g.mu.Unlock()
			return
		}
		rs := g.takeReads()
		g.mu.Unlock()
		w.runReads(rs)
	}
}

// takeReads empties the read queue; called with g.mu held.
func (g *groupState) takeReads() []*pendingRead {
	rs := g.reads
	g.reads = nil
	for _, r := range rs {
		r.started = true
	}
	return rs
}

// runReads runs queued reads on the writer connection, outside any
// transaction. A read that panics does not take the goroutine running it
// (a leader, another reader) down: its own goroutine re-raises the panic.
func (w *Store) runReads(rs []*pendingRead) {
	for _, r := range rs {
		func() {
			defer close(r.done)
			defer func() { r.panicVal = recover() }()
			r.fn(w)
		}()
	}
}

func (r *pendingRead) rethrow() {
	if r.panicVal != nil {
		panic(r.panicVal)
	}
}
