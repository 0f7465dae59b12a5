package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// ctlPackage is `omadm ctl package`: the server's package catalogue and
// release policy.
func ctlPackage(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "package", Short: "Upload, list, show and delete update packages; set the release policy"}
	cmd.AddCommand(ctlPackageUpload(o), ctlPackageList(o), ctlPackageGet(o), ctlPackageDelete(o), ctlPackagePolicy(o))
	return cmd
}

func ctlPackageUpload(o *ctlOptions) *cobra.Command {
	var name, version, typ string
	cmd := &cobra.Command{
		Use:   "upload FILE --name NAME --version VERSION [--type MEDIA-TYPE]",
		Short: "Upload a package to the server's catalogue",
		Long: `upload stores FILE in the server's catalogue (POST /api/v1/packages). Devices
fetch it at /dl/<id> (HTTP Range supported, so an interrupted download resumes)
through the OMA download descriptor /dl/<id>.dd; queue it with
omadm ctl fumo ID --package <id>, or name it in the release policy.`,
		Example: `  omadm ctl package upload fw-2.1.bin --name modem-fw --version 2.1`,
		Args:    cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			p, err := c.UploadPackage(ctx, name, version, typ, f)
			if err != nil {
				return err
			}
			return printPackages(cmd, o, []api.Package{*p}, "table")
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "package name (required)")
	cmd.Flags().StringVar(&version, "version", "", "firmware or software version it installs (required; the release policy compares it with DevDetail/FwV)")
	cmd.Flags().StringVar(&typ, "type", "", "media type the download descriptor announces (default application/octet-stream)")
	return cmd
}

func ctlPackageList(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the catalogue's packages", Args: cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			ps, err := c.ListPackages(ctx)
			if err != nil {
				return err
			}
			return printPackages(cmd, o, ps, "table")
		}),
	}
}

func ctlPackageGet(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "get ID", Short: "Show one package", Args: cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			p, err := c.GetPackage(ctx, args[0])
			if err != nil {
				return err
			}
			return printPackages(cmd, o, []api.Package{*p}, "json")
		}),
	}
}

func ctlPackageDelete(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "delete ID", Short: "Delete a package (refused while the release policy names it)", Args: cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			if err := c.DeletePackage(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		}),
	}
}

func ctlPackagePolicy(o *ctlOptions) *cobra.Command {
	var rules []string
	var clear bool
	cmd := &cobra.Command{
		Use:   "policy [--rule MODEL[@FROM-VERSION]=PACKAGE]… [--clear]",
		Short: "Show or set the release policy answering devices that ask for a firmware update",
		Long: `Without flags, policy prints the release policy. With --rule (repeatable) or
--clear it replaces it (PUT /api/v1/release-policy). A device that asks for an
update (FUMO client-initiated, omadm-agent --check-update) gets the package of
the rule for its model (DevInfo/Mod) and firmware version (DevDetail/FwV): a
rule naming its version wins over a rule for any version; a device already at
the package's version gets nothing.`,
		Example: `  omadm ctl package policy --rule 'omadm-agent=pkg-0123456789abcdef'
  omadm ctl package policy --rule 'X200@1.0=pkg-0123456789abcdef' --rule 'X200=pkg-fedcba9876543210'`,
		Args: cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			var pol *api.ReleasePolicy
			var err error
			if len(rules) > 0 || clear {
				if len(rules) > 0 && clear {
					return fmt.Errorf("give --rule or --clear, not both")
				}
				p := api.ReleasePolicy{Rules: []api.Release{}}
				for _, r := range rules {
					lhs, pkg, ok := strings.Cut(r, "=")
					if !ok || lhs == "" || pkg == "" {
						return fmt.Errorf("--rule %q: want MODEL[@FROM-VERSION]=PACKAGE", r)
					}
					model, from, _ := strings.Cut(lhs, "@")
					p.Rules = append(p.Rules, api.Release{Model: model, FromVersion: from, Package: pkg})
				}
				pol, err = c.SetReleasePolicy(ctx, p)
			} else {
				pol, err = c.ReleasePolicy(ctx)
			}
			if err != nil {
				return err
			}
			return o.print(cmd, "table", pol, func(w io.Writer) error {
				rows := [][]string{}
				for _, r := range pol.Rules {
					rows = append(rows, []string{r.Model, orAny(r.FromVersion), r.Package})
				}
				return ctlTable(w, []string{"MODEL", "FROM", "PACKAGE"}, rows)
			})
		}),
	}
	cmd.Flags().StringArrayVar(&rules, "rule", nil, "MODEL[@FROM-VERSION]=PACKAGE; repeatable; replaces the whole policy")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every rule")
	return cmd
}

func orAny(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}

func printPackages(cmd *cobra.Command, o *ctlOptions, ps []api.Package, def string) error {
	if o.format(def) == "json" {
		if len(ps) == 1 && def == "json" {
			return ctlPrintJSON(cmd.OutOrStdout(), ps[0])
		}
		return ctlPrintJSON(cmd.OutOrStdout(), ps)
	}
	rows := [][]string{}
	for _, p := range ps {
		rows = append(rows, []string{p.ID, p.Name, p.Version, p.Type, strconv.FormatInt(p.Size, 10), p.SHA256[:min(12, len(p.SHA256))], p.DescriptorURL})
	}
	return ctlTable(cmd.OutOrStdout(), []string{"ID", "NAME", "VERSION", "TYPE", "SIZE", "SHA256", "DESCRIPTOR"}, rows)
}
