package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// ctlCampaign is `ctl campaign`: a thin client of /api/v1/campaigns.
func ctlCampaign(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "campaign", Short: "Roll an operation out to many devices in waves (create, list, get, devices, pause, resume, cancel)"}
	cmd.AddCommand(ctlCampaignCreate(o), ctlCampaignList(o), ctlCampaignGet(o), ctlCampaignDevices(o),
		ctlCampaignSteer(o, "pause"), ctlCampaignSteer(o, "resume"), ctlCampaignSteer(o, "cancel"))
	return cmd
}

func ctlPrintCampaign(w io.Writer, format string, c *api.Campaign) error {
	if format == "json" {
		return ctlPrintJSON(w, c)
	}
	fmt.Fprintf(w, "campaign %d %s: %s", c.ID, ctlOrDash(c.Name), c.State)
	if c.Reason != "" {
		fmt.Fprintf(w, " (%s)", c.Reason)
	}
	fmt.Fprintf(w, "\n%s %s, wave %d of %d %v, %d of %d devices done\n", c.Template.MO, c.Template.Operation, c.Wave, len(c.Waves), c.Waves, c.Done, c.Total)
	var parts []string
	for _, s := range []string{"pending", "notified", "in_progress", "succeeded", "failed", "timed_out", "cancelled", "skipped"} {
		if n := c.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", s, n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintln(w, strings.Join(parts, " "))
	}
	return nil
}

