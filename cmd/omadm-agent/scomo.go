package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/scomo"
)

// startSCOMO installs the --scomo object: components are installed as
// directories below --scomo-dir (default <state>/scomo/components), with
// --scomo-hook run at each step.
func startSCOMO(tree *dmtree.Tree, o *options, serverID string, c *client.Client, kick chan<- struct{}, log *slog.Logger) (*scomo.Object, error) {
	dir := o.scomoDir
	if dir == "" {
		dir = filepath.Join(o.state, "scomo", "components")
	}
	in := &scomo.DirInstaller{Dir: dir}
	if o.scomoHook != "" {
		in.Hook = func(ctx context.Context, action, id, path string) error {
			return runHook(ctx, log, "component "+action, o.scomoHook, []string{"SCOMO_ACTION=" + action, "SCOMO_ID=" + id}, action, id, path)
		}
	}
	cfg := scomo.Config{
		Dir:            filepath.Join(o.state, "scomo"),
		Servers:        []string{serverID},
		Log:            log,
		Report:         reporter(c, kick),
		Installer:      in,
		AcceptTypes:    mediaTypes(o.scomoTypes),
		ConnectTimeout: o.dlConnect,
		StallTimeout:   o.dlStall,
	}
	sc, err := scomo.Install(tree, o.scomo, cfg)
	if err != nil {
		return nil, fmt.Errorf("--scomo: %w", err)
	}
	log.Info("software component object ready", "node", sc.URI(), "components", dir)
	return sc, nil
}
