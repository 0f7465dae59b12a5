package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/omadm/omadm/auth"
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

// maintEvery is how often Handle deletes expired sessions.
const maintEvery = time.Minute

// sweepEvery is how often Handle trims the traces of every device and
// applies the event retention. Each session trims its own device's traces
// when it ends (Effects.TraceKeep), so the trace sweep only catches devices
// whose last session never ended; it is rare because its cost grows with
// the number of devices.
const sweepEvery = time.Hour

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

// maintain starts the deletion of expired sessions at most once per
// maintEvery, with the table-wide trace sweep and the event retention at
// most once per sweepEvery, whichever message gets there first. It runs in
// a goroutine of its own: a busy server's minute of expired sessions is
// hundreds of thousands of rows, which the device whose message happened
// to trigger the sweep must not wait for.
func (e *Engine) maintain() {
	last := e.lastMaint.Load()
	now := time.Now()
	if now.Sub(time.Unix(0, last)) < maintEvery || !e.lastMaint.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	sw := e.lastSweep.Load()
	full := now.Sub(time.Unix(0, sw)) >= sweepEvery && e.lastSweep.CompareAndSwap(sw, now.UnixNano())
	e.maintMu.Lock()
	defer e.maintMu.Unlock()
	if e.maintClosed || e.maintBusy {
		// A sweep longer than maintEvery is still running: no second one
		// beside it (a skipped hourly part is tried again next minute).
		if full {
			e.lastSweep.Store(sw)
		}
		return
	}
	e.maintBusy = true
	e.maintWG.Add(1)
	go func() {
		defer e.maintWG.Done()
		start := time.Now()
		e.sweep(e.maintCtx, now, full) // failures are logged; the next round retries
		since(e.m.storeMaintenance, start)
		e.maintMu.Lock()
		e.maintBusy = false
		e.maintMu.Unlock()
	}()
}

// Sweep runs the storage housekeeping now instead of waiting for Handle to
// do it: it deletes sessions idle for twice the SessionTTL and sessions
// that ended over a minute ago, trims every device's traces to TraceKeep
// (looking at the traces added since the last sweep), deletes traces older
// than TraceMaxAge when set, events older than EventKeep and, when JobKeep
// is set, finished jobs older than that.
// Handle does the first every minute and the others hourly by itself; Sweep
// is for operators' tools and tests. The first failure is returned (and
// every failure logged); the remaining steps still run.
func (e *Engine) Sweep(ctx context.Context) error {
	return e.sweep(ctx, time.Now(), true)
}

