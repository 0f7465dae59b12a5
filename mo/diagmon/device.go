package diagmon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/syncml"
)

// Config is the device side of the object.
type Config struct {
	// Report queues a 1226 alert for the device's next session (required).
	Report func(*syncml.Alert)
	// Functions are the diagnostics functions, each a node under
	// <x>/Functions (names must be distinct node names).
	Functions []Function
	// Servers are granted Get, Replace and Exec on the object (its ACL);
	// empty leaves the ACL as inherited.
	Servers []string
	// Dir keeps the function run in progress (moframe.StateFile) so that a
	// restart runs it again and reports it once; "" keeps it in memory.
	Dir string
	// RunTimeout bounds one run of a function (0: 30s).
	RunTimeout time.Duration
	Log        *slog.Logger
}

// MaxInterval bounds <x>/Policy/Interval (one day).
const MaxInterval = 24 * 60 * 60

// Object is the installed object with its plug-in mounted on its root.
type Object struct {
	moframe.Instance
	t   *dmtree.Tree
	cfg Config
	log *slog.Logger
	fns map[string]*Function
	run *moframe.Runner

	interval chan int // a Replace of Policy/Interval, for Run

	ctx    context.Context
	cancel context.CancelFunc
	trapMu sync.Mutex
}

var _ interface {
	dmtree.Plugin
	dmtree.Executor
	dmtree.ValueGetter
	dmtree.ValueSetter
} = (*Object)(nil)

