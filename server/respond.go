package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// respond decides what follows the Statuses in the reply (OMA-TS-DM_Protocol-V1_2 §6):
// the end of an aborted session, a "next message" request while the device's
// package continues, the next part of our package, or the end of the session.
func (x *exchange) respond(ctx context.Context) error {
	x.reply.Header.Cred = x.serverCred()
	if x.abort {
		x.log().Info("device aborted the session (Alert 1223)")
		x.reply.Final, x.closing, x.failed = true, true, true
		x.st.MidPackage = false
		x.st.Deferred = nil
		return nil
	}
	if x.authGiveUp {
		// The device keeps rejecting our credentials: nothing we send would
		// run. The session ends; not-executed jobs stay queued.
		x.reply.Header.Cred = nil
		x.reply.Final, x.closing, x.failed = true, true, true
		x.st.MidPackage = false
		x.st.OutLO = nil
		x.st.Fallbacks = nil
		return nil
	}
	// Sized as final: the <Final/> element counts against the device's
	// MaxMsgSize, and most messages carry it.
	x.reply.Final = true
	if spilled, err := x.spillStatuses(); err != nil || spilled {
		return err
	}
	switch {
	case x.st.InLO != nil || !x.msg.Final && !x.st.MidPackage:
		// OMA-TS-DM_Protocol-V1_2 §6 (multiple messages per package): while
		// the device's package goes on, the reply is a "next message"
		// request: Statuses and Alert 1222, no Final, no new command.
		x.reply.Final = false
		x.cmdN++
		x.reply.Body = append(x.reply.Body, &syncml.Alert{CmdID: strconv.Itoa(x.cmdN), Data: syncml.AlertNextMessage})
		return nil
	}
	added, more, err := x.fill(ctx)
	if err != nil {
		return err
	}
	x.added = added
	x.st.MidPackage = more
	x.reply.Final = !more
	if added == 0 && !more && len(x.alerts1225) == 0 {
		x.closing = true // only Statuses and Final: the session ends (OMA-TS-DM_Protocol-V1_2 §8)
	}
	return nil
}

