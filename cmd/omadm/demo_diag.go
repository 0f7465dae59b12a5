package main

import (
	"context"
	"fmt"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/sim"
)

// diagnostics runs a DiagMon function on dev the way an operator does
// (omadm ctl diag run): an operation of mo diagmon, accepted now (202), the
// device's OperationComplete report in its next session, read back through
// GET /devices/{id}/diagnostics/{event}.
func (d *demo) diagnostics(ctx context.Context, dev *sim.Device) error {
	fmt.Fprintf(d.out, "\n[%d] Diagnostics (DiagMon): run the Memory function (accepted now, reported with a 1226 OperationComplete)\n", d.next())
	op, err := d.api.CreateOperation(ctx, dev.ID(), api.OperationRequest{MO: "diagmon", Operation: "memory", Correlator: "diagmon-demo", Notify: true})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	// The notification brings the device in; it accepts the Exec (202).
	delay := 20 * time.Millisecond
	for op.State == "queued" || op.State == "sent" {
		select {
		case <-wctx.Done():
			return fmt.Errorf("diagnostics operation %d still %s: %w", op.ID, op.State, wctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
		if op, err = d.api.GetOperation(wctx, op.ID); err != nil {
			return err
		}
	}
	dev.DiagMon().Wait() // the function runs after the session
	if _, err = d.genericAlert(ctx, dev, op.Correlator); err != nil {
		return err
	}
	done, err := d.api.WaitOperation(wctx, op.ID, dev.ID(), 0)
	if err != nil {
		return fmt.Errorf("diagnostics operation %d: %w", op.ID, err)
	}
	if done.State != "succeeded" || done.Event == 0 {
		return fmt.Errorf("diagnostics operation %d %s: %s", op.ID, done.State, done.Error)
	}
	dg, err := d.api.Diagnostic(ctx, dev.ID(), done.Event)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    operation %d %s: result %d (%s), correlator %s\n", done.ID, done.State, dg.ResultCode, dg.Meaning, dg.Correlator)
	for _, r := range dg.Readings {
		fmt.Fprintf(d.out, "    %-18s %s\n", r.Name, r.Value)
	}
	return nil
}