// Install creates the object at uri (for example ./DiagMon) or binds it
// again, lists cfg.Functions under Functions (removing those no longer
// configured), mounts the plug-in and runs again a function a restart cut
// short (with Config.Dir). Call it at every start; the trap policies set by
// servers are kept. Close stops a running function (it is then not
// reported until the next start).
func Install(t *dmtree.Tree, uri string, cfg Config) (*Object, error) {
	if cfg.Report == nil {
		return nil, errors.New("diagmon: Config.Report is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = 30 * time.Second
	}
	fns := map[string]*Function{}
	rel := []string{"Policy", "Policy/Interval", "Functions"}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if err := dmtree.CheckName(f.Name); err != nil || f.Run == nil {
			return nil, fmt.Errorf("diagmon: function %q needs a node name and a Run", f.Name)
		}
		if fns[f.Name] != nil {
			return nil, fmt.Errorf("diagmon: function %s given twice", f.Name)
		}
		fns[f.Name] = f
		fu := "Functions/" + f.Name
		rel = append(rel, fu, fu+"/Name", fu+"/Report", fu+"/Result", fu+"/Operations", fu+"/Operations/Start")
		if f.Metric != "" {
			rel = append(rel, fu+"/Trap", fu+"/Trap/Metric", fu+"/Trap/Direction", fu+"/Trap/Enabled", fu+"/Trap/Threshold", fu+"/Trap/Active")
		}
	}
	uri, err := Model.Place(t, uri, rel...)
	if err != nil {
		return nil, fmt.Errorf("diagmon: %w (want e.g. ./DiagMon)", err)
	}
	set := func(n, format, v string) error {
		if _, err := t.Ensure(n, dmtree.Value{Format: format, Type: "text/plain", Data: []byte(v)}); err != nil {
			return fmt.Errorf("diagmon: %w", err)
		}
		return nil
	}
	for _, f := range cfg.Functions {
		fu := uri + "/Functions/" + f.Name
		if err := set(fu+"/Name", dmtree.FormatChr, cmp(f.Title, f.Name)); err != nil {
			return nil, err
		}
		if f.Metric != "" {
			dir := "below"
			if f.Above {
				dir = "above"
			}
			if err := set(fu+"/Trap/Metric", dmtree.FormatChr, f.Metric); err != nil {
				return nil, err
			}
			if err := set(fu+"/Trap/Direction", dmtree.FormatChr, dir); err != nil {
				return nil, err
			}
		} else if _, err := t.Get("", fu+"/Trap"); err == nil {
			if err := t.Delete("", fu+"/Trap"); err != nil {
				return nil, fmt.Errorf("diagmon: %w", err)
			}
		}
	}
	// Functions no longer configured go.
	if rs, err := t.Get("", uri+"/Functions"); err == nil && len(rs) == 1 {
		for _, n := range strings.Split(string(rs[0].Data), "/") {
			if n != "" && fns[n] == nil {
				if err := t.Delete("", uri+"/Functions/"+n); err != nil {
					return nil, fmt.Errorf("diagmon: %w", err)
				}
			}
		}
	}
	if err := Model.BindAt(t, uri); err != nil {
		return nil, fmt.Errorf("diagmon: %w", err)
	}
	if err := moframe.Grant(t, uri, cfg.Servers); err != nil {
		return nil, fmt.Errorf("diagmon: %w", err)
	}
	run, err := moframe.NewRunner(moframe.RunnerConfig{Name: "diagmon", Dir: cfg.Dir, Report: cfg.Report, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	o := &Object{Instance: moframe.NewInstance(uri, run), t: t, cfg: cfg, log: cfg.Log.With("diagmon", uri), fns: fns, run: run, interval: make(chan int, 1)}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	if err := t.Mount(uri, o); err != nil {
		return nil, fmt.Errorf("diagmon: %w", err)
	}
	// A function a restart cut short runs again and is reported once.
	run.Resume(func(rec moframe.Record) (moframe.Record, moframe.Work) {
		f := fns[rec.Op]
		if f == nil {
			return rec, nil
		}
		o.log.Info("running again a function a restart interrupted", "function", f.Name)
		return rec, o.work(f)
	})
	return o, nil
}

// Interval reads <x>/Policy/Interval in seconds.
func (o *Object) Interval() int {
	n, _ := strconv.Atoi(o.leaf("/Policy/Interval"))
	return n
}

func (o *Object) leaf(rel string) string { return moframe.Leaf(o.t, o.URI()+rel) }

// function returns the function a node of <x>/Functions/<f>/rest belongs
// to, and rest.
func (o *Object) function(uri string) (*Function, string) {
	rel, ok := strings.CutPrefix(uri, o.URI()+"/Functions/")
	if !ok {
		return nil, ""
	}
	name, rest, _ := strings.Cut(rel, "/")
	return o.fns[name], rest
}

// GetValue implements dmtree.ValueGetter: <f>/Report is a reading taken now.
func (o *Object) GetValue(uri string) (dmtree.Value, error) {
	f, rest := o.function(uri)
	if f == nil || rest != "Report" {
		return dmtree.Value{}, dmtree.ErrUseStored
	}
	ctx, cancel := context.WithTimeout(o.ctx, o.cfg.RunTimeout)
	defer cancel()
	rs, err := f.Run(ctx)
	if err != nil {
		// OMA-TS-DM_RepPro-V1_2 §10 (500 command failed): the reading could
		// not be taken.
		return dmtree.Value{}, syncml.Errorf(syncml.StatusCommandFailed, "%s: %v", f.Name, err)
	}
	return dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(rs.Text())}, nil
}

// SetValue implements dmtree.ValueSetter: the policy values are checked.
func (o *Object) SetValue(uri string, v dmtree.Value) error {
	if uri == o.URI()+"/Policy/Interval" {
		n, err := strconv.Atoi(strings.TrimSpace(string(v.Data)))
		if err != nil || n < 0 || n > MaxInterval {
			return syncml.Errorf(syncml.StatusBadRequest, "Interval %q: want seconds from 0 (off) to %d", v.Data, MaxInterval)
		}
		select {
		case <-o.interval:
		default:
		}
		o.interval <- n
		return nil
	}
	if f, rest := o.function(uri); f != nil && rest == "Trap/Threshold" {
		if _, err := strconv.ParseFloat(strings.TrimSpace(string(v.Data)), 64); err != nil {
			return syncml.Errorf(syncml.StatusBadRequest, "Threshold %q: want a decimal number", v.Data)
		}
	}
	return nil
}

// Exec implements dmtree.Executor: Exec of <f>/Operations/Start answers 202;
// the function runs after the session and its outcome goes out as a 1226
// OperationComplete report with the Exec's correlator (one run at a time:
// 405 while another runs).
func (o *Object) Exec(_ context.Context, uri string, _ []byte, correlator string) (syncml.StatusCode, error) {
	f, rest := o.function(uri)
	if f == nil || rest != "Operations/Start" {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed (Exec %s/Functions/<function>/Operations/Start)", uri, o.URI())
	}
	if err := o.run.Begin(nil, moframe.Record{Op: f.Name, Correlator: correlator, Target: uri}, o.work(f)); err != nil {
		return 0, err
	}
	return syncml.StatusAccepted, nil
}

// work is a function's run as the Runner's background work.
func (o *Object) work(f *Function) moframe.Work {
	return func(ctx context.Context) *moframe.Outcome {
		rep := o.runIn(ctx, f)
		if ctx.Err() != nil {
			return nil // stopped: run again at the next start
		}
		return &moframe.Outcome{Report: &moframe.Report{Type: AlertOperationComplete, Source: o.URI() + "/Functions/" + f.Name + "/Operations/Start",
			Format: "xml", Data: string(rep.Marshal()), Failed: !rep.ResultCode.Successful()}}
	}
}

// RunFunction runs the function named name now and records its result, as
// an Exec of its Start does, and returns the report without sending it.
func (o *Object) RunFunction(name string) (*Report, error) {
	f := o.fns[name]
	if f == nil {
		return nil, fmt.Errorf("diagmon: no function %q", name)
	}
	return o.runIn(o.ctx, f), nil
}

func (o *Object) runIn(parent context.Context, f *Function) *Report {
	ctx, cancel := context.WithTimeout(parent, o.cfg.RunTimeout)
	defer cancel()
	rep := &Report{Kind: "report", Identifier: f.Name, ResultCode: ResultSuccessful}
	rs, err := f.Run(ctx)
	switch {
	case errors.Is(err, ErrNotPresent):
		rep.ResultCode, rep.Message = ResultNotSupported, err.Error()
	case err != nil:
		rep.ResultCode, rep.Message = ResultClientError, err.Error()
	default:
		rep.Readings = rs
	}
	if err != nil {
		o.log.Warn("diagnostics function failed", "function", f.Name, "err", err)
	}
	if _, err := o.t.Ensure(o.URI()+"/Functions/"+f.Name+"/Result", dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain",
		Data: []byte(strconv.Itoa(int(rep.ResultCode)))}); err != nil {
		o.log.Error("could not record a function's result", "function", f.Name, "err", err)
	}
	return rep
}

