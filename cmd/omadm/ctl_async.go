package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// Operations a device accepts now (202) and reports on later with a
// generic alert carrying the Exec's correlator: `ctl fumo`, `ctl lawmo`.

// reportPoll is how often a --wait looks for the device's report.
var reportPoll = time.Second

// asyncOutcome is what such a command prints when it waited.
type asyncOutcome struct {
	Device     string `json:"device"`
	Node       string `json:"node"`
	Operation  string `json:"operation"`
	Correlator string `json:"correlator"`
	ExecJob    int64  `json:"exec_job"`
	ExecStatus int    `json:"exec_status"`
	Result     int    `json:"result,omitempty"`
	Meaning    string `json:"meaning,omitempty"`
	Successful bool   `json:"successful"`
	EventID    int64  `json:"event,omitempty"`
}

// asyncExec is one such operation: queue sends the request that makes the
// server queue its job (the Exec, or a Sequence of its parameters' Replaces
// and the Exec).
type asyncExec struct {
	device, node, operation string
	queue                   func(context.Context, *client.Client) (*api.Job, error)
	wait                    time.Duration
	what                    string // names the operation in a failure
	parse                   func(api.Event) (asyncReport, bool, error)
}

// runAsyncExec queues a's job and, with a wait, waits for the report and
// prints the outcome; without, it prints the job.
func runAsyncExec(cmd *cobra.Command, o *ctlOptions, a asyncExec) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.ctx(cmd)
	defer cancel()
	j, err := a.queue(ctx, c)
	if err != nil {
		return ctlNotifyHint(err, a.device)
	}
	if j.Warning != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", j.Warning)
	}
	correlator := execCorrelator(j)
	if a.wait <= 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "queued; the device reports with correlator %s (omadm ctl events %s)\n", correlator, a.device)
		return ctlPrintJobs(cmd.OutOrStdout(), o.format("json"), []api.Job{*j})
	}
	out := asyncOutcome{Device: a.device, Node: a.node, Operation: a.operation, Correlator: correlator, ExecJob: j.ID}
	rep, st, err := waitReport(cmd.Context(), c, a.wait, a.device, j.ID, correlator, a.parse)
	out.ExecStatus = st
	if err == nil {
		out.EventID, out.Result, out.Meaning, out.Successful = rep.eventID, rep.result, rep.meaning, rep.successful
		if !out.Successful {
			err = &exitError{code: exitJobFailed, err: fmt.Errorf("%s failed: %d %s", a.what, out.Result, out.Meaning)}
		}
	}
	if perr := printAsync(cmd, o.format("json"), &out); perr != nil {
		return perr
	}
	return err
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
	return ctlTable(w, []string{"DEVICE", "OPERATION", "CORRELATOR", "EXEC", "RESULT"},
		[][]string{{out.Device, out.Operation, out.Correlator, fmt.Sprint(out.ExecStatus), result}})
}

// asyncReport is what an Exec answered with 202 reports later: the
// result code, its meaning and whether it is a success.
type asyncReport struct {
	eventID    int64
	result     int
	meaning    string
	successful bool
}

// waitReport waits for the Exec job to be accepted and then for the
// device's 1226 event with correlator, read by parse (ok false: the event
// is not the kind expected). execStatus is what the device answered the
// Exec with.
func waitReport(ctx context.Context, c *client.Client, wait time.Duration, device string, execJob int64, correlator string,
	parse func(api.Event) (asyncReport, bool, error)) (rep asyncReport, execStatus int, err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	j, err := c.WaitJob(ctx, execJob)
	if j != nil {
		execStatus = api.ExecStatus(j)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return rep, execStatus, &exitError{code: exitJobTimeout, err: fmt.Errorf("the device did not take the Exec (job %d) within %s", execJob, wait)}
	case err != nil:
		return rep, execStatus, err
	case j.State != "done":
		msg := fmt.Sprintf("the device refused the Exec: job %d %s (status %d)", j.ID, j.State, execStatus)
		if j.Command == "Sequence" && (execStatus == 0 || execStatus == 215 || execStatus < 300) {
			// A parameter's Replace failed: the Exec did not run.
			msg = fmt.Sprintf("the device refused the operation's parameters, the Exec did not run: job %d %s (statuses %v)", j.ID, j.State, j.ChildStatuses)
		}
		if j.Error != "" {
			msg += ": " + j.Error
		}
		return rep, execStatus, &exitError{code: exitJobFailed, err: errors.New(msg)}
	}
	var after int64
	for {
		el, err := c.Events(ctx, device, after, 1000)
		if err == nil {
			for _, e := range el.Events {
				after = e.ID
				if e.Correlator != correlator {
					continue
				}
				rep, ok, perr := parse(e)
				if !ok || perr != nil {
					return rep, execStatus, fmt.Errorf("event %d carries the correlator but is not the expected result (type %q, data %q)", e.ID, e.Type, e.Data)
				}
				rep.eventID = e.ID
				return rep, execStatus, nil
			}
			if el.Next != "" {
				continue
			}
		} else if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return rep, execStatus, err
		}
		select {
		case <-ctx.Done():
			return rep, execStatus, &exitError{code: exitJobTimeout, err: fmt.Errorf("no report with correlator %s within %s (the Exec was accepted with status %d)", correlator, wait, execStatus)}
		case <-time.After(reportPoll):
		}
	}
}
