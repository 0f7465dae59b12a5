package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/internal/lograte"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// Inbound is one DM message as received from a transport (see package envelope).
type Inbound = envelope.Inbound

// Outbound is the reply to send back (see package envelope).
type Outbound = envelope.Outbound

// Engine runs DM sessions. It holds no per-session memory: all of it is in
// Options.Store, so several engines (processes) may share one store.
type Engine struct {
	o         Options
	store     storage.Store
	log       *slog.Logger
	m         *metrics
	lastMaint atomic.Int64 // unix nanoseconds of the last trace/session pruning
	lastSweep atomic.Int64 // unix nanoseconds of the last table-wide trace sweep
	// traceCursor is the highest trace ID the per-device retention pass has
	// visited: each hourly pass looks only at traces added since (the
	// first one after start looks at all). traceMu makes passes take turns.
	traceMu     sync.Mutex
	traceCursor int64
	behind      *behind // nil when traces are written with each message
	fails       *authFailures
	events      *buckets         // each device's event budget (Options.DeviceEventRate)
	rejects     *lograte.Limiter // lines peers cause (refused messages, device misbehaviour): one per kind per AuthLimits.LogEvery
	probeKey    []byte           // keys the challenge nonces of unknown device ids

	// Housekeeping runs beside the sessions (see maintain); Close cancels
	// and waits for it.
	maintMu     sync.Mutex
	maintClosed bool
	maintBusy   bool // a sweep is running: the next one waits its turn
	maintWG     sync.WaitGroup
	maintCtx    context.Context
	maintCancel context.CancelFunc
}

// maxCmdsPerMsg bounds the commands we put in one message when the device
// gave no MaxMsgSize, so replies stay reasonably small.
const maxCmdsPerMsg = 100

// New returns an engine for o. Options.Store is required.
func New(o Options) (*Engine, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{o: opts, store: opts.Store, log: opts.Logger, m: newMetrics(opts.Store),
		fails:   newAuthFailures(opts.AuthLimits),
		events:  newBuckets(opts.DeviceEventRate, opts.DeviceEventBurst),
		rejects: lograte.New(opts.AuthLimits.withDefaults().LogEvery), probeKey: make([]byte, 32)}
	if _, err := rand.Read(e.probeKey); err != nil {
		return nil, fmt.Errorf("server: random key: %w", err)
	}
	e.maintCtx, e.maintCancel = context.WithCancel(context.Background())
	e.lastMaint.Store(time.Now().UnixNano())
	e.lastSweep.Store(time.Now().UnixNano())
	if opts.TraceFlush > 0 {
		e.behind = newBehind(e, opts.TraceFlush)
	}
	return e, nil
}

// Flush writes the traces and session events still waiting behind the
// sessions (see Options.TraceFlush), so that what a caller reads next
// includes them.
func (e *Engine) Flush(ctx context.Context) {
	if e.behind != nil {
		e.behind.flush(ctx)
	}
}

// Close stops the housekeeping that may be running (an interrupted sweep
// resumes at the next start), writes the traces and session events still
// waiting and stops the engine's background writer. Call it after the last
// Handle returned (the HTTP server shut down) and before closing the store.
// Handle may still be called afterwards; what it traces is then written
// with each message, and it no longer starts housekeeping.
func (e *Engine) Close(ctx context.Context) {
	e.maintMu.Lock()
	e.maintClosed = true
	e.maintMu.Unlock()
	e.maintCancel()
	e.maintWG.Wait()
	for _, ev := range e.fails.drain(e.log, time.Now().UTC()) {
		e.storeEvent(ev)
	}
	if b := e.behind; b != nil {
		b.close(ctx)
	}
}

// Handle processes one inbound message and returns the reply. It returns an
// error only when no SyncML reply can be made; the error is a
// *syncml.StatusError whose code the binding maps to its transport's
// failure answer (HTTP: 400 malformed, 413 too large, 503 concurrent
// update, 500 otherwise). Every rejection is logged.
func (e *Engine) Handle(ctx context.Context, in *Inbound) (*Outbound, error) {
	start := time.Now()
	defer func() { e.m.latency.Observe(time.Since(start).Seconds()) }()
	if in == nil {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "no message")
	}
	if len(in.Body) > e.o.MaxMsgSize {
		e.m.rejected.WithLabelValues("too-large").Inc()
		e.rejects.Warn(e.log, "dm message rejected: too large", "remote", in.RemoteAddr, "size", len(in.Body), "max", e.o.MaxMsgSize)
		return nil, syncml.Errorf(syncml.StatusEntityTooLarge, "message of %d bytes exceeds %d", len(in.Body), e.o.MaxMsgSize)
	}
	lim := &syncml.Limits{MaxMessageSize: e.o.MaxMsgSize, MaxStringLen: e.o.MaxMsgSize}
	msg, enc, err := syncml.Decode(in.Body, in.ContentType, lim)
	if err != nil {
		e.m.rejected.WithLabelValues("malformed").Inc()
		e.rejects.Warn(e.log, "dm message rejected: malformed", "remote", in.RemoteAddr, "err", err)
		if msg != nil && msg.Header.Source.LocURI != "" && msg.Header.MsgID != "" {
			// The header was readable: answer in SyncML so the device learns why.
			out, err := e.reject(msg, enc, 0, syncml.StatusBadRequest)
			if err == nil {
				e.m.msgsOut.Inc()
			}
			return out, err
		}
		return nil, &syncml.StatusError{Code: syncml.StatusBadRequest, Msg: "malformed DM message", Err: err}
	}
	e.m.msgsIn.Inc()
	x := &exchange{e: e, in: in, msg: msg, enc: enc, now: time.Now().UTC()}
	out, err := x.run(ctx)
	if err != nil {
		return nil, err
	}
	e.m.msgsOut.Inc()
	e.maintain()
	return out, nil
}

func (e *Engine) emit(u Update) {
	if e.o.OnEvent == nil {
		return
	}
	if u.Time.IsZero() {
		u.Time = time.Now().UTC()
	}
	e.o.OnEvent(u)
}