// CheckTraps collects once for every trap policy: a function whose trap is
// enabled is run, and when its metric crossed the threshold the trap's
// Active changes and a TrapNotification (now active) or
// TrapInactiveNotification (no longer) is sent. A trap that is disabled
// while active becomes inactive. It returns how many alerts it sent.
func (o *Object) CheckTraps() int {
	o.trapMu.Lock()
	defer o.trapMu.Unlock()
	sent := 0
	for _, f := range o.cfg.Functions {
		if f.Metric == "" {
			continue
		}
		base := "/Functions/" + f.Name + "/Trap"
		enabled := o.leaf(base+"/Enabled") == "true"
		active := o.leaf(base+"/Active") == "true"
		thr, _ := strconv.ParseFloat(strings.TrimSpace(o.leaf(base+"/Threshold")), 64)
		now := false
		rep := &Report{Identifier: f.Name, Metric: f.Metric, Threshold: strings.TrimSpace(o.leaf(base + "/Threshold"))}
		if enabled {
			ctx, cancel := context.WithTimeout(o.ctx, o.cfg.RunTimeout)
			rs, err := f.Run(ctx)
			cancel()
			if err != nil {
				o.log.Warn("trap collection failed", "function", f.Name, "err", err)
				continue
			}
			s, _ := rs.Get(f.Metric)
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				o.log.Warn("trap metric is not a number", "function", f.Name, "metric", f.Metric, "value", s)
				continue
			}
			now = f.Above && v > thr || !f.Above && v < thr
			rep.Readings = rs
		}
		if now == active {
			continue
		}
		if _, err := o.t.Ensure(o.URI()+base+"/Active", dmtree.Value{Format: dmtree.FormatBool, Type: "text/plain", Data: []byte(strconv.FormatBool(now))}); err != nil {
			o.log.Error("could not record a trap's state", "function", f.Name, "err", err)
			continue
		}
		typ := AlertTrapInactive
		if now {
			typ = AlertTrapNotification
		}
		o.log.Info("trap changed", "function", f.Name, "active", now)
		o.cfg.Report(&syncml.Alert{Data: syncml.AlertGeneric, Items: []syncml.Item{{
			Source: &syncml.Location{LocURI: o.URI() + base},
			Meta:   &syncml.Meta{Type: typ, Format: "xml", Mark: map[bool]string{true: "critical"}[now]},
			Data:   syncml.TextData(string(rep.Marshal())),
		}}})
		sent++
	}
	return sent
}

// Run collects for the trap policies every Policy/Interval seconds until
// ctx ends or Close; an Interval of 0 waits until a server sets one.
func (o *Object) Run(ctx context.Context) {
	iv := o.Interval()
	for {
		var tick <-chan time.Time
		var timer *time.Timer
		if iv > 0 {
			timer = time.NewTimer(time.Duration(iv) * time.Second)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			stop(timer)
			return
		case <-o.ctx.Done():
			stop(timer)
			return
		case iv = <-o.interval:
			stop(timer)
		case <-tick:
			o.CheckTraps()
		}
	}
}

func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// Close stops a running function without reporting it (with Config.Dir the
// next start runs it again) and waits for it, and stops Run.
func (o *Object) Close() {
	o.cancel()
	o.Instance.Close()
}
