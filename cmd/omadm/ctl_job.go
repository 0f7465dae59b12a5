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
)

// `omadm ctl get|replace|add|delete|exec|jobs|job|cancel`: queue DM commands
// as jobs, follow and cancel them.

func ctlPrintJobs(w io.Writer, format string, js []api.Job) error {
	if format == "json" {
		return ctlPrintJSON(w, js)
	}
	rows := make([][]string, 0, len(js))
	for _, j := range js {
		var res []string
		for _, r := range j.Results {
			res = append(res, r.URI+"="+r.Data)
		}
		detail := strings.Join(res, " ")
		if j.Error != "" {
			detail = j.Error
		}
		rows = append(rows, []string{strconv.FormatInt(j.ID, 10), j.Device, j.Command, ctlOrDash(j.URI), j.State,
			ctlStatus(j.Status), ctlTime(&j.CreatedAt), ctlTruncate(detail, 60)})
	}
	return ctlTable(w, []string{"ID", "DEVICE", "COMMAND", "URI", "STATE", "STATUS", "CREATED", "RESULT"}, rows)
}

func ctlPrintJob(w io.Writer, format string, j *api.Job) error {
	if format == "json" {
		return ctlPrintJSON(w, j)
	}
	if err := ctlPrintJobs(w, "table", []api.Job{*j}); err != nil {
		return err
	}
	if j.Warning != "" {
		fmt.Fprintln(w, "warning:", j.Warning)
	}
	return nil
}

// ctlJobFlags are the options of every command that queues a job.
type ctlJobFlags struct {
	wait   time.Duration
	notify bool
}

func (jf *ctlJobFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&jf.wait, "wait", 0, "wait up to this long for the job to finish; exit 1 if it failed, 3 if the wait ran out")
	cmd.Flags().BoolVar(&jf.notify, "notify", false, "send package 0 so the device connects now")
}

// ctlSubmit queues req for device, optionally waits, and prints the job.
func ctlSubmit(cmd *cobra.Command, o *ctlOptions, jf *ctlJobFlags, device string, req api.JobRequest) error {
	c, ctx, cancel, err := o.connect(cmd)
	if err != nil {
		return err
	}
	defer cancel()
	req.Notify = jf.notify
	j, err := c.CreateJob(ctx, device, req)
	if err != nil {
		return ctlNotifyHint(err, device)
	}
	if j.Warning != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", j.Warning)
	}
	if jf.wait <= 0 {
		return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
	}
	return ctlWait(cmd, o, c, j, jf.wait)
}

func ctlWait(cmd *cobra.Command, o *ctlOptions, c *client.Client, j *api.Job, wait time.Duration) error {
	wctx, wcancel := context.WithTimeout(cmd.Context(), wait)
	defer wcancel()
	stop := startProgress(cmd.ErrOrStderr(), fmt.Sprintf("waiting for job %d", j.ID))
	done, err := c.WaitJob(wctx, j.ID)
	stop()
	if done == nil {
		done = j
	}
	if perr := ctlPrintJob(cmd.OutOrStdout(), o.format("json"), done); perr != nil {
		return perr
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return timedOutf("job %d still %s after %s", j.ID, done.State, wait)
	case err != nil:
		return err
	case done.State != "done":
		msg := fmt.Sprintf("job %d %s", done.ID, done.State)
		if done.Status != 0 {
			msg += fmt.Sprintf(" (status %d)", done.Status)
		}
		if done.Error != "" {
			msg += ": " + done.Error
		}
		return failedf("%s", msg)
	}
	return nil
}

func ctlGet(o *ctlOptions) *cobra.Command {
	return ctlURIsJob(o, "Get", "get ID URI…", "Queue a Get of one or more nodes (URI may end in ?prop=Name or ?list=Struct)")
}

// ctlURIsJob is a command that queues one DM command (Get, Delete) with an
// Item for each URI given after the device.
func ctlURIsJob(o *ctlOptions, command, use, short string) *cobra.Command {
	var jf ctlJobFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.JobRequest{Command: command}
			for _, u := range args[1:] {
				req.Items = append(req.Items, api.JobItem{URI: u})
			}
			return ctlSubmit(cmd, o, &jf, args[0], req)
		},
	}
	jf.register(cmd)
	return cmd
}

// ctlValueFlags are the Meta of a value given on the command line.
type ctlValueFlags struct {
	format, mime string
	set          bool
}

func (vf *ctlValueFlags) register(cmd *cobra.Command, defFormat string, withSet bool) {
	cmd.Flags().StringVar(&vf.format, "format", defFormat, "Meta Format: chr, int, bool, b64, bin, xml, date, time, float, node, null")
	cmd.Flags().StringVar(&vf.mime, "type", "", "Meta Type (MIME), e.g. text/plain")
	if withSet {
		cmd.Flags().BoolVar(&vf.set, "set", false, "idempotent: Add falls back to Replace on 418 (and Replace to Add on 404)")
	}
}

