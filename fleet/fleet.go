// Package fleet is the server's operations layer: MO operations on one
// device, campaigns of them over many devices (campaign.go), and the
// inventory selectors that choose those devices (selector.go). An operation
// is a named MO action on one device (a FUMO update, a LAWMO wipe, a generic Exec) that
// owns its job (one Sequence of the parameters' Replaces and the Exec), the
// Exec's correlator, a state machine and the device's final report.
//
//	queued → sent → accepted (Exec answered 202) → succeeded | failed | timed_out
//	any open state → cancelled;  a 200 to the Exec → succeeded;  a failed Replace or Exec → failed
//	an attempt that failed or timed out, when the retry policy lists that outcome and attempts
//	are left → retry_wait → (at its deadline, the pause) queued with a new job and correlator
//
// Each MO declares its retry policy (mo.RetryPolicy: attempts, a doubling
// backoff with a cap, and which outcomes are retried: a timeout, transient
// report result codes, Exec statuses); a request may change the attempts
// and pauses within bounds (RetryOverride). Starting the next attempt is
// one batch, the new job and the conditional transition retry_wait →
// queued, so of several nodes exactly one starts it. An earlier attempt's
// late report is found by its correlator (storage.OperationAttempt), kept on
// that attempt and changes nothing, so no outcome is counted twice.
//
// MOs plug in through their descriptors (mo.Descriptor): the operations, the
// nodes they Replace and Exec, the report's success codes and the default
// timeout. The Manager creates, reads and cancels operations and follows the
// engine's live updates (its job changes and the 1226 reports, found by
// correlator); the Scheduler, owned by `omadm serve`, applies those updates
// and the timeouts in the background. Every state change is a conditional
// update of the stored operation, so any number of server processes sharing
// one database may run a Manager and a Scheduler: each transition happens
// exactly once, and nothing lives only in memory (a report or job change
// missed by a crash is found again from storage).
package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/mo/registry"
	"github.com/omadm/omadm/storage"
)

// Limits on a request.
const (
	MaxTimeout  = 30 * 24 * time.Hour
	maxListItem = 64
	maxParamLen = storage.MaxURILen
)

// DefaultMOs are the objects a Manager offers when Options.MOs is nil:
// every object mo/registry lists.
var DefaultMOs = registry.Descriptors()

