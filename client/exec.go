package client

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// outcome of executing one command, for Sequence/Atomic/UI-cancel handling.
type outcome int

const (
	outDone      outcome = iota
	outRejected          // UI confirm "No" (304)
	outCancelled         // UI cancel (214): stop processing
)

// executor runs server commands against the tree and appends Status/Results
// to the session's outgoing queue.
type executor interface {
	Add(principal, uri string, v Value) error
	Replace(principal, uri string, v Value) error
	Delete(principal, uri string) error
	Copy(principal, target, source string) error
}

// newStatus answers command c of message msgRef with code.
func newStatus(msgRef string, c syncml.Command, code syncml.StatusCode) *syncml.Status {
	st := &syncml.Status{MsgRef: msgRef, CmdRef: c.ID(), Cmd: c.CommandName(), Data: code}
	for _, it := range syncml.ItemsOf(c) {
		if it.Target != nil && it.Target.LocURI != "" {
			st.TargetRefs = append(st.TargetRefs, it.Target.LocURI)
		}
	}
	if _, ok := c.(*syncml.Copy); ok {
		for _, it := range syncml.ItemsOf(c) {
			if it.Source != nil && it.Source.LocURI != "" {
				st.SourceRefs = append(st.SourceRefs, it.Source.LocURI)
			}
		}
	}
	return st
}

func targets(c syncml.Command) []string {
	var out []string
	for _, it := range syncml.ItemsOf(c) {
		switch {
		case it.Target != nil && it.Target.LocURI != "":
			out = append(out, it.Target.LocURI)
		case it.Source != nil && it.Source.LocURI != "":
			out = append(out, it.Source.LocURI)
		}
	}
	return out
}

// replyGroup queues statuses that must travel in one message (those of an
// Atomic) and records them; sts[i] answers cmds[i].
func (s *session) replyGroup(msgRef string, cmds []syncml.Command, sts []*syncml.Status) {
	if len(sts) > 1 {
		if s.groups == nil {
			s.groups = map[syncml.Command]int{}
		}
		s.groups[sts[0]] = len(sts)
	}
	for i, st := range sts {
		s.queue(st)
		c := cmds[i]
		s.res.Commands = append(s.res.Commands, CommandRecord{
			MsgID: msgRef, CmdID: c.ID(), Name: c.CommandName(), Targets: targets(c), Status: st.Data,
		})
	}
}

// reply queues the Status for c and records it.
func (s *session) reply(msgRef string, c syncml.Command, code syncml.StatusCode, items ...syncml.Item) *syncml.Status {
	st := newStatus(msgRef, c, code)
	st.Items = items
	s.queue(st)
	s.res.Commands = append(s.res.Commands, CommandRecord{
		MsgID: msgRef, CmdID: c.ID(), Name: c.CommandName(), Targets: targets(c), Status: code,
	})
	return st
}

// itemMeta returns the Format and Type of an item, falling back to the
// command's Meta.
func itemMeta(it *syncml.Item, cmd *syncml.Meta) (format, typ string) {
	if it.Meta != nil {
		format, typ = it.Meta.Format, it.Meta.Type
	}
	if cmd != nil {
		if format == "" {
			format = cmd.Format
		}
		if typ == "" {
			typ = cmd.Type
		}
	}
	return format, typ
}

// itemValue turns an Add/Replace item (with data possibly reassembled from
// chunks) into a tree value: b64 is decoded and stored as bin.
func itemValue(format, typ string, data []byte) (Value, error) {
	v := Value{Format: format, Type: typ, Data: data}
	if strings.EqualFold(format, "b64") {
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, string(data))
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return v, syncml.Errorf(syncml.StatusBadRequest, "Data is not valid base64 although Format is b64")
		}
		v.Format, v.Data = "bin", b
	}
	if v.Format == "node" {
		v.Data = nil
	}
	return v, nil
}

// failedItem is the Status item naming the node where an implicit Add failed.
func failedItem(uri string) []syncml.Item {
	if uri == "" {
		return nil
	}
	return []syncml.Item{{Target: &syncml.Location{LocURI: uri}}}
}

