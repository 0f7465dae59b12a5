package mo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says whether and when an operation that ended without
// success is tried again: how many attempts in all, the wait between two,
// and which outcomes are worth another attempt. An object declares one
// (Descriptor.Retry), an operation may declare its own (Operation.Retry),
// and a server may override either (ParseRetryPolicy).
type RetryPolicy struct {
	// Attempts is how many attempts an operation gets in all, the first
	// included; 0 and 1 mean no retry.
	Attempts int
	// Backoff is the wait before the second attempt; each further one
	// waits twice the one before, up to MaxBackoff (0: no cap).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// OnTimeout retries an attempt the device accepted but did not report
	// on before its deadline.
	OnTimeout bool
	// OnUnreached retries an attempt the device never took before its
	// deadline (it did not connect after the notification).
	OnUnreached bool
	// Results lists the report result codes that are retried (a download
	// that failed on the network, say); any other failure is final.
	Results []int
	// NeverAfterAccepted forbids a new attempt once the device accepted
	// one (answered the Exec 202), whatever happened next: an operation
	// that must not run twice (a wipe).
	NeverAfterAccepted bool
}

// Outcome is how one attempt of an operation ended without success.
type Outcome struct {
	// Unreached: the device never took the attempt before its deadline.
	Unreached bool
	// TimedOut: the device accepted the attempt but did not report in time.
	TimedOut bool
	// Accepted: the device accepted the attempt (answered the Exec 202).
	Accepted bool
	// Result is the device's report result code (0: no report).
	Result int
}

// Retryable reports whether an attempt that ended as o is tried again
// under p (attempts left aside: see Next).
func (p RetryPolicy) Retryable(o Outcome) bool {
	if p.Attempts <= 1 || (p.NeverAfterAccepted && (o.Accepted || o.TimedOut || o.Result != 0)) {
		return false
	}
	switch {
	case o.Unreached:
		return p.OnUnreached
	case o.TimedOut:
		return p.OnTimeout
	case o.Result != 0:
		return slices.Contains(p.Results, o.Result)
	}
	return false
}

// Next reports whether attempt (1 for the first) that ended as o is
// followed by another, and how long after.
func (p RetryPolicy) Next(attempt int, o Outcome) (time.Duration, bool) {
	if attempt < 1 || attempt >= p.Attempts || !p.Retryable(o) {
		return 0, false
	}
	d := p.Backoff
	for range attempt - 1 {
		if p.MaxBackoff > 0 && d >= p.MaxBackoff || d > time.Duration(1<<62) {
			break
		}
		d *= 2
	}
	if p.MaxBackoff > 0 && d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d, true
}

// MaxRetryAttempts bounds RetryPolicy.Attempts.
const MaxRetryAttempts = 20

// Validate reports the first field of p out of range.
func (p RetryPolicy) Validate() error {
	switch {
	case p.Attempts < 0 || p.Attempts > MaxRetryAttempts:
		return fmt.Errorf("attempts %d: want 0 to %d", p.Attempts, MaxRetryAttempts)
	case p.Backoff < 0 || p.MaxBackoff < 0:
		return fmt.Errorf("negative backoff")
	case p.MaxBackoff > 0 && p.MaxBackoff < p.Backoff:
		return fmt.Errorf("max-backoff %s is below backoff %s", p.MaxBackoff, p.Backoff)
	}
	for _, c := range p.Results {
		if c <= 0 {
			return fmt.Errorf("result code %d: want a positive code", c)
		}
	}
	return nil
}

// RetryFor returns the policy of the operation named op (canonical name):
// its own when it declares one, the object's otherwise.
func (d *Descriptor) RetryFor(op string) RetryPolicy {
	for i := range d.Operations {
		if d.Operations[i].Name == op && d.Operations[i].Retry != nil {
			return *d.Operations[i].Retry
		}
	}
	return d.Retry
}

// ParseRetryPolicy reads a policy override, a comma-separated list of
// key=value: attempts=N, backoff=DURATION, max-backoff=DURATION,
// on=OUTCOMES (outcomes separated by "|": timeout, unreached or a result
// code) and never-after-accepted=true|false. Keys not given keep base's
// value; on= replaces the outcomes as a whole.
func ParseRetryPolicy(s string, base RetryPolicy) (RetryPolicy, error) {
	p := base
	p.Results = slices.Clone(base.Results)
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return base, fmt.Errorf("%q: want key=value", f)
		}
		var err error
		switch k {
		case "attempts":
			p.Attempts, err = strconv.Atoi(v)
		case "backoff":
			p.Backoff, err = time.ParseDuration(v)
		case "max-backoff":
			p.MaxBackoff, err = time.ParseDuration(v)
		case "never-after-accepted":
			p.NeverAfterAccepted, err = strconv.ParseBool(v)
		case "on":
			p.OnTimeout, p.OnUnreached, p.Results = false, false, nil
			for o := range strings.SplitSeq(v, "|") {
				switch o {
				case "timeout":
					p.OnTimeout = true
				case "unreached":
					p.OnUnreached = true
				case "", "none":
				default:
					c, cerr := strconv.Atoi(o)
					if cerr != nil {
						return base, fmt.Errorf("on=%s: %q is not timeout, unreached or a result code", v, o)
					}
					p.Results = append(p.Results, c)
				}
			}
		default:
			return base, fmt.Errorf("unknown key %q (want attempts, backoff, max-backoff, on or never-after-accepted)", k)
		}
		if err != nil {
			return base, fmt.Errorf("%s=%s: %w", k, v, err)
		}
	}
	if err := p.Validate(); err != nil {
		return base, err
	}
	return p, nil
}
