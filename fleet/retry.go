package fleet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/storage"
)

// Bounds on a request's retry override.
const (
	MaxAttempts   = 10
	MinBackoff    = time.Second
	MaxBackoff    = 24 * time.Hour
	MaxBackoffCap = 7 * 24 * time.Hour
)

// ExecRetry is the generic Exec's retry policy, and a connectivity
// profile's: no retry unless a request asks for more attempts, and then
// only of an attempt that timed out (the device's answer to an arbitrary
// Exec says nothing about whether repeating it helps).
var ExecRetry = mo.RetryPolicy{MaxAttempts: 1, Backoff: time.Minute, MaxBackoff: time.Hour, OnTimeout: true}

// RetryOverride is a request's change to its operation's retry policy
// (which outcomes are retried stays the MO's); a zero field keeps the
// policy's value.
type RetryOverride struct {
	// MaxAttempts in all, the first included (1: no retry; at most
	// MaxAttempts).
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff before the second attempt (MinBackoff to MaxBackoff).
	Backoff time.Duration `json:"backoff,omitempty"`
	// MaxBackoff caps the doubling pause (at least Backoff, at most
	// MaxBackoffCap).
	MaxBackoff time.Duration `json:"max_backoff,omitempty"`
}

// validate checks o; field prefixes the names in its errors ("retry").
func (o *RetryOverride) validate(field string) error {
	if o == nil {
		return nil
	}
	switch {
	case o.MaxAttempts < 0 || o.MaxAttempts > MaxAttempts:
		return invalid(field+".max_attempts", "%d: want 1 to %d (attempts in all, the first included)", o.MaxAttempts, MaxAttempts)
	case o.Backoff != 0 && (o.Backoff < MinBackoff || o.Backoff > MaxBackoff):
		return invalid(field+".backoff", "%s: want %s to %s", o.Backoff, MinBackoff, MaxBackoff)
	case o.MaxBackoff != 0 && (o.MaxBackoff < MinBackoff || o.MaxBackoff > MaxBackoffCap):
		return invalid(field+".max_backoff", "%s: want %s to %s", o.MaxBackoff, MinBackoff, MaxBackoffCap)
	case o.MaxBackoff != 0 && o.Backoff != 0 && o.MaxBackoff < o.Backoff:
		return invalid(field+".max_backoff", "%s is below backoff %s", o.MaxBackoff, o.Backoff)
	}
	return nil
}

// policy is the retry policy of an operation of mo named name ("" when
// the descriptor has none such): the descriptor's, or ExecRetry.
func (m *Manager) policy(moName, name string) mo.RetryPolicy {
	d, ok := m.Descriptor(moName)
	if !ok {
		return ExecRetry
	}
	def, _ := d.Op(name)
	return d.RetryPolicyOf(def)
}

// setRetry stores on op its timeout and its retry policy with r's
// override applied.
func (m *Manager) setRetry(r *Request, op *storage.Operation, timeout time.Duration) error {
	if err := r.Retry.validate("retry"); err != nil {
		return err
	}
	p := m.policy(op.MO, op.Name)
	if o := r.Retry; o != nil {
		if o.MaxAttempts > 0 {
			p.MaxAttempts = o.MaxAttempts
		}
		if o.Backoff > 0 {
			p.Backoff = o.Backoff
		}
		if o.MaxBackoff > 0 {
			p.MaxBackoff = o.MaxBackoff
		}
		if p.MaxBackoff > 0 && p.MaxBackoff < p.Backoff {
			field := "retry.max_backoff"
			if o.MaxBackoff == 0 {
				field = "retry.backoff"
			}
			return invalid(field, "backoff %s above max_backoff %s", p.Backoff, p.MaxBackoff)
		}
	}
	op.Attempt, op.MaxAttempts = 1, max(p.MaxAttempts, 1)
	op.Timeout, op.Backoff, op.MaxBackoff = timeout, p.Backoff, p.MaxBackoff
	return nil
}

