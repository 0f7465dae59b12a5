package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/fleet"
)

// ctlSCOMO is `omadm ctl scomo install|remove|activate|deactivate|inventory`:
// a thin client of POST /devices/{id}/operations (mo "scomo") and of
// /devices/{id}/scomo/inventory.
func ctlSCOMO(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scomo",
		Short: "Install, remove, activate and deactivate software components (SCOMO); show a device's inventory",
		Long: `scomo runs SCOMO operations as server operations (POST
/api/v1/devices/{id}/operations with mo "scomo"). install Adds
<node>/Download/<id> with PkgID, PkgURL and Name and Execs its DownloadInstall
(DownloadInstallInactive with --inactive, Download with --download-only) in one
Sequence; with --package instead of URL, PkgURL is the download descriptor of a
package of the server's catalogue, bound to the device; remove, activate and deactivate Exec the Operations of
<node>/Inventory/Deployed/<id> (remove --delivered: of Inventory/Delivered/<id>).
The device accepts (202), works after the session and reports with a generic
alert (1226, urn:oma:at:scomo:1.0:OperationComplete) whose result code is 1200
on success and 14xx/15xx on failure (OMA-TS-DM-SCOMO-V1_0 §8.7).

With --wait the command waits for that report and prints the outcome; it exits
0 for a successful result, 1 for a failed one and 3 when the report did not
come in time.`,
		Example: `  omadm ctl scomo install IMEI:490154203237518 maps https://pkgs.example/maps-2.1.tgz --name Maps --notify --wait 10m
  omadm ctl scomo install IMEI:490154203237518 maps --package pkg-0123456789abcdef --notify
  omadm ctl scomo deactivate IMEI:490154203237518 maps --wait 2m
  omadm ctl scomo inventory IMEI:490154203237518 --refresh --notify --wait 1m`,
	}
	var node, correlator string
	var wait time.Duration
	var notify bool
	common := func(c *cobra.Command) {
		f := c.Flags()
		f.StringVar(&node, "node", "./SCOMO", "the device's SCOMO node (omadm-agent --scomo)")
		f.StringVar(&correlator, "correlator", "", "correlator of the Exec and of the device's report (default: generated)")
		f.DurationVar(&wait, "wait", 0, "wait up to this long for the device's report")
		f.BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	}
	run := func(c *cobra.Command, device, operation string, params map[string]any) error {
		req := api.OperationRequest{MO: "scomo", Operation: operation, Node: node, Params: params, Correlator: correlator, Notify: notify}
		// Checked here too so that a mistake is reported before any
		// request; the server checks the same (fleet.Validate).
		if err := fleet.Validate(opRequest(device, req)); err != nil {
			return err
		}
		a := asyncExec{device: device, wait: wait, what: operation, queue: func(ctx context.Context, cl *client.Client) (*api.Job, error) {
			op, err := cl.CreateOperation(ctx, device, req)
			if err != nil {
				return nil, err
			}
			j, err := cl.GetJob(ctx, op.Job)
			if err != nil {
				return nil, err
			}
			if j.Operation == nil {
				j.Operation = &api.JobOperation{ID: op.ID, State: op.State}
			}
			j.Warning = op.Warning
			return j, nil
		}}
		return runAsyncExec(c, o, a)
	}

	var name, desc, pkgType, pkg string
	var inactive, downloadOnly bool
	install := &cobra.Command{
		Use:   "install DEVICE ID [URL]",
		Short: "Download a package (URL, or --package from the server's catalogue) and install it as component ID",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(c *cobra.Command, args []string) error {
			op := "install"
			switch {
			case downloadOnly && inactive:
				return fmt.Errorf("--download-only and --inactive exclude each other (install the delivered package with: scomo install-delivered)")
			case downloadOnly:
				op = "download"
			case inactive:
				op = "install-inactive"
			}
			params := map[string]any{"id": args[1]}
			switch {
			case len(args) == 3 && pkg != "":
				return fmt.Errorf("give URL or --package, not both")
			case len(args) == 3:
				params["url"] = args[2]
			case pkg != "":
				params[fleet.PackageParam] = pkg
			default:
				return fmt.Errorf("give the package's URL or --package (a package of the server's catalogue)")
			}
			for k, v := range map[string]string{"name": name, "description": desc, "pkg_type": pkgType} {
				if v != "" {
					params[k] = v
				}
			}
			return run(c, args[0], op, params)
		},
	}
	common(install)
	install.Flags().StringVar(&name, "name", "", "the package's Name")
	install.Flags().StringVar(&desc, "description", "", "the package's Description")
	install.Flags().StringVar(&pkgType, "pkg-type", "", "the package's PkgType (a MIME type)")
	install.Flags().StringVar(&pkg, "package", "", "instead of URL: a package of the server's catalogue (omadm ctl package upload); the server sets PkgURL to its download descriptor for this device")
	install.Flags().BoolVar(&inactive, "inactive", false, "install without activating (DownloadInstallInactive)")
	install.Flags().BoolVar(&downloadOnly, "download-only", false, "only download: the package becomes Inventory/Delivered/ID (Download)")

	var delivered bool
	remove := &cobra.Command{
		Use: "remove DEVICE ID", Short: "Remove installed component ID", Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			op := "remove"
			if delivered {
				op = "remove-delivered"
			}
			return run(c, args[0], op, map[string]any{"id": args[1]})
		},
	}
	common(remove)
	remove.Flags().BoolVar(&delivered, "delivered", false, "remove the delivered (downloaded, not installed) package ID instead")

	simple := func(use, op, short string) *cobra.Command {
		c := &cobra.Command{Use: use + " DEVICE ID", Short: short, Args: cobra.ExactArgs(2),
			RunE: func(c *cobra.Command, args []string) error { return run(c, args[0], op, map[string]any{"id": args[1]}) }}
		common(c)
		return c
	}
	cmd.AddCommand(install, remove,
		simple("activate", "activate", "Activate installed component ID"),
		simple("deactivate", "deactivate", "Deactivate installed component ID"),
		simple("install-delivered", "install-delivered", "Install the delivered package ID"),
		ctlSCOMOInventory(o))
	return cmd
}

