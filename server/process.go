package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// process handles the commands of an authenticated message in document order
// and appends the Status each one needs to the reply.
func (x *exchange) process(ctx context.Context) error {
	h := &x.msg.Header
	touched := map[string]bool{}
	for _, c := range x.msg.Body {
		var code syncml.StatusCode
		switch c := c.(type) {
		case *syncml.Status:
			if k := x.onStatus(c); k != "" {
				touched[k] = true
			}
			continue
		case *syncml.Results:
			var k string
			code, k = x.onResults(ctx, c)
			if k != "" {
				touched[k] = true
			}
			if code == syncml.StatusOK {
				continue // Results get a Status only when it is not 200 (OMA-TS-DM_Protocol-V1_2 §6.1)
			}
		case *syncml.Alert:
			code = x.onAlert(ctx, c)
		case *syncml.Replace:
			code = x.onReplace(c)
		case *syncml.Unknown:
			// A DS command or an element DM does not define: only it fails,
			// with the decoder's status (406 Optional feature not supported,
			// 400 for a DM command holding an unknown element).
			code = c.Code
			x.e.rejects.Log(context.Background(), x.log(), slog.LevelInfo, "device sent a command OMA DM does not define", "cmd", c.Name, "cmdid", c.CmdID,
				"status", int(code), "reason", c.Reason)
			if c.Name == "Status" {
				continue // a Status is never answered, even one that did not decode
			}
		default:
			// Devices send only Status, Results, Alert and Replace (OMA-TS-DM_Protocol-V1_2 §8).
			code = syncml.StatusCommandNotAllowed
		}
		x.reply.Body = append(x.reply.Body, cmdStatus(&x.cmdN, h.MsgID, c, code))
	}
	if x.loErr != nil {
		return storageErr("reading the chunks of a large object", x.loErr)
	}
	if x.msg.Final && x.st.InLO == nil {
		// The device's package is complete: every answered job can be finalised.
		for k, p := range x.st.Pending {
			if p.Status != 0 && p.Child == 0 && !p.Chunk {
				touched[k] = true
			}
		}
	}
	keys := make([]string, 0, len(touched))
	for k := range touched {
		if p := x.st.Pending[k]; p != nil && (x.msg.Final || !p.Gets && !p.Multi && !p.awaitingMembers()) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return x.st.Pending[keys[i]].Job < x.st.Pending[keys[j]].Job })
	if len(keys) > 1 {
		// One read for all the jobs to finalise.
		ids := make([]int64, 0, len(keys))
		for _, k := range keys {
			ids = append(ids, x.st.Pending[k].Job)
		}
		jobs, err := storage.GetJobs(ctx, x.e.store, ids)
		if err != nil {
			return storageErr("reading jobs", err)
		}
		x.jobs = make(map[int64]*storage.Job, len(jobs))
		for _, j := range jobs {
			x.jobs[j.ID] = j
		}
	}
	for _, k := range keys {
		if err := x.finalize(ctx, k); err != nil {
			return err
		}
	}
	if x.msg.Final && !x.st.MidPackage && x.st.InLO == nil {
		// Whatever is still unanswered is lost in this session; its job stays
		// sent and is resent in the next session.
		for k, p := range x.st.Pending {
			if p.Status == 0 && p.Child == 0 {
				x.e.rejects.Warn(x.log(), "no status received for a sent command", "job", p.Job, "ref", k)
				x.dropJob(p.Job)
			}
		}
	}
	return nil
}

// awaitingMembers reports whether an Atomic/Sequence still lacks a member
// Status: devices may send those after the group's own Status, even in a
// later message of their package, so the job waits for them (or for the end
// of the package) before it is finalised.
func (p *pending) awaitingMembers() bool {
	if p.Members == 0 {
		return false
	}
	if len(p.ChildStatus) < p.Members {
		return true
	}
	for _, c := range p.ChildStatus {
		if c == 0 {
			return true
		}
	}
	return false
}