func ctlReplace(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	cmd := &cobra.Command{
		Use:   "replace ID URI VALUE",
		Short: "Queue a Replace of a leaf value",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.JobRequest{Command: "Replace", Set: vf.set,
				Items: []api.JobItem{{URI: args[1], Format: vf.format, Type: vf.mime, Data: args[2]}}}
			return ctlSubmit(cmd, o, &jf, args[0], req)
		},
	}
	jf.register(cmd)
	vf.register(cmd, "chr", true)
	return cmd
}

func ctlAdd(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	cmd := &cobra.Command{
		Use:   "add ID URI [VALUE]",
		Short: "Queue an Add of a leaf (with VALUE) or an interior node (without)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			it := api.JobItem{URI: args[1], Format: vf.format, Type: vf.mime}
			if len(args) == 3 {
				it.Data = args[2]
				if it.Format == "" {
					it.Format = "chr"
				}
			} else if it.Format == "" {
				it.Format = "node"
			}
			return ctlSubmit(cmd, o, &jf, args[0], api.JobRequest{Command: "Add", Set: vf.set, Items: []api.JobItem{it}})
		},
	}
	jf.register(cmd)
	vf.register(cmd, "", true)
	return cmd
}

func ctlDelete(o *ctlOptions) *cobra.Command {
	return ctlURIsJob(o, "Delete", "delete ID URI…", "Queue a Delete of nodes (and their subtrees)")
}

func ctlExec(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	var correlator string
	cmd := &cobra.Command{
		Use:   "exec ID URI [DATA]",
		Short: "Queue an Exec of a node (e.g. ./FUMO/x/Update)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			it := api.JobItem{URI: args[1], Format: vf.format, Type: vf.mime}
			if len(args) == 3 {
				it.Data = args[2]
			}
			return ctlSubmit(cmd, o, &jf, args[0], api.JobRequest{Command: "Exec", Correlator: correlator, Items: []api.JobItem{it}})
		},
	}
	jf.register(cmd)
	vf.register(cmd, "", false)
	cmd.Flags().StringVar(&correlator, "correlator", "", "correlator echoed in the device's generic alert")
	return cmd
}

func ctlJobs(o *ctlOptions) *cobra.Command {
	var states []string
	var after int64
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs [ID]",
		Short: "List a device's jobs, or every device's without ID",
		Long: `List the jobs of device ID, or of every device when ID is left out,
ordered by job id and paged. With --state the whole fleet is searched for
jobs in those states, e.g. every failed job:

  omadm ctl jobs --state failed`,
		Args: cobra.MaximumNArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			device := ""
			if len(args) == 1 {
				if device = args[0]; device == "" {
					return errors.New("empty device ID (leave it out to list every device's jobs)")
				}
			}
			page, err := c.ListJobs(ctx, device, client.JobQuery{States: states, After: after, Limit: limit})
			if err != nil {
				return err
			}
			if err := ctlPrintJobs(cmd.OutOrStdout(), o.format("table"), page.Jobs); err != nil {
				return err
			}
			if page.Next != "" && o.format("table") == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more: --after %s\n", page.Next)
			}
			return nil
		}),
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: queued, sent, done, failed, cancelled")
	cmd.Flags().Int64Var(&after, "after", 0, "paging cursor: jobs with a greater id")
	cmd.Flags().IntVar(&limit, "limit", 100, "page size (1..1000)")
	return cmd
}

func ctlJob(o *ctlOptions) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "job [DEVICE] JOBID",
		Short: "Show one job (its state, SyncML status and results)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlID(args[len(args)-1], "a job id")
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			j, err := c.GetJob(ctx, id)
			if err != nil {
				return err
			}
			if len(args) == 2 && j.Device != args[0] {
				return fmt.Errorf("job %d belongs to device %q, not %q", id, j.Device, args[0])
			}
			if wait > 0 {
				return ctlWait(cmd, o, c, j, wait)
			}
			return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the job to finish; exit 1 if it failed, 3 if the wait ran out")
	return cmd
}

func ctlCancel(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel [DEVICE] JOBID",
		Short: "Cancel a queued or sent job",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlID(args[len(args)-1], "a job id")
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			if len(args) == 2 {
				// Check ownership first so a mistyped id never cancels another device's job.
				j, err := c.GetJob(ctx, id)
				if err != nil {
					return err
				}
				if j.Device != args[0] {
					return fmt.Errorf("job %d belongs to device %q, not %q", id, j.Device, args[0])
				}
			}
			j, err := c.CancelJob(ctx, id)
			if err != nil {
				return err
			}
			return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
		},
	}
}
