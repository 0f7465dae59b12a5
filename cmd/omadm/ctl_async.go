package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/fleet"
)

// Operations a device accepts now (202) and reports on later with a
// generic alert carrying the Exec's correlator (`ctl fumo`, `ctl lawmo`):
// the server keeps them as operations, follows their job and attaches the
// report; these commands create one and, with --wait, wait for it to end.

// asyncOutcome is what such a command prints when it waited.
type asyncOutcome struct {
	Device     string `json:"device"`
	Node       string `json:"node"`
	Operation  string `json:"operation"`
	Correlator string `json:"correlator"`
	OpID       int64  `json:"operation_id"`
	State      string `json:"state"`
	ExecJob    int64  `json:"exec_job"`
	ExecStatus int    `json:"exec_status"`
	Result     int    `json:"result,omitempty"`
	Meaning    string `json:"meaning,omitempty"`
	Successful bool   `json:"successful"`
	EventID    int64  `json:"event,omitempty"`
	Error      string `json:"error,omitempty"`
	// Attempts is the attempt that ended it, of MaxAttempts allowed.
	Attempts    int `json:"attempts"`
	MaxAttempts int `json:"max_attempts"`
}

// asyncExec is one such operation: queue sends the request that makes the
// server create the operation and answers with its job.
type asyncExec struct {
	device string
	queue  func(context.Context, *client.Client) (*api.Job, error)
	wait   time.Duration
	what   string // names the operation in a failure
}

// runAsyncExec creates a's operation and, with a wait, waits for it to end
// and prints the outcome; without, it prints the job.
func runAsyncExec(cmd *cobra.Command, o *ctlOptions, a asyncExec) error {
	c, ctx, cancel, err := o.connect(cmd)
	if err != nil {
		return err
	}
	defer cancel()
	j, err := a.queue(ctx, c)
	if err != nil {
		return ctlNotifyHint(err, a.device)
	}
	if j.Warning != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", j.Warning)
	}
	correlator := execCorrelator(j)
	if a.wait <= 0 || j.Operation == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "queued; the device reports with correlator %s (omadm ctl events %s)\n", correlator, a.device)
		return ctlPrintJobs(cmd.OutOrStdout(), o.format("json"), []api.Job{*j})
	}
	wctx, wcancel := context.WithTimeout(cmd.Context(), a.wait)
	defer wcancel()
	stop := startProgress(cmd.ErrOrStderr(), fmt.Sprintf("waiting for operation %d", j.Operation.ID))
	op, err := c.WaitOperation(wctx, j.Operation.ID, a.device, o.reportPoll)
	stop()
	if op == nil {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			err = timedOutf("operation %d: no answer within %s", j.Operation.ID, a.wait)
		}
		return err
	}
	out := outcomeOf(op, j.ID)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		switch {
		case op.State == "retry_wait":
			err = timedOutf("attempt %d of %d ended and the next starts at %s, after the %s waited: %s", op.Attempts, op.MaxAttempts,
				fmtTime(op.NextAttemptAt), a.wait, op.Error)
		case op.State == "accepted":
			err = timedOutf("no report with correlator %s within %s (the Exec was accepted with status %d)", op.Correlator, a.wait, op.ExecStatus)
		default:
			err = timedOutf("the device did not take the Exec (job %d) within %s", j.ID, a.wait)
		}
	case err != nil:
	default:
		err = operationExit(op, a.what)
	}
	if perr := printAsync(cmd, o.format("json"), &out); perr != nil {
		return perr
	}
	return err
}

// operationExit is the exit of a finished operation: nil when it
// succeeded, exitJobFailed when it failed or was cancelled, exitJobTimeout
// when the server timed it out.
func operationExit(op *api.Operation, what string) error {
	switch op.State {
	case "succeeded":
		return nil
	case "timed_out":
		return timedOutf("%s timed out on the server: %s", what, op.Error)
	case "failed":
		if op.Event != 0 {
			return failedf("%s failed: %d %s", what, op.Result, op.Meaning)
		}
		return failedf("%s failed: %s", what, op.Error)
	}
	return failedf("%s %s: %s", what, op.State, op.Error)
}

