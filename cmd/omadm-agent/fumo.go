package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/syncml"
)

// maxFollowUps bounds the extra sessions --once runs to report what
// management objects finished after the first one (each may be answered
// with a new Exec).
const maxFollowUps = 4

// startFUMO installs the --fumo node. Its reports are queued on c and kick
// tells the daemon to run a session, so the server hears of a finished
// update without waiting for the next poll.
func startFUMO(tree *dmtree.Tree, o *options, serverID string, c *client.Client, kick chan<- struct{}, log *slog.Logger) (*fumo.Object, error) {
	cfg := fumo.Config{
		Dir:     filepath.Join(o.state, "fumo"),
		Servers: []string{serverID},
		Log:     log,
		Report:  reporter(c, kick),
		// Stall detection bounds a download long before DownloadTimeout.
		ConnectTimeout: o.dlConnect,
		StallTimeout:   o.dlStall,
	}
	cfg.AcceptTypes = mediaTypes(o.fumoTypes)
	if o.fumoInstall != "" {
		cfg.Install = shellStep(o.fumoInstall, "install", log)
	}
	if o.fumoVerify != "" {
		cfg.Resume = shellStep(o.fumoVerify, "verify", log)
	}
	fw, err := fumo.Install(tree, o.fumo, cfg)
	if err != nil {
		return nil, fmt.Errorf("--fumo: %w", err)
	}
	log.Info("firmware update object ready", "node", fw.URI(), "state", int(fw.State()))
	return fw, nil
}

// shellStep runs cmd as a hook with the package path as $1: exit 0 is
// ResultSuccessful, anything else ResultUpdateFailed.
func shellStep(cmd, what string, log *slog.Logger) func(context.Context, string) fumo.Result {
	return func(ctx context.Context, pkg string) fumo.Result {
		if runHook(ctx, log, "firmware "+what, cmd, nil, pkg) != nil {
			return fumo.ResultUpdateFailed
		}
		return fumo.ResultSuccessful
	}
}

// runHook runs cmd with /bin/sh, args as $1… and env added to the
// environment, logging the tail of its output; the error is its failure.
func runHook(ctx context.Context, log *slog.Logger, what, cmd string, env []string, args ...string) error {
	var out bytes.Buffer
	x := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", cmd, "omadm-" + strings.ReplaceAll(what, " ", "-")}, args...)...)
	x.Env = append(os.Environ(), env...)
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

// reporter queues a management object's alert on c and kicks the daemon
// into a session that carries it.
func reporter(c *client.Client, kick chan<- struct{}) func(*syncml.Alert) {
	return func(a *syncml.Alert) {
		c.QueueAlert(a)
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// waiter is a management object whose operations run after the session
// that started them.
type waiter interface{ Wait() }

// once is --once: the session, then, while an operation a management object
// started (a firmware update, a wipe) is running or its report waits, wait
// for it and report it in a follow-up session, so that the process exits
// with the work done and told.
func once(ctx context.Context, c *client.Client, objs []waiter, stdout io.Writer, log *slog.Logger) error {
	if _, err := session(ctx, c, stdout); err != nil {
		return err
	}
	for range maxFollowUps {
		done := make(chan struct{})
		go func() {
			for _, o := range objs {
				o.Wait()
			}
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.PendingAlerts() == 0 {
			return nil
		}
		log.Info("reporting finished operations", "alerts", c.PendingAlerts())
		if _, err := session(ctx, c, stdout); err != nil {
			return err
		}
	}
	return nil
}

// updateRequest is a client-initiated firmware update request
// (OMA-TS-DM-FUMO-V1_0, "Client Initiated Firmware Update": Generic Alert
// 1226 of type org.openmobilealliance.dm.firmwareupdate.devicerequest,
// Source the FUMO node). Data is the running firmware version, for the
// server's release policy (the type leaves Data to the device; it may be
// empty).
func updateRequest(node, fwVersion string) *syncml.Alert {
	return &syncml.Alert{Data: syncml.AlertGeneric, Items: []syncml.Item{{
		Source: &syncml.Location{LocURI: node},
		Meta:   &syncml.Meta{Type: fumo.AlertDeviceRequest, Format: "chr"},
		Data:   syncml.TextData(fwVersion),
	}}}
}

// mediaTypes splits a --fumo-types or --scomo-types list (nil: accept any).
func mediaTypes(list string) []string {
	var out []string
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
