package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// ctlQueryFlags are the search flags of `device list` and `group members`.
type ctlQueryFlags struct {
	q, sort, cursor string
	desc, all       bool
	limit           int
}

func (f *ctlQueryFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.q, "filter", "q", "", "selector, e.g. label.env=prod,model=X200,fwv=2.1,seen<24h,group=pilot,id^=IMEI:35")
	fl.StringVar(&f.sort, "sort", "", "order: id (default), last_seen or created; a leading - sorts descending")
	fl.BoolVar(&f.desc, "desc", false, "sort descending")
	fl.IntVar(&f.limit, "limit", 100, "devices per page (1..1000)")
	fl.StringVar(&f.cursor, "cursor", "", "continue from the cursor a previous page printed")
	fl.BoolVar(&f.all, "all", false, "follow the cursors to the last page")
}

func (f *ctlQueryFlags) query() (client.DeviceQuery, error) {
	dq := client.DeviceQuery{Q: f.q, Sort: f.sort, Desc: f.desc, Cursor: f.cursor, Limit: f.limit}
	if s, ok := strings.CutPrefix(dq.Sort, "-"); ok {
		dq.Sort, dq.Desc = s, true
	}
	if f.limit < 1 || f.limit > 1000 {
		return dq, fmt.Errorf("--limit %d: want 1..1000", f.limit)
	}
	if f.all && f.cursor != "" {
		return dq, errors.New("--all starts from the first page: drop --cursor")
	}
	return dq, nil
}

// run prints the devices of one page (or of every page with --all) and,
// when more follow, the cursor of the next page on stderr.
func (f *ctlQueryFlags) run(cmd *cobra.Command, o *ctlOptions, page func(client.DeviceQuery) (*api.DeviceList, error)) error {
	dq, err := f.query()
	if err != nil {
		return err
	}
	var all []api.Device
	for {
		l, err := page(dq)
		if err != nil {
			return err
		}
		all = append(all, l.Devices...)
		if !f.all || l.NextCursor == "" {
			if err := ctlPrintDevices(cmd.OutOrStdout(), o.format("table"), all); err != nil {
				return err
			}
			if l.NextCursor != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more devices follow: --all, or --cursor %s\n", l.NextCursor)
			}
			return nil
		}
		if l.NextCursor == dq.Cursor {
			return errors.New("the server returned the same cursor twice")
		}
		dq.Cursor = l.NextCursor
	}
}

func ctlDeviceList(o *ctlOptions) *cobra.Command {
	var f ctlQueryFlags
	cmd := &cobra.Command{
		Use:     "list [-q SELECTOR] [--sort FIELD] [--desc] [--limit N] [--all | --cursor C]",
		Aliases: []string{"ls"},
		Short:   "List devices, filtered, sorted and paged",
		Long: `List devices. -q takes a selector: comma-separated terms that must all match,
label.KEY=VALUE, label.KEY (present), model=, man=, fwv=, swv=, hwv=, lang=,
dmv=, oem=, devtyp=, ./URI=VALUE, id=ID, id^=PREFIX, group=NAME, seen<24h
(seen within), seen>7d (not seen for; never seen included), seen=never,
seen_after=TIME, seen_before=TIME (RFC 3339). Values may be double-quoted.`,
		Args: cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			return f.run(cmd, o, func(dq client.DeviceQuery) (*api.DeviceList, error) { return c.QueryDevices(ctx, dq) })
		}),
	}
	f.register(cmd)
	return cmd
}

// ctlLabelArgs reads "k=v" (set) and "k-" (remove) arguments.
func ctlLabelArgs(args []string) (api.LabelChange, error) {
	var ch api.LabelChange
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			if ch.Set == nil {
				ch.Set = map[string]string{}
			}
			ch.Set[k] = v
			continue
		}
		if k, ok := strings.CutSuffix(a, "-"); ok && k != "" {
			ch.Remove = append(ch.Remove, k)
			continue
		}
		return ch, fmt.Errorf("%q: want KEY=VALUE to set a label or KEY- to remove it", a)
	}
	if len(ch.Set) == 0 && len(ch.Remove) == 0 {
		return ch, errors.New("nothing to change: give KEY=VALUE and/or KEY- arguments")
	}
	return ch, nil
}

func ctlDeviceLabel(o *ctlOptions) *cobra.Command {
	var selector string
	var all bool
	cmd := &cobra.Command{
		Use:   "label (ID | -q SELECTOR | --all) KEY=VALUE... KEY-...",
		Short: "Set (KEY=VALUE) and remove (KEY-) labels of a device, or of every device a selector matches",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bulk := cmd.Flags().Changed("filter") || all
			var id string
			if !bulk {
				id, args = args[0], args[1:]
			}
			ch, err := ctlLabelArgs(args)
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			w := cmd.OutOrStdout()
			if bulk {
				if selector == "" && !all {
					return errors.New("an empty selector changes every device: add --all to mean it")
				}
				r, err := c.ChangeLabelsBySelector(ctx, api.BulkLabelRequest{Q: selector, All: all, LabelChange: ch})
				if err != nil {
					return err
				}
				return o.print(cmd, "table", r, func(w io.Writer) error {
					fmt.Fprintf(w, "matched %d devices, changed %d", r.Matched, r.Changed)
					if r.Skipped > 0 {
						fmt.Fprintf(w, ", left %d unchanged (they would have more than %d labels)", r.Skipped, api.MaxLabels)
					}
					fmt.Fprintln(w)
					return nil
				})
			}
			d, err := c.ChangeLabels(ctx, id, ch)
			if err != nil {
				return err
			}
			return ctlPrintDevices(w, o.format("table"), []api.Device{*d})
		},
	}
	cmd.Flags().StringVarP(&selector, "filter", "q", "", "change every device this selector matches instead of one device")
	cmd.Flags().BoolVar(&all, "all", false, "change every device (with an empty selector)")
	return cmd
}

