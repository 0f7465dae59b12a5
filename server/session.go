package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func newToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
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
		out, err := e.reject(x.msg, x.enc, x.st.OutMsgID, syncml.StatusBadRequest)
		if err == nil {
			out.Token = x.sess.Token // the session lives on: the device may send the right MsgID
		}
		return out, err
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
