package server

import (
	"crypto/sha256"
	"strconv"

	"github.com/omadm/omadm/syncml"
)

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