// retryable reports whether op's current attempt, ending as n says (failed
// or timed_out), is made again: attempts are left and its policy lists the
// outcome.
func (m *Manager) retryable(op, n *storage.Operation) bool {
	if op.Attempt >= op.MaxAttempts {
		return false
	}
	p := m.policy(op.MO, op.Name)
	switch {
	case n.State == storage.OpTimedOut:
		return p.OnTimeout
	case n.State != storage.OpFailed:
		return false
	case n.EventID != 0:
		return p.RetryResult(n.Result) // the device's report decides
	case n.ExecStatus != 0:
		return p.RetryExecStatus(n.ExecStatus)
	}
	return false // no status: its job was deleted
}

// delay is the pause before op's next attempt: its policy's backoff for
// that attempt, with the Manager's jitter.
func (m *Manager) delay(op *storage.Operation) time.Duration {
	p := mo.RetryPolicy{Backoff: op.Backoff, MaxBackoff: op.MaxBackoff}
	return max(m.o.Jitter(p.Delay(op.Attempt+1)), 0)
}

// defaultJitter adds up to a tenth of d, so devices whose attempts failed
// together do not all come back at the same instant.
func defaultJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + rand.N(d/10+1)
}

// toRetryWait ends op's current attempt as n says and moves op to
// retry_wait until its next attempt's time, recording the attempt in the
// history: one conditional transition from op's state, in one batch with
// the record. ErrConflict when another node moved op first.
func (m *Manager) toRetryWait(ctx context.Context, op, n *storage.Operation) error {
	now := m.o.Now()
	ended := &storage.OperationAttempt{OperationID: op.ID, Attempt: op.Attempt, DeviceID: op.DeviceID, JobID: op.JobID,
		Correlator: op.Correlator, State: n.State, ExecStatus: n.ExecStatus, Result: n.Result, EventID: n.EventID,
		Error: n.Error, StartedAt: op.AttemptAt, EndedAt: now}
	w := *n
	w.State, w.DoneAt = storage.OpRetryWait, time.Time{}
	w.Deadline = now.Add(m.delay(op))
	w.Error = fmt.Sprintf("attempt %d of %d %s: %s; attempt %d at %s", op.Attempt, op.MaxAttempts,
		strings.ReplaceAll(string(n.State), "_", " "), n.Error, op.Attempt+1, w.Deadline.UTC().Format(time.RFC3339))
	err := storage.InBatch(ctx, m.o.Store, func(s storage.Store) error {
		if err := s.ReattemptOperation(ctx, &w, op.State); err != nil {
			return err
		}
		return s.AddOperationAttempt(ctx, ended)
	})
	if err != nil {
		return err
	}
	*op = w
	m.changed(op)
	return nil
}