// lookup resolves a (MsgRef, CmdRef) pair to the pending key; devices may omit
// MsgRef in Results, meaning our last message.
func (x *exchange) lookup(msgRef, cmdRef string) (string, *pending) {
	if msgRef == "" {
		msgRef = strconv.Itoa(x.st.OutMsgID)
	}
	k := pendKey(msgRef, cmdRef)
	return k, x.st.Pending[k]
}

// onStatus records a Status for one of our commands and returns the key of
// the job-level pending entry it concerns ("" if none).
func (x *exchange) onStatus(s *syncml.Status) string {
	if s.CmdRef == "0" {
		x.onHeaderStatus(s)
		return ""
	}
	k, p := x.lookup(s.MsgRef, s.CmdRef)
	if p == nil {
		x.log().Debug("status for an unknown command ignored", "msgref", s.MsgRef, "cmdref", s.CmdRef)
		return ""
	}
	code := s.Data
	switch {
	case p.Chunk:
		delete(x.st.Pending, k)
		if code == syncml.StatusChunkAccepted {
			return ""
		}
		// OMA-TS-DM_Protocol-V1_2 §7 (large objects): every chunk but the
		// last is answered 213. Anything else (a device without large-object
		// support answers 200 and keeps only the first piece) means the
		// object was not delivered: it is abandoned and the job fails,
		// whatever the code.
		x.st.OutLO = nil
		p.Chunk, p.Status = false, int(code)
		p.Reason = fmt.Sprintf("device answered a non-last large-object chunk with %s instead of %s: it does not take large objects (or refused this one); the object was not delivered",
			code, syncml.StatusChunkAccepted)
		x.st.Pending[k] = p
		return k
	case p.LastChunk && code == syncml.StatusSizeMismatch:
		// §8: the receiver compares the reassembled object with Meta Size.
		p.Status = int(code)
		p.Reason = fmt.Sprintf("device reports %s: the reassembled large object differs from its declared Meta Size; the object was not stored", code)
		return k
	case p.Child > 0:
		p.Status = int(code)
		return x.childStatus(p, code)
	}
	if len(p.Items) >= MaxResultItems || len(p.Results)+len(s.Items) > MaxResultItems {
		// A device repeating Statuses (with Items) for one command, message
		// after message, would grow the session state without end.
		p.Reason = fmt.Sprintf("device sent more than %d statuses or status items for the command; the rest were not stored", MaxResultItems)
		if p.Status == 0 {
			p.Status = int(code)
		}
		return k
	}
	p.Items = append(p.Items, itemStatus{Refs: statusRefs(s), Code: int(code)})
	p.Status = int(combinedStatus(p.Items))
	for _, it := range s.Items {
		p.Results = append(p.Results, resultItem(it, nil))
	}
	return k
}

// statusRefs names the Items a Status is about: its TargetRefs, or its
// SourceRefs when it has none (a Copy's origin, a Get answered per URI).
func statusRefs(s *syncml.Status) []string {
	if len(s.TargetRefs) > 0 {
		return s.TargetRefs
	}
	return s.SourceRefs
}

// combinedStatus is the job's status from the Statuses of its command's
// Items: the first failure if any Item failed, else the first code.
func combinedStatus(items []itemStatus) syncml.StatusCode {
	for _, it := range items {
		if !syncml.StatusCode(it.Code).Success() {
			return syncml.StatusCode(it.Code)
		}
	}
	return syncml.StatusCode(items[0].Code)
}

// jobPending returns the job-level pending entry of job.
func (x *exchange) jobPending(job int64) (string, *pending) {
	for k, q := range x.st.Pending {
		if q.Job == job && q.Child == 0 && !q.Chunk {
			return k, q
		}
	}
	return "", nil
}