// spillStatuses puts the Statuses deferred from earlier messages right after
// the SyncHdr Status and, when the Statuses alone exceed the device's
// MaxMsgSize, keeps as many as fit and defers the rest to the next message
// (OMA-TS-DM_Protocol-V1_2 §6: a package may span messages; ours then has no Final and
// no new commands until every Status is out). spilled reports that the reply
// is complete as it is.
func (x *exchange) spillStatuses() (spilled bool, err error) {
	if len(x.st.Deferred) > 0 {
		body := make([]syncml.Command, 0, len(x.reply.Body)+len(x.st.Deferred))
		body = append(body, x.reply.Body[0])
		for _, st := range x.st.Deferred {
			x.cmdN++
			st.CmdID = strconv.Itoa(x.cmdN)
			body = append(body, st)
		}
		x.reply.Body = append(body, x.reply.Body[1:]...)
		x.st.Deferred = nil
	}
	ok, err := x.fits()
	if err != nil || ok {
		return false, err
	}
	// Find the most Statuses that fit (the SyncHdr Status always stays).
	all := x.reply.Body
	lo, hi := 1, len(all)-1 // lo fits at least the header alone, or nothing does
	for lo < hi {
		mid := (lo + hi + 1) / 2
		x.reply.Body = all[:mid]
		if ok, err := x.fits(); err != nil {
			return false, err
		} else if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	x.reply.Body = all[:lo]
	if lo <= 1 {
		if ok, err := x.fits(); err != nil {
			return false, err
		} else if !ok {
			x.tooSmall(all[0])
			return true, nil
		}
	}
	for _, c := range all[lo:] {
		x.st.Deferred = append(x.st.Deferred, c.(*syncml.Status))
	}
	x.log().Info("statuses exceed the device's MaxMsgSize: spread over several messages",
		"sent", lo-1, "deferred", len(x.st.Deferred), "max", x.st.DevMaxMsg)
	x.reply.Final = false
	// After a complete device package our package goes on: the device's
	// next message (Alert 1222) gets the rest. Otherwise the device is still
	// sending its own package and its next message comes anyway.
	x.st.MidPackage = x.st.MidPackage || x.msg.Final
	return true, nil
}

// tooSmall ends the session when the device's MaxMsgSize leaves no room
// even for the SyncHdr Status: the reply is that Status, Alert 1223 (session
// abort) and Final — the smallest message that ends the session cleanly
// (OMA-TS-DM_Protocol-V1_2 §8.1, session abort: either side, any time, with
// Final). It is larger than the device asked for, but nothing smaller is a
// DM message. Queued jobs stay queued.
func (x *exchange) tooSmall(hdr syncml.Command) {
	x.e.m.rejected.WithLabelValues("max-msg-size").Inc()
	x.e.rejects.Warn(x.log(), "device MaxMsgSize is too small for any reply: session ended", "max", x.st.DevMaxMsg)
	x.cmdN = 1
	x.reply.Body = []syncml.Command{hdr, &syncml.Alert{CmdID: "2", Data: syncml.AlertSessionAbort}}
	x.reply.Final, x.closing, x.failed = true, true, true
	x.st.MidPackage = false
	x.st.Deferred = nil
	x.st.OutLO = nil
	x.st.Fallbacks = nil
	x.alerts1225 = nil
	// Whatever we sent is not answered now; the jobs go out next session.
	for _, p := range x.st.Pending {
		if p.Status == 0 {
			x.dropJob(p.Job)
		}
	}
}

// hasGet reports whether c is or contains a Get.
func hasGet(c syncml.Command) bool {
	switch c := c.(type) {
	case *syncml.Get:
		return true
	case *syncml.Sequence:
		for _, m := range c.Commands {
			if hasGet(m) {
				return true
			}
		}
	}
	return false
}

// fits measures the encoded reply against the device's MaxMsgSize.
func (x *exchange) fits() (bool, error) {
	if x.st.DevMaxMsg <= 0 {
		return true, nil
	}
	b, err := syncml.Encode(x.reply, x.enc)
	if err != nil {
		return false, &syncml.StatusError{Code: syncml.StatusCommandFailed, Msg: "encoding reply", Err: err}
	}
	return int64(len(b)) <= x.st.DevMaxMsg, nil
}

// fill adds commands to the reply: the rest of a large object being sent,
// then set fallbacks, then the device's pending jobs in queue order, as many
// as fit. more reports that the package continues in another message, which
// only a large object does: OMA-TS-DM_Protocol-V1_2 §6 (multiple messages
// per package) has the server put Final in every message except
// large-object chunks and "next message" replies, and send no new command
// before it has the statuses of the previous ones. Jobs that do not fit
// wait for our next package, after the device answered this one.
func (x *exchange) fill(ctx context.Context) (added int, more bool, err error) {
	if ok, err := x.fits(); err != nil || !ok {
		if err == nil {
			x.e.rejects.Warn(x.log(), "statuses alone exceed the device's MaxMsgSize", "max", x.st.DevMaxMsg)
		}
		return 0, false, err
	}
	if lo := x.st.OutLO; lo != nil {
		j, err := x.e.store.GetJob(ctx, lo.Job)
		switch {
		case errors.Is(err, storage.ErrNotFound) || err == nil && j.State.Terminal():
			x.st.OutLO = nil
		case err != nil:
			return 0, false, storageErr("reading job", err)
		default:
			ok, err := x.addChunk(j, lo, false, added)
			if err != nil {
				return 0, false, err
			}
			if ok {
				added++
			}
			if x.st.OutLO != nil {
				return added, true, nil
			}
		}
	}
	for len(x.st.Fallbacks) > 0 {
		fb := x.st.Fallbacks[0]
		j, err := x.e.store.GetJob(ctx, fb.Job)
		if err == nil && !j.State.Terminal() {
			ok, err := x.addJob(ctx, j, fb.Cmd, true, added)
			if err != nil {
				return 0, false, err
			}
			if !ok {
				return added, false, nil // the rest goes in our next package
			}
			added++
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return 0, false, storageErr("reading job", err)
		}
		x.st.Fallbacks = x.st.Fallbacks[1:]
		if x.st.OutLO != nil {
			return added, true, nil
		}
	}
	var jobs []*storage.Job
	if x.rd != nil && x.rd.Pending {
		jobs, err = x.rd.PendingJobs, x.rd.PendingErr
		x.rd.Pending = false // used once
	} else {
		start := time.Now()
		jobs, err = x.e.store.PendingJobs(ctx, x.dev.ID, x.msg.Header.SessionID)
		since(x.e.m.storeQueue, start)
	}
	if err != nil {
		return 0, false, storageErr("reading the job queue", err)
	}
	jobs = x.withRequeued(jobs)
	skip := map[int64]bool{}
	for _, p := range x.st.Pending {
		skip[p.Job] = true
	}
	for _, id := range x.st.NotExec {
		skip[id] = true
	}
	for _, j := range jobs {
		if skip[j.ID] {
			continue
		}
		if added >= maxCmdsPerMsg {
			return added, false, nil
		}
		ok, err := x.addJob(ctx, j, "", false, added)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return added, false, nil
		}
		added++
		if x.st.OutLO != nil {
			return added, true, nil
		}
	}
	return added, false, nil
}