func itemTarget(it *syncml.Item) (string, error) {
	if it.Target == nil || it.Target.LocURI == "" {
		return "", syncml.Errorf(syncml.StatusBadRequest, "item without Target LocURI")
	}
	return it.Target.LocURI, nil
}

// cmdMeta is the command-level Meta of an Add or Replace (nil otherwise).
func cmdMeta(c syncml.Command) *syncml.Meta {
	switch c := c.(type) {
	case *syncml.Add:
		return c.Meta
	case *syncml.Replace:
		return c.Meta
	}
	return nil
}

// execItems runs Add/Replace/Delete/Copy items on ex; the first failure wins
// and the rest are not run. It serves Atomic members and bootstrap messages,
// which are all or nothing. When an implicitly created ancestor failed,
// failed names it (the Status then carries it as Item/Target/LocURI).
func (s *session) execItems(ex executor, c syncml.Command) (code syncml.StatusCode, failed string) {
	items := syncml.ItemsOf(c)
	if len(items) == 0 {
		return syncml.StatusBadRequest, ""
	}
	meta := cmdMeta(c)
	for i := range items {
		if code, failed := s.execItem(ex, c, meta, &items[i]); !code.Success() {
			return code, failed
		}
	}
	return syncml.StatusOK, ""
}

// itemOutcome is the result of one item of a command run item by item.
type itemOutcome struct {
	it     *syncml.Item
	code   syncml.StatusCode
	failed string // ancestor whose implicit Add failed
}

// execEach runs every item of a top-level Add/Replace/Delete/Copy on ex as
// its own operation: one item failing does not stop or undo the others
// (OMA-TS-SyncML_RepPro-V1_2 Status: SourceRef/TargetRef name the items a
// status applies to). replyItems turns the outcomes into Status commands.
func (s *session) execEach(ex executor, c syncml.Command) []itemOutcome {
	items := syncml.ItemsOf(c)
	meta := cmdMeta(c)
	out := make([]itemOutcome, len(items))
	for i := range items {
		code, failed := s.execItem(ex, c, meta, &items[i])
		out[i] = itemOutcome{it: &items[i], code: code, failed: failed}
	}
	return out
}

// execItem runs one item of an Add/Replace/Delete/Copy.
func (s *session) execItem(ex executor, c syncml.Command, meta *syncml.Meta, it *syncml.Item) (syncml.StatusCode, string) {
	p := s.principal()
	uri, err := itemTarget(it)
	if err == nil {
		switch c.(type) {
		case *syncml.Add, *syncml.Replace:
			format, typ := itemMeta(it, meta)
			var data []byte
			if it.Data != nil {
				data = it.Data.Value
			}
			if it.Meta != nil && it.Meta.Size > 0 && int64(len(data)) != it.Meta.Size {
				return syncml.StatusSizeMismatch, ""
			}
			if s.c.cfg.MaxObjSize > 0 && len(data) > s.c.cfg.MaxObjSize {
				return syncml.StatusEntityTooLarge, ""
			}
			var v Value
			v, err = itemValue(format, typ, data)
			if err == nil {
				if _, ok := c.(*syncml.Add); ok {
					err = ex.Add(p, uri, v)
				} else {
					err = ex.Replace(p, uri, v)
				}
			}
		case *syncml.Delete:
			err = ex.Delete(p, uri)
		case *syncml.Copy:
			if it.Source == nil || it.Source.LocURI == "" {
				err = syncml.Errorf(syncml.StatusBadRequest, "Copy item without Source LocURI")
			} else {
				err = ex.Copy(p, uri, it.Source.LocURI)
			}
		}
	}
	if err != nil {
		code := syncml.StatusOf(err)
		if code == syncml.StatusCommandFailed {
			s.c.log.Warn("command failed", "cmd", c.CommandName(), "uri", uri, "err", err)
		}
		return code, dmtree.FailedURI(err)
	}
	return syncml.StatusOK, ""
}