// childStatus stores a member status on the job-level pending entry of the
// same job.
func (x *exchange) childStatus(p *pending, code syncml.StatusCode) string {
	k, q := x.jobPending(p.Job)
	if q == nil {
		return ""
	}
	for len(q.ChildStatus) < q.Members {
		q.ChildStatus = append(q.ChildStatus, 0)
	}
	if p.Child-1 < len(q.ChildStatus) {
		q.ChildStatus[p.Child-1] = int(code)
	}
	return k
}

// onHeaderStatus handles the device's verdict on our credentials and the
// nonce it gives us for the next ones (stored only because the device itself
// authenticated in this session, OMA-TS-DM_Security-V1_2 §5.3.4).
//
// A 401/407 with a Chal means the device did not run the commands of our
// last message (it answered them 215): the server re-authenticates in the
// same session, with a Cred built from the new nonce in its next message,
// and resends those commands (OMA-TS-DM_Protocol-V1_2 §9). A rejection without a Chal,
// or more than auth.MaxChallenges of them in one session, ends the session;
// the commands stay queued for the next one.
func (x *exchange) onHeaderStatus(s *syncml.Status) {
	if s.Chal != nil {
		if n, err := auth.ChalNonce(s.Chal); err == nil && n != nil {
			x.dev.ClientNonce = n
			x.devDirty = true
		}
	}
	switch s.Data {
	case syncml.StatusInvalidCredentials, syncml.StatusMissingCredentials:
		x.st.DevChallenges++
		if s.Chal == nil || x.st.DevChallenges > auth.MaxChallenges {
			x.log().Warn("device rejected our credentials: giving up", "status", int(s.Data),
				"challenged", s.Chal != nil, "rejections", x.st.DevChallenges)
			x.authGiveUp = true
			x.st.SendCred = false
			return
		}
		if s.Chal.Meta != nil {
			// Answered in exactly the scheme asked for (OMA-TS-DM_Security-V1_2
			// §5.4.1); one we cannot make ends the session.
			switch t := s.Chal.Meta.Type; t {
			case syncml.AuthBasic, syncml.AuthMD5, syncml.AuthMAC:
				x.st.SrvScheme = t
			case "":
			default:
				x.log().Warn("device asked for server credentials we cannot make: giving up", "scheme", t)
				x.authGiveUp = true
				x.st.SendCred = false
				return
			}
		}
		x.log().Warn("device rejected our credentials: re-authenticating", "status", int(s.Data),
			"rejections", x.st.DevChallenges, "scheme", x.serverScheme())
		x.st.SendCred = true
		x.reauth = true
		x.st.NotExec = nil
	}
}

func resultItem(it syncml.Item, m *syncml.Meta) storage.ResultItem {
	r := storage.ResultItem{}
	if it.Source != nil {
		r.URI = it.Source.LocURI
	} else if it.Target != nil {
		r.URI = it.Target.LocURI
	}
	for _, mm := range []*syncml.Meta{it.Meta, m} {
		if mm != nil {
			if r.Format == "" {
				r.Format = mm.Format
			}
			if r.Type == "" {
				r.Type = mm.Type
			}
		}
	}
	// What the device sent is stored as text (results, tree cache,
	// events): names are made storable, and a value that is not valid
	// UTF-8 without NUL (an OPAQUE under Format chr, say) is kept whole as
	// binary, like an OPAQUE value.
	r.URI, r.Format, r.Type = storableText(r.URI), storableText(r.Format), storableText(r.Type)
	if it.Data != nil {
		if v := it.Data.Value; it.Data.Kind == syncml.DataOpaque || !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0 {
			r.Data = base64.StdEncoding.EncodeToString(v)
			if it.Data.Kind != syncml.DataOpaque || r.Format != "b64" {
				r.Format = "bin"
			}
		} else {
			r.Data = string(v)
		}
	}
	return r
}

