package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/diagmon"
)

// startDiagMon installs the --diagmon object with the machine's functions:
// memory, load, storage of --diagmon-storage, the battery when the machine
// has one, and the tail of --diagmon-log when given. Its trap policies are
// collected in the background until ctx ends.
func startDiagMon(ctx context.Context, tree *dmtree.Tree, o *options, serverID string, c *client.Client, kick chan<- struct{}, log *slog.Logger) (*diagmon.Object, error) {
	var m diagmon.Machine
	fns := []diagmon.Function{m.Memory(), m.Load(), diagmon.Storage(o.diagmonStorage)}
	if b, ok := m.Battery(); ok {
		fns = append(fns, b)
	}
	if o.diagmonLog != "" {
		fns = append(fns, diagmon.LogTail(o.diagmonLog, o.diagmonLogBytes))
	}
	dm, err := diagmon.Install(tree, o.diagmon, diagmon.Config{Servers: []string{serverID}, Functions: fns, Dir: filepath.Join(o.state, "diagmon"), Report: reporter(c, kick), Log: log})
	if err != nil {
		return nil, fmt.Errorf("--diagmon: %w", err)
	}
	go dm.Run(ctx)
	log.Info("diagnostics object ready", "node", dm.URI(), "functions", len(fns), "trap_interval_s", dm.Interval())
	return dm, nil
}
