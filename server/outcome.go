package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// maxAttempts is how many times a job is sent before a 215 (Not executed)
// answer fails it instead of queueing it again.
const maxAttempts = 5

// dropJob forgets every pending entry of job.
func (x *exchange) dropJob(job int64) {
	for k, q := range x.st.Pending {
		if q.Job == job {
			delete(x.st.Pending, k)
		}
	}
}

// finalize turns the collected Status (and Results) of a job into its final
// state, or queues the "set" fallback (Add 418 → Replace, Replace 404 → Add).
func (x *exchange) finalize(ctx context.Context, k string) error {
	p := x.st.Pending[k]
	if p == nil || p.Status == 0 || p.Child > 0 {
		return nil
	}
	if lo := x.st.InLO; lo != nil && lo.Cmd == "Results" && pendKey(orDefault(lo.MsgRef, strconv.Itoa(x.st.OutMsgID)), lo.CmdRef) == k {
		return nil // its Results are still arriving in chunks
	}
	var j *storage.Job
	var err error
	if x.jobs != nil {
		if j = x.jobs[p.Job]; j == nil {
			err = storage.ErrNotFound
		}
	} else {
		j, err = x.e.store.GetJob(ctx, p.Job)
	}
	if errors.Is(err, storage.ErrNotFound) {
		x.dropJob(p.Job)
		return nil
	}
	if err != nil {
		return storageErr("reading job", err)
	}
	x.dropJob(p.Job)
	if j.State.Terminal() {
		return nil
	}
	code := syncml.StatusCode(p.Status)
	if j.Spec.Set && !p.Fallback && (p.Cmd == "Add" && code == syncml.StatusAlreadyExists || p.Cmd == "Replace" && code == syncml.StatusNotFound) {
		other := "Replace"
		if p.Cmd == "Replace" {
			other = "Add"
		}
		x.st.Fallbacks = append(x.st.Fallbacks, fallback{Job: j.ID, Cmd: other})
		return nil
	}
	if code == syncml.StatusNotExecuted && p.Reason == "" {
		x.notExecuted(j)
		return nil
	}
	j.Status = p.Status
	j.ChildStatus = p.ChildStatus
	j.Results = p.Results
	j.DoneAt = x.now
	if p.Reason == "" && len(p.Items) > 1 {
		p.Reason = x.itemOutcomes(j, p.Items)
	}
	if p.Reason == "" && code.Success() && j.Spec.Command == "Sequence" {
		p.Reason = sequenceFailure(j.Spec, p.ChildStatus)
	}
	if p.Reason != "" {
		j.State, j.Error = storage.JobFailed, p.Reason
	} else if code.Success() || j.Spec.Command == "Alert" && code == syncml.StatusNotModified {
		j.State, j.Error = storage.JobDone, ""
	} else {
		j.State, j.Error = storage.JobFailed, errText(code)
	}
	x.finishJob(j)
	return nil
}

// itemOutcomes records on j the Items the device answered with a failure
// when it answered the Items of one command with different Statuses
// (OMA-TS-DM_Protocol-V1_2 §6.1.1, SyncML RepPro Status: a Status names the
// Items it is about in TargetRef/SourceRef): each failed Item becomes a
// result entry with its own status and the job fails with a reason naming
// them. The values the device did return (a Get's found nodes) stay in the
// results. It returns "" when no Item failed.
func (x *exchange) itemOutcomes(j *storage.Job, items []itemStatus) string {
	var failed []string
	n := 0
	for _, it := range items {
		code := syncml.StatusCode(it.Code)
		if code.Success() {
			continue
		}
		refs := it.Refs
		if len(refs) == 0 {
			refs = []string{"(unnamed item)"}
		}
		for _, r := range refs {
			n++
			j.Results = append(j.Results, storage.ResultItem{URI: r, Status: it.Code})
			failed = append(failed, fmt.Sprintf("%s: %s", r, code))
		}
	}
	if n == 0 {
		return ""
	}
	const show = 10
	more := ""
	if len(failed) > show {
		more = fmt.Sprintf("; and %d more", len(failed)-show)
		failed = failed[:show]
	}
	return fmt.Sprintf("device answered %d of the command's %d item(s) with a failure: %s%s",
		n, len(j.Spec.Items), strings.Join(failed, "; "), more)
}

// notExecuted handles a job whose own command the device answered 215 (Not
// executed): the command did not run, so the job is not finished. It goes
// back to the queue with its Attempts kept, and fails once it was sent
// maxAttempts times. Without a challenge in this message it waits for the
// next session (st.NotExec); after a challenge fill resends it at once.
// (A 215 for an Atomic/Sequence member is part of the group's result and
// never comes here.)
func (x *exchange) notExecuted(j *storage.Job) {
	j.Status = int(syncml.StatusNotExecuted)
	j.ChildStatus, j.Results = nil, nil
	if j.Attempts >= maxAttempts {
		j.State, j.DoneAt = storage.JobFailed, x.now
		j.Error = fmt.Sprintf("device did not execute the command (%s) in %d attempts", syncml.StatusNotExecuted, j.Attempts)
		x.finishJob(j)
		return
	}
	j.State = storage.JobQueued
	j.Error = ""
	x.log().Info("command not executed by the device: queued again", "job", j.ID, "attempts", j.Attempts, "resend_now", x.reauth)
	if !x.reauth {
		x.st.NotExec = append(x.st.NotExec, j.ID)
	}
	x.finishJob(j)
}

// unfinish forgets a recorded job update: the job is sent again in this
// reply and markSent's update replaces it.
func (x *exchange) unfinish(id int64) {
	if _, ok := x.jobUpdates[id]; !ok {
		return
	}
	delete(x.jobUpdates, id)
	for i, o := range x.jobOrder {
		if o == id {
			x.jobOrder = append(x.jobOrder[:i:i], x.jobOrder[i+1:]...)
			break
		}
	}
}

// sequenceFailure names the first member of a Sequence that did not succeed
// ("" when every member did). OMA-TS-DM_RepPro-V1_2, Sequence: a Sequence is
// answered 200 once started, whatever its members did; the job is the
// whole group, so one failed member fails it (and the device answered the
// members after it 215, Not executed).
func sequenceFailure(spec storage.JobSpec, child []int) string {
	for i, c := range child {
		code := syncml.StatusCode(c)
		if code.Success() {
			continue
		}
		name := "member"
		if i < len(spec.Children) {
			name = spec.Children[i].Command
		}
		msg := fmt.Sprintf("Sequence member %d (%s) answered %s", i+1, name, code)
		if c == 0 {
			msg = fmt.Sprintf("Sequence member %d (%s) got no status", i+1, name)
		}
		skipped := 0
		for _, r := range child[i+1:] {
			if syncml.StatusCode(r) == syncml.StatusNotExecuted {
				skipped++
			}
		}
		if skipped > 0 {
			msg += fmt.Sprintf("; the %d member(s) after it were not executed", skipped)
		} else if i+1 < len(child) {
			msg += "; the device went on with the members after it"
		}
		return msg
	}
	return ""
}