// replyItems answers a command run item by item. When every item has the
// same outcome one Status answers the command (as for a single item);
// otherwise each item gets its own Status naming it in TargetRef (and, for
// Copy, SourceRef), so the server sees which items failed
// (OMA-TS-SyncML_RepPro-V1_2 §5.1 Status/TargetRef: the status code applies
// to the TargetRef elements listed). A command without items is 400.
func (s *session) replyItems(msgRef string, c syncml.Command, outs []itemOutcome) {
	if len(outs) == 0 {
		s.reply(msgRef, c, syncml.StatusBadRequest)
		return
	}
	same := true
	for _, o := range outs[1:] {
		if o.code != outs[0].code || o.failed != "" {
			same = false
			break
		}
	}
	if same && (len(outs) == 1 || outs[0].failed == "") {
		s.reply(msgRef, c, outs[0].code, failedItem(outs[0].failed)...)
		return
	}
	for _, o := range outs {
		s.replyItem(msgRef, c, o.it, o.code, failedItem(o.failed)...)
	}
}

// replyItem queues the Status of one item of c and records it.
func (s *session) replyItem(msgRef string, c syncml.Command, it *syncml.Item, code syncml.StatusCode, items ...syncml.Item) {
	st := &syncml.Status{MsgRef: msgRef, CmdRef: c.ID(), Cmd: c.CommandName(), Data: code, Items: items}
	var tgts []string
	if it.Target != nil && it.Target.LocURI != "" {
		st.TargetRefs = []string{it.Target.LocURI}
		tgts = st.TargetRefs
	}
	if _, ok := c.(*syncml.Copy); ok && it.Source != nil && it.Source.LocURI != "" {
		st.SourceRefs = []string{it.Source.LocURI}
	} else if tgts == nil && it.Source != nil && it.Source.LocURI != "" {
		tgts = []string{it.Source.LocURI}
	}
	s.queue(st)
	s.res.Commands = append(s.res.Commands, CommandRecord{
		MsgID: msgRef, CmdID: c.ID(), Name: c.CommandName(), Targets: tgts, Status: code,
	})
}

// execGet reads every item on its own: the found ones go into one Results,
// each item that fails gets its own Status (see replyItems), so a Get of
// several URIs with some absent still returns the others.
func (s *session) execGet(msgRef string, g *syncml.Get) {
	if len(g.Items) == 0 {
		s.reply(msgRef, g, syncml.StatusBadRequest)
		return
	}
	outs := make([]itemOutcome, len(g.Items))
	var found []syncml.Item
	for i := range g.Items {
		var code syncml.StatusCode
		found, code = s.getItem(found, &g.Items[i])
		outs[i] = itemOutcome{it: &g.Items[i], code: code}
	}
	s.replyItems(msgRef, g, outs)
	if len(found) > 0 {
		s.queue(&syncml.Results{MsgRef: msgRef, CmdRef: g.CmdID, Items: found})
	}
}

// getItem reads one Get item and appends its Results items to out; on
// failure out is returned as it was, with the failure code.
func (s *session) getItem(out []syncml.Item, gi *syncml.Item) ([]syncml.Item, syncml.StatusCode) {
	uri, err := itemTarget(gi)
	if err != nil {
		return out, syncml.StatusOf(err)
	}
	rs, err := s.c.cfg.Tree.Get(s.principal(), uri)
	if err != nil {
		return out, syncml.StatusOf(err)
	}
	list := listKind(uri)
	mark := len(out)
	for _, r := range rs {
		it := s.resultItem(r)
		// ?list=Struct items describe nodes without values, and
		// StructData gives values of leaves only (OMA-TS-DM_TND-V1_2, tree exchange).
		if list == dmtree.ListStruct || list == dmtree.ListStructData && r.Format == dmtree.FormatNode {
			it.Data = nil
		}
		if max := s.srvMaxObj; max > 0 && it.Data != nil && int64(len(it.Data.Value)) > max {
			return out[:mark], syncml.StatusEntityTooLarge
		}
		out = append(out, it)
	}
	var n int64
	for _, it := range out[mark:] {
		if it.Data != nil {
			n += int64(len(it.Data.Value))
		}
	}
	// SyncML RepPro 1.2 §10, 417 Retry later: the values read so far must
	// leave first; the server may Get this one again later.
	if s.pendingResults > 0 && s.pendingResults+n > s.c.cfg.MaxPendingResults {
		return out[:mark], syncml.StatusRetryLater
	}
	s.pendingResults += n
	return out, syncml.StatusOK
}

