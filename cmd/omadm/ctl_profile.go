package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// ctlProfile is `omadm ctl profile add|set|list|show|rm|apply`: connectivity
// profiles (/api/v1/profiles) and their application to a device (an
// operation of mo connmo).
func ctlProfile(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "profile", Short: "Connectivity profiles (APN or Wi-Fi) and applying them to devices (ConnMO)"}
	var kind string
	var settings []string
	parse := func() (map[string]string, error) {
		m := map[string]string{}
		for _, s := range settings {
			k, v, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--set %q: want name=value", s)
			}
			m[k] = v
		}
		return m, nil
	}
	write := func(update bool) *cobra.Command {
		use, short := "add NAME", "Store a profile"
		if update {
			use, short = "set NAME", "Replace a profile's kind and settings (password/passphrase ******** keeps the stored one)"
		}
		c := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
			Example: `  omadm ctl profile add corp --kind apn --set apn=corp.example --set auth_type=CHAP --set username=fleet --set password=s3cret
  omadm ctl profile add office --kind wifi --set ssid=Office --set passphrase='correct horse'`,
			RunE: func(cmd *cobra.Command, args []string) error {
				s, err := parse()
				if err != nil {
					return err
				}
				req := api.ProfileRequest{Name: args[0], Kind: kind, Settings: s}
				if err := api.ValidateProfile(&req); err != nil {
					return err
				}
				c, ctx, cancel, err := o.connect(cmd)
				if err != nil {
					return err
				}
				defer cancel()
				var p *api.Profile
				if update {
					p, err = c.UpdateProfile(ctx, args[0], req)
				} else {
					p, err = c.CreateProfile(ctx, req)
				}
				if err != nil {
					return err
				}
				return printProfile(cmd, o, p)
			}}
		c.Flags().StringVar(&kind, "kind", "", "apn or wifi (required)")
		c.Flags().StringArrayVar(&settings, "set", nil, "a setting name=value; repeatable (apn: apn, display_name, auth_type, username, password, proxy_addr, proxy_port; wifi: ssid, display_name, security, passphrase, hidden, proxy_addr, proxy_port)")
		return c
	}
	list := &cobra.Command{Use: "list", Short: "List profiles", Args: cobra.NoArgs, RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
		var all []api.Profile
		after := ""
		for {
			l, err := c.ListProfiles(ctx, after, 500)
			if err != nil {
				return err
			}
			all = append(all, l.Profiles...)
			if l.Next == "" {
				break
			}
			after = l.Next
		}
		return o.print(cmd, "table", all, func(w io.Writer) error {
			rows := make([][]string, 0, len(all))
			for _, p := range all {
				rows = append(rows, []string{p.Name, p.Kind, settingsText(p.Settings), ctlTime(&p.UpdatedAt)})
			}
			return ctlTable(w, []string{"NAME", "KIND", "SETTINGS", "UPDATED"}, rows)
		})
	})}
	show := &cobra.Command{Use: "show NAME", Short: "Show a profile", Args: cobra.ExactArgs(1), RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
		p, err := c.GetProfile(ctx, args[0])
		if err != nil {
			return err
		}
		return printProfile(cmd, o, p)
	})}
	rm := &cobra.Command{Use: "rm NAME", Short: "Delete a profile (devices keep what was applied)", Args: cobra.ExactArgs(1), RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
		return c.DeleteProfile(ctx, args[0])
	})}
	var node string
	var replace, notify bool
	apply := &cobra.Command{Use: "apply ID NAME", Short: "Apply a profile to a device as one Atomic (an operation of mo connmo)", Args: cobra.ExactArgs(2),
		Long: `apply starts an operation of mo connmo (POST /api/v1/devices/{id}/operations):
the profile's access point (and proxy) are added under the device's ConnMO
node in one Atomic, all or nothing. With --replace the device's earlier copy
is deleted first in the same Atomic (it must exist). Follow it with
omadm ctl op get OPID.`,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			params := map[string]any{"profile": args[1]}
			if replace {
				params["replace"] = true
			}
			op, err := c.CreateOperation(ctx, args[0], api.OperationRequest{MO: "connmo", Node: node, Params: params, Notify: notify})
			if err != nil {
				return ctlNotifyHint(err, args[0])
			}
			if op.Warning != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", op.Warning)
			}
			return ctlPrintJSON(cmd.OutOrStdout(), op)
		})}
	apply.Flags().StringVar(&node, "node", "./ConnMO", "the device's ConnMO node (omadm-agent --connmo)")
	apply.Flags().BoolVar(&replace, "replace", false, "the device has the profile already: delete its copy first, in the same Atomic")
	apply.Flags().BoolVar(&notify, "notify", false, "send package 0 so the device connects now")
	cmd.AddCommand(write(false), write(true), list, show, rm, apply)
	return cmd
}

func settingsText(s map[string]string) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+s[k])
	}
	return strings.Join(parts, " ")
}

func printProfile(cmd *cobra.Command, o *ctlOptions, p *api.Profile) error {
	if o.format("json") == "json" {
		return ctlPrintJSON(cmd.OutOrStdout(), p)
	}
	return ctlTable(cmd.OutOrStdout(), []string{"NAME", "KIND", "SETTINGS"}, [][]string{{p.Name, p.Kind, settingsText(p.Settings)}})
}
