package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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

// asyncExec is one such operation: optional jobs queued first (its
// parameters), then the Exec of execURI.
type asyncExec struct {
	device, node, operation string
	execURI                 string
	pre                     *api.JobRequest
	correlator              string // "" generates one starting with prefix
	prefix                  string
	notify                  bool
	wait                    time.Duration
	what                    string // names the operation in a failure
	parse                   func(api.Event) (asyncReport, bool, error)
}

// ctlNode checks a --node flag: an absolute URI, without a trailing slash.
func ctlNode(node, example string) (string, error) {
	node = strings.TrimSuffix(node, "/")
	if !strings.HasPrefix(node, "./") {
		return "", fmt.Errorf("--node %q: want an absolute URI such as %s", node, example)
	}
	return node, nil
}

// runAsyncExec queues a's jobs and, with a wait, waits for the report and
// prints the outcome; without, it prints the jobs.
func runAsyncExec(cmd *cobra.Command, o *ctlOptions, a asyncExec) error {
	if a.correlator == "" {
		b := make([]byte, 6)
		rand.Read(b)
		a.correlator = a.prefix + hex.EncodeToString(b)
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.ctx(cmd)
	defer cancel()
	var jobs []api.Job
	if a.pre != nil {
		j, err := c.CreateJob(ctx, a.device, *a.pre)
		if err != nil {
			return ctlNotifyHint(err, a.device)
		}
		jobs = append(jobs, *j)
	}
	exec, err := c.CreateJob(ctx, a.device, api.JobRequest{Command: "Exec", Correlator: a.correlator, Notify: a.notify,
		Items: []api.JobItem{{URI: a.execURI}}})
	if err != nil {
		return ctlNotifyHint(err, a.device)
	}
	if exec.Warning != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", exec.Warning)
	}
	jobs = append(jobs, *exec)
	if a.wait <= 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "queued; the device reports with correlator %s (omadm ctl events %s)\n", a.correlator, a.device)
		return ctlPrintJobs(cmd.OutOrStdout(), o.format("json"), jobs)
	}
	out := asyncOutcome{Device: a.device, Node: a.node, Operation: a.operation, Correlator: a.correlator, ExecJob: exec.ID}
	rep, st, err := waitReport(cmd.Context(), c, a.wait, a.device, exec.ID, a.correlator, a.parse)
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
		execStatus = j.Status
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return rep, execStatus, &exitError{code: exitJobTimeout, err: fmt.Errorf("the device did not take the Exec (job %d) within %s", execJob, wait)}
	case err != nil:
		return rep, execStatus, err
	case j.State != "done":
		msg := fmt.Sprintf("the device refused the Exec: job %d %s (status %d)", j.ID, j.State, j.Status)
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
