package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

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
	// infoDirty: the message changed the device's DevInfo (devDirty is
	// set too); without it the device's DevInfo is not written.
	infoDirty bool
	sess      *storage.Session
	st        *sessionState
	newSess   bool
	viaToken  bool // the message was addressed to this session's token (Inbound.Addr)
	msgID     int
	outMsgID  int // MsgID of the reply

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

func pendKey(msgRef, cmdRef string) string { return msgRef + "/" + cmdRef }

func errText(code syncml.StatusCode) string { return fmt.Sprintf("device answered %s", code) }
