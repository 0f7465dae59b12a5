package api

import (
	"fmt"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// RetryRequest changes an operation's retry policy within bounds: how many
// attempts in all and the pauses between them. Which outcomes are retried
// stays the MO's (FUMO and SCOMO: a timeout and the transient download
// result codes; LAWMO and DiagMon: a timeout only; exec and connmo: a
// timeout, and only when max_attempts is raised above 1).
type RetryRequest struct {
	// MaxAttempts in all, the first included: 1 (no retry) to 10.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff before the second attempt, doubled for each further one: a
	// Go duration from 1s to 24h.
	Backoff string `json:"backoff,omitempty"`
	// MaxBackoff caps the doubling: at least backoff, at most 168h.
	MaxBackoff string `json:"max_backoff,omitempty"`
}

// ToFleet is the override r stands for; field prefixes the names in its
// errors ("retry", "template.retry"). Nil for nil.
func (r *RetryRequest) ToFleet(field string) (*fleet.RetryOverride, error) {
	if r == nil {
		return nil, nil
	}
	b, err := duration(field+".backoff", r.Backoff)
	if err != nil {
		return nil, err
	}
	mb, err := duration(field+".max_backoff", r.MaxBackoff)
	if err != nil {
		return nil, err
	}
	return &fleet.RetryOverride{MaxAttempts: r.MaxAttempts, Backoff: b, MaxBackoff: mb}, nil
}

// RetryFrom is the API view of a template's override.
func RetryFrom(o *fleet.RetryOverride) *RetryRequest {
	if o == nil {
		return nil
	}
	return &RetryRequest{MaxAttempts: o.MaxAttempts, Backoff: durString(o.Backoff), MaxBackoff: durString(o.MaxBackoff)}
}

// OperationAttempt is one attempt of an operation in its history.
type OperationAttempt struct {
	Attempt    int    `json:"attempt"`
	Job        int64  `json:"job"`
	Correlator string `json:"correlator"`
	// State is how the attempt ended (failed, timed_out), or the
	// operation's state for the current attempt.
	State      string `json:"state"`
	ExecStatus int    `json:"exec_status,omitempty"`
	Result     int    `json:"result,omitempty"`
	// Event is the attempt's report; Late marks a report that came after
	// the attempt had ended (kept, it changed nothing).
	Event     int64      `json:"event,omitempty"`
	Late      bool       `json:"late,omitempty"`
	Error     string     `json:"error,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// WithHistory returns o with its attempts' history: the recorded attempts
// that ended, then the current one (unless the operation waits in
// retry_wait, whose last attempt is recorded already).
func WithHistory(o Operation, op *storage.Operation, recorded []*storage.OperationAttempt) Operation {
	h := make([]OperationAttempt, 0, len(recorded)+1)
	for _, a := range recorded {
		h = append(h, OperationAttempt{Attempt: a.Attempt, Job: a.JobID, Correlator: a.Correlator, State: string(a.State),
			ExecStatus: a.ExecStatus, Result: a.Result, Event: a.EventID, Late: a.Late, Error: a.Error,
			StartedAt: a.StartedAt, EndedAt: optTime(a.EndedAt)})
	}
	if op.State != storage.OpRetryWait {
		h = append(h, OperationAttempt{Attempt: op.Attempt, Job: op.JobID, Correlator: op.Correlator, State: string(op.State),
			ExecStatus: op.ExecStatus, Result: op.Result, Event: op.EventID, Error: op.Error,
			StartedAt: op.AttemptAt, EndedAt: optTime(op.DoneAt)})
	}
	o.History = h
	return o
}

// AttemptsText is "2/3": the current attempt of the allowed ones.
func (o *Operation) AttemptsText() string {
	return fmt.Sprintf("%d/%d", max(o.Attempts, 1), max(o.MaxAttempts, 1))
}