func ctlSCOMOInventory(o *ctlOptions) *cobra.Command {
	var node string
	var refresh, notify bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "inventory DEVICE",
		Short: "Show a device's software components as the server last read them",
		Long: `inventory shows <node>/Inventory as the server last read it (GET
/api/v1/devices/{id}/scomo/inventory). With --refresh it first queues a Get of
<node>/Inventory?list=StructData (POST to the same URL) and, with --wait, waits
for the device to answer it before showing the result.`,
		Args: cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			if refresh {
				j, err := c.ReadSCOMOInventory(ctx, args[0], api.SCOMOInventoryRequest{Node: node, Notify: notify})
				if err != nil {
					return ctlNotifyHint(err, args[0])
				}
				if j.Warning != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning:", j.Warning)
				}
				if wait <= 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "inventory read queued as job %d; run this again without --refresh once the device connected\n", j.ID)
				} else {
					wctx, wcancel := context.WithTimeout(cmd.Context(), wait)
					done, err := c.WaitJob(wctx, j.ID)
					wcancel()
					if err != nil {
						return timedOutf("the device did not answer the inventory read (job %d) within %s", j.ID, wait)
					}
					if done.State != "done" {
						return failedf("inventory read (job %d) %s: %s", j.ID, done.State, done.Error)
					}
				}
			}
			inv, err := c.SCOMOInventory(ctx, args[0], node)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", inv, func(w io.Writer) error {
				if inv.ReadAt == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "the inventory of %s was never read: use --refresh\n", args[0])
				}
				rows := [][]string{}
				for _, d := range inv.Deployed {
					rows = append(rows, []string{d.ID, "deployed", d.Name, d.Version, d.State, fmt.Sprint(d.Status)})
				}
				for _, d := range inv.Delivered {
					rows = append(rows, []string{d.PkgID, "delivered", d.Name, "", d.State, fmt.Sprint(d.Status)})
				}
				return ctlTable(w, []string{"ID", "WHERE", "NAME", "VERSION", "STATE", "STATUS"}, rows)
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "", "the device's SCOMO node (default ./SCOMO)")
	f.BoolVar(&refresh, "refresh", false, "read the inventory from the device first")
	f.BoolVar(&notify, "notify", false, "with --refresh: send package 0 so the device connects now")
	f.DurationVar(&wait, "wait", 0, "with --refresh: wait up to this long for the device's answer")
	return cmd
}
