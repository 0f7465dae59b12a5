package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/connmo"
)

// connmoCheck is how often the daemon looks for a connectivity change a
// session made (a local read of the container, no network).
const connmoCheck = 5 * time.Second

// startConnMO installs the --connmo container; a change a server makes is
// put in force by --connmo-apply, which gets the container's leaves as
// "NAP/<name>/Addr=value" lines on its standard input.
func startConnMO(tree *dmtree.Tree, o *options, serverID string, log *slog.Logger) (*connmo.Object, error) {
	cfg := connmo.Config{Servers: []string{serverID}, Dir: filepath.Join(o.state, "connmo"), Log: log}
	if o.connmoApply != "" {
		cfg.Apply = func(ctx context.Context, content string) error {
			var out bytes.Buffer
			x := exec.CommandContext(ctx, "/bin/sh", "-c", o.connmoApply, "omadm-connmo-apply")
			x.Env = os.Environ()
			x.Stdin = strings.NewReader(content + "\n")
			x.Stdout, x.Stderr = &out, &out
			err := x.Run()
			tail := out.String()
			if len(tail) > 2048 {
				tail = tail[len(tail)-2048:]
			}
			if err != nil {
				log.Warn("connectivity apply command failed", "cmd", o.connmoApply, "err", err, "output", tail)
				return err
			}
			log.Info("connectivity apply command succeeded", "cmd", o.connmoApply, "output", tail)
			return nil
		}
	}
	cm, err := connmo.Install(tree, o.connmo, cfg)
	if err != nil {
		return nil, fmt.Errorf("--connmo: %w", err)
	}
	log.Info("connectivity object ready", "node", cm.URI())
	return cm, nil
}

// watchConnMO applies connectivity changes until ctx ends.
func watchConnMO(ctx context.Context, cm *connmo.Object) {
	t := time.NewTicker(connmoCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = cm.Sync(ctx) // a failure is logged and retried
		}
	}
}