// listKind is the ?list= form uri asks for (dmtree.ListNone when none or
// when uri does not parse; the tree reports that error itself).
func listKind(uri string) dmtree.ListKind {
	if !strings.Contains(uri, "?") {
		return dmtree.ListNone
	}
	u, err := dmtree.ParseURI(uri, nil)
	if err != nil {
		return dmtree.ListNone
	}
	return u.List
}

// resultItem builds a Results item; binary values travel as b64 in XML and as
// OPAQUE (Format bin) in WBXML.
func (s *session) resultItem(r Result) syncml.Item {
	it := syncml.Item{Source: &syncml.Location{LocURI: r.URI}}
	format, data := r.Format, r.Data
	kind := syncml.DataText
	if format == "bin" || format == "b64" {
		if s.enc == syncml.EncodingWBXML {
			format, kind = "bin", syncml.DataOpaque
		} else {
			format = "b64"
			if r.Format == "bin" {
				data = []byte(base64.StdEncoding.EncodeToString(data))
			}
		}
	}
	if format != "" || r.Type != "" {
		it.Meta = &syncml.Meta{Format: format, Type: r.Type}
	}
	it.Data = &syncml.Data{Kind: kind, Value: data}
	return it
}

// execExec runs an Exec: 200 when done, 202 when started asynchronously (the
// plug-in reports later with a 1226 alert queued through QueueAlert).
func (s *session) execExec(ctx context.Context, e *syncml.Exec) syncml.StatusCode {
	if len(e.Items) != 1 {
		return syncml.StatusBadRequest
	}
	uri, err := itemTarget(&e.Items[0])
	if err != nil {
		return syncml.StatusOf(err)
	}
	var data []byte
	if e.Items[0].Data != nil {
		data = e.Items[0].Data.Value
	}
	code, err := s.c.cfg.Tree.Exec(ctx, s.principal(), uri, data, e.Correlator)
	if err != nil {
		return syncml.StatusOf(err)
	}
	if code == 0 {
		code = syncml.StatusOK
	}
	return code
}

// execAlert answers a server Alert; UI alerts go to the UI.
func (s *session) execAlert(ctx context.Context, msgRef string, a *syncml.Alert) outcome {
	switch {
	case a.Data.IsUI():
		return s.execUI(ctx, msgRef, a)
	case a.Data == syncml.AlertNextMessage:
		s.reply(msgRef, a, syncml.StatusOK)
	default:
		// 1200/1201/1224/1226 travel client to server only; others are unknown.
		s.reply(msgRef, a, syncml.StatusOptionalNotSupported)
	}
	return outDone
}

// errMaxWait is the cause of a UI prompt context ended by MAXDT.
var errMaxWait = errors.New("client: MAXDT expired")

// execUI shows a user-interaction alert through the UI. The engine, not the
// UI, enforces the timing options with the configured Clock: MAXDT ends the
// prompt (the default response applies, else 408 and the rest of the package
// is not processed, as for a cancel), and a 1100 display is answered only once
// MINDT has passed since it was shown.
func (s *session) execUI(ctx context.Context, msgRef string, a *syncml.Alert) outcome {
	ui := s.c.cfg.UI
	if ui == nil {
		s.reply(msgRef, a, syncml.StatusOptionalNotSupported)
		return outDone
	}
	u, err := parseUIAlert(a)
	if err != nil {
		s.c.log.Warn("bad UI alert", "err", err)
		s.reply(msgRef, a, syncml.StatusIncompleteCommand)
		return outDone
	}
	clock := s.c.cfg.Clock
	shown := clock.Now()
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if u.MaxWait > 0 && a.Data != syncml.AlertDisplay {
		expired := clock.After(u.MaxWait)
		go func() {
			select {
			case <-expired:
				cancel(errMaxWait)
			case <-pctx.Done():
			}
		}()
	}
	rep, err := ui.Prompt(pctx, u)
	if err != nil || rep == nil {
		if ctx.Err() != nil {
			s.reply(msgRef, a, syncml.StatusNotExecuted)
			return outCancelled
		}
		if errors.Is(context.Cause(pctx), errMaxWait) || errors.Is(err, context.DeadlineExceeded) {
			return s.uiTimeout(msgRef, a, u)
		}
		s.c.log.Warn("UI failed", "err", err)
		s.reply(msgRef, a, syncml.StatusCommandFailed)
		return outDone
	}
	switch rep.Result {
	case UICancelled:
		s.reply(msgRef, a, syncml.StatusCancelled)
		return outCancelled
	case UITimedOut:
		return s.uiTimeout(msgRef, a, u)
	case UIRejected:
		if a.Data == syncml.AlertConfirmOrReject {
			s.reply(msgRef, a, syncml.StatusNotModified)
			return outRejected
		}
		s.reply(msgRef, a, syncml.StatusCancelled)
		return outCancelled
	}
	return s.uiAnswer(ctx, msgRef, a, u, rep.Text, rep.Chosen, shown)
}

