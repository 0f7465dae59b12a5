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
	// Campaigns, when set, are driven every CampaignInterval (default
	// DefaultCampaignInterval), and on every Tick when Tick is set.
	Campaigns        *Campaigns
	CampaignInterval time.Duration
}

// DefaultCampaignInterval is how often the Scheduler drives campaigns.
const DefaultCampaignInterval = time.Second

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
	if o.CampaignInterval <= 0 {
		o.CampaignInterval = DefaultCampaignInterval
	}
	return &Scheduler{m: m, o: o, done: make(chan struct{}), swept: make(chan struct{}, 1)}
}

// Swept receives a value after each timeout sweep and the campaign pass
// that follows it (capacity one: a slow reader sees that at least one
// sweep happened).
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
	var camp <-chan time.Time
	var ct *time.Ticker
	if s.o.Campaigns != nil && s.o.Tick == nil {
		ct = time.NewTicker(s.o.CampaignInterval)
		camp = ct.C
	}
	go func() {
		defer close(s.done)
		if t != nil {
			defer t.Stop()
		}
		if ct != nil {
			defer ct.Stop()
		}
		log := s.m.o.Logger
		if err := s.m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			log.Warn("operations: reconciling open operations", "err", err)
		}
		s.sweep(ctx)
		s.drive(ctx)
		s.signal()
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
				s.drive(ctx)
				s.signal()
			case <-camp:
				s.drive(ctx)
			}
		}
	}()
}

// drive applies the updates already queued (so campaigns see their
// operations' latest states), then makes one campaign pass.
func (s *Scheduler) drive(ctx context.Context) {
	if s.o.Campaigns == nil {
		return
	}
	for range len(s.m.queue) {
		c := <-s.m.queue
		if err := s.m.apply(ctx, c); err != nil && ctx.Err() == nil {
			s.m.o.Logger.Warn("operations: applying an update", "job", c.jobID, "event", c.eventID, "err", err)
		}
	}
	if _, err := s.o.Campaigns.Drive(ctx); err != nil && ctx.Err() == nil {
		s.m.o.Logger.Warn("campaigns: driving", "err", err)
	}
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
}

// signal tells Swept a sweep (and campaign pass) ended.
func (s *Scheduler) signal() {
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
