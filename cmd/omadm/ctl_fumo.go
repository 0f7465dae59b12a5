package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/fumo"
)

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
			node, err := ctlNode(node, "./FwUpdate/Default")
			if err != nil {
				return err
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
			a := asyncExec{device: args[0], node: node, operation: string(op), execURI: node + "/" + string(op),
				correlator: correlator, prefix: "fumo-", notify: notify, wait: wait,
				what: "firmware " + strings.ToLower(string(op)), parse: parseFUMO}
			if url != "" {
				a.pre = &api.JobRequest{Command: "Replace",
					Items: []api.JobItem{{URI: node + "/" + string(op) + "/PkgURL", Format: "chr", Data: url}}}
			}
			return runAsyncExec(cmd, o, a)
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

// parseFUMO reads the device's report of a FUMO Exec (a device request
// for an update is not one).
func parseFUMO(e api.Event) (asyncReport, bool, error) {
	o, ok, err := fumo.ParseAlert(e.Type, e.Data)
	if o.Request {
		ok = false
	}
	return asyncReport{result: int(o.Result), meaning: o.Result.String(), successful: o.Result.Successful()}, ok, err
}
