package moframe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/omadm/omadm/internal/atomicfile"
	"github.com/omadm/omadm/syncml"
)

// Record is an object instance's state as the Runner keeps it: the value
// of its State node and the operation in progress. With RunnerConfig.Dir it
// is saved on every change, so a restart finds the operation a crash cut
// short.
type Record struct {
	// State is the object's own state code (FUMO State, a SCOMO Status).
	State int `json:"state"`
	// Op names the operation in progress ("" when none).
	Op string `json:"op,omitempty"`
	// Correlator is the Exec's, echoed in the report.
	Correlator string `json:"correlator,omitempty"`
	// Target is the node the operation works on, when the object has
	// several (a SCOMO component).
	Target string `json:"target,omitempty"`
	// Params keeps what the operation needs to resume.
	Params map[string]string `json:"params,omitempty"`
}

// Outcome is how a piece of work ended.
type Outcome struct {
	// Final is the record to keep (usually only State: no operation in
	// progress any more). Its Correlator is ignored: the report carries the
	// one of the record the work started with.
	Final Record
	// Report is the 1226 item to send; nil sends nothing.
	Report *Report
}

// Work is the background part of an operation. It returns nil when ctx was
// cancelled (the agent stops): nothing is saved or reported, and the
// operation is resumed at the next start.
type Work func(ctx context.Context) *Outcome

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Name prefixes messages ("fumo").
	Name string
	// Dir keeps the record in Dir/state.json; "" keeps it in memory only
	// (an operation a restart cuts short is then not resumed).
	Dir string
	// Report queues a 1226 alert for the device's next session (required).
	Report func(*syncml.Alert)
	// Valid checks a record read from Dir (nil: any record).
	Valid func(Record) bool
	// Initial is the record when nothing is stored.
	Initial Record
	Log     *slog.Logger
}

// StateFile is the name of the record's file in RunnerConfig.Dir.
const StateFile = "state.json"

// Runner runs one object instance's operations, one at a time, after the
// session that started them.
type Runner struct {
	cfg RunnerConfig
	log *slog.Logger

	mu      sync.Mutex
	rec     Record
	running bool
	gen     int // counts starts: an old run must not clear a newer one's running

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// active counts operation goroutines alive, reports included.
	active atomic.Int32
}

// NewRunner returns a Runner holding the stored record (in RunnerConfig.Dir,
// created at the first save) or Initial. A damaged file is an error naming
// it.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Report == nil {
		return nil, fmt.Errorf("%s: a Report function is required", cfg.Name)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, log: cfg.Log, rec: cfg.Initial}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if cfg.Dir == "" {
		return r, nil
	}
	// Dir is created at the first save: many idle objects (a simulated
	// fleet) cost no directories.
	name := filepath.Join(cfg.Dir, StateFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil || (cfg.Valid != nil && !cfg.Valid(rec)) {
		return nil, fmt.Errorf("%s: %s is damaged (%q); remove it to start from idle", cfg.Name, name, b)
	}
	r.rec = rec
	return r, nil
}

// Record returns the current record.
func (r *Runner) Record() Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// Busy reports whether an operation is running.
func (r *Runner) Busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// ErrBusy is the error Begin and Change return while an operation runs:
// 405, the command is not allowed now.
func (r *Runner) errBusy() error {
	return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (state %d, %s running)", r.cfg.Name, r.rec.State, r.rec.Op)
}

// Begin starts an operation: with no operation running, check (when not
// nil) accepts the current record or returns the error the Exec answers
// with, next is saved, and work runs in the background. The Exec then
// answers 202. A save failure answers 500 and changes nothing.
func (r *Runner) Begin(check func(cur Record) error, next Record, work Work) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return r.errBusy()
	}
	if check != nil {
		if err := check(r.rec); err != nil {
			return err
		}
	}
	prev := r.rec
	r.rec = next
	if err := r.save(); err != nil {
		r.rec = prev
		return syncml.Errorf(syncml.StatusCommandFailed, "%v", err)
	}
	r.start(work)
	return nil
}

// Change applies fn to the record and saves it, when no operation runs
// (405 otherwise); an error from fn changes nothing.
func (r *Runner) Change(fn func(*Record) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return r.errBusy()
	}
	prev := r.rec
	if err := fn(&r.rec); err != nil {
		r.rec = prev
		return err
	}
	if err := r.save(); err != nil {
		r.rec = prev
		return syncml.Errorf(syncml.StatusCommandFailed, "%v", err)
	}
	return nil
}

// Step records an intermediate state of the running operation.
func (r *Runner) Step(state int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rec.State = state
	if err := r.save(); err != nil {
		r.log.Error("could not save the state", "object", r.cfg.Name, "err", err)
	}
}

