package main

import (
	"context"
	"fmt"
	"log/slog"
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
			return runHook(ctx, log, "lock", o.lawmoLock, notifyEnv(notify), lockArg[s])
		}
	}
	if o.lawmoWipe != "" {
		cfg.Wipe = func(ctx context.Context, items []string, notify bool) error {
			return runHook(ctx, log, "wipe", o.lawmoWipe, notifyEnv(notify), items...)
		}
	}
	if o.lawmoReset != "" {
		cfg.FactoryReset = func(ctx context.Context, notify bool) error {
			return runHook(ctx, log, "factory reset", o.lawmoReset, notifyEnv(notify))
		}
	}
	lw, err := lawmo.Install(tree, o.lawmo, cfg)
	if err != nil {
		return nil, fmt.Errorf("--lawmo: %w", err)
	}
	log.Info("lock and wipe object ready", "node", lw.URI(), "state", lw.State().String())
	return lw, nil
}

// notifyEnv tells a hook whether the server asked for the user to be told.
func notifyEnv(notify bool) []string { return []string{fmt.Sprintf("LAWMO_NOTIFY_USER=%t", notify)} }
