package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/lawmo"
)

// lockArg is the word --lawmo-lock gets as $1 for each state.
var lockArg = map[lawmo.State]string{
	lawmo.StateFullyLocked: "fully-locked", lawmo.StatePartiallyLocked: "partially-locked", lawmo.StateUnlocked: "unlocked",
}

// startLAWMO installs the --lawmo object with shell hooks for the commands
// given; an operation without one answers 406.
func startLAWMO(tree *dmtree.Tree, o *options, serverID string, c *client.Client, kick chan<- struct{}, log *slog.Logger) (*lawmo.Object, error) {
	cfg := lawmo.Config{Servers: []string{serverID}, Log: log, Report: reporter(c, kick)}
	for _, item := range strings.Split(o.lawmoWipeList, ",") {
		if item = strings.TrimSpace(item); item != "" {
			cfg.WipeList = append(cfg.WipeList, item)
		}
	}
	if o.lawmoLock != "" {
		cfg.Lock = func(ctx context.Context, s lawmo.State, notify bool) error {
			return runHook(ctx, log, "lock", o.lawmoLock, notify, lockArg[s])
		}
	}
	if o.lawmoWipe != "" {
		cfg.Wipe = func(ctx context.Context, items []string, notify bool) error {
			return runHook(ctx, log, "wipe", o.lawmoWipe, notify, items...)
		}
	}
	if o.lawmoReset != "" {
		cfg.FactoryReset = func(ctx context.Context, notify bool) error {
			return runHook(ctx, log, "factory reset", o.lawmoReset, notify)
		}
	}
	lw, err := lawmo.Install(tree, o.lawmo, cfg)
	if err != nil {
		return nil, fmt.Errorf("--lawmo: %w", err)
	}
	log.Info("lock and wipe object ready", "node", lw.URI(), "state", lw.State().String())
	return lw, nil
}

// runHook runs cmd with /bin/sh and args as $1…; LAWMO_NOTIFY_USER tells
// it whether the server asked for the user to be told.
func runHook(ctx context.Context, log *slog.Logger, what, cmd string, notify bool, args ...string) error {
	var out bytes.Buffer
	x := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", cmd, "lawmo-" + strings.ReplaceAll(what, " ", "-")}, args...)...)
	x.Env = append(os.Environ(), fmt.Sprintf("LAWMO_NOTIFY_USER=%t", notify))
	x.Stdout, x.Stderr = &out, &out
	err := x.Run()
	tail := out.String()
	if len(tail) > 2048 {
		tail = tail[len(tail)-2048:]
	}
	if err != nil {
		log.Warn(what+" command failed", "cmd", cmd, "args", args, "err", err, "output", tail)
		return fmt.Errorf("%s: %w", what, err)
	}
	log.Info(what+" command succeeded", "cmd", cmd, "args", args, "output", tail)
	return nil
}