// DescriptorOf returns the default descriptor named name (any letter case).
func DescriptorOf(name string) (*mo.Descriptor, bool) {
	for _, d := range DefaultMOs {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return nil, false
}

// ExecMO names the generic Exec: any node, a correlator, a report of any type.
const ExecMO = "exec"

// DefaultExecTimeout is how long a generic Exec waits for its report.
const DefaultExecTimeout = time.Hour

// ErrFinished is returned when cancelling an operation that already ended.
var ErrFinished = errors.New("fleet: operation already finished")

// FieldError is a request that breaks a rule; Field names the offending
// request field ("params.pkg_url"). The API answers it with 400.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Request asks for an operation on one device.
type Request struct {
	DeviceID string
	// MO is the object's descriptor name ("fumo", "lawmo", "scomo",
	// "diagmon"), "connmo" (a connectivity profile applied as one Atomic) or
	// "exec".
	MO string
	// Operation is the descriptor's operation name or alias; for "exec" it
	// is ignored (the operation is "Exec").
	Operation string
	// Node is the MO instance (default: the descriptor's); for "exec", the
	// absolute URI of the node to execute (required).
	Node string
	// Params are the operation's parameters by name: a string, a bool, a
	// number or, for a list parameter, a list of strings. "exec" takes
	// "data" (the Exec item's Data).
	Params map[string]any
	// Correlator of the Exec; "" makes one.
	Correlator string
	// Timeout overrides the descriptor's default (0 = default); it bounds
	// each attempt.
	Timeout time.Duration
	// Retry overrides the MO's retry policy's attempts and pauses (nil: the
	// policy as declared).
	Retry *RetryOverride
}

// Options configure a Manager. Only Store is required.
type Options struct {
	Store storage.Store
	// MOs are the objects operations may use (nil: DefaultMOs).
	MOs []*mo.Descriptor
	// ExecTimeout is the generic Exec's default timeout (0: DefaultExecTimeout).
	ExecTimeout time.Duration
	// Now is the clock (nil: time.Now), injected by tests.
	Now func() time.Time
	// Jitter turns a retry's pause into the one used (nil: up to a tenth
	// more, at random); tests inject a fixed one.
	Jitter func(time.Duration) time.Duration
	// OnChange, when set, is called after every stored state change of an
	// operation (creation included) with the operation as stored. It must
	// not block.
	OnChange func(*storage.Operation)
	Logger   *slog.Logger
	// Packages turns a request's "package" parameter (a package of the
	// server's catalogue) into the URL a device downloads it from (a
	// download descriptor bound to the device), put in the parameter the
	// operation marks mo.Param.PackageURL (FUMO's pkg_url, SCOMO's url).
	// Nil refuses "package".
	Packages func(ctx context.Context, packageID, deviceID string) (string, error)
}

// Manager creates, reads, cancels and advances operations.
type Manager struct {
	o     Options
	queue chan change
	ops   *prometheus.CounterVec // see metrics.go
}

// change is a live update the Manager follows: a job's new state or a
// stored event.
type change struct {
	jobID    int64
	deviceID string
	eventID  int64
}

// New returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("fleet: Options.Store is required")
	}
	if o.MOs == nil {
		o.MOs = DefaultMOs
	}
	if o.ExecTimeout <= 0 {
		o.ExecTimeout = DefaultExecTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = defaultJitter
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{o: o, queue: make(chan change, 4096), ops: newOperationsCounter()}, nil
}