func (e *Engine) sweep(ctx context.Context, now time.Time, full bool) error {
	var errs []error
	fail := func(what string, err error) {
		if ctx.Err() == nil { // not the sweep Close interrupted
			e.log.Warn(what+" failed", "err", err)
		}
		errs = append(errs, fmt.Errorf("server: %s: %w", what, err))
	}
	if full {
		if err := e.pruneAllTraces(ctx); err != nil {
			fail("pruning traces", err)
		}
		if e.o.TraceMaxAge > 0 {
			if n, err := e.deleteOldTraces(ctx, now.Add(-e.o.TraceMaxAge)); err != nil {
				fail("deleting old traces", err)
			} else if n > 0 {
				e.log.Info("deleted old traces", "count", n, "older_than", e.o.TraceMaxAge)
			}
		}
		if e.o.JobKeep > 0 {
			if n, err := e.store.DeleteJobsBefore(ctx, now.Add(-e.o.JobKeep)); err != nil {
				fail("deleting old jobs", err)
			} else if n > 0 {
				e.log.Info("deleted finished jobs", "count", n, "older_than", e.o.JobKeep)
			}
		}
		if e.o.EventKeep > 0 {
			if n, err := e.store.DeleteEventsBefore(ctx, now.Add(-e.o.EventKeep)); err != nil {
				fail("deleting old events", err)
			} else if n > 0 {
				e.log.Info("deleted old events", "count", n, "older_than", e.o.EventKeep)
			}
		}
	}
	if _, err := e.store.DeleteSessionsBefore(ctx, now.Add(-2*e.o.SessionTTL)); err != nil {
		fail("deleting expired sessions", err)
	}
	if err := e.deleteClosedSessions(ctx, now.Add(-closedSessionKeep)); err != nil {
		fail("deleting closed sessions", err)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Housekeeping steps: how many rows one step visits (trace IDs, closed
// sessions). Each step is one short read and at most one short write, so
// housekeeping interleaves with the sessions' writes instead of holding
// the single SQLite writer (a sweep of a million devices used to be a
// million writes, one per device).
const (
	traceSweepStep   = 2000
	sessionSweepStep = 1000
)

// closedSessionKeep is how long a session stays stored after it ended:
// long enough for a device that lost our last reply to send its message
// again and get the stored reply (not a new session), short enough that
// ended sessions never pile up (the minute's sweep deletes them).
const closedSessionKeep = time.Minute

// pruneAllTraces trims every device's traces to TraceKeep. The traces
// added since the last pass are visited in ID ranges; for each device
// among them that has more than TraceKeep traces, its oldest are deleted
// (storage.Housekeeper: one read of the range, one write of the cuts).
// Sessions that end trim their own device already, so the pass mostly
// reads; it catches devices whose last session never ended.
func (e *Engine) pruneAllTraces(ctx context.Context) error {
	e.traceMu.Lock()
	defer e.traceMu.Unlock()
	for {
		cuts, last, err := e.store.TraceCuts(ctx, e.traceCursor, traceSweepStep, e.o.TraceKeep)
		if err != nil || last == 0 {
			return err
		}
		if _, err := e.store.DeleteTraceCuts(ctx, cuts); err != nil {
			return err
		}
		e.traceCursor = last
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// deleteOldTraces deletes traces created before t, oldest first, one ID
// range per step, and stops at the first range holding a newer trace.
func (e *Engine) deleteOldTraces(ctx context.Context, t time.Time) (int, error) {
	var after int64
	total := 0
	for {
		n, last, newer, err := e.store.DeleteTracesBefore(ctx, after, traceSweepStep, t)
		total += n
		if err != nil || last == 0 || newer {
			return total, err
		}
		after = last
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// deleteClosedSessions deletes sessions that ended before t, a step at a time.
func (e *Engine) deleteClosedSessions(ctx context.Context, t time.Time) error {
	for {
		n, err := e.store.DeleteClosedSessionsBefore(ctx, t, sessionSweepStep)
		if err != nil || n < sessionSweepStep {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// reject answers a message that cannot be processed with a header Status of
// code and the same code for every command, without storing anything.
// hdrItems ride on the header Status (the supported versions of a 505/513).
func (e *Engine) reject(m *syncml.Message, enc syncml.Encoding, outMsgID int, code syncml.StatusCode, hdrItems ...syncml.Item) (*Outbound, error) {
	return e.rejectWith(m, enc, outMsgID, code, nil, "", hdrItems...)
}

// rejectWith is reject with a challenge in the SyncHdr Status and a RespURI.
func (e *Engine) rejectWith(m *syncml.Message, enc syncml.Encoding, outMsgID int, code syncml.StatusCode, chal *syncml.Chal, resp string, hdrItems ...syncml.Item) (*Outbound, error) {
	h := m.Header
	dtd, proto := replyVersions(&h)
	r := &syncml.Message{Header: syncml.Header{
		VerDTD: dtd, VerProto: proto,
		SessionID: h.SessionID, MsgID: strconv.Itoa(outMsgID + 1),
		Target: syncml.Location{LocURI: h.Source.LocURI}, Source: syncml.Location{LocURI: orDefault(h.Target.LocURI, e.o.ServerID)},
		RespURI: resp,
	}, Final: true}
	n := 0
	hs := hdrStatus(&n, &h, code, chal)
	hs.Items = hdrItems
	r.Body = append(r.Body, hs)
	for _, c := range m.Body {
		if _, ok := c.(*syncml.Status); ok {
			continue
		}
		r.Body = append(r.Body, cmdStatus(&n, h.MsgID, c, code))
	}
	body, err := syncml.Encode(r, enc)
	if err != nil {
		return nil, &syncml.StatusError{Code: syncml.StatusCommandFailed, Msg: "encoding reply", Err: err}
	}
	return &Outbound{Body: body, ContentType: enc.ContentType()}, nil
}

// checkVersions checks the SyncHdr's VerDTD and VerProto: this server speaks
// OMA DM 1.2 and, for DM 1.1 devices, 1.1 (VerDTD "1.1", VerProto "DM/1.1"),
// each answered in its own dialect. Anything else gets 505 DTD version not
// supported (VerDTD checked first: it is the outer document's version) or
// 513 Protocol version not supported, whose Status carries the versions we
// support as Items (OMA-TS-SyncML_RepPro-V1_2, Response status codes 505 and
// 513: the recipient lists the versions it does support in Item). A SyncML
// DS message ("SyncML/1.x") gets 513.
func checkVersions(h *syncml.Header) (syncml.StatusCode, []syncml.Item) {
	switch {
	case h.VerDTD != syncml.VerDTD12 && h.VerDTD != syncml.VerDTD11:
		return syncml.StatusDTDNotSupported, []syncml.Item{
			{Data: syncml.TextData(syncml.VerDTD12)}, {Data: syncml.TextData(syncml.VerDTD11)}}
	case h.VerProto != syncml.VerProto12 && h.VerProto != syncml.VerProto11:
		return syncml.StatusProtocolNotSupported, []syncml.Item{
			{Data: syncml.TextData(syncml.VerProto12)}, {Data: syncml.TextData(syncml.VerProto11)}}
	}
	return 0, nil
}

// replyVersions returns the VerDTD and VerProto of a reply to h: the
// device's own when we speak them, else the DM 1.1 pair for a SyncML 1.1
// document and the DM 1.2 pair otherwise, so that even a refusal is written
// in a dialect the device may read.
func replyVersions(h *syncml.Header) (dtd, proto string) {
	dtd, proto = h.VerDTD, h.VerProto
	if dtd != syncml.VerDTD11 && dtd != syncml.VerDTD12 {
		dtd = syncml.VerDTD12
	}
	if proto != syncml.VerProto11 && proto != syncml.VerProto12 {
		proto = syncml.VerProto12
		if dtd == syncml.VerDTD11 {
			proto = syncml.VerProto11
		}
	}
	return dtd, proto
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func hdrStatus(n *int, h *syncml.Header, code syncml.StatusCode, chal *syncml.Chal) *syncml.Status {
	*n++
	return &syncml.Status{CmdID: strconv.Itoa(*n), MsgRef: h.MsgID, CmdRef: "0", Cmd: "SyncHdr",
		TargetRefs: []string{h.Target.LocURI}, SourceRefs: []string{h.Source.LocURI}, Data: code, Chal: chal}
}

func cmdStatus(n *int, msgRef string, c syncml.Command, code syncml.StatusCode) *syncml.Status {
	*n++
	return &syncml.Status{CmdID: strconv.Itoa(*n), MsgRef: msgRef, CmdRef: c.ID(), Cmd: c.CommandName(), Data: code}
}

func newToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// exchange is the handling of one inbound message.
type exchange struct {
	e   *Engine
	in  *Inbound
	msg *syncml.Message
	enc syncml.Encoding
	now time.Time

	rd       *storage.MessageRead   // device, session and queue as read first
	jobs     map[int64]*storage.Job // jobs read for finalize (nil: read one by one)
	dev      *storage.Device
	devDirty bool
	sess     *storage.Session
	st       *sessionState
	newSess  bool
	viaToken bool // the message was addressed to this session's token (Inbound.Addr)
	msgID    int
	outMsgID int // MsgID of the reply

	reply *syncml.Message
	cmdN  int // CmdID counter of the reply
	abort bool
	// reauth: the device challenged our credentials in this message, so its
	// 215 answers are resent at once; authGiveUp: it rejected them for good.
	reauth     bool
	authGiveUp bool
	closing    bool
	failed     bool // session ends abnormally

	// effects applied after the session state is saved.
	jobUpdates map[int64]*storage.Job
	jobOrder   []int64
	sent       []sentCmd
	added      int              // commands (jobs, chunks) fill put in the reply
	events     []*storage.Event // generic alerts: stored with the message
	// seqAfterAuth: the session was found without its token, so the
	// MsgID sequence is checked after authentication (loadSession).
	seqAfterAuth bool
	milestones   []*storage.Event // session-start/-end/-abort
	late         *storage.Effects // traces and milestones to write behind the message
	nodes        []storage.TreeNode
	alerts1225   []syncml.Item
	// chunks of the inbound large object received in this message, to be
	// appended to the store (storage.ChunkStore); dropChunks deletes the
	// session's stored chunks first (object finished, abandoned or new);
	// loErr is a storage error reading them back, which fails the message.
	chunks     []*storage.Chunk
	dropChunks bool
	loErr      error
	replaced   int  // items of device Replaces stored in this message
	capWarned  bool // the caps warning was logged for this message
}

// sentCmd is a job whose command the reply carries.
type sentCmd struct {
	job *storage.Job
	cmd syncml.Command
}

// result names how the session this message closes ended (label result of
// sessions_ended_total).
func (x *exchange) result() string {
	switch {
	case !x.failed:
		return sessionCompleted
	case x.abort:
		return sessionDeviceAbort
	case x.authGiveUp:
		return sessionServerRejected
	}
	return sessionMsgTooSmall
}

func (x *exchange) log() *slog.Logger {
	return x.e.log.With("device", x.msg.Header.Source.LocURI, "session", x.msg.Header.SessionID,
		"msgid", x.msg.Header.MsgID, "remote", x.in.RemoteAddr)
}

func (x *exchange) run(ctx context.Context) (*Outbound, error) {
	e := x.e
	h := &x.msg.Header
	devID := h.Source.LocURI
	id, err := strconv.Atoi(h.MsgID)
	if devID == "" || h.SessionID == "" || err != nil || id <= 0 {
		e.m.rejected.WithLabelValues("bad-header").Inc()
		x.e.rejects.Warn(x.log(), "dm message rejected: header lacks device id, SessionID or a positive MsgID")
		if devID == "" {
			return nil, syncml.Errorf(syncml.StatusBadRequest, "SyncHdr has no Source LocURI")
		}
		return e.reject(x.msg, x.enc, 0, syncml.StatusBadRequest)
	}
	x.msgID = id
	if !storage.ValidIdentifier(devID) || !storage.ValidIdentifier(h.SessionID) {
		// A device id with control or format characters (bidi overrides,
		// zero-width characters) could pass for another in logs and the
		// console: refused before any lookup. The SessionID is a storage
		// key too (WBXML strings are not checked for UTF-8 by the codec).
		e.m.rejected.WithLabelValues("bad-device-id").Inc()
		x.e.rejects.Warn(x.log(), "dm message rejected: device id or SessionID is not valid UTF-8 or has control or format characters",
			"device_id", strconv.Quote(devID), "session_id", strconv.Quote(h.SessionID))
		return e.reject(x.msg, x.enc, 0, syncml.StatusBadRequest)
	}
	if code, items := checkVersions(h); code != 0 {
		e.m.rejected.WithLabelValues("version").Inc()
		x.e.rejects.Warn(x.log(), "dm message rejected: unsupported version", "verdtd", h.VerDTD, "verproto", h.VerProto, "status", int(code))
		return e.reject(x.msg, x.enc, 0, code, items...)
	}

	// Device, session and (when that costs no extra round trip) the job
	// queue in one read: one round trip on PostgreSQL.
	_, oneTrip := e.store.(storage.MessageReader)
	x.rd = &storage.MessageRead{DeviceID: devID, SessionID: h.SessionID, Token: x.in.Token(), Pending: oneTrip}
	readStart := time.Now()
	err = storage.ReadMessage(ctx, e.store, x.rd)
	since(e.m.storeRead, readStart)
	if err != nil {
		return nil, storageErr("reading device and session", err)
	}
	x.dev, err = x.rd.Device, x.rd.DeviceErr
	if errors.Is(err, storage.ErrNotFound) {
		return x.unknownDevice()
	}
	if err != nil {
		return nil, storageErr("reading device", err)
	}

	if out, err, done := x.loadSession(ctx); done {
		return out, err
	}

	x.outMsgID = x.st.OutMsgID + 1
	x.reply = &syncml.Message{Header: syncml.Header{
		VerDTD: x.st.VerDTD, VerProto: x.st.VerProto, SessionID: h.SessionID,
		MsgID:   strconv.Itoa(x.outMsgID),
		Target:  syncml.Location{LocURI: devID},
		Source:  syncml.Location{LocURI: x.st.ServerURI},
		RespURI: x.in.RespURI(x.sess.Token),
		Meta:    &syncml.Meta{MaxMsgSize: int64(e.o.MaxMsgSize), MaxObjSize: int64(e.o.MaxObjSize)},
	}}
	if m := h.Meta; m != nil {
		if m.MaxMsgSize > 0 {
			x.st.DevMaxMsg = m.MaxMsgSize
		}
		if m.MaxObjSize > 0 {
			x.st.DevMaxObj = m.MaxObjSize
		}
	}

	code, chal := x.authenticate()
	if !code.Success() {
		// Only Statuses, one per command (OMA-TS-DM_Protocol-V1_2 §9.1),
		// and nothing stored: a forged message changes no state.
		return x.authFailed(code, chal)
	}
	if x.seqAfterAuth {
		if out, err := x.checkSequence(); out != nil || err != nil {
			return out, err
		}
	}
	x.reply.Body = append(x.reply.Body, hdrStatus(&x.cmdN, h, code, chal))

	if err := x.process(ctx); err != nil {
		return nil, err
	}
	if err := x.respond(ctx); err != nil {
		return nil, err
	}
	return x.commit(ctx)
}

func storageErr(what string, err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return &syncml.StatusError{Code: syncml.StatusServiceUnavailable, Msg: what + ": concurrent update, retry", Err: err}
	}
	return &syncml.StatusError{Code: syncml.StatusCommandFailed, Msg: what, Err: err}
}

// loadSession finds (or starts) the session of the message and checks the
// MsgID sequence. done reports that out/err is the final answer.
//
// Choices: a message addressed to a session token that is unknown, expired,
// closed or belongs to another device/session is answered with a header
// Status 404 and nothing else. An exact duplicate of the last accepted
// message (same MsgID, same bytes) gets the stored reply again, because the
// device most likely lost our answer. Any other MsgID that is not the last
// one plus one is answered with a header Status 400 and changes nothing.
func (x *exchange) loadSession(ctx context.Context) (out *Outbound, err error, done bool) {
	e := x.e
	h := &x.msg.Header
	devID := h.Source.LocURI
	expired := func(s *storage.Session) bool { return x.now.Sub(s.UpdatedAt) > e.o.SessionTTL }
	if tok := x.rd.Token; tok != "" {
		s, err := x.rd.Session, x.rd.SessionErr
		switch {
		case errors.Is(err, storage.ErrNotFound) || err == nil && (s.DeviceID != devID || s.SessionID != h.SessionID || expired(s)):
			e.m.rejected.WithLabelValues("unknown-session").Inc()
			x.e.rejects.Warn(x.log(), "dm message rejected: unknown, expired or closed session token")
			out, err := e.reject(x.msg, x.enc, 0, syncml.StatusNotFound)
			return out, err, true
		case err != nil:
			return nil, storageErr("reading session", err), true
		}
		x.sess = s
		x.viaToken = true
	} else {
		s, err := x.rd.Session, x.rd.SessionErr
		switch {
		case errors.Is(err, storage.ErrNotFound):
			x.sess = &storage.Session{DeviceID: devID, SessionID: h.SessionID}
		case err != nil:
			return nil, storageErr("reading session", err), true
		default:
			x.sess = s
			if expired(s) || s.Closed && !x.isDuplicate(s) {
				// A new session that reuses the SessionID of an old one.
				s.State, s.Closed, s.Token = nil, false, ""
			}
		}
	}
	x.st, err = decodeState(x.sess.State)
	if err != nil {
		return nil, storageErr("decoding session state", err), true
	}
	if x.sess.Token == "" {
		x.newSess = true
		x.sess.Token = newToken()
		x.st.Enc = x.enc
		x.st.VerDTD = orDefault(h.VerDTD, syncml.VerDTD12)
		x.st.VerProto = orDefault(h.VerProto, syncml.VerProto12)
		x.st.ServerURI = orDefault(h.Target.LocURI, e.o.ServerID)
		x.st.SendCred = true
		x.st.InMsgID = x.msgID - 1
		return nil, nil, false
	}
	sum := sha256.Sum256(x.in.Body)
	if x.msgID == x.st.InMsgID && bytes.Equal(sum[:], x.st.InHash) && x.st.LastReply != nil {
		x.log().Info("dm message is an exact duplicate: resending the stored reply")
		out := &Outbound{Body: x.st.LastReply, ContentType: x.st.Enc.ContentType(), HMAC: x.st.LastHMAC}
		if !x.sess.Closed {
			out.Token = x.sess.Token
		}
		return out, nil, true
	}
	if x.viaToken {
		out, err := x.checkSequence()
		return out, err, out != nil || err != nil
	}
	// Without the session's token the sender is not known to own the
	// session: its answer must not tell that the session exists (nor its
	// counters), so the sequence is checked once it has authenticated.
	x.seqAfterAuth = true
	return nil, nil, false
}

// checkSequence refuses a message of an ended session and a MsgID out of
// sequence; nil, nil lets the message through.
func (x *exchange) checkSequence() (*Outbound, error) {
	e := x.e
	if x.sess.Closed {
		e.m.rejected.WithLabelValues("closed-session").Inc()
		x.e.rejects.Warn(x.log(), "dm message rejected: session already ended")
		return e.reject(x.msg, x.enc, x.st.OutMsgID, syncml.StatusNotFound)
	}
	// The next MsgID is the last accepted one plus one, or a little more:
	// messages rejected for their credentials are not stored, so after
	// auth.MaxChallenges of them the device's MsgID is ahead by as many.
	if x.msgID <= x.st.InMsgID || x.msgID > x.st.InMsgID+1+auth.MaxChallenges {
		e.m.rejected.WithLabelValues("msgid").Inc()
		x.e.rejects.Warn(x.log(), "dm message rejected: MsgID out of sequence", "expected", x.st.InMsgID+1)
		return e.reject(x.msg, x.enc, x.st.OutMsgID, syncml.StatusBadRequest)
	}
	return nil, nil
}

// isDuplicate reports whether the message repeats the last one accepted in s.
func (x *exchange) isDuplicate(s *storage.Session) bool {
	st, err := decodeState(s.State)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(x.in.Body)
	return x.msgID == st.InMsgID && bytes.Equal(sum[:], st.InHash) && st.LastReply != nil
}

// commit stores everything the message changed and returns the reply. All of
// it happens in one storage batch (one transaction, one commit, when the store
// is a storage.Batcher):
//
//  1. the jobs whose commands the reply carries are marked sent, each with the
//     store's terminal guard, so a job cancelled after its command was built
//     is taken out of the reply again instead of going out;
//  2. the reply is encoded and the session state saved with its optimistic
//     version check: a node that lost the race for this session gets
//     ErrConflict and, with a Batcher, stores nothing at all (503, the device
//     retries);
//  3. the device record, finished jobs, tree cache, events and wire traces.
//
// Live updates are emitted only after the batch committed.
func (x *exchange) commit(ctx context.Context) (*Outbound, error) {
	e := x.e
	for _, it := range x.alerts1225 {
		x.cmdN++
		x.reply.Body = append(x.reply.Body, &syncml.Alert{CmdID: strconv.Itoa(x.cmdN), Data: syncml.AlertNoEndOfData, Items: []syncml.Item{it}})
	}
	if x.newSess {
		x.milestones = append(x.milestones, &storage.Event{Kind: "session-start", DeviceID: x.dev.ID,
			SessionID: x.msg.Header.SessionID, CreatedAt: x.now})
	}
	// The reply is encoded before the batch, so that the batch (on SQLite
	// the single writer's critical section) only runs statements; it is
	// encoded again only when a job is withdrawn from it.
	out, err := x.seal()
	if err != nil {
		return nil, err
	}
	var updates []Update
	writeStart := time.Now()
	_, atomic := e.store.(storage.Batcher)
	slow := !atomic
	if atomic {
		// Fast path: everything in one atomic WriteEffects (one pipelined
		// round trip on PostgreSQL, one group-committed transaction on
		// SQLite). Should a job of the reply have been cancelled meanwhile,
		// nothing is stored and the careful path below withdraws it.
		version := x.sess.Version
		err = x.storeAll(ctx, e.store, out, &updates)
		if errors.Is(err, storage.ErrGuard) {
			x.sess.Version = version
			slow, updates = true, nil
		} else if err != nil {
			since(e.m.storeWrite, writeStart)
			return nil, err
		}
	}
	if slow {
		err = storage.InBatch(ctx, e.store, func(st storage.Store) error {
			withdrawn, err := x.checkSent(ctx, st, atomic, &updates)
			if err != nil {
				return err
			}
			if withdrawn {
				if out, err = x.seal(); err != nil {
					return err
				}
			}
			if err := st.SaveSession(ctx, x.sess); err != nil {
				x.log().Warn("saving session failed", "err", err)
				return storageErr("saving session", err)
			}
			if !atomic {
				if err := x.storeSent(ctx, st, &updates); err != nil {
					return err
				}
			}
			return x.storeEffects(ctx, st, out, &updates)
		})
	}
	since(e.m.storeWrite, writeStart)
	if err != nil {
		return nil, err
	}
	if x.newSess {
		e.m.started.Inc()
	}
	if x.closing {
		e.m.ended.WithLabelValues(x.result()).Inc()
	}
	for _, u := range updates {
		e.emit(u)
	}
	if x.late != nil {
		e.behind.add(x.late.Traces, x.late.Events)
	}
	return out, nil
}

// seal encodes the reply and folds it into the session state to be saved.
func (x *exchange) seal() (*Outbound, error) {
	body, err := syncml.Encode(x.reply, x.enc)
	if err != nil {
		return nil, &syncml.StatusError{Code: syncml.StatusCommandFailed, Msg: "encoding reply", Err: err}
	}
	out := &Outbound{Body: body, ContentType: x.enc.ContentType()}
	if !x.closing {
		out.Token = x.sess.Token // the device's next message continues the session
	}
	if x.dev.ServerPassword != "" && x.serverScheme() == syncml.AuthMAC {
		out.HMAC = macHeader(x.e.o.ServerID, x.dev.ServerPassword, x.dev.ClientNonce, body)
	}
	sum := sha256.Sum256(x.in.Body)
	st := x.st
	st.InMsgID = x.msgID
	st.InHash = sum[:]
	st.OutMsgID = x.outMsgID
	st.LastReply = body
	st.LastHMAC = out.HMAC
	st.Enc = x.enc
	x.sess.Closed = x.closing
	if x.sess.State, err = encodeState(st); err != nil {
		return nil, storageErr("encoding session state", err)
	}
	return out, nil
}

// checkSent makes sure no job whose command the reply carries was cancelled
// after fill read it (through the API, on any node): such a command is
// withdrawn from the reply, with its pending entries and open large object,
// and when nothing is left to send the session ends as if the queue had been
// empty. In a batch (atomic) the jobs are marked sent right here with the
// store's terminal guard, which makes check and mark one step; otherwise
// their state is re-read now and storeSent marks them after the session save.
func (x *exchange) checkSent(ctx context.Context, st storage.Store, atomic bool, updates *[]Update) (withdrawn bool, err error) {
	if len(x.sent) == 0 {
		return false, nil
	}
	errs := make([]error, len(x.sent))
	if atomic {
		eff := &storage.Effects{Jobs: make([]*storage.Job, len(x.sent))}
		for i, s := range x.sent {
			eff.Jobs[i] = s.job
		}
		if err := storage.WriteEffects(ctx, st, eff); err != nil {
			return false, storageErr("marking jobs sent", err)
		}
		copy(errs, eff.JobErrs)
	} else {
		for i, s := range x.sent {
			cur, err := st.GetJob(ctx, s.job.ID)
			switch {
			case err == nil && cur.State.Terminal():
				errs[i] = storage.ErrConflict
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				return false, storageErr("reading job", err)
			default:
				errs[i] = err
			}
		}
	}
	kept, removed := x.sent[:0], 0
	for i, s := range x.sent {
		j := s.job
		if errs[i] != nil {
			x.log().Info("job cancelled while being sent: command withdrawn", "job", j.ID)
			x.withdraw(s)
			removed++
			continue
		}
		kept = append(kept, s)
		if atomic {
			*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
		}
	}
	x.sent = kept
	if removed > 0 && removed == x.added && x.reply.Final && len(x.alerts1225) == 0 {
		x.closing = true // only Statuses and Final are left: the session ends (OMA-TS-DM_Protocol-V1_2 §8)
	}
	return removed > 0, nil
}

// storeSent marks the reply's jobs sent when the store has no batches. A job
// cancelled in the short moment since checkSent stays cancelled (the store's
// guard answers ErrConflict).
func (x *exchange) storeSent(ctx context.Context, st storage.Store, updates *[]Update) error {
	for _, s := range x.sent {
		j := s.job
		if err := st.UpdateJob(ctx, j); err != nil {
			if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
				x.log().Info("job cancelled while being sent", "job", j.ID)
				continue
			}
			return storageErr("marking job sent", err)
		}
		*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
	}
	return nil
}

// withdraw takes a sent job's command back out of the reply.
func (x *exchange) withdraw(s sentCmd) {
	for i, c := range x.reply.Body {
		if c == s.cmd {
			x.reply.Body = append(x.reply.Body[:i:i], x.reply.Body[i+1:]...)
			break
		}
	}
	x.dropJob(s.job.ID)
	if x.st.OutLO != nil && x.st.OutLO.Job == s.job.ID {
		x.st.OutLO = nil
	}
}

// storeEffects stores what follows the session save: device, finished jobs,
// tree cache, events and traces.
func (x *exchange) storeEffects(ctx context.Context, st storage.Store, out *Outbound, updates *[]Update) error {
	eff := x.effects(out)
	if err := storage.WriteEffects(ctx, st, eff); err != nil {
		return storageErr("storing the message's effects", err)
	}
	x.effectUpdates(eff, updates)
	return nil
}

// storeAll is the fast path of commit: the session, the jobs the reply
// carries (marked sent, guarded: a cancelled one fails the whole write with
// storage.ErrGuard) and every other effect in one atomic WriteEffects.
func (x *exchange) storeAll(ctx context.Context, st storage.Store, out *Outbound, updates *[]Update) error {
	eff := x.effects(out)
	eff.Session = x.sess
	n := len(x.sent)
	jobs := make([]*storage.Job, 0, n+len(eff.Jobs))
	for _, s := range x.sent {
		jobs = append(jobs, s.job)
	}
	eff.Jobs, eff.Guarded = append(jobs, eff.Jobs...), n
	if err := storage.WriteEffects(ctx, st, eff); err != nil {
		switch {
		case errors.Is(err, storage.ErrGuard):
			return err
		case errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrExists):
			x.log().Warn("saving session failed", "err", err)
			return storageErr("saving session", err)
		case errors.Is(err, storage.ErrNotFound):
			return storageErr("updating device", err)
		}
		return storageErr("storing the message", err)
	}
	x.effectUpdates(eff, updates)
	return nil
}

// effects is what the message stores besides its session and the jobs its
// reply carries: the device record, finished jobs, tree cache, events
// (with the session's end) and the two wire traces.
func (x *exchange) effects(out *Outbound) *storage.Effects {
	milestones := x.milestones[:len(x.milestones):len(x.milestones)]
	if x.closing {
		kind := "session-end"
		if x.failed {
			kind = "session-abort"
		}
		milestones = append(milestones, &storage.Event{Kind: kind, DeviceID: x.dev.ID, SessionID: x.msg.Header.SessionID, CreatedAt: x.now})
	}
	if len(milestones) > 0 && !x.e.events.takeN(x.dev.ID, len(milestones), x.now) {
		x.e.m.eventsRefused.Add(float64(len(milestones)))
		milestones = nil
	}
	traces := []*storage.TraceEntry{
		x.traceEntry("in", x.msg.Header.MsgID, x.in.ContentType, redactCred(x.in.Body, x.msg, x.enc)),
		x.traceEntry("out", x.reply.Header.MsgID, out.ContentType, redactCred(out.Body, x.reply, x.enc)),
	}
	eff := &storage.Effects{Nodes: x.nodes, Events: x.events[:len(x.events):len(x.events)]}
	if x.closing && x.st.InLO != nil && x.st.InLO.Stored {
		x.dropChunks, x.chunks = true, nil // the session ends with the object incomplete
	}
	if x.dropChunks {
		eff.DropChunks = []storage.SessionRef{{DeviceID: x.sess.DeviceID, SessionID: x.sess.SessionID}}
	}
	eff.Chunks = x.chunks
	if x.e.behind != nil {
		// Written behind the message once it is stored (see behind.go).
		x.late = &storage.Effects{Traces: traces, Events: milestones}
	} else {
		eff.Events, eff.Traces = append(eff.Events, milestones...), traces
	}
	if x.closing && eff.Traces != nil {
		// The session's end trims its device's traces to the retention
		// (one index read of this device, in the same write).
		eff.TraceKeep = x.e.o.TraceKeep
	}
	if x.newSess || x.devDirty {
		// LastSeen moves once per session (and with nonce changes), not
		// with every message.
		x.dev.LastSeen = x.now
		eff.Device = x.dev
	}
	for _, id := range x.jobOrder {
		eff.Jobs = append(eff.Jobs, x.jobUpdates[id])
	}
	return eff
}

// effectUpdates lists the live updates of stored effects.
func (x *exchange) effectUpdates(eff *storage.Effects, updates *[]Update) {
	for i, j := range eff.Jobs {
		if err := eff.JobErrs[i]; err != nil {
			x.log().Info("job changed meanwhile; result not stored", "job", j.ID, "err", err)
			continue
		}
		*updates = append(*updates, Update{Kind: "job", DeviceID: j.DeviceID, SessionID: j.SessionID, JobID: j.ID, State: j.State})
	}
	*updates = recordUpdates(*updates, eff.Events, eff.Traces)
}

// recordUpdates appends the live updates of stored events and traces (those
// with an ID: a record the store refused has none).
func recordUpdates(updates []Update, evs []*storage.Event, ts []*storage.TraceEntry) []Update {
	for _, ev := range evs {
		if ev.ID == 0 {
			continue
		}
		kind := "event"
		if ev.Kind == "session-start" || ev.Kind == "session-end" || ev.Kind == "session-abort" {
			kind = "session"
		}
		updates = append(updates, Update{Kind: kind, DeviceID: ev.DeviceID, SessionID: ev.SessionID, EventID: ev.ID, EventKind: ev.Kind})
	}
	for _, t := range ts {
		if t.ID != 0 {
			updates = append(updates, Update{Kind: "trace", DeviceID: t.DeviceID, SessionID: t.SessionID, TraceID: t.ID})
		}
	}
	return updates
}

func (x *exchange) addEvent(ev *storage.Event) {
	ev.DeviceID = x.dev.ID
	ev.SessionID = x.msg.Header.SessionID
	ev.CreatedAt = x.now
	x.events = append(x.events, ev)
}

// finishJob records a job's final state, to be stored after the session.
func (x *exchange) finishJob(j *storage.Job) {
	if x.jobUpdates == nil {
		x.jobUpdates = map[int64]*storage.Job{}
	}
	if _, ok := x.jobUpdates[j.ID]; !ok {
		x.jobOrder = append(x.jobOrder, j.ID)
	}
	x.jobUpdates[j.ID] = j
}

// traceEntry records one message as it crossed the wire. Only the raw bytes
// are stored: the decoded view is made when traces are read (api.TraceFrom),
// which is rare, instead of on every message.
//
// A trace is a view, not state: its text fields are made storable (valid
// UTF-8, no NUL) so that it can never fail the message it belongs to.
func (x *exchange) traceEntry(dir, msgID, ct string, body []byte) *storage.TraceEntry {
	if ct == "" || !cleanText(ct) {
		ct = x.enc.ContentType()
	}
	return &storage.TraceEntry{DeviceID: x.dev.ID, SessionID: storableText(x.msg.Header.SessionID), Direction: dir,
		MsgID: storableText(msgID), ContentType: ct, Body: body, CreatedAt: x.now}
}

// cleanText reports whether s is valid UTF-8 without NUL bytes (what every
// backend stores as text).
func cleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// storableText is s, or, when it is not clean text, s without NUL bytes and
// with invalid UTF-8 replaced by U+FFFD.
func storableText(s string) string {
	if cleanText(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
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

func pendKey(msgRef, cmdRef string) string { return msgRef + "/" + cmdRef }

func errText(code syncml.StatusCode) string { return fmt.Sprintf("device answered %s", code) }
