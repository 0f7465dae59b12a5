package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/lawmo"
)

// lawmoOutcome is what `ctl lawmo --wait` prints.
type lawmoOutcome struct {
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

// lawmoOps maps the command's operation words to the LAWMO nodes.
var lawmoOps = map[string]lawmo.Op{
	"lock": lawmo.OpFullyLock, "partial-lock": lawmo.OpPartiallyLock, "unlock": lawmo.OpUnLock,
	"wipe": lawmo.OpWipe, "factory-reset": lawmo.OpFactoryReset,
}

func ctlLAWMO(o *ctlOptions) *cobra.Command {
	var node, correlator string
	var wipe []string
	var wait time.Duration
	var notify, notifyUser bool
	cmd := &cobra.Command{
		Use:   "lawmo ID lock|partial-lock|unlock|wipe|factory-reset",
		Short: "Lock, unlock, wipe or reset a device (LAWMO), optionally waiting for its report",
		Long: `lawmo queues an Exec of <node>/Operations/<Operation> with a correlator
(before it, with --wipe-item N…, Replaces that mark AvailableWipeList/N/ToBeWiped,
and with --notify-user, a Replace of LAWMOConfig/NotifyUser). The device accepts
(202), does the work after the session and reports with a generic alert (1226,
urn:oma:at:lawmo:1.0:OperationComplete) carrying the correlator.

With --wait the command waits for that report and prints the outcome; it exits
0 for a successful result, 1 for a failed one and 2 when the report did not
come in time.`,
		Example: `  omadm ctl lawmo IMEI:490154203237518 lock --notify --wait 2m
  omadm ctl lawmo IMEI:490154203237518 wipe --wipe-item 1 --wipe-item 2 --notify --wait 10m`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, ok := lawmoOps[strings.ToLower(args[1])]
			if !ok {
				return fmt.Errorf("unknown operation %q (want lock, partial-lock, unlock, wipe or factory-reset)", args[1])
			}
			if len(wipe) > 0 && op != lawmo.OpWipe {
				return fmt.Errorf("--wipe-item applies to wipe, not %s", args[1])
			}
			node = strings.TrimSuffix(node, "/")
			if !strings.HasPrefix(node, "./") {
				return fmt.Errorf("--node %q: want an absolute URI such as ./LAWMO", node)
			}
			if correlator == "" {
				b := make([]byte, 6)
				rand.Read(b)
				correlator = "lawmo-" + hex.EncodeToString(b)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			device := args[0]
			var jobs []api.Job
			var pre []api.JobItem
			if cmd.Flags().Changed("notify-user") {
				pre = append(pre, api.JobItem{URI: node + "/LAWMOConfig/NotifyUser", Format: "bool", Data: fmt.Sprint(notifyUser)})
			}
			for _, n := range wipe {
				pre = append(pre, api.JobItem{URI: node + "/AvailableWipeList/" + n + "/ToBeWiped", Format: "bool", Data: "true"})
			}
			if len(pre) > 0 {
				j, err := c.CreateJob(ctx, device, api.JobRequest{Command: "Replace", Items: pre})
				if err != nil {
					return ctlNotifyHint(err, device)
				}
				jobs = append(jobs, *j)
			}
			exec, err := c.CreateJob(ctx, device, api.JobRequest{Command: "Exec", Correlator: correlator, Notify: notify,
				Items: []api.JobItem{{URI: node + "/Operations/" + string(op)}}})
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
			out := lawmoOutcome{Device: device, Node: node, Operation: string(op), Correlator: correlator, ExecJob: exec.ID}
			rep, st, err := waitReport(cmd.Context(), c, wait, device, exec.ID, correlator, func(e api.Event) (asyncReport, bool, error) {
				lo, ok, err := lawmo.ParseAlert(e.Type, e.Source, e.Data)
				return asyncReport{result: int(lo.Result), meaning: lo.Result.String(), successful: lo.Result.Successful()}, ok, err
			})
			out.ExecStatus = st
			if err == nil {
				out.EventID, out.Result, out.Meaning, out.Successful = rep.eventID, rep.result, rep.meaning, rep.successful
				if !out.Successful {
					err = &exitError{code: exitJobFailed, err: fmt.Errorf("%s failed: %d %s", args[1], out.Result, out.Meaning)}
				}
			}
			if perr := printLAWMO(cmd.OutOrStdout(), o.format("json"), &out); perr != nil {
				return perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "./LAWMO", "the device's LAWMO node (omadm-agent --lawmo)")
	f.StringVar(&correlator, "correlator", "", "correlator of the Exec and of the device's report (default: generated)")
	f.StringSliceVar(&wipe, "wipe-item", nil, "with wipe: AvailableWipeList entry (its node name, e.g. 1) to erase too; repeatable")
	f.BoolVar(&notifyUser, "notify-user", false, "set LAWMOConfig/NotifyUser first (tell the user, or with =false, don't)")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the device's report")
	f.BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	return cmd
}

func printLAWMO(w io.Writer, format string, out *lawmoOutcome) error {
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
