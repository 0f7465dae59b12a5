package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/fleet"
)

// ctlDiag is `omadm ctl diag run|list|show`: DiagMon diagnostics, a thin
// client of POST /devices/{id}/operations (mo diagmon) and
// GET /devices/{id}/diagnostics.
func ctlDiag(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "diag", Short: "Run diagnostics on a device and read its reports and traps (DiagMon)"}
	cmd.AddCommand(ctlDiagRun(o), ctlDiagList(o), ctlDiagShow(o))
	return cmd
}

func ctlDiagRun(o *ctlOptions) *cobra.Command {
	var node, correlator string
	var wait time.Duration
	var notify bool
	cmd := &cobra.Command{
		Use:   "run ID memory|storage|load|battery|log",
		Short: "Run one diagnostics function on a device, optionally waiting for its report",
		Long: `run starts a DiagMon operation (POST /api/v1/devices/{id}/operations with mo
diagmon): an Exec of <node>/Functions/<Function>/Operations/Start with a
correlator. The device accepts (202), runs the function after the session and
reports with a generic alert (1226, urn:oma:at:diagmon:1.0:OperationComplete)
carrying the correlator, its result code (1200 successful, 1400 the function
failed) and its readings.

With --wait the command waits for that report and prints the readings; it
exits 0 for a successful result, 1 for a failed one and 3 when the report did
not come in time.`,
		Example: `  omadm ctl diag run IMEI:490154203237518 memory --notify --wait 1m
  omadm ctl diag run IMEI:490154203237518 log --wait 5m -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.OperationRequest{MO: "diagmon", Operation: args[1], Node: node, Correlator: correlator, Notify: notify}
			if err := fleet.Validate(opRequest(args[0], req)); err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			op, err := c.CreateOperation(ctx, args[0], req)
			if err != nil {
				return ctlNotifyHint(err, args[0])
			}
			if op.Warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", op.Warning)
			}
			if wait <= 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "queued as operation %d; the report comes with correlator %s (omadm ctl diag list %s)\n", op.ID, op.Correlator, args[0])
				return ctlPrintJSON(cmd.OutOrStdout(), op)
			}
			wctx, wcancel := context.WithTimeout(cmd.Context(), wait)
			defer wcancel()
			stop := startProgress(cmd.ErrOrStderr(), fmt.Sprintf("waiting for operation %d", op.ID))
			done, err := c.WaitOperation(wctx, op.ID, args[0], o.reportPoll)
			stop()
			if done == nil || errors.Is(err, context.DeadlineExceeded) {
				return timedOutf("operation %d: no report within %s", op.ID, wait)
			}
			if err != nil {
				return err
			}
			if done.Event == 0 {
				if perr := ctlPrintJSON(cmd.OutOrStdout(), done); perr != nil {
					return perr
				}
				return operationExit(done, "diagnostics "+args[1])
			}
			rctx, rcancel := o.ctx(cmd)
			defer rcancel()
			dg, err := c.Diagnostic(rctx, args[0], done.Event)
			if err != nil {
				return err
			}
			if err := printDiagnostic(cmd.OutOrStdout(), o.format("table"), dg); err != nil {
				return err
			}
			return operationExit(done, "diagnostics "+args[1])
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "./DiagMon", "the device's DiagMon node (omadm-agent --diagmon)")
	f.StringVar(&correlator, "correlator", "", "correlator of the Exec and of the device's report (default: generated)")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the device's report")
	f.BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	return cmd
}

func ctlDiagList(o *ctlOptions) *cobra.Command {
	var function, kind string
	var after int64
	var limit int
	cmd := &cobra.Command{
		Use:   "list ID",
		Short: "List a device's diagnostics reports and traps, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			l, err := c.Diagnostics(ctx, args[0], clientDiagQuery(function, kind, after, limit))
			if err != nil {
				return err
			}
			return o.print(cmd, "table", l, func(w io.Writer) error {
				rows := make([][]string, 0, len(l.Diagnostics))
				for _, d := range l.Diagnostics {
					rows = append(rows, []string{strconv.FormatInt(d.Event, 10), d.CreatedAt.Local().Format(time.DateTime), d.Kind, d.Function, diagOutcome(&d), d.Correlator})
				}
				if err := ctlTable(w, []string{"EVENT", "TIME", "KIND", "FUNCTION", "OUTCOME", "CORRELATOR"}, rows); err != nil {
					return err
				}
				if l.Next != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "more: --after %s\n", l.Next)
				}
				return nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&function, "function", "", "only this function's (Memory, Storage, Load, Battery, LogTail)")
	f.StringVar(&kind, "kind", "", "only report, trap or trap-inactive")
	f.Int64Var(&after, "after", 0, "cursor: only events after this id")
	f.IntVar(&limit, "limit", 0, "page size (default 100)")
	return cmd
}

func ctlDiagShow(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID EVENT",
		Short: "Show one diagnostics report or trap with its readings",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || ev <= 0 {
				return fmt.Errorf("EVENT %q: want an event id (omadm ctl diag list %s)", args[1], args[0])
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			dg, err := c.Diagnostic(ctx, args[0], ev)
			if err != nil {
				return err
			}
			return printDiagnostic(cmd.OutOrStdout(), o.format("table"), dg)
		},
	}
}

// diagOutcome is a report's result or a trap's reading, in a few words.
func diagOutcome(d *api.Diagnostic) string {
	switch {
	case d.Error != "":
		return "unreadable: " + d.Error
	case d.Kind == "report":
		s := fmt.Sprintf("%d %s", d.ResultCode, d.Meaning)
		if d.Message != "" {
			s += ": " + d.Message
		}
		return s
	}
	v := "-"
	for _, r := range d.Readings {
		if r.Name == d.Metric {
			v = r.Value
		}
	}
	return fmt.Sprintf("%s=%s (threshold %s)", d.Metric, v, d.Threshold)
}

func printDiagnostic(w io.Writer, format string, d *api.Diagnostic) error {
	if format == "json" {
		return ctlPrintJSON(w, d)
	}
	fmt.Fprintf(w, "device:    %s\nevent:     %d (%s)\nkind:      %s\nfunction:  %s\noutcome:   %s\n",
		d.Device, d.Event, d.CreatedAt.Local().Format(time.DateTime), d.Kind, d.Function, diagOutcome(d))
	if d.Correlator != "" {
		fmt.Fprintf(w, "correlator: %s\n", d.Correlator)
	}
	if len(d.Readings) == 0 {
		return nil
	}
	rows := make([][]string, 0, len(d.Readings))
	for _, r := range d.Readings {
		if strings.Contains(r.Value, "\n") {
			fmt.Fprintf(w, "%s:\n%s\n", r.Name, r.Value)
			continue
		}
		rows = append(rows, []string{r.Name, r.Value})
	}
	fmt.Fprintln(w)
	return ctlTable(w, []string{"READING", "VALUE"}, rows)
}

func clientDiagQuery(function, kind string, after int64, limit int) client.DiagnosticQuery {
	return client.DiagnosticQuery{Function: function, Kind: kind, After: after, Limit: limit}
}
