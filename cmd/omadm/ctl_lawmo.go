package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/fleet"
)

func ctlLAWMO(o *ctlOptions) *cobra.Command {
	var node, correlator string
	var wipe []string
	var wait time.Duration
	var notify, notifyUser bool
	var retry func() *api.RetryRequest
	cmd := &cobra.Command{
		Use:   "lawmo ID lock|partial-lock|unlock|wipe|factory-reset",
		Short: "Lock, unlock, wipe or reset a device (LAWMO), optionally waiting for its report",
		Long: `lawmo queues an Exec of <node>/Operations/<Operation> with a correlator
(POST /api/v1/devices/{id}/lawmo). With --wipe-item N… (Replaces that mark
AvailableWipeList/N/ToBeWiped) or --notify-user (a Replace of
LAWMOConfig/NotifyUser) the Replaces and the Exec go out as one Sequence: when
the device refuses a Replace (an item it does not have) the Exec does not run
and the command fails. The device accepts
(202), does the work after the session and reports with a generic alert (1226,
urn:oma:at:lawmo:1.0:OperationComplete) carrying the correlator.

The server retries an attempt that timed out (3 attempts, 5m doubling up to
30m; --max-attempts 1 for none), never one the device reported failed. With
--wait the command waits through those retries for the final report and
prints the outcome; it exits
0 for a successful result, 1 for a failed one and 3 when the report did not
come in time.`,
		Example: `  omadm ctl lawmo IMEI:490154203237518 lock --notify --wait 2m
  omadm ctl lawmo IMEI:490154203237518 wipe --wipe-item 1 --wipe-item 2 --notify --wait 10m`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.LAWMORequest{Node: node, Operation: args[1], WipeItems: wipe, Correlator: correlator, Notify: notify, Retry: retry()}
			if cmd.Flags().Changed("notify-user") {
				req.NotifyUser = &notifyUser
			}
			// Checked here too so that a mistake is reported before any
			// request; the server checks the same (fleet.Validate).
			if err := fleet.Validate(opRequest(args[0], req.ToOperation())); err != nil {
				return err
			}
			a := asyncExec{device: args[0], wait: wait, what: args[1],
				queue: func(ctx context.Context, c *client.Client) (*api.Job, error) { return c.LAWMO(ctx, args[0], req) }}
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
	retry = retryFlags(f)
	return cmd
}