func ctlDeviceImport(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Enrol many devices from NDJSON or a JSON array of device records (- reads stdin)",
		Long: `Import devices. Each record is a device as "device add" takes it, in JSON:
{"id":"IMEI:1","username":"u","password":"p","server_password":"s","auth":"md5",
 "notify_addr":"udp://10.0.0.5:2948","labels":{"env":"prod"}}
one per line (NDJSON) or in one JSON array. server_password is required. The
server stores the records in batches as they arrive; records it refuses (invalid,
or their ID taken) are listed with their line, and the command then fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			// An import of a million records takes longer than one request's
			// usual timeout: it runs until the server answers or ^C.
			res, err := c.ImportDevices(cmd.Context(), r)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				if err := ctlPrintJSON(w, res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "imported %d devices, %d records refused\n", res.Imported, res.Failed)
				if len(res.Errors) > 0 {
					rows := make([][]string, 0, len(res.Errors))
					for _, e := range res.Errors {
						rows = append(rows, []string{strconv.Itoa(e.Line), strconv.Itoa(e.Record), ctlOrDash(e.ID), e.Error})
					}
					if err := ctlTable(w, []string{"LINE", "RECORD", "ID", "ERROR"}, rows); err != nil {
						return err
					}
					if res.Failed > len(res.Errors) {
						fmt.Fprintf(w, "(%d more refused records not listed)\n", res.Failed-len(res.Errors))
					}
				}
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d of %d records were not imported", res.Failed, res.Failed+res.Imported)
			}
			return nil
		},
	}
}

func ctlGroup(o *ctlOptions) *cobra.Command {
	g := &cobra.Command{Use: "group", Short: "Static groups (members by ID) and dynamic groups (a saved selector)"}
	g.AddCommand(ctlGroupCreate(o), ctlGroupList(o), ctlGroupGet(o), ctlGroupDelete(o),
		ctlGroupMembersChange(o, "add"), ctlGroupMembersChange(o, "remove"), ctlGroupMembers(o))
	return g
}

func ctlPrintGroups(w io.Writer, format string, gs []api.Group) error {
	if format == "json" {
		return ctlPrintJSON(w, gs)
	}
	rows := make([][]string, 0, len(gs))
	for _, g := range gs {
		kind := "static"
		if g.Dynamic {
			kind = "dynamic"
		}
		rows = append(rows, []string{g.Name, kind, ctlOrDash(g.Selector), ctlOrDash(g.Description), ctlTime(&g.CreatedAt)})
	}
	return ctlTable(w, []string{"NAME", "KIND", "SELECTOR", "DESCRIPTION", "CREATED"}, rows)
}

func ctlGroupCreate(o *ctlOptions) *cobra.Command {
	var req api.GroupCreate
	cmd := &cobra.Command{
		Use:   "create NAME [--selector SELECTOR] [--description TEXT]",
		Short: "Create a group: static, or dynamic with --selector",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			g, err := c.CreateGroup(ctx, req)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", g, func(w io.Writer) error {
				return ctlPrintGroups(w, "table", []api.Group{*g})
			})
		}),
	}
	cmd.Flags().StringVarP(&req.Selector, "selector", "q", "", "makes the group dynamic: its members are the devices this selector matches when it is used")
	cmd.Flags().StringVar(&req.Description, "description", "", "what the group is for")
	return cmd
}

func ctlGroupList(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List groups",
		Args:    cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			var all []api.Group
			after := ""
			for {
				l, err := c.ListGroups(ctx, after, 1000)
				if err != nil {
					return err
				}
				all = append(all, l.Groups...)
				if l.Next == "" || l.Next == after {
					break
				}
				after = l.Next
			}
			return ctlPrintGroups(cmd.OutOrStdout(), o.format("table"), all)
		}),
	}
}

func ctlGroupGet(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Aliases: []string{"show"},
		Short:   "Show one group",
		Args:    cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			g, err := c.GetGroup(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(cmd, "table", g, func(w io.Writer) error {
				return ctlPrintGroups(w, "table", []api.Group{*g})
			})
		}),
	}
}

func ctlGroupDelete(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a group (its devices stay)",
		Args:    cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			if err := c.DeleteGroup(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "group %s deleted\n", args[0])
			return nil
		}),
	}
}

func ctlGroupMembersChange(o *ctlOptions, verb string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME DEVICE-ID...",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " devices of a static group",
		Args:  cobra.MinimumNArgs(2),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			var ch api.MembersChange
			if verb == "add" {
				ch.Add = args[1:]
			} else {
				ch.Remove = args[1:]
			}
			r, err := c.ChangeMembers(ctx, args[0], ch)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", r, func(w io.Writer) error {
				if verb == "add" {
					fmt.Fprintf(w, "added %d devices to %s (%d already members)\n", r.Added, args[0], len(args)-1-r.Added)
				} else {
					fmt.Fprintf(w, "removed %d devices from %s\n", r.Removed, args[0])
				}
				return nil
			})
		}),
	}
}

func ctlGroupMembers(o *ctlOptions) *cobra.Command {
	var f ctlQueryFlags
	cmd := &cobra.Command{
		Use:   "members NAME [-q SELECTOR] [--sort FIELD] [--desc] [--limit N] [--all | --cursor C]",
		Short: "List a group's devices (a dynamic group's selector is evaluated now)",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			return f.run(cmd, o, func(dq client.DeviceQuery) (*api.DeviceList, error) { return c.GroupMembers(ctx, args[0], dq) })
		}),
	}
	f.register(cmd)
	return cmd
}