func outcomeOf(op *api.Operation, job int64) asyncOutcome {
	return asyncOutcome{Device: op.Device, Node: op.Node, Operation: op.Operation, Correlator: op.Correlator, OpID: op.ID,
		State: op.State, ExecJob: job, ExecStatus: op.ExecStatus, Result: op.Result, Meaning: op.Meaning,
		Successful: op.State == "succeeded", EventID: op.Event, Error: op.Error, Attempts: op.Attempts, MaxAttempts: op.MaxAttempts}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// retryFlags registers --max-attempts and --retry-backoff on f and returns
// the request's retry override they make (nil when neither is given).
func retryFlags(f *pflag.FlagSet) func() *api.RetryRequest {
	var attempts int
	var backoff time.Duration
	f.IntVar(&attempts, "max-attempts", 0, "attempts in all, the first included (1: no retry; default: the MO's policy, e.g. FUMO 3, LAWMO 3)")
	f.DurationVar(&backoff, "retry-backoff", 0, "pause before the second attempt, doubled for each further one (default: the MO's policy, e.g. 5m)")
	return func() *api.RetryRequest {
		if attempts == 0 && backoff == 0 {
			return nil
		}
		r := &api.RetryRequest{MaxAttempts: attempts}
		if backoff != 0 {
			r.Backoff = backoff.String()
		}
		return r
	}
}

// execCorrelator is the correlator of the job's Exec (the job itself, or the
// last member of its Sequence).
func execCorrelator(j *api.Job) string {
	if n := len(j.Spec.Children); n > 0 {
		return j.Spec.Children[n-1].Correlator
	}
	return j.Spec.Correlator
}

func printAsync(cmd *cobra.Command, format string, out *asyncOutcome) error {
	w := cmd.OutOrStdout()
	if format == "json" {
		return ctlPrintJSON(w, out)
	}
	result := "-"
	if out.Result != 0 {
		result = fmt.Sprintf("%d %s", out.Result, out.Meaning)
	}
	return ctlTable(w, []string{"DEVICE", "OPERATION", "CORRELATOR", "STATE", "ATTEMPT", "EXEC", "RESULT"},
		[][]string{{out.Device, out.Operation, out.Correlator, out.State, fmt.Sprintf("%d/%d", max(out.Attempts, 1), max(out.MaxAttempts, 1)), fmt.Sprint(out.ExecStatus), result}})
}

// ctlOp is `omadm ctl op get|list|cancel`.
func ctlOp(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "op", Short: "Show, list and cancel operations (FUMO, LAWMO, SCOMO, Exec with a report)"}
	get := &cobra.Command{
		Use: "get OPID", Short: "Show an operation: its state, job and the device's report", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return ctlOpCall(cmd, o, args[0], func(ctx context.Context, c *client.Client, id int64) (*api.Operation, error) {
				return c.GetOperation(ctx, id)
			})
		},
	}
	cancelCmd := &cobra.Command{
		Use: "cancel OPID", Short: "Cancel an open operation", Args: cobra.ExactArgs(1),
		Long: `cancel ends an open operation. A queued or sent one has its job cancelled
(a command not yet out never goes out). An accepted one (the device answered
its Exec 202 and is running it) is only marked cancelled: the device may still
report, which is kept as an event but changes nothing. One waiting for its next
attempt (retry_wait) is cancelled at once: no further attempt starts. An
operation that already ended is an error (HTTP 409).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return ctlOpCall(cmd, o, args[0], func(ctx context.Context, c *client.Client, id int64) (*api.Operation, error) {
				return c.CancelOperation(ctx, id)
			})
		},
	}
	var states []string
	var after int64
	var limit int
	list := &cobra.Command{
		Use: "list ID", Short: "List a device's operations", Args: cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			page, err := c.ListOperations(ctx, args[0], client.OperationQuery{States: states, After: after, Limit: limit})
			if err != nil {
				return err
			}
			if err := ctlPrintOps(cmd, o.format("table"), page.Operations); err != nil {
				return err
			}
			if page.Next != "" && o.format("table") == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more: --after %s\n", page.Next)
			}
			return nil
		}),
	}
	list.Flags().StringSliceVar(&states, "state", nil, "only these states: queued, sent, accepted, retry_wait, succeeded, failed, timed_out, cancelled")
	list.Flags().Int64Var(&after, "after", 0, "paging cursor: operations with a greater id")
	list.Flags().IntVar(&limit, "limit", 0, "page size (default 100)")
	cmd.AddCommand(get, list, cancelCmd)
	return cmd
}

func ctlOpCall(cmd *cobra.Command, o *ctlOptions, arg string, call func(context.Context, *client.Client, int64) (*api.Operation, error)) error {
	id, err := ctlID(arg, "an operation id")
	if err != nil {
		return err
	}
	c, ctx, cancel, err := o.connect(cmd)
	if err != nil {
		return err
	}
	defer cancel()
	op, err := call(ctx, c, id)
	if err != nil {
		return err
	}
	return ctlPrintOps(cmd, o.format("json"), []api.Operation{*op})
}

func ctlPrintOps(cmd *cobra.Command, format string, ops []api.Operation) error {
	w := cmd.OutOrStdout()
	if format == "json" {
		if len(ops) == 1 {
			return ctlPrintJSON(w, ops[0])
		}
		return ctlPrintJSON(w, ops)
	}
	rows := make([][]string, 0, len(ops))
	for _, op := range ops {
		result := "-"
		if op.Event != 0 {
			result = strings.TrimSpace(fmt.Sprintf("%d %s", op.Result, op.Meaning))
		}
		state := op.State
		if op.NextAttemptAt != nil {
			state += " (next " + fmtTime(op.NextAttemptAt) + ")"
		}
		rows = append(rows, []string{fmt.Sprint(op.ID), op.Device, op.MO, op.Operation, state, op.AttemptsText(), fmt.Sprint(op.ExecStatus), result, op.Correlator})
	}
	if err := ctlTable(w, []string{"ID", "DEVICE", "MO", "OPERATION", "STATE", "ATTEMPT", "EXEC", "RESULT", "CORRELATOR"}, rows); err != nil {
		return err
	}
	if len(ops) != 1 || len(ops[0].History) < 2 {
		return nil
	}
	// One operation with several attempts: its history.
	rows = rows[:0]
	for _, a := range ops[0].History {
		result := "-"
		if a.Event != 0 {
			result = fmt.Sprint(a.Result)
			if a.Late {
				result += " (late)"
			}
		}
		rows = append(rows, []string{fmt.Sprint(a.Attempt), fmt.Sprint(a.Job), a.Correlator, a.State, fmt.Sprint(a.ExecStatus), result, a.Error})
	}
	fmt.Fprintln(w)
	return ctlTable(w, []string{"ATTEMPT", "JOB", "CORRELATOR", "STATE", "EXEC", "RESULT", "ERROR"}, rows)
}

// opRequest is the fleet request an API operation request stands for, for
// checking it before it is sent (the timeout is checked by the server).
func opRequest(device string, r api.OperationRequest) fleet.Request {
	fr := fleet.Request{DeviceID: device, MO: r.MO, Operation: r.Operation, Node: r.Node, Params: r.Params, Correlator: r.Correlator}
	fr.Retry, _ = r.Retry.ToFleet("retry") // a malformed duration is the server's to refuse
	return fr
}
