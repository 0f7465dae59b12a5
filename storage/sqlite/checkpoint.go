package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// WAL checkpoints, off the writer's critical path.
//
// SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL
// past wal_autocheckpoint pages: that commit copies every page back into the
// database file and fsyncs twice, and every batch queued behind it waits. In
// a profile of the session benchmark that was a third of the commit time of the single
// writer.
//
// Here the writer connection has wal_autocheckpoint off and a checkpointer
// goroutine with a connection of its own copies frames (PASSIVE: it never
// blocks the writer or the readers) whenever the writer reports new commits.
// That alone would let the WAL grow without end: SQLite rewinds the WAL to its
// start only when a write transaction begins while every frame has been
// copied back, which under a steady stream of commits is never the case at
// the moment the writer begins. So once the WAL is past walCycle frames, the
// writer finishes the checkpoint itself between two groups: by then the
// checkpointer has copied nearly everything, so the writer copies only the
// last commits' frames, and its next transaction starts writing at the head
// of the WAL again (overwriting a recycled WAL is several times cheaper than
// appending to a growing file). Should the checkpointer fall behind, the
// writer's own checkpoint copies the rest: never worse than the automatic
// checkpoint.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once

	// Frames in the WAL at the checkpointer's last pass; the writer reads it
	// between groups.
	log atomic.Int64
}

// walCycle is the WAL length (frames) at which the writer completes a
// checkpoint so that the WAL starts over; SQLite's wal_autocheckpoint
// default.
const walCycle = 1000

// minCheckpointGap spaces the checkpointer's passes. Each pass fsyncs the
// WAL and the database file and copies the newest version of every page
// committed since the last pass; under a steady stream of sessions the same
// pages (the ends of the jobs, sessions and traces tables and of their
// indexes) are committed again and again, so a longer gap copies each of
// them once for many commits. 20 ms against 2 ms: 3–17 % less CPU per
// durable session in four same-run sets of BenchmarkHTTPSessions_SQLite
// (BENCHMARKS.md), for a WAL up to 20 ms of commits longer between rewinds.
const minCheckpointGap = 20 * time.Millisecond

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-idle.C:
		}
		c.pass()
		idle.Reset(time.Second)
		select {
		case <-c.stop:
			return
		case <-time.After(minCheckpointGap):
		}
	}
}

// pass runs one PASSIVE checkpoint and records how long the WAL is. Errors are
// not fatal: the writer's own checkpoint (and SQLite's on close) still run.
func (c *checkpointer) pass() {
	var busy, log, copied int64
	err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
	if err != nil {
		return
	}
	c.log.Store(log)
}

// committed tells the checkpointer there are new frames to copy.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// finish is called by the writer between groups, on its own connection: it
// tells the checkpointer about the new frames and, once the WAL is a full
// cycle long, copies what the checkpointer has not yet, so that the
// writer's next transaction rewinds the WAL. When that checkpoint cannot
// complete (the checkpointer is running, or a reader still needs old
// frames) the writer tries again after its next group; a PASSIVE checkpoint
// that cannot start returns at once.
func (c *checkpointer) finish(w *sql.DB) {
	c.committed()
	if c.log.Load() < walCycle {
		return
	}
	var busy, log, copied int64
	err := w.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
	if err != nil || busy != 0 || copied < log {
		return
	}
	c.log.Store(0) // the checkpointer's next pass reports the rewound WAL
}

// close stops the goroutine and closes its connection.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
