package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/lawmo"
)

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
			node, err := ctlNode(node, "./LAWMO")
			if err != nil {
				return err
			}
			a := asyncExec{device: args[0], node: node, operation: string(op), execURI: node + "/Operations/" + string(op),
				correlator: correlator, prefix: "lawmo-", notify: notify, wait: wait, what: args[1], parse: parseLAWMO}
			var pre []api.JobItem
			if cmd.Flags().Changed("notify-user") {
				pre = append(pre, api.JobItem{URI: node + "/LAWMOConfig/NotifyUser", Format: "bool", Data: fmt.Sprint(notifyUser)})
			}
			for _, n := range wipe {
				pre = append(pre, api.JobItem{URI: node + "/AvailableWipeList/" + n + "/ToBeWiped", Format: "bool", Data: "true"})
			}
			if len(pre) > 0 {
				a.pre = &api.JobRequest{Command: "Replace", Items: pre}
			}
			return runAsyncExec(cmd, o, a)
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

// parseLAWMO reads the device's report of a LAWMO Exec.
func parseLAWMO(e api.Event) (asyncReport, bool, error) {
	lo, ok, err := lawmo.ParseAlert(e.Type, e.Source, e.Data)
	return asyncReport{result: int(lo.Result), meaning: lo.Result.String(), successful: lo.Result.Successful()}, ok, err
}