// onResults stores Results items on the pending Get (and in the tree cache),
// reassembling chunked items. It returns the Status code for the Results and
// the pending key it touched.
func (x *exchange) onResults(ctx context.Context, r *syncml.Results) (syncml.StatusCode, string) {
	x.checkInterrupted("Results", r.CmdRef, 0)
	k, p := x.lookup(r.MsgRef, r.CmdRef)
	if p != nil && p.Child > 0 {
		// A Get inside a Sequence: results belong to the whole job.
		k, p = x.jobPending(p.Job)
	}
	code := syncml.StatusOK
	size := -1 // bytes of p.Results, counted when first needed
	for _, it := range r.Items {
		if p == nil && x.st.InLO == nil && it.MoreData {
			// The first chunk of an object that answers no Get of ours:
			// it would be buffered only to be dropped (results of no
			// command are not kept), so it is refused at once and the
			// device stops sending the rest (the Results name no command
			// of ours: 404).
			x.e.rejects.Warn(x.log(), "large object chunk answering no command of ours: refused", "msgref", r.MsgRef, "cmdref", r.CmdRef)
			code = syncml.StatusNotFound
			continue
		}
		ri, c := x.chunkedItem(ctx, "Results", r.MsgRef, r.CmdRef, 0, "", it, r.Meta)
		if c != syncml.StatusOK {
			code = c
			if c != syncml.StatusChunkAccepted && p != nil {
				p.Status = int(c)
			}
			continue
		}
		if ri == nil {
			continue
		}
		if p == nil {
			// Results answer a Get (OMA-TS-DM_RepPro-V1_2, the Results
			// command): these answer none of ours, and nothing would bound
			// what a device stores by sending them, so they are not kept.
			continue
		}
		if size < 0 {
			size = resultsSize(p.Results)
		}
		size += len(ri.URI) + len(ri.Data)
		if len(p.Results) >= MaxResultItems || size > x.maxResultBytes() {
			code = syncml.StatusEntityTooLarge
			p.Status = int(code)
			p.Reason = fmt.Sprintf("device returned more than %d result items or %d bytes; the rest were not stored", MaxResultItems, x.maxResultBytes())
			continue
		}
		x.nodes = append(x.nodes, storage.TreeNode{DeviceID: x.dev.ID, URI: ri.URI, Format: ri.Format,
			Type: ri.Type, Value: ri.Data, UpdatedAt: x.now})
		x.recordDetail(ri) // inventory.go
		p.Results = append(p.Results, *ri)
	}
	if p == nil {
		return code, ""
	}
	return code, k
}

// MaxResultItems bounds the result items one command collects; with
// maxResultBytes (four times MaxObjSize) it bounds what a device's Results
// can make the session state and the tree cache hold for one Get.
const MaxResultItems = 10000

func (x *exchange) maxResultBytes() int { return 4 * x.e.o.MaxObjSize }

func resultsSize(rs []storage.ResultItem) int {
	n := 0
	for _, r := range rs {
		n += len(r.URI) + len(r.Data)
	}
	return n
}