// Resume continues what a restart interrupted: plan sees the stored record
// and returns the record to continue with and the work (nil work: nothing
// to resume). Call it once, after the object is mounted.
func (r *Runner) Resume(plan func(rec Record) (Record, Work)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next, work := plan(r.rec)
	if work == nil {
		return
	}
	if next.State != r.rec.State || next.Op != r.rec.Op {
		r.rec = next
		if err := r.save(); err != nil {
			r.log.Error("could not save the state", "object", r.cfg.Name, "err", err)
		}
	}
	r.start(work)
}

// start runs work in the background; r.mu is held.
func (r *Runner) start(work Work) {
	r.running = true
	r.gen++
	gen := r.gen
	r.wg.Add(1)
	r.active.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.active.Add(-1)
		out := work(r.ctx)
		if out == nil || r.ctx.Err() != nil {
			r.mu.Lock()
			if r.gen == gen {
				r.running = false
			}
			r.mu.Unlock()
			return // stopped: resumed at the next start
		}
		r.finish(gen, out)
	}()
}

// finish saves the final record and marks the runner idle before it
// reports, so that an Exec in the session the report starts finds it free.
func (r *Runner) finish(gen int, out *Outcome) {
	r.mu.Lock()
	corr := r.rec.Correlator
	r.rec = out.Final
	r.rec.Correlator = ""
	if err := r.save(); err != nil {
		r.log.Error("could not save the state", "object", r.cfg.Name, "err", err)
	}
	if r.gen == gen {
		r.running = false
	}
	r.mu.Unlock()
	if out.Report != nil {
		r.cfg.Report(out.Report.Alert(corr))
	}
}

// Active reports whether an operation's goroutine is still alive: Busy, or
// finished and handing its report to Config.Report. A program that drops
// an object when it has nothing left to do waits until this is false.
func (r *Runner) Active() bool { return r.active.Load() > 0 }

// Wait blocks until no operation is running.
func (r *Runner) Wait() { r.wg.Wait() }

// Close stops a running operation without reporting it and waits for it;
// its record stays saved and the next start resumes it.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}

// save writes the record; r.mu is held.
func (r *Runner) save() error {
	if r.cfg.Dir == "" {
		return nil
	}
	b, _ := json.Marshal(r.rec)
	name := filepath.Join(r.cfg.Dir, StateFile)
	err := WriteFileSync(name, b)
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(r.cfg.Dir, 0o700); err == nil {
			err = WriteFileSync(name, b)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: save state: %w", r.cfg.Name, err)
	}
	return nil
}

// Report is the item of the 1226 Generic Alert that reports an
// operation's outcome (OMA-TS-DM_Protocol-V1_2 §8.7: Source the node the
// Exec targeted, Meta Type the object's alert type, Meta Format, Data the
// result; Mark "critical" for a failure so the server treats it as
// non-informational).
type Report struct {
	// Type is the alert type (Meta Type).
	Type string
	// Source is the executed node (Item Source).
	Source string
	// Target is the node the result concerns, when it is not Source (Item
	// Target), e.g. the SCOMO component an install created.
	Target string
	// Format is the Meta Format of Data ("" is int).
	Format string
	// Data is the payload: the result code, or a document carrying it.
	Data string
	// Failed marks the item critical.
	Failed bool
}

// ResultReport is the common form: Data the result code as Format int.
func ResultReport(typ, source string, code int, ok bool) *Report {
	return &Report{Type: typ, Source: source, Data: strconv.Itoa(code), Failed: !ok}
}

// Alert builds the 1226 alert with correlator (omitted when "").
func (p *Report) Alert(correlator string) *syncml.Alert {
	format := p.Format
	if format == "" {
		format = "int"
	}
	mark := ""
	if p.Failed {
		mark = "critical"
	}
	it := syncml.Item{
		Source: &syncml.Location{LocURI: p.Source},
		Meta:   &syncml.Meta{Type: p.Type, Format: format, Mark: mark},
		Data:   syncml.TextData(p.Data),
	}
	if p.Target != "" {
		it.Target = &syncml.Location{LocURI: p.Target}
	}
	return &syncml.Alert{Data: syncml.AlertGeneric, Correlator: correlator, Items: []syncml.Item{it}}
}

// ResultError lets a device hook choose the result code reported for its
// failure (for example "user cancelled"); any other error reports the
// operation's own failure code.
type ResultError struct {
	Code int
	Err  error
}

func (e *ResultError) Error() string { return fmt.Sprintf("result %d: %v", e.Code, e.Err) }
func (e *ResultError) Unwrap() error { return e.Err }

// CodeOf maps a hook's error to a result code: ok when nil, a ResultError's
// own code, else fail.
func CodeOf(err error, ok, fail int) int {
	var re *ResultError
	switch {
	case err == nil:
		return ok
	case errors.As(err, &re):
		return re.Code
	}
	return fail
}

// WriteFileSync replaces name with data atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new content.
func WriteFileSync(name string, data []byte) error { return atomicfile.Write(name, data) }
