package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/mo/fumo"
)

// reportPoll is how often `ctl fumo --wait` and `ctl lawmo --wait` look for
// the device's report.
var reportPoll = time.Second

// fumoOutcome is what `ctl fumo --wait` prints.
type fumoOutcome struct {
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

func ctlFUMO(o *ctlOptions) *cobra.Command {
	var node, opName, correlator string
	var wait time.Duration
	var notify bool
	cmd := &cobra.Command{
		Use:   "fumo ID [URL]",
		Short: "Update a device's firmware (FUMO): set the package URL, Exec the operation, optionally wait for the device's report",
		Long: `fumo queues what a firmware update over FUMO takes: a Replace of
<node>/<Operation>/PkgURL with URL (not for --op update, which installs a
package the device already holds) and an Exec of <node>/<Operation> with a
correlator. The device accepts the Exec (202), downloads and installs after
the session, and reports in a later session with a generic alert (1226)
carrying the correlator; it is stored as an event (omadm ctl events ID).

With --wait the command waits for that report and prints the outcome;
it exits 0 for a successful result, 1 for a failed one and 2 when the
report did not come in time.`,
		Example: `  omadm ctl fumo IMEI:490154203237518 https://fw.example.com/acme-2.1.bin --notify --wait 30m
  omadm ctl fumo IMEI:490154203237518 --op update --node ./FwUpdate/Main`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, err := fumo.ParseOp(opName)
			if err != nil {
				return fmt.Errorf("--op: %w", err)
			}
			node = strings.TrimSuffix(node, "/")
			if !strings.HasPrefix(node, "./") {
				return fmt.Errorf("--node %q: want an absolute URI such as ./FwUpdate/Default", node)
			}
			var url string
			if len(args) == 2 {
				url = args[1]
			}
			switch {
			case op == fumo.OpUpdate && url != "":
				return errors.New("--op update installs the package the device holds: give no URL")
			case op != fumo.OpUpdate && url == "":
				return fmt.Errorf("--op %s needs the package URL", op)
			}
			if correlator == "" {
				b := make([]byte, 6)
				rand.Read(b)
				correlator = "fumo-" + hex.EncodeToString(b)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			device := args[0]
			var jobs []api.Job
			if url != "" {
				j, err := c.CreateJob(ctx, device, api.JobRequest{Command: "Replace",
					Items: []api.JobItem{{URI: node + "/" + string(op) + "/PkgURL", Format: "chr", Data: url}}})
				if err != nil {
					return ctlNotifyHint(err, device)
				}
				jobs = append(jobs, *j)
			}
			exec, err := c.CreateJob(ctx, device, api.JobRequest{Command: "Exec", Correlator: correlator, Notify: notify,
				Items: []api.JobItem{{URI: node + "/" + string(op)}}})
			if err != nil {
				return ctlNotifyHint(err, device)
			}
			if exec.Warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", exec.Warning)
			}
			jobs = append(jobs, *exec)
			if wait <= 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "queued; the device reports with correlator %s (omadm ctl events %s)\n", correlator, device)
				return ctlPrintJobs(cmd.OutOrStdout(), o.format("json"), jobs)
			}
			out := fumoOutcome{Device: device, Node: node, Operation: string(op), Correlator: correlator, ExecJob: exec.ID}
			err = fumoWait(cmd.Context(), c, wait, &out)
			if perr := printFUMO(cmd.OutOrStdout(), o.format("json"), &out); perr != nil {
				return perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "./FwUpdate/Default", "the device's FUMO package node (omadm-agent --fumo)")
	f.StringVar(&opName, "op", string(fumo.OpDownloadAndUpdate), "operation: DownloadAndUpdate, Download or Update")
	f.StringVar(&correlator, "correlator", "", "correlator of the Exec and of the device's report (default: generated)")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the device's report")
	f.BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	return cmd
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

// fumoWait fills out from the device's report of a FUMO Exec.
func fumoWait(ctx context.Context, c *client.Client, wait time.Duration, out *fumoOutcome) error {
	rep, st, err := waitReport(ctx, c, wait, out.Device, out.ExecJob, out.Correlator, func(e api.Event) (asyncReport, bool, error) {
		o, ok, err := fumo.ParseAlert(e.Type, e.Data)
		if o.Request {
			ok = false
		}
		return asyncReport{result: int(o.Result), meaning: o.Result.String(), successful: o.Result.Successful()}, ok, err
	})
	out.ExecStatus = st
	if err != nil {
		return err
	}
	out.EventID, out.Result, out.Meaning, out.Successful = rep.eventID, rep.result, rep.meaning, rep.successful
	if !out.Successful {
		return &exitError{code: exitJobFailed, err: fmt.Errorf("firmware %s failed: %d %s", strings.ToLower(out.Operation), out.Result, out.Meaning)}
	}
	return nil
}

func printFUMO(w io.Writer, format string, out *fumoOutcome) error {
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
