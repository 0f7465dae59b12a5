package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
)

func ctlFUMO(o *ctlOptions) *cobra.Command {
	var node, opName, correlator, pkg string
	var wait time.Duration
	var notify bool
	var retry func() *api.RetryRequest
	cmd := &cobra.Command{
		Use:   "fumo ID [URL]",
		Short: "Update a device's firmware (FUMO): set the package URL, Exec the operation, optionally wait for the device's report",
		Long: `fumo queues what a firmware update over FUMO takes, as one job
(POST /api/v1/devices/{id}/fumo): a Sequence of the Replace of
<node>/<Operation>/PkgURL with URL (not for --op update, which installs a
package the device already holds) and the Exec of <node>/<Operation> with a
correlator, so the Exec never runs when the Replace failed. The device accepts the Exec (202), downloads and installs after
the session, and reports in a later session with a generic alert (1226)
carrying the correlator; it is stored as an event (omadm ctl events ID).

The server retries the update by FUMO's policy: an attempt that timed out or
whose download failed for a transient reason (result 407, 412, 500, 503,
550-599) is made again after a pause (3 attempts, 5m doubling up to 1h;
--max-attempts and --retry-backoff change it). With --wait the command waits
through those retries for the final report and prints the outcome;
it exits 0 for a successful result, 1 for a failed one and 3 when the
report did not come in time.`,
		Example: `  omadm ctl fumo IMEI:490154203237518 https://fw.example.com/acme-2.1.bin --notify --wait 30m
  omadm ctl fumo IMEI:490154203237518 --package pkg-0123456789abcdef --notify
  omadm ctl fumo IMEI:490154203237518 --op update --node ./FwUpdate/Main`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.FUMORequest{Node: node, Operation: opName, Correlator: correlator, Notify: notify, Retry: retry()}
			if len(args) == 2 {
				req.PkgURL = args[1]
			}
			req.Package = pkg
			// Checked here too so that a mistake is reported before any
			// request; the server checks the same (fleet.Validate).
			if err := fleet.Validate(opRequest(args[0], req.ToOperation())); err != nil {
				return err
			}
			a := asyncExec{device: args[0], wait: wait, what: "firmware " + strings.ToLower(opName),
				queue: func(ctx context.Context, c *client.Client) (*api.Job, error) { return c.FUMO(ctx, args[0], req) }}
			return runAsyncExec(cmd, o, a)
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "./FwUpdate/Default", "the device's FUMO package node (omadm-agent --fumo)")
	f.StringVar(&opName, "op", string(fumo.OpDownloadAndUpdate), "operation: DownloadAndUpdate, Download or Update")
	f.StringVar(&correlator, "correlator", "", "correlator of the Exec and of the device's report (default: generated)")
	f.StringVar(&pkg, "package", "", "instead of URL: a package of the server's catalogue (omadm ctl package upload); the server sets PkgURL to its download descriptor for this device")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the device's report")
	f.BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	retry = retryFlags(f)
	return cmd
}