// startAttempt starts the next attempt of op, in retry_wait past its
// deadline: a new job (the last attempt's command with a new correlator)
// and the conditional transition retry_wait → queued, in one batch, so of
// several nodes starting it exactly one does (the others' batches roll
// back, their jobs with them). It reports whether this call started it.
func (m *Manager) startAttempt(ctx context.Context, op *storage.Operation) (bool, error) {
	prev, err := m.o.Store.GetJob(ctx, op.JobID)
	if errors.Is(err, storage.ErrNotFound) {
		n := *op
		n.State, n.DoneAt = storage.OpFailed, m.o.Now()
		n.Error = fmt.Sprintf("%s; attempt %d not made: the job of attempt %d (%d) was deleted", op.Error, op.Attempt+1, op.Attempt, op.JobID)
		if err := m.o.Store.TransitionOperation(ctx, &n, storage.OpRetryWait); err != nil {
			return false, ignoreConflict(err)
		}
		*op = n
		m.changed(op)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	next := op.Attempt + 1
	for try := range 2 {
		corr := attemptCorrelator(op.Correlator, op.Attempt, next, try > 0)
		j := &storage.Job{DeviceID: op.DeviceID, Spec: withCorrelator(prev.Spec, corr), State: storage.JobQueued}
		now := m.o.Now()
		n := *op
		n.State, n.Attempt, n.AttemptAt, n.Correlator = storage.OpQueued, next, now, corr
		n.ExecStatus, n.Result, n.ResultData, n.EventID, n.Error, n.DoneAt = 0, 0, "", 0, "", time.Time{}
		n.Deadline = now.Add(m.attemptTimeout(op))
		_, batched := m.o.Store.(storage.Batcher)
		err := storage.InBatch(ctx, m.o.Store, func(s storage.Store) error {
			if err := s.CreateJob(ctx, j); err != nil {
				return err
			}
			n.JobID = j.ID
			return s.ReattemptOperation(ctx, &n, storage.OpRetryWait)
		})
		if err != nil && !batched && j.ID != 0 {
			// Without batches the job was stored on its own: withdraw it.
			if _, cerr := m.o.Store.CancelJob(ctx, j.ID); cerr != nil && !errors.Is(cerr, storage.ErrNotFound) {
				m.o.Logger.Warn("operations: withdrawing the job of an attempt not started", "job", j.ID, "err", cerr)
			}
		}
		switch {
		case err == nil:
			*op = n
			m.changed(op)
			return true, nil
		case errors.Is(err, storage.ErrExists) && try == 0:
			continue // the correlator is another operation's: make one up
		}
		return false, ignoreConflict(err)
	}
	return false, nil
}

// attemptTimeout is each attempt's timeout: the operation's, or its MO's
// default for an operation stored without one.
func (m *Manager) attemptTimeout(op *storage.Operation) time.Duration {
	if op.Timeout > 0 {
		return op.Timeout
	}
	if d, ok := m.Descriptor(op.MO); ok && d.Timeout > 0 {
		return d.Timeout
	}
	if op.MO == ConnMO {
		return DefaultConnMOTimeout
	}
	return m.o.ExecTimeout
}

// attemptCorrelator is the correlator of attempt next: the first
// attempt's with "#<next>" (random characters added when fresh is set, for
// a correlator another operation holds), so each attempt's report is told
// from a late report of an earlier one.
func attemptCorrelator(cur string, curAttempt, next int, fresh bool) string {
	base := cur
	if curAttempt > 1 {
		if i := strings.LastIndex(base, "#"); i >= 0 {
			if _, err := strconv.Atoi(strings.SplitN(base[i+1:], "-", 2)[0]); err == nil {
				base = base[:i]
			}
		}
	}
	suffix := "#" + strconv.Itoa(next)
	if fresh {
		suffix += "-" + newCorrelator("")
	}
	if n := storage.MaxCorrelatorLen - len(suffix); len(base) > n {
		base = base[:n]
	}
	return base + suffix
}

// withCorrelator returns spec with every Exec's correlator set to c.
func withCorrelator(spec storage.JobSpec, c string) storage.JobSpec {
	if spec.Command == "Exec" {
		spec.Correlator = c
	}
	if len(spec.Children) > 0 {
		ch := make([]storage.JobSpec, len(spec.Children))
		for i, x := range spec.Children {
			ch[i] = withCorrelator(x, c)
		}
		spec.Children = ch
	}
	return spec
}

// lateReport records a report that came for an attempt that already
// ended (its operation moved on to another attempt, or waits for one): it
// is kept on that attempt and changes nothing else, so one device's
// outcome is never counted twice.
func (m *Manager) lateReport(ctx context.Context, op *storage.Operation, attempt int, ev *storage.Event) error {
	code := 0
	if d, ok := m.Descriptor(op.MO); ok {
		c, _, isReport, _ := d.Report(ev.Type, ev.Source, ev.Data)
		if !isReport {
			return nil
		}
		code = c
	} else if n, err := strconv.Atoi(strings.TrimSpace(ev.Data)); err == nil {
		code = n
	}
	err := m.o.Store.SetLateReport(ctx, op.ID, attempt, ev.ID, code)
	switch {
	case err == nil:
		m.o.Logger.Info("operations: late report of an earlier attempt kept, operation unchanged",
			"operation", op.ID, "attempt", attempt, "current", op.Attempt, "event", ev.ID, "result", code)
		if m.o.OnChange != nil {
			c := *op
			m.o.OnChange(&c)
		}
		return nil
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
		return nil // already kept, or the attempt was never recorded
	}
	return err
}
