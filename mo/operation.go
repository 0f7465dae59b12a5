package mo

import (
	"fmt"
	"strings"
	"time"
)

// Descriptor declares, as data, the operations a management object offers a
// server: what each one Replaces and Execs under the object's node, which
// result codes of the device's report (the 1226 generic alert that carries
// the Exec's correlator) mean success, and how long to wait for it. The
// server's operations layer and the REST API are built from it; an MO needs
// no code of its own in either.
type Descriptor struct {
	// Name is how requests name the object ("fumo", "lawmo").
	Name string
	// MOID is the object's DDF name (urn:oma:mo:…).
	MOID string
	// DefaultNode is the object instance used when a request gives none.
	DefaultNode string
	// Operations are the object's operations.
	Operations []Operation
	// DefaultOperation is used when a request names none ("": a request
	// must name one).
	DefaultOperation string
	// Timeout is how long an operation waits for its report by default.
	Timeout time.Duration
	// Success lists the inclusive ranges of report result codes that mean
	// success ([2]int{200, 299}).
	Success [][2]int
	// Report reads a report event's Meta Type, Source and Data: ok false when
	// the event is not this object's report; code is its result code and
	// meaning names it. An error means it is the object's report but its Data
	// is not a result code.
	Report func(typ, source, data string) (code int, meaning string, ok bool, err error)
	// Meaning names a result code ("firmware update failed").
	Meaning func(code int) string
	// Retry is the object's retry policy: which ended attempts the server
	// starts again, how often and after what pause. The zero value retries
	// nothing. An Operation's own Retry replaces it.
	Retry RetryPolicy
	// Refresh, when set, is what the server Gets (relative to the object
	// instance, a ?list= query allowed) once an operation ended with the
	// device's report, so that its view of the device (the tree cache)
	// follows the change: SCOMO's Inventory after an install or removal.
	Refresh string
}

// Operation is one operation of an object.
type Operation struct {
	// Name is the canonical name (the node name under the object, e.g.
	// DownloadAndUpdate, Wipe).
	Name string
	// Aliases are other names requests may use (any letter case), e.g. "lock".
	Aliases []string
	// Exec is the node executed, relative to the object instance; "" means
	// Name itself. "{p}" stands for the value of parameter p (see Expand).
	Exec string
	// Create, when set, is an interior node (relative to the instance, with
	// "{p}" expanded) the operation Adds before its Exec; the parameters
	// are then written in that same Add, as the new node's leaves (a SCOMO
	// Download/<x> with its PkgID and PkgURL). Otherwise they are Replaced.
	Create string
	// Params are what the operation writes before its Exec, in order.
	Params []Param
	// Retry, when not nil, replaces the descriptor's retry policy for this
	// operation.
	Retry *RetryPolicy
}

// RetryPolicy says, as data, when an operation's attempt that ended without
// success is made again (a new job with a new correlator) and after what
// pause. An attempt is retried only while fewer than MaxAttempts were made
// and only for the outcomes listed: a device's explicit refusal or failure
// that is not listed ends the operation at once.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included
	// (0 or 1: no retry).
	MaxAttempts int
	// Backoff is the pause before the second attempt; each further one
	// doubles it, up to MaxBackoff.
	Backoff time.Duration
	// MaxBackoff caps the pause (0: no cap beyond the doubling).
	MaxBackoff time.Duration
	// OnTimeout retries an attempt that timed out: the device did not take
	// the job, or did not report, before the deadline.
	OnTimeout bool
	// OnResult lists the inclusive ranges of report result codes that are
	// transient (a download server unavailable) and so retried.
	OnResult [][2]int
	// OnExecStatus lists the inclusive ranges of the device's status for
	// the Exec (or its job's failure) that are retried.
	OnExecStatus [][2]int
}

// Retries reports whether the policy allows any retry.
func (p RetryPolicy) Retries() bool { return p.MaxAttempts > 1 }

// RetryResult reports whether a report's result code is listed as transient.
func (p RetryPolicy) RetryResult(code int) bool { return inRanges(p.OnResult, code) }

// RetryExecStatus reports whether an Exec status is listed as transient.
func (p RetryPolicy) RetryExecStatus(st int) bool { return inRanges(p.OnExecStatus, st) }

