package fleet

import (
	"context"
	"sync"
	"time"
)

// DefaultInterval is how often the Scheduler looks for expired operations.
const DefaultInterval = 10 * time.Second

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Interval between timeout sweeps (0: DefaultInterval).
	Interval time.Duration
	// Tick, when set, replaces the interval's ticker (tests send on it to
	// run one sweep).
	Tick <-chan time.Time
}

// Scheduler is the background loop `omadm serve` owns: it applies the job
// changes and reports the Manager observed, reconciles the open operations
// when it starts (and, a bounded slice per sweep, all the time, in case a
// node crashed between storing a report and moving its operation), and
// times out those past their deadline. Several nodes may
// each run one on a shared database (see Manager.Expire).
type Scheduler struct {
	m      *Manager
	o      SchedulerOptions
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	// swept receives after each timeout sweep (tests wait on it).
	swept chan struct{}
	// cursor is where the next sweep's slice of open operations starts.
	cursor int64
}

// reconcilePerSweep bounds the open operations one sweep re-reads.
const reconcilePerSweep = 200

// NewScheduler returns a Scheduler for m; Start runs it.
func NewScheduler(m *Manager, o SchedulerOptions) *Scheduler {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return &Scheduler{m: m, o: o, done: make(chan struct{}), swept: make(chan struct{}, 1)}
}

// Swept receives a value after each timeout sweep (capacity one: a slow
// reader sees that at least one sweep happened).
func (s *Scheduler) Swept() <-chan struct{} { return s.swept }

// Start runs the loop until Close.
func (s *Scheduler) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	tick := s.o.Tick
	var t *time.Ticker
	if tick == nil {
		t = time.NewTicker(s.o.Interval)
		tick = t.C
	}
	go func() {
		defer close(s.done)
		if t != nil {
			defer t.Stop()
		}
		log := s.m.o.Logger
		if err := s.m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			log.Warn("operations: reconciling open operations", "err", err)
		}
		s.sweep(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-s.m.queue:
				if err := s.m.apply(ctx, c); err != nil && ctx.Err() == nil {
					log.Warn("operations: applying an update", "job", c.jobID, "event", c.eventID, "err", err)
				}
			case <-tick:
				s.sweep(ctx)
			}
		}
	}()
}

func (s *Scheduler) sweep(ctx context.Context) {
	cursor, err := s.m.ReconcileSome(ctx, s.cursor, reconcilePerSweep)
	if err != nil && ctx.Err() == nil {
		s.m.o.Logger.Warn("operations: reconciling open operations", "err", err)
	}
	s.cursor = cursor
	n, err := s.m.Expire(ctx)
	if err != nil && ctx.Err() == nil {
		s.m.o.Logger.Warn("operations: timing out operations", "err", err)
	}
	if n > 0 {
		s.m.o.Logger.Info("operations timed out", "count", n)
	}
	select {
	case s.swept <- struct{}{}:
	default:
	}
}

// Close stops the loop and waits for it.
func (s *Scheduler) Close() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
}
