package lawmo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/syncml"
)

// Config is the device side of the object. Each hook does the real work;
// an operation whose hook is nil answers 406 (optional feature not
// supported). A hook's error reports the operation's failure code, or the
// Code of a *moframe.ResultError it returns (for example
// ResultUserCancelled).
type Config struct {
	// Report queues a 1226 alert for the device's next session (required).
	Report func(*syncml.Alert)
	// Lock applies a lock state: StateFullyLocked for FullyLock,
	// StatePartiallyLocked for PartiallyLock, StateUnlocked for UnLock.
	Lock func(ctx context.Context, s State, notifyUser bool) error
	// Wipe erases the user data and the AvailableWipeList items the server
	// marked ToBeWiped (their ListItemName values).
	Wipe func(ctx context.Context, items []string, notifyUser bool) error
	// FactoryReset returns the device to its factory state.
	FactoryReset func(ctx context.Context, notifyUser bool) error
	// WipeList names what Wipe can erase besides the user data; it becomes
	// AvailableWipeList (empty: no list).
	WipeList []string
	// Servers are granted Get, Replace and Exec on the object (its ACL);
	// empty leaves the ACL as inherited.
	Servers []string
	Log     *slog.Logger
}

// Object is the installed object with its plug-in mounted on Operations.
type Object struct {
	moframe.Instance
	t   *dmtree.Tree
	cfg Config
	log *slog.Logger
	run *moframe.Runner
}

var _ interface {
	dmtree.Plugin
	dmtree.Executor
} = (*Object)(nil)

// Install creates the object at uri (for example ./LAWMO) or binds it again,
// lists cfg.WipeList in AvailableWipeList and mounts the plug-in. Call it at
// every start; Close stops a running operation (it is then not reported).
func Install(t *dmtree.Tree, uri string, cfg Config) (*Object, error) {
	if cfg.Report == nil {
		return nil, errors.New("lawmo: Config.Report is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	uri, err := Model.Place(t, uri)
	if err != nil {
		return nil, fmt.Errorf("lawmo: %w (want e.g. ./LAWMO)", err)
	}
	add := func(n string, v dmtree.Value) error {
		if err := moframe.AddNode(t, n, v); err != nil {
			return fmt.Errorf("lawmo: %w", err)
		}
		return nil
	}
	wl := uri + "/AvailableWipeList"
	if len(cfg.WipeList) > 0 {
		if err := add(wl, dmtree.Value{Format: dmtree.FormatNode}); err != nil {
			return nil, err
		}
		for i, name := range cfg.WipeList {
			item := wl + "/" + strconv.Itoa(i+1)
			if err := add(item, dmtree.Value{Format: dmtree.FormatNode}); err != nil {
				return nil, err
			}
			if err := add(item+"/ListItemName", dmtree.Value{Format: dmtree.FormatChr}); err != nil {
				return nil, err
			}
			if _, err := t.Ensure(item+"/ListItemName", dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(name)}); err != nil {
				return nil, fmt.Errorf("lawmo: %w", err)
			}
			if err := add(item+"/ToBeWiped", dmtree.Value{Format: dmtree.FormatBool, Data: []byte("false")}); err != nil {
				return nil, err
			}
		}
	}
	// Items a shorter list no longer names go, and so does an empty list.
	if rs, err := t.Get("", wl); err == nil && len(rs) == 1 {
		for _, n := range strings.Split(string(rs[0].Data), "/") {
			if k, err := strconv.Atoi(n); n != "" && (err != nil || k < 1 || k > len(cfg.WipeList)) {
				if err := t.Delete("", wl+"/"+n); err != nil {
					return nil, fmt.Errorf("lawmo: %w", err)
				}
			}
		}
		if len(cfg.WipeList) == 0 {
			if err := t.Delete("", wl); err != nil {
				return nil, fmt.Errorf("lawmo: %w", err)
			}
		}
	}
	if err := Model.BindAt(t, uri); err != nil {
		return nil, fmt.Errorf("lawmo: %w", err)
	}
	if err := moframe.Grant(t, uri, cfg.Servers, Model.Commands()...); err != nil {
		return nil, fmt.Errorf("lawmo: %w", err)
	}
	o := &Object{t: t, cfg: cfg, log: cfg.Log.With("lawmo", uri)}
	// Nothing is persisted: a lock or wipe a restart cuts short is not
	// resumed (the device's own boot decides what it finds).
	o.run, err = moframe.NewRunner(moframe.RunnerConfig{Name: "lawmo", Report: cfg.Report, Log: o.log})
	if err != nil {
		return nil, err
	}
	o.Instance = moframe.NewInstance(uri, o.run)
	if err := t.Mount(uri+"/Operations", o); err != nil {
		return nil, fmt.Errorf("lawmo: %w", err)
	}
	return o, nil
}

// State reads <x>/State.
func (o *Object) State() State {
	n, _ := strconv.Atoi(o.leaf("/State"))
	return State(n)
}

// NotifyUser reads <x>/LAWMOConfig/NotifyUser.
func (o *Object) NotifyUser() bool { return o.leaf("/LAWMOConfig/NotifyUser") == "true" }

func (o *Object) leaf(rel string) string { return moframe.Leaf(o.t, o.URI()+rel) }

// Exec implements dmtree.Executor: 202 and the hook runs after the session.
func (o *Object) Exec(_ context.Context, uri string, _ []byte, correlator string) (syncml.StatusCode, error) {
	prefix := o.URI() + "/Operations/"
	op, err := ParseOp(strings.TrimPrefix(uri, prefix))
	if err != nil || uri != prefix+string(op) {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed (Exec one of %s{FullyLock,PartiallyLock,UnLock,FactoryReset,Wipe})", uri, prefix)
	}
	var run func(context.Context, bool) Result
	switch op {
	case OpFullyLock, OpPartiallyLock, OpUnLock:
		if o.cfg.Lock != nil {
			target := map[Op]State{OpFullyLock: StateFullyLocked, OpPartiallyLock: StatePartiallyLocked, OpUnLock: StateUnlocked}[op]
			run = func(ctx context.Context, notify bool) Result { return o.lock(ctx, op, target, notify) }
		}
	case OpWipe:
		if o.cfg.Wipe != nil {
			run = o.wipe
		}
	case OpFactoryReset:
		if o.cfg.FactoryReset != nil {
			run = func(ctx context.Context, notify bool) Result {
				return resultOf(o.cfg.FactoryReset(ctx, notify), ResultSuccessful, op)
			}
		}
	}
	if run == nil {
		return 0, syncml.Errorf(syncml.StatusOptionalNotSupported, "this device does not support %s", op)
	}
	notify := o.NotifyUser()
	err = o.run.Begin(nil, moframe.Record{Op: string(op), Correlator: correlator}, func(ctx context.Context) *moframe.Outcome {
		r := run(ctx, notify)
		if ctx.Err() != nil {
			return nil // stopped by Close
		}
		return &moframe.Outcome{Report: moframe.ResultReport(AlertOperationComplete, o.URI()+"/Operations/"+string(op), int(r), r.Successful())}
	})
	if err != nil {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "another LAWMO operation is running")
	}
	return syncml.StatusAccepted, nil
}