// uiAnswer sends the accepted answer (the user's or the default response).
func (s *session) uiAnswer(ctx context.Context, msgRef string, a *syncml.Alert, u *UIAlert, text string, chosen []int, shown time.Time) outcome {
	switch a.Data {
	case syncml.AlertTextInput:
		if !validInput(u, text) {
			s.reply(msgRef, a, syncml.StatusCancelled)
			return outCancelled
		}
		s.reply(msgRef, a, syncml.StatusOK, syncml.Item{Data: syncml.TextData(text)})
	case syncml.AlertSingleChoice, syncml.AlertMultipleChoice:
		if a.Data == syncml.AlertSingleChoice && len(chosen) > 1 {
			chosen = chosen[:1]
		}
		var items []syncml.Item
		for _, n := range chosen {
			if n < 1 || n > len(u.Choices) {
				continue
			}
			items = append(items, syncml.Item{Data: syncml.TextData(itoa(n))})
		}
		if len(items) == 0 {
			s.reply(msgRef, a, syncml.StatusCancelled)
			return outCancelled
		}
		s.reply(msgRef, a, syncml.StatusOK, items...)
	case syncml.AlertDisplay:
		// MINDT: the text stays up at least this long before processing
		// goes on, whatever the UI did.
		if rest := u.MinDisplay - s.c.cfg.Clock.Now().Sub(shown); rest > 0 {
			select {
			case <-ctx.Done():
			case <-s.c.cfg.Clock.After(rest):
			}
		}
		s.reply(msgRef, a, syncml.StatusOK)
	default:
		// An accepted 1101.
		s.reply(msgRef, a, syncml.StatusOK)
	}
	return outDone
}

