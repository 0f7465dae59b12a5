package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api/client"
)

// `omadm ctl notify|trace|events|tree`: wake a device and see what the
// server saw of it.

func ctlNotify(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "notify ID",
		Short: "Send package 0 so the device opens a session now",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			r, err := c.Notify(ctx, args[0])
			if err != nil {
				return ctlNotifyHint(err, args[0])
			}
			return o.print(cmd, "table", r, func(w io.Writer) error {
				fmt.Fprintf(w, "notification sent to %s (%s)\n", r.Device, r.Addr)
				return nil
			})
		}),
	}
}

func ctlTrace(o *ctlOptions) *cobra.Command {
	var session string
	var limit int
	cmd := &cobra.Command{
		Use:   "trace ID",
		Short: "Show the device's recent DM messages, decoded",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			tl, err := c.Traces(ctx, args[0], session, limit)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", tl.Traces, func(w io.Writer) error {
				for _, t := range tl.Traces {
					arrow := "device → server"
					if t.Direction == "out" {
						arrow = "server → device"
					}
					fmt.Fprintf(w, "── %s  session %s  msg %s  %s  %s  %d bytes\n", t.CreatedAt.Local().Format(time.DateTime+".000"),
						t.Session, t.MsgID, arrow, t.ContentType, len(t.Body))
					fmt.Fprintln(w, strings.TrimRight(t.Decoded, "\n"))
				}
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&session, "session", "", "only this SyncML session")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many messages (the newest)")
	return cmd
}

func ctlEvents(o *ctlOptions) *cobra.Command {
	var after int64
	var limit int
	cmd := &cobra.Command{
		Use:   "events [ID]",
		Short: "List events (generic alerts, session milestones) of one or all devices",
		Args:  cobra.MaximumNArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			device := ""
			if len(args) == 1 {
				device = args[0]
			}
			el, err := c.Events(ctx, device, after, limit)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", el.Events, func(w io.Writer) error {
				rows := make([][]string, 0, len(el.Events))
				for _, e := range el.Events {
					rows = append(rows, []string{strconv.FormatInt(e.ID, 10), ctlTime(&e.CreatedAt), e.Device, e.Kind,
						ctlOrDash(e.Type), ctlOrDash(e.Source), ctlTruncate(e.Data, 40)})
				}
				if err := ctlTable(w, []string{"ID", "TIME", "DEVICE", "KIND", "TYPE", "SOURCE", "DATA"}, rows); err != nil {
					return err
				}
				if el.Next != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "more: --after %s\n", el.Next)
				}
				return nil
			})
		}),
	}
	cmd.Flags().Int64Var(&after, "after", 0, "paging cursor: events with a greater id")
	cmd.Flags().IntVar(&limit, "limit", 100, "page size (1..1000)")
	return cmd
}

func ctlTree(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "tree ID [PREFIX]",
		Short: "Show the server's last known values of the device tree",
		Args:  cobra.RangeArgs(1, 2),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 2 {
				prefix = args[1]
			}
			t, err := c.Tree(ctx, args[0], prefix)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", t, func(w io.Writer) error {
				rows := make([][]string, 0, len(t.Nodes))
				for _, n := range t.Nodes {
					rows = append(rows, []string{n.URI, ctlOrDash(n.Format), ctlOrDash(n.Type), ctlTruncate(n.Value, 60), ctlTime(&n.UpdatedAt)})
				}
				return ctlTable(w, []string{"URI", "FORMAT", "TYPE", "VALUE", "UPDATED"}, rows)
			})
		}),
	}
}