func (o *Object) lock(ctx context.Context, op Op, target State, notify bool) Result {
	if err := o.cfg.Lock(ctx, target, notify); err != nil {
		o.log.Warn("lock operation failed", "op", op, "err", err)
		return resultOf(err, 0, op)
	}
	v := dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain", Data: []byte(strconv.Itoa(int(target)))}
	if _, err := o.t.Ensure(o.URI()+"/State", v); err != nil {
		o.log.Error("could not record the lock state", "err", err)
		return ResultClientError
	}
	o.log.Info("lock state changed", "state", target.String())
	return ResultSuccessful
}

func (o *Object) wipe(ctx context.Context, notify bool) Result {
	var items []string
	wl := o.URI() + "/AvailableWipeList"
	if rs, err := o.t.Get("", wl); err == nil && len(rs) == 1 {
		for _, n := range strings.Split(string(rs[0].Data), "/") {
			if n != "" && o.leaf("/AvailableWipeList/"+n+"/ToBeWiped") == "true" {
				items = append(items, o.leaf("/AvailableWipeList/"+n+"/ListItemName"))
			}
		}
	}
	ok := ResultWipeSuccessful
	if len(items) > 0 {
		ok = ResultWipeListSuccessful
	}
	err := o.cfg.Wipe(ctx, items, notify)
	if err != nil {
		o.log.Warn("wipe failed", "items", items, "err", err)
	}
	return resultOf(err, ok, OpWipe)
}

// resultOf maps a hook's error to its result: ok when nil, the Code of a
// *moframe.ResultError, else op's failure code.
func resultOf(err error, ok Result, op Op) Result {
	return Result(moframe.CodeOf(err, int(ok), int(op.failure())))
}