func ctlCampaignCreate(o *ctlOptions) *cobra.Command {
	var (
		name, mo, operation, node, timeout, file, selector, group, idPrefix string
		params, labels, devices                                             []string
		all, paused                                                         bool
		p                                                                   api.CampaignPolicy
		waves                                                               string
		wait                                                                time.Duration
		retry                                                               func() *api.RetryRequest
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a campaign: one operation for a snapshot of devices, rolled out in waves",
		Long: `create posts a campaign (POST /api/v1/campaigns). The template is an operation
without its device (--mo, --operation, --param k=v); the target is exactly one of
--device (repeatable, or --devices-file with one id per line, "-" for stdin),
--all, --selector, or a query (--group, --label k=v, --id-prefix). The server
snapshots the targets and its scheduler rolls the operation out: waves
(--waves 5%,25%,100%), at most --max-in-flight devices at once, --notify-rate
package 0 per second, pausing when a wave has more than --max-failures (or
--max-failure-percent) failed or timed-out devices. A device's operation is
retried by its MO's policy (--max-attempts, --retry-backoff change it); the
device counts failed or timed out only once its attempts are spent, and is
notified again for each new attempt.

With --wait the command follows the campaign's progress until it ends and
exits 0 when every device succeeded, 1 when some did not or it was cancelled,
and 3 when it was not over in time.`,
		Example: `  omadm ctl campaign create --name fw-2.1 --mo fumo --param pkg_url=https://fw.example/2.1.bin \
      --all --waves 5%,25%,100% --max-in-flight 500 --notify-rate 50 --max-failure-percent 2 --wait 24h
  omadm ctl campaign create --mo lawmo --operation lock --device IMEI:1 --device IMEI:2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := api.CampaignRequest{Name: name, Paused: paused,
				Template: api.CampaignTemplate{MO: mo, Operation: operation, Node: node, Timeout: timeout, Retry: retry()},
				Target:   api.CampaignTarget{Devices: devices, All: all, Selector: selector, Group: group, IDPrefix: idPrefix}, Policy: p}
			if len(params) > 0 {
				req.Template.Params = map[string]any{}
				for _, kv := range params {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return fmt.Errorf("--param %q: want name=value", kv)
					}
					var list []string
					if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &list) == nil {
						req.Template.Params[k] = list
					} else if v == "true" || v == "false" {
						req.Template.Params[k] = v == "true"
					} else {
						req.Template.Params[k] = v
					}
				}
			}
			if len(labels) > 0 {
				m, err := ctlParseLabels(labels)
				if err != nil {
					return err
				}
				req.Target.Labels = m
			}
			if waves != "" {
				req.Policy.Waves = strings.Split(waves, ",")
			}
			if file != "" {
				ids, err := ctlReadIDs(cmd.InOrStdin(), file)
				if err != nil {
					return err
				}
				req.Target.Devices = append(req.Target.Devices, ids...)
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			out, err := c.CreateCampaign(ctx, req)
			if err != nil {
				return err
			}
			if wait > 0 {
				return ctlCampaignWait(cmd, o, c, out.ID, wait)
			}
			return ctlPrintCampaign(cmd.OutOrStdout(), o.format("table"), out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "campaign name")
	f.StringVar(&mo, "mo", "", "MO of the operation: fumo, lawmo or exec (required)")
	f.StringVar(&operation, "operation", "", "the MO's operation (FUMO default DownloadAndUpdate; LAWMO lock, unlock, wipe…)")
	f.StringVar(&node, "node", "", "MO instance node (exec: the node to execute)")
	f.StringArrayVar(&params, "param", nil, `operation parameter name=value (a JSON list ["a","b"] for a list); repeatable`)
	f.StringVar(&timeout, "op-timeout", "", "timeout of each device's operation, e.g. 2h (default: the MO's)")
	retry = retryFlags(f)
	f.StringArrayVar(&devices, "device", nil, "target device id; repeatable")
	f.StringVar(&file, "devices-file", "", `file of target device ids, one per line ("-": stdin)`)
	f.BoolVar(&all, "all", false, "target every enrolled device")
	f.StringVar(&selector, "selector", "", "target the devices a selector expression matches")
	f.StringVar(&group, "group", "", "target the members of a group")
	f.StringArrayVar(&labels, "label", nil, "target devices with label key=value; repeatable")
	f.StringVar(&idPrefix, "id-prefix", "", "target devices whose id starts with this")
	f.StringVar(&waves, "waves", "", "cumulative wave sizes, counts or percentages, e.g. 5%,25%,100%")
	f.IntVar(&p.MaxInFlight, "max-in-flight", 0, "devices with an open operation at once (default 100, -1: no bound)")
	f.Float64Var(&p.NotifyRate, "notify-rate", 0, "package 0 per second (default 10)")
	f.IntVar(&p.NotifyBurst, "notify-burst", 0, "notifications sent at once at most (default one second's worth)")
	f.IntVar(&p.MaxFailures, "max-failures", 0, "pause when a wave has more failed or timed-out devices (0: no limit)")
	f.Float64Var(&p.MaxFailurePercent, "max-failure-percent", 0, "pause when more than this percentage of a wave failed (0: no limit)")
	f.StringVar(&p.WaveWait, "wave-wait", "", "wait between waves, e.g. 1h")
	f.StringVar(&p.WaveGate, "wave-gate", "", "auto (default) or manual (pause after each wave)")
	f.StringVar(&p.RenotifyInterval, "renotify-interval", "", "re-send package 0 to devices that did not come after this (default 10m)")
	f.IntVar(&p.MaxNotifies, "max-notifies", 0, "package 0 per device at most (default 3, -1: never)")
	f.BoolVar(&paused, "paused", false, "create the campaign paused (resume starts it)")
	f.DurationVar(&wait, "wait", 0, "follow the campaign until it ends, at most this long")
	return cmd
}

// ctlReadIDs reads device ids, one per line, from a file or stdin ("-").
func ctlReadIDs(stdin io.Reader, name string) ([]string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("--devices-file: %w", err)
	}
	var ids []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
			ids = append(ids, s)
		}
	}
	return ids, nil
}

// ctlCampaignWait follows a campaign over the event stream until it ends.
func ctlCampaignWait(cmd *cobra.Command, o *ctlOptions, c *client.Client, id int64, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), wait)
	defer cancel()
	w := cmd.OutOrStdout()
	var (
		mu   sync.Mutex // check runs on the stream's goroutine and on this one
		last *api.Campaign
	)
	done := errors.New("done")
	check := func(camp *api.Campaign) error {
		mu.Lock()
		defer mu.Unlock()
		if last == nil || camp.Done != last.Done || camp.State != last.State {
			fmt.Fprintf(w, "campaign %d: %s, wave %d/%d, %d/%d done (succeeded %d, failed %d, timed_out %d)\n", camp.ID, camp.State,
				camp.Wave, len(camp.Waves), camp.Done, camp.Total, camp.Counts["succeeded"], camp.Counts["failed"], camp.Counts["timed_out"])
		}
		last = camp
		if camp.Terminal() {
			return done
		}
		return nil
	}
	var err error
	for {
		opened := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			errc <- c.Stream(ctx, client.StreamOptions{Kinds: []string{api.UpdateCampaign}, OnOpen: func() { close(opened) }},
				func(u api.Update) error {
					if u.Campaign == nil || u.Campaign.ID != id {
						return nil
					}
					return check(u.Campaign)
				})
		}()
		select {
		case <-opened:
			// From here no update is missed: the current state first.
			rctx, rcancel := o.ctx(cmd)
			camp, gerr := c.GetCampaign(rctx, id)
			rcancel()
			if gerr != nil {
				return gerr
			}
			if check(camp) == done {
				cancel()
				<-errc
				err = done
			} else {
				err = <-errc
			}
		case err = <-errc:
		}
		// A stream that fell behind on the server is opened again: the
		// current state is read once it is open, so nothing is missed.
		if !errors.Is(err, client.ErrLagged) || ctx.Err() != nil {
			break
		}
	}
	// The stream's goroutine has ended here: last is no longer written.
	switch {
	case errors.Is(err, done):
	case ctx.Err() != nil && last != nil && !last.Terminal():
		return timedOutf("campaign %d still %s after %s", id, last.State, wait)
	case err != nil:
		return err
	}
	if last.State != "completed" || last.Counts["succeeded"] != last.Total {
		return failedf("campaign %d %s: %d of %d devices succeeded", id, last.State, last.Counts["succeeded"], last.Total)
	}
	return nil
}

func ctlCampaignList(o *ctlOptions) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List campaigns with their progress",
		Args:  cobra.NoArgs,
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, _ []string) error {
			var all []api.Campaign
			for after := int64(0); ; {
				page, err := c.ListCampaigns(ctx, states, after, 500)
				if err != nil {
					return err
				}
				all = append(all, page.Campaigns...)
				if page.Next == "" {
					break
				}
				if after, err = strconv.ParseInt(page.Next, 10, 64); err != nil {
					return fmt.Errorf("server sent cursor %q: %w", page.Next, err)
				}
			}
			return o.print(cmd, "table", all, func(w io.Writer) error {
				rows := [][]string{}
				for _, x := range all {
					rows = append(rows, []string{strconv.FormatInt(x.ID, 10), ctlOrDash(x.Name), x.State, x.Template.MO + " " + x.Template.Operation,
						fmt.Sprintf("%d/%d", x.Wave, len(x.Waves)), fmt.Sprintf("%d/%d", x.Done, x.Total),
						strconv.Itoa(x.Counts["succeeded"]), strconv.Itoa(x.Counts["failed"] + x.Counts["timed_out"])})
				}
				return ctlTable(w, []string{"ID", "NAME", "STATE", "OPERATION", "WAVE", "DONE", "OK", "FAILED"}, rows)
			})
		}),
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only campaigns in these states (running, paused, completed…)")
	return cmd
}

func ctlCampaignGet(o *ctlOptions) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a campaign and its progress counts (--wait: follow it until it ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlID(args[0], "a campaign id")
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			if wait > 0 {
				return ctlCampaignWait(cmd, o, c, id, wait)
			}
			out, err := c.GetCampaign(ctx, id)
			if err != nil {
				return err
			}
			return ctlPrintCampaign(cmd.OutOrStdout(), o.format("table"), out)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "follow the campaign until it ends, at most this long")
	return cmd
}

func ctlCampaignDevices(o *ctlOptions) *cobra.Command {
	var states []string
	var limit int
	cmd := &cobra.Command{
		Use:   "devices ID",
		Short: "List a campaign's devices and their outcomes, in rollout order",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlID(args[0], "a campaign id")
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			var all []api.CampaignDevice
			for cursor := ""; ; {
				page, err := c.CampaignDevices(ctx, id, states, cursor, min(limit-len(all), 1000))
				if err != nil {
					return err
				}
				all = append(all, page.Devices...)
				if page.Next == "" || len(all) >= limit {
					break
				}
				cursor = page.Next
			}
			return o.print(cmd, "table", all, func(w io.Writer) error {
				rows := [][]string{}
				for _, d := range all {
					op := "-"
					if d.Operation != 0 {
						op = strconv.FormatInt(d.Operation, 10)
					}
					rows = append(rows, []string{strconv.Itoa(d.Seq), d.Device, d.State, op, strconv.Itoa(d.Notifies), ctlTime(d.DoneAt), ctlTruncate(d.Error, 60)})
				}
				return ctlTable(w, []string{"SEQ", "DEVICE", "OUTCOME", "OPERATION", "NOTIFIES", "DONE", "ERROR"}, rows)
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only devices with these outcomes (pending, notified, in_progress, succeeded, failed, timed_out, cancelled, skipped)")
	cmd.Flags().IntVar(&limit, "limit", 1000, "list at most this many devices")
	return cmd
}

func ctlCampaignSteer(o *ctlOptions, verb string) *cobra.Command {
	var reason string
	var wait time.Duration
	short := map[string]string{
		"pause":  "Pause a campaign: no new device starts; those in flight go on",
		"resume": "Resume a paused campaign (the current wave's failures so far no longer count)",
		"cancel": "Cancel a campaign: devices not started end cancelled and open operations are cancelled",
	}[verb]
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlID(args[0], "a campaign id")
			if err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			var out *api.Campaign
			switch verb {
			case "pause":
				out, err = c.PauseCampaign(ctx, id, reason)
			case "resume":
				out, err = c.ResumeCampaign(ctx, id)
			default:
				out, err = c.CancelCampaign(ctx, id)
			}
			if err != nil {
				return err
			}
			if wait > 0 {
				return ctlCampaignWait(cmd, o, c, id, wait)
			}
			return ctlPrintCampaign(cmd.OutOrStdout(), o.format("table"), out)
		},
	}
	if verb == "pause" {
		cmd.Flags().StringVar(&reason, "reason", "", "why (shown with the campaign)")
	}
	if verb == "resume" {
		cmd.Flags().DurationVar(&wait, "wait", 0, "follow the campaign until it ends, at most this long")
	}
	return cmd
}