// onAlert handles device alerts.
func (x *exchange) onAlert(ctx context.Context, a *syncml.Alert) syncml.StatusCode {
	x.checkInterrupted("Alert", "", a.Data)
	switch a.Data {
	case syncml.AlertServerInitiatedMgmt, syncml.AlertClientInitiatedMgmt, syncml.AlertNextMessage:
		return syncml.StatusOK
	case syncml.AlertSessionAbort:
		x.abort = true
		return syncml.StatusOK
	case syncml.AlertGeneric, syncml.AlertClientEvent:
		kind := "generic-alert"
		if a.Data == syncml.AlertClientEvent {
			kind = "client-event"
		}
		if len(a.Items) == 0 {
			return syncml.StatusIncompleteCommand
		}
		if n := newEvents(a.Items); !x.e.events.takeN(x.dev.ID, n, x.now) {
			// Over the device's event budget (Options.DeviceEventRate):
			// nothing of the Alert is stored. OMA-TS-DM_RepPro-V1_2 §10:
			// 503, the recipient cannot handle the request for now.
			x.e.m.eventsRefused.Add(float64(n))
			x.e.rejects.Warn(x.log(), "generic alerts refused: over the device's event budget", "items", n)
			x.st.InLO = nil
			return syncml.StatusServiceUnavailable
		}
		code := syncml.StatusOK
		for _, it := range a.Items {
			mark := ""
			if it.Meta != nil {
				mark = it.Meta.Mark
			}
			if x.st.InLO != nil && x.st.InLO.Mark != "" {
				mark = x.st.InLO.Mark
			}
			target := ""
			if it.Target != nil {
				target = it.Target.LocURI
			} else if x.st.InLO != nil {
				target = x.st.InLO.Target
			}
			ri, c := x.chunkedItem(ctx, "Alert", "", "", a.Data, a.Correlator, it, nil)
			if c != syncml.StatusOK {
				code = c
				continue
			}
			x.addEvent(&storage.Event{Kind: kind, Type: ri.Type, Source: ri.URI, Target: storableText(target),
				Format: ri.Format, Mark: storableText(mark), Data: ri.Data, Correlator: storableText(a.Correlator)})
			if a.Data == syncml.AlertGeneric && isFUMORequest(ri.Type) && code == syncml.StatusOK {
				code = x.fumoRequestStatus(ctx, ri.URI, ri.Data) // 200 or 202: see fumoreq.go
			}
		}
		return code
	}
	// UI alerts go server → device only; other codes are unassigned in DM.
	return syncml.StatusOptionalNotSupported
}

// newEvents is how many events the Items of a generic alert add: one per
// Item, except chunks that only continue or open a large object.
func newEvents(items []syncml.Item) int {
	n := 0
	for _, it := range items {
		if !it.MoreData {
			n++
		}
	}
	return n
}

// Caps on what a device's own Replace (DevInfo, DevDetail in package 1)
// stores per device: keys in the device record's DevInfo map, and the size
// of one value. Excess is dropped, with one warning per message.
const (
	MaxDeviceKeys     = 100
	MaxDeviceValueLen = 1024
)

// onReplace stores the device's DevInfo (package 1) in the device record and
// the tree cache, within MaxDeviceKeys and MaxDeviceValueLen.
func (x *exchange) onReplace(r *syncml.Replace) syncml.StatusCode {
	x.checkInterrupted("Replace", "", 0)
	dropped := 0
	for _, it := range r.Items {
		ri := resultItem(it, r.Meta)
		if ri.URI == "" {
			return syncml.StatusIncompleteCommand
		}
		if len(ri.Data) > MaxDeviceValueLen || len(ri.URI) > storage.MaxURILen || x.replaced >= MaxDeviceKeys {
			dropped++
			continue
		}
		x.replaced++
		if strings.HasPrefix(ri.URI, "./DevInfo/") {
			if x.dev.DevInfo == nil {
				x.dev.DevInfo = map[string]string{}
			}
			if _, ok := x.dev.DevInfo[ri.URI]; !ok && len(x.dev.DevInfo) >= MaxDeviceKeys {
				dropped++
				continue
			}
			if x.dev.DevInfo[ri.URI] != ri.Data {
				x.dev.DevInfo[ri.URI] = ri.Data
				x.devDirty, x.infoDirty = true, true
			}
		}
		x.nodes = append(x.nodes, storage.TreeNode{DeviceID: x.dev.ID, URI: ri.URI, Format: ri.Format,
			Type: ri.Type, Value: ri.Data, UpdatedAt: x.now})
	}
	if dropped > 0 {
		x.e.m.devInfoDropped.Add(float64(dropped))
		if !x.capWarned {
			x.capWarned = true
			x.e.rejects.Warn(x.log(), "device values over the caps dropped", "dropped", dropped,
				"max_keys", MaxDeviceKeys, "max_value_bytes", MaxDeviceValueLen)
		}
	}
	return syncml.StatusOK
}