// uiTimeout answers an alert whose MAXDT expired. A default response (DR)
// is sent as if the user had chosen it (confirm DR=1 accepts, DR=0 is 304);
// without one the action counts as cancelled: 408, and the rest of the
// package is not processed (OMA-TS-DM_Protocol-V1_2 §10.3.2).
func (s *session) uiTimeout(msgRef string, a *syncml.Alert, u *UIAlert) outcome {
	if u.Default != "" {
		switch a.Data {
		case syncml.AlertConfirmOrReject:
			switch u.Default {
			case "1":
				s.reply(msgRef, a, syncml.StatusOK)
				return outDone
			case "0":
				s.reply(msgRef, a, syncml.StatusNotModified)
				return outRejected
			}
		case syncml.AlertTextInput:
			if validInput(u, u.Default) {
				s.reply(msgRef, a, syncml.StatusOK, syncml.Item{Data: syncml.TextData(u.Default)})
				return outDone
			}
		case syncml.AlertSingleChoice, syncml.AlertMultipleChoice:
			if chosen := parseChoiceDefault(u.Default, len(u.Choices)); len(chosen) > 0 {
				return s.uiAnswer(context.Background(), msgRef, a, u, "", chosen, time.Time{})
			}
		}
	}
	s.reply(msgRef, a, syncml.StatusRequestTimeout)
	return outCancelled
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// execAtomic runs members in one transaction: all succeed and commit (Atomic
// 200), or everything rolls back (executed members 216, the failing member its
// code, the rest 215, Atomic 507). Get, Exec and nested Atomic/Sequence → 500.
//
// A member carrying a chunk of a large object (MoreData) is refused with 400
// and fails the Atomic: a command, Atomic included, must fit entirely in one
// message and only a top-level Add/Replace may be chunked (OMA-TS-DM_Protocol-V1_2
// §6.1, §7),
// so the rest of that object could never arrive inside this Atomic.
//
// The statuses of an Atomic travel together in one message. When they cannot
// fit one message under the server's MaxMsgSize, nothing is committed and the
// Atomic alone is answered 517 (OMA-TS-DM_Protocol-V1_2 §6.1: a command,
// Atomic included, must fit in one message).
func (s *session) execAtomic(ctx context.Context, msgRef string, a *syncml.Atomic) outcome {
	type rec struct {
		cmd   syncml.Command
		code  syncml.StatusCode
		items []syncml.Item
		ran   bool
	}
	tx := s.c.cfg.Tree.Begin()
	recs := make([]rec, 0, len(a.Commands))
	failed := len(a.Commands) == 0
	res := outDone
	for _, c := range a.Commands {
		if failed {
			recs = append(recs, rec{cmd: c, code: syncml.StatusNotExecuted})
			continue
		}
		var code syncml.StatusCode
		var items []syncml.Item
		switch c := c.(type) {
		case *syncml.Add, *syncml.Replace, *syncml.Delete, *syncml.Copy:
			if s.itemHasMoreData(c) {
				code = syncml.StatusBadRequest
			} else {
				var f string
				code, f = s.execItems(tx, c)
				items = failedItem(f)
			}
		case *syncml.Alert:
			// Alerts (UI) are answered through the normal path; capture
			// their status by running them on a scratch queue.
			saved := s.out
			s.out = nil
			savedCmds := len(s.res.Commands)
			o := s.execAlert(ctx, msgRef, c)
			st := s.out[0].(*syncml.Status)
			s.out = saved
			s.res.Commands = s.res.Commands[:savedCmds]
			code, items = st.Data, st.Items
			if o != outDone {
				failed = true
				if o == outCancelled {
					res = outCancelled
				}
			}
		case *syncml.Unknown:
			code = c.Code // a command OMA DM does not define fails the Atomic
		default:
			code = syncml.StatusCommandFailed
		}
		recs = append(recs, rec{cmd: c, code: code, items: items, ran: true})
		if !code.Success() && !failed {
			failed = true
		}
	}
	group := func(atomic syncml.StatusCode, member func(rec) syncml.StatusCode) []*syncml.Status {
		sts := []*syncml.Status{newStatus(msgRef, a, atomic)}
		for _, r := range recs {
			st := newStatus(msgRef, r.cmd, member(r))
			st.Items = r.items
			sts = append(sts, st)
		}
		return sts
	}
	var sts []*syncml.Status
	if !failed {
		sts = group(syncml.StatusOK, func(r rec) syncml.StatusCode { return r.code })
		if !s.fitsOneMessage(sts) {
			return s.atomicTooLarge(msgRef, a, tx, res)
		}
		if err := tx.Commit(); err != nil {
			s.c.log.Error("atomic commit failed", "err", err)
			sts = group(syncml.StatusAtomicFailed, func(r rec) syncml.StatusCode {
				if r.ran && r.code.Success() {
					return syncml.StatusAtomicRollbackFailed
				}
				return r.code
			})
		}
	} else {
		rbCode := syncml.StatusAtomicRollbackOK
		if err := tx.Rollback(); err != nil {
			s.c.log.Error("atomic rollback failed", "err", err)
			rbCode = syncml.StatusAtomicRollbackFailed
		}
		sts = group(syncml.StatusAtomicFailed, func(r rec) syncml.StatusCode {
			if r.ran && r.code.Success() {
				if _, isAlert := r.cmd.(*syncml.Alert); !isAlert {
					return rbCode
				}
			}
			return r.code
		})
		if !s.fitsOneMessage(sts) {
			return s.atomicTooLarge(msgRef, a, nil, res)
		}
	}
	s.replyGroup(msgRef, append([]syncml.Command{a}, a.Commands...), sts)
	return res
}

// atomicTooLarge rolls tx back (when still open) and answers the Atomic 517.
func (s *session) atomicTooLarge(msgRef string, a *syncml.Atomic, tx Tx, res outcome) outcome {
	if tx != nil {
		if err := tx.Rollback(); err != nil {
			s.c.log.Error("atomic rollback failed", "err", err)
		}
	}
	s.c.log.Warn("Atomic statuses do not fit one message: rolled back", "cmd", a.CmdID, "limit", s.srvMaxMsg)
	s.reply(msgRef, a, syncml.StatusAtomicResponseTooLarge)
	return res
}

// execSequence runs members in order: Sequence 200 once started; after a
// failed member, a UI cancel or a rejected confirmation the rest are 215
// (Not executed). OMA-TS-DM_RepPro-V1_2 (Sequence): the commands run in
// the order given, and the server relies on that order to make a command
// depend on the one before it (an Exec after the Replace of its
// parameters): once one fails, running the rest would act on a state the
// server did not ask for.
func (s *session) execSequence(ctx context.Context, msgRef string, q *syncml.Sequence) outcome {
	if len(q.Commands) == 0 {
		s.reply(msgRef, q, syncml.StatusBadRequest)
		return outDone
	}
	s.reply(msgRef, q, syncml.StatusOK)
	stop := false
	res := outDone
	for _, c := range q.Commands {
		if stop {
			s.reply(msgRef, c, syncml.StatusNotExecuted)
			continue
		}
		switch c.(type) {
		case *syncml.Atomic, *syncml.Sequence:
			s.reply(msgRef, c, syncml.StatusCommandFailed)
			stop = true
			continue
		case *syncml.Add, *syncml.Replace:
			// Like an Atomic, a Sequence must fit one message: a chunk of a
			// large object inside it can never be completed (see execAtomic).
			if s.itemHasMoreData(c) {
				s.reply(msgRef, c, syncml.StatusBadRequest)
				stop = true
				continue
			}
		}
		mark := len(s.res.Commands)
		o := s.execOne(ctx, msgRef, c)
		if o != outDone {
			stop = true
			if o == outCancelled {
				res = outCancelled
			}
		}
		for _, r := range s.res.Commands[mark:] {
			if r.MsgID == msgRef && r.CmdID == c.ID() && !r.Status.Success() {
				stop = true
			}
		}
	}
	return res
}

// execOne executes one top-level (or Sequence member) management command.
func (s *session) execOne(ctx context.Context, msgRef string, c syncml.Command) outcome {
	if u, ok := c.(*syncml.Unknown); ok && u.Name == "Status" {
		return outDone // a Status that did not decode: a Status is never answered
	}
	if c.ID() == "" {
		s.reply(msgRef, c, syncml.StatusBadRequest)
		return outDone
	}
	switch c := c.(type) {
	case *syncml.Add, *syncml.Replace:
		if s.handleChunk(msgRef, c) {
			return outDone
		}
		s.replyItems(msgRef, c, s.execEach(s.c.cfg.Tree, c))
	case *syncml.Delete, *syncml.Copy:
		s.replyItems(msgRef, c, s.execEach(s.c.cfg.Tree, c))
	case *syncml.Get:
		s.execGet(msgRef, c)
	case *syncml.Exec:
		s.reply(msgRef, c, s.execExec(ctx, c))
	case *syncml.Alert:
		return s.execAlert(ctx, msgRef, c)
	case *syncml.Atomic:
		return s.execAtomic(ctx, msgRef, c)
	case *syncml.Sequence:
		return s.execSequence(ctx, msgRef, c)
	case *syncml.Results:
		// Results from a server are not expected; answer only non-200 statuses.
		s.reply(msgRef, c, syncml.StatusCommandNotAllowed)
	case *syncml.Unknown:
		// A DS command or an element DM does not define: it alone fails,
		// with the status the decoder chose (406 Optional feature not
		// supported, 400 for a DM command holding an unknown element;
		// OMA-TS-SyncML_RepPro-V1_2, Status codes).
		s.reply(msgRef, c, c.Code)
	default:
		s.reply(msgRef, c, syncml.StatusNotImplemented)
	}
	return outDone
}