// Delay is the pause before attempt next (2, 3, …): Backoff doubled for
// each attempt after the second, at most MaxBackoff when it is set.
func (p RetryPolicy) Delay(next int) time.Duration {
	d := p.Backoff
	for i := 2; i < next && d > 0; i++ {
		if p.MaxBackoff > 0 && d >= p.MaxBackoff || d > 1<<60 {
			break
		}
		d *= 2
	}
	if p.MaxBackoff > 0 && d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d
}

// RetryPolicyOf returns the retry policy of an operation of d: its own when
// it has one, the descriptor's otherwise.
func (d *Descriptor) RetryPolicyOf(op *Operation) RetryPolicy {
	if op != nil && op.Retry != nil {
		return *op.Retry
	}
	return d.Retry
}

func inRanges(rs [][2]int, n int) bool {
	for _, r := range rs {
		if n >= r[0] && n <= r[1] {
			return true
		}
	}
	return false
}

// Param is one parameter of an operation: a value the request gives and the
// node it is written to (a Replace in the operation's Sequence, before the
// Exec).
type Param struct {
	// Name is the request's key, e.g. "pkg_url".
	Name string
	// Node is the target relative to the object instance; in a List
	// parameter "{}" stands for each element, and "{p}" for the value of
	// parameter p. "" writes nothing: the value only names a node in Exec,
	// Create or another parameter's Node (a component's ID).
	Node string
	// Format is the node's format: chr, bool or int.
	Format string
	// Required parameters must be given.
	Required bool
	// List takes a list of node names and writes Value to Node once per
	// element (e.g. the wipe list's ToBeWiped flags).
	List bool
	// Value is what a List parameter writes. A parameter without Name is
	// not given by requests: it always writes Value, "{p}" expanded (a
	// SCOMO PkgID that repeats the package's id).
	Value string
	// MaxItems bounds a List parameter (0 = 64).
	MaxItems int
	// PackageURL marks the parameter a package of the server's catalogue
	// fills: a request may give "package" (a catalogue package ID) instead,
	// and the server sets this parameter to that package's download
	// descriptor URL bound to the device (FUMO's pkg_url, SCOMO's url).
	PackageURL bool
}

// Op finds an operation by its name or an alias, in any letter case.
func (d *Descriptor) Op(name string) (*Operation, bool) {
	for i := range d.Operations {
		op := &d.Operations[i]
		if strings.EqualFold(op.Name, name) {
			return op, true
		}
		for _, a := range op.Aliases {
			if strings.EqualFold(a, name) {
				return op, true
			}
		}
	}
	return nil, false
}

// Names lists the operations' canonical names and aliases, for messages.
func (d *Descriptor) Names() []string {
	var out []string
	for _, op := range d.Operations {
		out = append(out, op.Aliases...)
	}
	for _, op := range d.Operations {
		out = append(out, op.Name)
	}
	return out
}

// Successful reports whether a report's result code means success.
func (d *Descriptor) Successful(code int) bool { return inRanges(d.Success, code) }

// ExecNode is the node an operation executes, relative to the instance.
func (op *Operation) ExecNode() string {
	if op.Exec != "" {
		return op.Exec
	}
	return op.Name
}

// ExpandError is a parameter value Expand cannot put in a node's URI.
type ExpandError struct {
	Param string
	Msg   string
}

func (e *ExpandError) Error() string { return e.Param + ": " + e.Msg }

// Expand replaces each "{p}" in s by vals[p]; "{}" is left as is. A
// missing value, or one that is not a node name (empty, containing "/",
// "?" or ",", or longer than 256 bytes), is an *ExpandError naming p.
func Expand(s string, vals map[string]string) (string, error) {
	if !strings.Contains(s, "{") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		if name == "" {
			b.WriteString("{}")
		} else {
			v, ok := vals[name]
			if !ok || v == "" {
				return "", &ExpandError{Param: name, Msg: "required to name the node"}
			}
			if len(v) > 256 || strings.ContainsAny(v, "/?,") || v == "." || v == ".." {
				return "", &ExpandError{Param: name, Msg: fmt.Sprintf("%q is not a node name", v)}
			}
			b.WriteString(v)
		}
		s = s[i+j+1:]
	}
}
