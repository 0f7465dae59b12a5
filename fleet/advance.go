package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
)

// Observe takes the engine's live updates (server.Options.OnEvent): job
// changes and stored events. It never blocks: updates wait in a bounded
// queue the Scheduler drains; when the queue is full the update is dropped,
// which loses nothing but time, since the Scheduler finds the operation's
// job state and report from storage again at its deadline at the latest.
func (m *Manager) Observe(u server.Update) {
	var c change
	switch {
	case u.Kind == "job" && u.JobID != 0:
		c = change{jobID: u.JobID}
	case u.Kind == "event" && u.EventID != 0 && u.EventKind == "generic-alert":
		c = change{deviceID: u.DeviceID, eventID: u.EventID}
	default:
		return
	}
	select {
	case m.queue <- c:
	default:
		m.o.Logger.Warn("operations: update queue full; the operation is reconciled later", "job", c.jobID, "event", c.eventID)
	}
}

// apply advances the operation an observed change concerns.
func (m *Manager) apply(ctx context.Context, c change) error {
	var op *storage.Operation
	var err error
	if c.jobID != 0 {
		op, err = m.o.Store.OperationByJob(ctx, c.jobID)
	} else {
		var evs []*storage.Event
		evs, err = m.o.Store.ListEvents(ctx, c.deviceID, c.eventID-1, 1)
		if err != nil || len(evs) == 0 || evs[0].ID != c.eventID || evs[0].Correlator == "" {
			return err
		}
		ev := evs[0]
		op, err = m.o.Store.OperationByCorrelator(ctx, c.deviceID, ev.Correlator)
		if errors.Is(err, storage.ErrNotFound) {
			// An earlier attempt's correlator: a late report.
			a, aerr := m.o.Store.AttemptByCorrelator(ctx, c.deviceID, ev.Correlator)
			if aerr != nil {
				return ignoreNotFound(aerr)
			}
			if op, err = m.o.Store.GetOperation(ctx, a.OperationID); err != nil {
				return ignoreNotFound(err)
			}
			return m.lateReport(ctx, op, a.Attempt, ev)
		}
		if err == nil && op.State == storage.OpRetryWait {
			// The attempt that ended waits for the next: its report is late.
			return m.lateReport(ctx, op, op.Attempt, ev)
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil // not an operation's job or report
	}
	if err != nil {
		return err
	}
	return m.Advance(ctx, op)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// JobChanged advances the operation that owns a job, if any (the API calls
// it when a job is cancelled directly).
func (m *Manager) JobChanged(ctx context.Context, jobID int64) error {
	return m.apply(ctx, change{jobID: jobID})
}

// Advance brings an open operation to what storage knows: its job's state
// (sent, the Exec's status) and the device's report (the first 1226 event
// with its correlator that the MO reads as its report). Each step is a
// conditional transition from the state read, retried when another node
// moved the operation meanwhile; op is updated to the stored result. An
// attempt that failed in a way its retry policy retries, with attempts
// left, moves op to retry_wait instead (the Scheduler starts the next
// attempt at its time); an operation in retry_wait is left as it is.
func (m *Manager) Advance(ctx context.Context, op *storage.Operation) error {
	for range 4 {
		if op.State.Terminal() || op.State == storage.OpRetryWait {
			return nil
		}
		next, err := m.next(ctx, op)
		if err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		if next.State == storage.OpFailed && m.retryable(op, next) {
			err = m.toRetryWait(ctx, op, next) // op is the stored result
			if err == nil {
				return nil
			}
		} else {
			err = m.o.Store.TransitionOperation(ctx, next, op.State)
		}
		if err == nil {
			*op = *next
			if op.State.Terminal() && op.EventID != 0 {
				m.refresh(ctx, op) // queued before anyone hears the operation ended
			}
			m.changed(op)
			continue // the report may move it further
		}
		if !errors.Is(err, storage.ErrConflict) {
			return err
		}
		cur, err := m.o.Store.GetOperation(ctx, op.ID)
		if err != nil {
			return err
		}
		*op = *cur
	}
	return nil
}

// next is the state op should move to, nil when it stays.
func (m *Manager) next(ctx context.Context, op *storage.Operation) (*storage.Operation, error) {
	n := *op
	// The report is read before the job, so the job read is at least as
	// recent as the report (a device reports after it answered the Exec).
	rep, reported, err := m.report(ctx, op)
	if err != nil {
		return nil, err
	}
	j, err := m.o.Store.GetJob(ctx, op.JobID)
	gone := errors.Is(err, storage.ErrNotFound)
	if err != nil && !gone {
		return nil, err
	}
	// The report is the final word, even when the Exec's status is not
	// stored yet (it may come in a later message than the report).
	if reported {
		if !gone {
			n.ExecStatus = max(n.ExecStatus, ExecStatus(j))
		}
		n.Result, n.ResultData, n.EventID, n.DoneAt = rep.code, rep.data, rep.eventID, m.o.Now()
		if rep.success {
			n.State, n.Error = storage.OpSucceeded, ""
		} else {
			n.State, n.Error = storage.OpFailed, rep.err
		}
		return &n, nil
	}
	if gone {
		if op.State == storage.OpAccepted {
			return nil, nil // its finished job was pruned (job retention); the report may still come
		}
		n.State, n.Error, n.DoneAt = storage.OpFailed, fmt.Sprintf("its job %d was deleted", op.JobID), m.o.Now()
		return &n, nil
	}
	switch j.State {
	case storage.JobQueued:
		return nil, nil
	case storage.JobSent:
		if op.State != storage.OpQueued {
			return nil, nil
		}
		n.State = storage.OpSent
	case storage.JobDone:
		st := ExecStatus(j)
		n.ExecStatus = st
		switch {
		case st == 202: // OMA-TS-DM_RepPro-V1_2 status 202: accepted for processing; the result follows in a 1226 generic alert
			if op.State == storage.OpAccepted {
				return nil, nil
			}
			n.State = storage.OpAccepted
		case st >= 200 && st <= 299:
			n.State, n.DoneAt = storage.OpSucceeded, m.o.Now()
		default:
			n.State, n.DoneAt = storage.OpFailed, m.o.Now()
			n.Error = fmt.Sprintf("the device answered the Exec %d", st)
		}
	case storage.JobFailed:
		n.State, n.DoneAt, n.ExecStatus = storage.OpFailed, m.o.Now(), ExecStatus(j)
		n.Error = jobFailure(j)
	case storage.JobCancelled:
		n.State, n.DoneAt = storage.OpCancelled, m.o.Now()
		n.Error = "its job was cancelled"
	}
	return &n, nil
}

// jobFailure says why an operation's job failed.
func jobFailure(j *storage.Job) string {
	if j.Spec.Command == "Atomic" {
		return changeSetFailure(j)
	}
	var msg string
	st := ExecStatus(j)
	if j.Spec.Command == "Sequence" && (st == 0 || st == 215 || st < 300) {
		msg = fmt.Sprintf("the device refused the operation's parameters, the Exec did not run (statuses %v)", j.ChildStatus)
	} else {
		msg = fmt.Sprintf("the device refused the Exec (status %d)", cmpInt(st, j.Status))
	}
	if j.Error != "" {
		msg += ": " + j.Error
	}
	return msg
}

type report struct {
	eventID int64
	code    int
	data    string
	success bool
	err     string
}

// report finds the device's report for op: the first generic alert with its
// correlator that its MO reads as a report.
func (m *Manager) report(ctx context.Context, op *storage.Operation) (report, bool, error) {
	evs, err := m.o.Store.EventsByCorrelator(ctx, op.DeviceID, op.Correlator)
	if err != nil {
		return report{}, false, err
	}
	d, known := m.Descriptor(op.MO)
	for _, e := range evs {
		if e.Kind != "generic-alert" {
			continue
		}
		r := report{eventID: e.ID, data: e.Data}
		if !known {
			// Generic Exec: the Data is the result code; 2xx and 12xx
			// (the MO-specific success ranges) mean success.
			n, err := strconv.Atoi(strings.TrimSpace(e.Data))
			switch {
			case err != nil:
				r.err = fmt.Sprintf("the report's data %q is not a result code", e.Data)
			case n >= 200 && n <= 299 || n >= 1200 && n <= 1299:
				r.code, r.success = n, true
			default:
				r.code, r.err = n, fmt.Sprintf("the device reported %d", n)
			}
			return r, true, nil
		}
		code, meaning, ok, err := d.Report(e.Type, e.Source, e.Data)
		if !ok {
			continue
		}
		r.code = code
		switch {
		case err != nil:
			r.err = fmt.Sprintf("the report's data %q is not a result code", e.Data)
		case d.Successful(code):
			r.success = true
		default:
			r.err = fmt.Sprintf("the device reported %d (%s)", code, meaning)
		}
		return r, true, nil
	}
	return report{}, false, nil
}

// Expire times out the open operations whose deadline passed by now (first
// looking once more for their job's outcome and report) and returns how
// many it timed out. A queued or sent operation's job is cancelled with it.
// Several nodes may call it at once: the conditional transition lets one of
// them time out each operation.
func (m *Manager) Expire(ctx context.Context) (int, error) {
	n := 0
	for {
		ops, err := m.o.Store.ExpiredOperations(ctx, m.o.Now(), 100)
		if err != nil {
			return n, err
		}
		started := 0
		for _, op := range ops {
			if op.State == storage.OpRetryWait {
				ok, err := m.startAttempt(ctx, op)
				if err != nil {
					return n, err
				}
				if ok {
					started++
				}
				continue
			}
			if err := m.Advance(ctx, op); err != nil {
				return n, err
			}
			if op.State.Terminal() || op.State == storage.OpRetryWait {
				continue
			}
			from := op.State
			t := *op
			t.State, t.DoneAt = storage.OpTimedOut, m.o.Now()
			t.Error = fmt.Sprintf("no report within its timeout (deadline %s)", op.Deadline.UTC().Format("2006-01-02T15:04:05Z"))
			if from != storage.OpAccepted {
				t.Error = fmt.Sprintf("the device did not take the operation before its deadline %s", op.Deadline.UTC().Format("2006-01-02T15:04:05Z"))
			}
			retry := m.retryable(op, &t)
			if retry {
				err = m.toRetryWait(ctx, op, &t)
			} else {
				err = m.o.Store.TransitionOperation(ctx, &t, from)
			}
			if errors.Is(err, storage.ErrConflict) {
				continue // another node moved it
			}
			if err != nil {
				return n, err
			}
			n++
			if from != storage.OpAccepted {
				if _, err := m.o.Store.CancelJob(ctx, t.JobID); err != nil && !errors.Is(err, storage.ErrConflict) && !errors.Is(err, storage.ErrNotFound) {
					m.o.Logger.Warn("operations: cancelling a timed-out operation's job", "operation", t.ID, "job", t.JobID, "err", err)
				}
			}
			if !retry {
				*op = t
				m.changed(op)
			}
		}
		if started > 0 {
			m.o.Logger.Info("operations: next attempts started", "count", started)
		}
		if len(ops) < 100 {
			return n, nil
		}
	}
}

// ReconcileSome advances up to limit open operations with IDs above after
// and returns the cursor for the next call (0 when it reached the end): the
// Scheduler walks all open operations this way, a bounded slice per sweep,
// so a live update lost with a crashed node is made up for while every
// other node keeps running.
func (m *Manager) ReconcileSome(ctx context.Context, after int64, limit int) (int64, error) {
	ops, err := m.o.Store.ListOperations(ctx, storage.OperationFilter{States: storage.OpOpen, AfterID: after, Limit: limit})
	if err != nil {
		return after, err
	}
	for _, op := range ops {
		if err := m.Advance(ctx, op); err != nil {
			return op.ID - 1, err
		}
	}
	if len(ops) < limit {
		return 0, nil
	}
	return ops[len(ops)-1].ID, nil
}

// Reconcile advances every open operation from storage (the Scheduler runs
// it when it starts, for what happened while no node was following).
func (m *Manager) Reconcile(ctx context.Context) error {
	var after int64
	for {
		ops, err := m.o.Store.ListOperations(ctx, storage.OperationFilter{States: storage.OpOpen, AfterID: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, op := range ops {
			after = op.ID
			if err := m.Advance(ctx, op); err != nil {
				return err
			}
		}
		if len(ops) < 500 {
			return nil
		}
	}
}

// refresh queues the Get of the descriptor's Refresh node after op ended
// with the device's report. Only the node whose transition ended op gets
// here, so it is queued once; a failure is logged (the operator can read
// the node again).
func (m *Manager) refresh(ctx context.Context, op *storage.Operation) {
	d, ok := m.Descriptor(op.MO)
	if !ok || d.Refresh == "" {
		return
	}
	spec := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: op.Node + "/" + d.Refresh}}}
	if err := storage.ValidateJobSpec(spec); err != nil {
		m.o.Logger.Warn("operations: refresh not queued", "operation", op.ID, "err", err)
		return
	}
	if err := m.o.Store.CreateJob(ctx, &storage.Job{DeviceID: op.DeviceID, Spec: spec, State: storage.JobQueued}); err != nil {
		m.o.Logger.Warn("operations: refresh not queued", "operation", op.ID, "err", err)
	}
}