// withRequeued merges into the queue read from the store the jobs this
// message put back to queued (their update is stored only at commit), in
// queue (ID) order.
func (x *exchange) withRequeued(jobs []*storage.Job) []*storage.Job {
	n := len(jobs)
	for _, id := range x.jobOrder {
		if j := x.jobUpdates[id]; j.State == storage.JobQueued {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == n {
		return jobs
	}
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID })
	out := jobs[:0]
	for i, j := range jobs {
		if i > 0 && j.ID == out[len(out)-1].ID {
			if j.State == storage.JobQueued {
				out[len(out)-1] = j
			}
			continue
		}
		out = append(out, j)
	}
	return out
}

// failJob marks a job failed without sending it.
func (x *exchange) failJob(j *storage.Job, reason string) {
	x.log().Warn("job cannot be sent", "job", j.ID, "reason", reason)
	j.State, j.Error, j.DoneAt = storage.JobFailed, reason, x.now
	x.finishJob(j)
}

// markSent records that cmd, in the reply, carries job j; commit stores the
// job as sent (or withdraws cmd when the job was cancelled meanwhile).
func (x *exchange) markSent(j *storage.Job, cmd syncml.Command) {
	x.unfinish(j.ID)
	j.State = storage.JobSent
	j.SessionID = x.msg.Header.SessionID
	j.Attempts++
	j.SentAt = x.now
	x.sent = append(x.sent, sentCmd{job: j, cmd: cmd})
}

// addJob appends the command of job j (cmdName overrides its command for set
// fallbacks). It reports false when the command does not fit this message and
// must wait for the next one; jobs that can never be sent are failed and
// count as handled.
func (x *exchange) addJob(ctx context.Context, j *storage.Job, cmdName string, isFallback bool, added int) (bool, error) {
	// The API's rules (one set, storage.ValidateJobSpec): a job stored by
	// other means that breaks them fails here instead of going out.
	if err := storage.ValidateJobSpec(j.Spec); err != nil {
		x.failJob(j, "invalid job: "+err.Error())
		return true, nil
	}
	mark, markN := len(x.reply.Body), x.cmdN
	b := &builder{enc: x.enc, nextID: &x.cmdN}
	cmd, err := b.command(j.Spec, cmdName, 0)
	if err != nil {
		x.cmdN = markN
		x.failJob(j, "invalid job: "+err.Error())
		return true, nil
	}
	if max := x.st.DevMaxObj; max > 0 {
		for _, it := range syncml.ItemsOf(cmd) {
			if it.Data != nil && int64(len(it.Data.Value)) > max {
				x.cmdN = markN
				x.failJob(j, fmt.Sprintf("object of %d bytes exceeds the device's MaxObjSize %d", len(it.Data.Value), max))
				return true, nil
			}
		}
	}
	x.reply.Body = append(x.reply.Body, cmd)
	ok, err := x.fits()
	if err != nil {
		return false, err
	}
	if !ok {
		x.reply.Body, x.cmdN = x.reply.Body[:mark], markN
		items := syncml.ItemsOf(cmd)
		name := cmd.CommandName()
		if added > 0 {
			// Our next package has the room: an object is chunked only
			// when it cannot go whole in a message of its own.
			return false, nil
		}
		if (name == "Add" || name == "Replace") && len(items) == 1 && items[0].Data != nil {
			if no, err := x.noLargeObjects(ctx); err != nil {
				return false, err
			} else if no {
				// OMA-TS-DM_Protocol-V1_2 §7: large-object support is
				// advertised by ./DevDetail/LrgObj; a device that says false
				// cannot reassemble chunks.
				x.failJob(j, fmt.Sprintf("%s of %d bytes does not fit the device's MaxMsgSize %d and the device does not support large objects (./DevDetail/LrgObj is false)",
					name, len(items[0].Data.Value), x.st.DevMaxMsg))
				return true, nil
			}
			lo := &outLO{Job: j.ID, Cmd: name}
			return x.addChunk(j, lo, isFallback, added)
		}
		x.failJob(j, fmt.Sprintf("%s does not fit the device's MaxMsgSize %d", name, x.st.DevMaxMsg))
		return true, nil
	}
	msgID := x.reply.Header.MsgID
	x.st.Pending[pendKey(msgID, cmd.ID())] = &pending{Job: j.ID, Cmd: cmd.CommandName(), Fallback: isFallback,
		Members: len(b.members), Gets: hasGet(cmd), Multi: len(j.Spec.Items) > 1}
	for _, m := range b.members {
		x.st.Pending[pendKey(msgID, m.cmdID)] = &pending{Job: j.ID, Child: m.index}
	}
	x.markSent(j, cmd)
	return true, nil
}
