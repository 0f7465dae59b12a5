package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
)

// Group commit of WriteEffects.
//
// With durable commits (fsync and synchronous_commit on, as in production)
// every DM message's implicit transaction waits for its WAL flush. Messages
// of different sessions that arrive while a pipeline is in flight are
// queued; the next leader sends all of them as one pipeline, which
// PostgreSQL runs as one implicit transaction with one commit (one Sync).
// Each caller returns only after the commit that holds its writes, so each
// message is exactly as durable as before.
//
// Atomicity per message is kept: a message's statements are checked before
// they join the pipeline, and when one of them fails inside the pipeline
// (a guard: session version, terminal job, missing device) the whole
// implicit transaction is rolled back, that message gets its error, and
// the other messages are sent again in the next pipeline.
type effectsGroup struct {
	mu      sync.Mutex
	queue   []*pendingEffects
	leaders int
}

const (
	// maxGroupLeaders is how many pipelines may be in flight at once: one
	// executes while another waits for its WAL flush.
	maxGroupLeaders = 2
	// maxGroupEffects bounds the messages of one pipeline.
	maxGroupEffects = 32
	// maxGroupRecords is the largest Effects that shares a pipeline: a
	// write-behind batch of thousands of traces runs alone rather than
	// delay the messages it would be grouped with.
	maxGroupRecords = 64
	// pipelineTimeout bounds one shared pipeline (a lost connection must
	// not hold every message of the group forever).
	pipelineTimeout = time.Minute
)

type pendingEffects struct {
	ctx   context.Context
	e     *storage.Effects
	packs map[*storage.TraceEntry]packedTrace
	err   error
	wake  chan bool // true: done (err is set); false: lead
}

// groupable reports whether e may share a pipeline with other messages.
func groupable(e *storage.Effects) bool {
	return len(e.Traces)+len(e.Events)+len(e.Nodes)+len(e.Chunks) <= maxGroupRecords
}

// write stores e in a shared pipeline and returns its outcome.
func (g *effectsGroup) write(ctx context.Context, s *Store, e *storage.Effects, packs map[*storage.TraceEntry]packedTrace) error {
	p := &pendingEffects{ctx: ctx, e: e, packs: packs, wake: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := g.leaders < maxGroupLeaders
	if lead {
		g.leaders++
	}
	g.mu.Unlock()
	if lead {
		g.lead(s, p)
	}
	for {
		if done := <-p.wake; done {
			return p.err
		}
		// Handed the lead while queued: back to the head of the queue,
		// then lead.
		g.mu.Lock()
		g.queue = append([]*pendingEffects{p}, g.queue...)
		g.mu.Unlock()
		g.lead(s, p)
	}
}

// lead sends pipelines until the caller's own message is done, then hands
// the lead to the oldest waiting message (or gives it up when none waits),
// so that no caller serves others for long.
func (g *effectsGroup) lead(s *Store, own *pendingEffects) {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroupEffects)
		if n == 0 || ownDone(own) {
			if len(g.queue) > 0 {
				// The oldest waiting message leads next; out of the queue
				// until it puts itself back, so no other leader finishes it
				// meanwhile.
				next := g.queue[0]
				g.queue = g.queue[1:]
				g.mu.Unlock()
				next.wake <- false
				return
			}
			g.leaders--
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		retry := s.runEffects(group)
		if len(retry) > 0 {
			g.mu.Lock()
			g.queue = append(retry, g.queue...)
			g.mu.Unlock()
		}
	}
}

// ownDone reports whether p has its outcome (its wake holds true).
func ownDone(p *pendingEffects) bool {
	select {
	case done := <-p.wake:
		p.wake <- done // leave it for the caller
		return done
	default:
		return false
	}
}

func (p *pendingEffects) finish(err error) {
	p.err = err
	p.wake <- true
}

// runEffects sends one pipeline for group and finishes its members; the
// members it returns were not stored because another member failed, and
// must be sent again.
func (s *Store) runEffects(group []*pendingEffects) (retry []*pendingEffects) {
	var b pgx.Batch
	t := now()
	type member struct {
		p      *pendingEffects
		pruned []string
		saved  storage.Session
	}
	ms := make([]member, 0, len(group))
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.finish(err)
			continue
		}
		before := b.Len()
		pruned, err := s.queueEffects(&b, p.e, t, p.packs)
		if err != nil {
			p.finish(err)
			continue
		}
		if b.Len() == before {
			p.finish(nil) // nothing to store
			continue
		}
		m := member{p: p, pruned: pruned}
		if p.e.Session != nil {
			m.saved = *p.e.Session
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil
	}
	// The pipeline belongs to no caller: a caller that gives up must not
	// abort the others' transaction half-way (each one's context was
	// checked above). pipelineTimeout bounds it instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ms[0].p.ctx), pipelineTimeout)
	defer cancel()
	br := s.pool.SendBatch(ctx, &b)
	results := make([]*effResults, len(ms))
	failed, ferr := -1, error(nil)
	for i, m := range ms {
		r, err := readEffects(br, m.p.e, m.pruned)
		if err != nil {
			failed, ferr = i, err
			break
		}
		results[i] = r
	}
	cerr := br.Close()
	if failed >= 0 {
		// Nothing of the pipeline is stored. The failing member gets its
		// error; the others go again (an error that belongs to no member,
		// like a lost connection, is every member's).
		var pe interface{ SQLState() string }
		own := errors.As(ferr, &pe)
		for i, m := range ms {
			if m.p.e.Session != nil {
				*m.p.e.Session = m.saved
			}
			switch {
			case i == failed:
				m.p.finish(s.effectsErr(ctx, m.p.e, ferr))
			case own:
				retry = append(retry, m.p)
			default:
				m.p.finish(wrap(ferr))
			}
		}
		return retry
	}
	if cerr != nil {
		for _, m := range ms {
			m.p.finish(wrap(cerr))
		}
		return nil
	}
	for i, m := range ms {
		results[i].apply(m.p.e, t)
		m.p.finish(nil)
	}
	return nil
}