// Descriptor returns the descriptor of an MO by name.
func (m *Manager) Descriptor(name string) (*mo.Descriptor, bool) {
	for _, d := range m.o.MOs {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return nil, false
}

// MONames lists the MO names a request may use.
func (m *Manager) MONames() []string {
	var out []string
	for _, d := range m.o.MOs {
		out = append(out, d.Name)
	}
	return append(out, ConnMO, ExecMO)
}

// Plan checks r and returns the operation and the job spec it would store,
// without storing anything; r's defaults (node, correlator) are filled.
func (m *Manager) Plan(r *Request) (*storage.Operation, storage.JobSpec, error) {
	return m.plan(context.Background(), r)
}

// planResolved plans r after replacing its "package" parameter with the
// package's device-bound URL: what Create stores, and what a campaign
// gives each device.
func (m *Manager) planResolved(ctx context.Context, r *Request) (*storage.Operation, storage.JobSpec, error) {
	if err := m.resolvePackage(ctx, r); err != nil {
		return nil, storage.JobSpec{}, err
	}
	return m.plan(ctx, r)
}

func (m *Manager) plan(ctx context.Context, r *Request) (*storage.Operation, storage.JobSpec, error) {
	op, spec, err := m.planOp(ctx, r)
	if err != nil {
		return nil, storage.JobSpec{}, err
	}
	if err := m.setRetry(r, op, cmpDur(r.Timeout, m.attemptTimeout(op))); err != nil {
		return nil, storage.JobSpec{}, err
	}
	return op, spec, nil
}

func (m *Manager) planOp(ctx context.Context, r *Request) (*storage.Operation, storage.JobSpec, error) {
	if r.Timeout < 0 || r.Timeout > MaxTimeout {
		return nil, storage.JobSpec{}, invalid("timeout", "%s: want a positive duration of at most %s", r.Timeout, MaxTimeout)
	}
	if r.Correlator != "" && (len(r.Correlator) > storage.MaxCorrelatorLen || !storage.ValidIdentifier(r.Correlator) || !storage.Printable(r.Correlator)) {
		return nil, storage.JobSpec{}, invalid("correlator", "must be at most %d printable characters without format characters", storage.MaxCorrelatorLen)
	}
	if strings.EqualFold(r.MO, ExecMO) {
		return m.planExec(r)
	}
	if strings.EqualFold(r.MO, ConnMO) {
		return m.planConnMO(ctx, r)
	}
	d, ok := m.Descriptor(r.MO)
	if !ok {
		return nil, storage.JobSpec{}, invalid("mo", "%q: want one of %s", r.MO, strings.Join(m.MONames(), ", "))
	}
	node, err := validNode(r.Node, d.DefaultNode)
	if err != nil {
		return nil, storage.JobSpec{}, err
	}
	if r.Operation == "" {
		if d.DefaultOperation == "" {
			return nil, storage.JobSpec{}, invalid("operation", "required: want %s", strings.Join(d.Names(), ", "))
		}
		r.Operation = d.DefaultOperation
	}
	def, ok := d.Op(r.Operation)
	if !ok {
		return nil, storage.JobSpec{}, invalid("operation", "%q: want %s", r.Operation, strings.Join(d.Names(), ", "))
	}
	known := map[string]bool{}
	var pre []storage.JobItem
	stored := map[string]string{}
	for _, p := range def.Params {
		if p.Name == "" {
			continue
		}
		known[p.Name] = true
		v, given := r.Params[p.Name]
		if !given {
			if p.Required {
				return nil, storage.JobSpec{}, invalid("params."+p.Name, "%s needs %s", def.Name, p.Name)
			}
			continue
		}
		_, text, err := paramItems(node, p, v)
		if err != nil {
			return nil, storage.JobSpec{}, err
		}
		stored[p.Name] = text
	}
	for k := range r.Params {
		if !known[k] {
			return nil, storage.JobSpec{}, invalid("params."+k, "%s takes no parameter %s (it takes: %s)", def.Name, k, paramNames(def))
		}
	}
	// "{p}" in the nodes stands for parameter p's value (mo.Expand).
	expand := func(field, s string) (string, error) {
		x, err := mo.Expand(s, stored)
		var ee *mo.ExpandError
		if errors.As(err, &ee) {
			return "", invalid("params."+ee.Param, "%s", ee.Msg)
		}
		if err != nil {
			return "", invalid(field, "%v", err)
		}
		return x, nil
	}
	for _, p := range def.Params {
		v, given := r.Params[p.Name]
		if p.Name == "" {
			v, given = p.Value, true
		}
		if p.Node == "" || !given {
			continue
		}
		var err error
		field := "params." + p.Name
		if p.Name == "" {
			if v, err = expand(field, p.Value); err != nil {
				return nil, storage.JobSpec{}, err
			}
		}
		if p.Node, err = expand(field, p.Node); err != nil {
			return nil, storage.JobSpec{}, err
		}
		items, _, err := paramItems(node, p, v)
		if err != nil {
			return nil, storage.JobSpec{}, err
		}
		pre = append(pre, items...)
	}
	execNode, err := expand("params", def.ExecNode())
	if err != nil {
		return nil, storage.JobSpec{}, err
	}
	preCmd := "Replace"
	if def.Create != "" {
		create, err := expand("params", def.Create)
		if err != nil {
			return nil, storage.JobSpec{}, err
		}
		preCmd = "Add"
		pre = append([]storage.JobItem{{URI: node + "/" + create, Format: "node"}}, pre...)
	}
	r.Node, r.Operation = node, def.Name
	if r.Correlator == "" {
		r.Correlator = newCorrelator(d.Name + "-")
	}
	timeout := cmpDur(r.Timeout, d.Timeout)
	spec := execJob(node+"/"+execNode, r.Correlator, preCmd, pre, "")
	if err := storage.ValidateJobSpec(spec); err != nil {
		return nil, storage.JobSpec{}, specError(err)
	}
	op := &storage.Operation{DeviceID: r.DeviceID, MO: d.Name, Name: def.Name, Node: node, Params: nilIfEmpty(stored),
		Correlator: r.Correlator, State: storage.OpQueued, Deadline: m.o.Now().Add(timeout)}
	return op, spec, nil
}

func (m *Manager) planExec(r *Request) (*storage.Operation, storage.JobSpec, error) {
	if r.Node == "" {
		return nil, storage.JobSpec{}, invalid("node", "an exec operation needs the node to execute")
	}
	node, err := validNode(r.Node, "")
	if err != nil {
		return nil, storage.JobSpec{}, err
	}
	var data string
	stored := map[string]string{}
	for k, v := range r.Params {
		if k != "data" {
			return nil, storage.JobSpec{}, invalid("params."+k, "exec takes no parameter %s (it takes: data)", k)
		}
		s, ok := v.(string)
		if !ok {
			return nil, storage.JobSpec{}, invalid("params.data", "want a string")
		}
		data, stored["data"] = s, s
	}
	r.Node, r.Operation, r.MO = node, "Exec", ExecMO
	if r.Correlator == "" {
		r.Correlator = newCorrelator("exec-")
	}
	spec := execJob(node, r.Correlator, "", nil, data)
	if err := storage.ValidateJobSpec(spec); err != nil {
		return nil, storage.JobSpec{}, specError(err)
	}
	op := &storage.Operation{DeviceID: r.DeviceID, MO: ExecMO, Name: "Exec", Node: node, Params: nilIfEmpty(stored),
		Correlator: r.Correlator, State: storage.OpQueued, Deadline: m.o.Now().Add(cmpDur(r.Timeout, m.o.ExecTimeout))}
	return op, spec, nil
}

// Validate checks r against the default MOs (DefaultMOs, exec) without a
// store: what Manager.Plan would refuse. Clients call it to report a
// mistake before sending a request.
func Validate(r Request) error {
	m := &Manager{o: Options{MOs: DefaultMOs, ExecTimeout: DefaultExecTimeout, Now: time.Now, Jitter: defaultJitter,
		Packages: func(context.Context, string, string) (string, error) { return "http://package.invalid/", nil }}}
	_, _, err := m.planResolved(context.Background(), &r)
	return err
}

// Create stores the operation r asks for and its job, in one atomic unit.
// The errors: *FieldError (a bad request), storage.ErrNotFound (unknown
// device), storage.ErrExists (the device has an operation with that
// correlator), or a storage error.
func (m *Manager) Create(ctx context.Context, r *Request) (*storage.Operation, *storage.Job, error) {
	op, spec, err := m.planResolved(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	j := &storage.Job{DeviceID: r.DeviceID, Spec: spec, State: storage.JobQueued}
	err = storage.InBatch(ctx, m.o.Store, func(s storage.Store) error {
		if err := s.CreateJob(ctx, j); err != nil {
			return err
		}
		op.JobID = j.ID
		return s.CreateOperation(ctx, op)
	})
	if err != nil {
		if errors.Is(err, storage.ErrExists) {
			return nil, nil, fmt.Errorf("%w: device %q already has an operation with correlator %q", err, r.DeviceID, r.Correlator)
		}
		return nil, nil, err
	}
	m.changed(op)
	return op, j, nil
}

// Get returns an operation.
func (m *Manager) Get(ctx context.Context, id int64) (*storage.Operation, error) {
	return m.o.Store.GetOperation(ctx, id)
}

// List returns operations ordered by ID.
func (m *Manager) List(ctx context.Context, f storage.OperationFilter) ([]*storage.Operation, error) {
	return m.o.Store.ListOperations(ctx, f)
}

// Cancel cancels an open operation. A queued or sent one has its job
// cancelled too (a command not yet out never goes out); an accepted one is
// only marked cancelled: the device already runs it and may still report,
// which is then kept as an event but changes nothing. ErrFinished when the
// operation already ended.
func (m *Manager) Cancel(ctx context.Context, id int64) (*storage.Operation, error) {
	for range 4 {
		op, err := m.o.Store.GetOperation(ctx, id)
		if err != nil {
			return nil, err
		}
		if op.State.Terminal() {
			return op, ErrFinished
		}
		if op.State == storage.OpQueued || op.State == storage.OpSent {
			if _, err := m.o.Store.CancelJob(ctx, op.JobID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				if !errors.Is(err, storage.ErrConflict) {
					return nil, err
				}
				// The job ended meanwhile: its outcome decides.
				if err := m.Advance(ctx, op); err != nil {
					return nil, err
				}
				continue
			}
		}
		from := op.State
		op.State, op.Error, op.DoneAt = storage.OpCancelled, "cancelled by the operator", m.o.Now()
		if err := m.o.Store.TransitionOperation(ctx, op, from); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			return nil, err
		}
		m.changed(op)
		return op, nil
	}
	return nil, fmt.Errorf("%w: operation %d keeps changing", storage.ErrConflict, id)
}

func (m *Manager) changed(op *storage.Operation) {
	m.count(op)
	if m.o.OnChange != nil {
		c := *op
		m.o.OnChange(&c)
	}
}

// ---- helpers ----

func cmpDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func paramNames(op *mo.Operation) string {
	if len(op.Params) == 0 {
		return "none"
	}
	var n []string
	for _, p := range op.Params {
		if p.Name != "" {
			n = append(n, p.Name)
		}
	}
	return strings.Join(n, ", ")
}

func newCorrelator(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// validNode checks an MO instance node (absolute: "./…").
func validNode(node, def string) (string, error) {
	if node == "" {
		return def, nil
	}
	node = strings.TrimSuffix(node, "/")
	if !strings.HasPrefix(node, "./") {
		return "", invalid("node", "%q: want an absolute URI such as %s", node, cmpStr(def, "./Vendor/Reboot"))
	}
	if err := storage.ValidateURI(node, false); err != nil {
		var se *storage.SpecError
		if errors.As(err, &se) {
			return "", invalid("node", "%s", se.Msg)
		}
		return "", invalid("node", "%v", err)
	}
	return node, nil
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func specError(err error) error {
	var se *storage.SpecError
	if errors.As(err, &se) {
		return &FieldError{Field: "params", Msg: se.Error()}
	}
	return err
}

// paramItems turns a parameter's value into the Replace items it writes and
// the text stored with the operation.
func paramItems(node string, p mo.Param, v any) ([]storage.JobItem, string, error) {
	field := "params." + p.Name
	if p.List {
		var list []string
		switch x := v.(type) {
		case []string:
			list = x
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, "", invalid(field, "want a list of node names")
				}
				list = append(list, s)
			}
		default:
			return nil, "", invalid(field, "want a list of node names")
		}
		max := cmpInt(p.MaxItems, maxListItem)
		if len(list) > max {
			return nil, "", invalid(field, "more than %d items", max)
		}
		items := make([]storage.JobItem, 0, len(list))
		for i, n := range list {
			if n == "" || strings.ContainsAny(n, "/?,") || !storage.Printable(n) || len(n) > 256 {
				return nil, "", invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a node name", n)
			}
			items = append(items, storage.JobItem{URI: node + "/" + strings.ReplaceAll(p.Node, "{}", n), Format: p.Format, Data: p.Value})
		}
		return items, strings.Join(list, ","), nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		s = strconv.Itoa(x)
	default:
		return nil, "", invalid(field, "want a %s value", p.Format)
	}
	switch p.Format {
	case "bool":
		if s != "true" && s != "false" {
			return nil, "", invalid(field, "%q: want true or false", s)
		}
	case "int":
		if _, err := strconv.Atoi(s); err != nil {
			return nil, "", invalid(field, "%q: want an integer", s)
		}
	}
	if len(s) > maxParamLen || !storage.Printable(s) {
		return nil, "", invalid(field, "must be at most %d printable bytes", maxParamLen)
	}
	if p.Required && s == "" {
		return nil, "", invalid(field, "must not be empty")
	}
	return []storage.JobItem{{URI: node + "/" + p.Node, Format: p.Format, Data: s}}, s, nil
}

func cmpInt(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// execJob wraps the Exec of uri, preceded by pre (a preCmd, Replace or Add,
// of its parameters), in a Sequence job when there are parameters: in a Sequence
// the device runs the Exec only when the Replaces succeeded
// (OMA-TS-DM_RepPro-V1_2, Sequence: members run in order); Atomic may not
// hold an Exec (OMA-TS-DM_RepPro-V1_2, Atomic content model).
func execJob(uri, correlator, preCmd string, pre []storage.JobItem, data string) storage.JobSpec {
	exec := storage.JobSpec{Command: "Exec", Correlator: correlator, Items: []storage.JobItem{{URI: uri, Data: data}}}
	if len(pre) == 0 {
		return exec
	}
	return storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{{Command: preCmd, Items: pre}, exec}}
}

// ExecStatus is the device's status for a job's Exec (the job itself, or
// the last member of its Sequence); 0 while unknown.
func ExecStatus(j *storage.Job) int {
	if j.Spec.Command != "Sequence" {
		return j.Status
	}
	if n := len(j.ChildStatus); n > 0 && n == len(j.Spec.Children) {
		return j.ChildStatus[n-1]
	}
	return 0
}

// OperationByJob returns the operation that owns a job (storage.ErrNotFound
// for a job of no operation).
func (m *Manager) OperationByJob(ctx context.Context, jobID int64) (*storage.Operation, error) {
	return m.o.Store.OperationByJob(ctx, jobID)
}

// Refresh returns an operation brought up to date with storage: an open
// one is advanced first (its job's state, a report already stored), so a
// reader never sees an operation behind what the store holds, even when
// the live update that should have moved it was lost.
func (m *Manager) Refresh(ctx context.Context, id int64) (*storage.Operation, error) {
	op, err := m.o.Store.GetOperation(ctx, id)
	if err != nil || op.State.Terminal() {
		return op, err
	}
	if err := m.Advance(ctx, op); err != nil {
		m.o.Logger.Warn("operations: advancing an operation on read", "operation", id, "err", err)
	}
	return op, nil
}

// PackageParam is the request parameter naming a package of the server's
// catalogue instead of a URL (FUMO's pkg_url, SCOMO's url).
const PackageParam = "package"

// packageURLParam is the parameter of r's operation that a catalogue
// package fills (mo.Param.PackageURL), "" when it has none.
func (m *Manager) packageURLParam(r *Request) string {
	d, ok := m.Descriptor(r.MO)
	if !ok {
		return ""
	}
	name := r.Operation
	if name == "" {
		name = d.DefaultOperation
	}
	op, ok := d.Op(name)
	if !ok {
		return ""
	}
	for _, p := range op.Params {
		if p.PackageURL && p.Name != "" {
			return p.Name
		}
	}
	return ""
}

// resolvePackage replaces a request's "package" parameter with the URL
// Options.Packages gives for it, in the parameter the operation's
// descriptor marks (mo.Param.PackageURL). An operation without one is left
// for Plan to refuse the parameter.
func (m *Manager) resolvePackage(ctx context.Context, r *Request) error {
	v, ok := r.Params[PackageParam]
	if !ok {
		return nil
	}
	target := m.packageURLParam(r)
	if target == "" {
		return nil
	}
	id, isStr := v.(string)
	switch {
	case !isStr || id == "":
		return invalid("params."+PackageParam, "want a package ID")
	case r.Params[target] != nil:
		return invalid("params."+PackageParam, "give package or %s, not both", target)
	case m.o.Packages == nil:
		return invalid("params."+PackageParam, "this server has no package catalogue")
	}
	url, err := m.o.Packages(ctx, id, r.DeviceID)
	if err != nil {
		return invalid("params."+PackageParam, "%q: %v", id, err)
	}
	params := make(map[string]any, len(r.Params))
	for k, v := range r.Params {
		if k != PackageParam {
			params[k] = v
		}
	}
	params[target] = url
	r.Params = params
	return nil
}
