package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

// Defaults of `omadm ctl` when neither flags nor environment say otherwise.
const (
	defaultServerURL = "http://127.0.0.1:8080"
	defaultDataDir   = "omadm-data"
	tokenFileName    = "api-token"
)

func init() { rootCmd.AddCommand(newCtlCmd()) }

// ctlOptions are the flags every ctl subcommand shares.
type ctlOptions struct {
	server  string
	token   string
	output  string
	timeout time.Duration

	jsonAlias bool // deprecated --json, same as -o json
}

// newCtlCmd builds the `ctl` command tree. It is a constructor, not a global,
// so tests run each invocation on fresh flags.
func newCtlCmd() *cobra.Command {
	o := &ctlOptions{}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Operate an omadm server through its REST API",
		Long: `ctl talks to a running omadm server.

The server URL comes from --server, else OMADM_SERVER, else ` + defaultServerURL + `.
The API token comes from --token, else OMADM_API_TOKEN, else the file
./` + defaultDataDir + `/` + tokenFileName + ` written by "omadm serve" on first start.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.server, "server", "", "server URL (default $OMADM_SERVER or "+defaultServerURL+")")
	pf.StringVar(&o.token, "token", "", "API token (default $OMADM_API_TOKEN or ./"+defaultDataDir+"/"+tokenFileName+")")
	pf.StringVarP(&o.output, "output", "o", "", "output format: table, json or yaml (jobs default to json)")
	pf.BoolVar(&o.jsonAlias, "json", false, "same as -o json")
	_ = pf.MarkHidden("json")
	cmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return o.prepareOutput(cmd) }
	pf.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each API request")

	device := &cobra.Command{Use: "device", Short: "Enrol, list, show and remove devices"}
	device.AddCommand(ctlDeviceAdd(o), ctlDeviceSet(o), ctlDeviceList(o), ctlDeviceShow(o), ctlDeviceRm(o))
	device.AddCommand(ctlDeviceLabel(o), ctlDeviceImport(o)) // ctl_inventory.go
	cmd.AddCommand(ctlGroup(o))
	cmd.AddCommand(device,
		ctlGet(o), ctlReplace(o), ctlAdd(o), ctlDelete(o), ctlExec(o),
		ctlJobs(o), ctlJob(o), ctlCancel(o), ctlNotify(o), ctlTrace(o), ctlEvents(o), ctlTree(o), ctlFUMO(o), ctlLAWMO(o), ctlSCOMO(o), ctlOp(o))
	cmd.AddCommand(ctlCampaign(o))
	cmd.AddCommand(ctlDiag(o), ctlProfile(o))
	cmd.AddCommand(ctlToken(o)) // ctl_token.go
	cmd.AddCommand(ctlPackage(o), ctlBootstrap(o))
	return cmd
}

// client resolves server and token and checks the output flag.
func (o *ctlOptions) client() (*client.Client, error) {
	if err := checkOutput(o.output); err != nil {
		return nil, err
	}
	server := o.server
	if server == "" {
		server = os.Getenv("OMADM_SERVER")
	}
	if server == "" {
		server = defaultServerURL
	}
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, fmt.Errorf("server URL %q must start with http:// or https://", server)
	}
	token := o.token
	if token == "" {
		token = os.Getenv("OMADM_API_TOKEN")
	}
	if token == "" {
		b, err := os.ReadFile(filepath.Join(defaultDataDir, tokenFileName))
		if err != nil {
			return nil, errors.New("no API token: pass --token, set OMADM_API_TOKEN, or run in the directory holding " + filepath.Join(defaultDataDir, tokenFileName))
		}
		token = strings.TrimSpace(string(b))
	}
	return client.New(server, token), nil
}

func (o *ctlOptions) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), o.timeout)
}

// format picks the output format, with def when -o was not given.
func (o *ctlOptions) format(def string) string {
	if o.output == outputYAML {
		return outputJSON // printed as YAML by the command's output (output.go)
	}
	if o.output != "" {
		return o.output
	}
	return def
}

// ctlPrintJSON prints v as JSON, or as YAML under -o yaml (output.go).
func ctlPrintJSON(w io.Writer, v any) error { return ctlPrintStructured(w, v) }

// ctlTable writes rows aligned in columns.
func ctlTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func ctlTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func ctlStatus(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func ctlTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func ctlLabels(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func ctlPrintDevices(w io.Writer, format string, ds []api.Device) error {
	if format == "json" {
		return ctlPrintJSON(w, ds)
	}
	rows := make([][]string, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []string{d.ID, d.Auth, d.Username, ctlOrDash(d.NotifyAddr), ctlTime(d.LastSeen), ctlLabels(d.Labels)})
	}
	return ctlTable(w, []string{"ID", "AUTH", "USERNAME", "NOTIFY", "LAST SEEN", "LABELS"}, rows)
}

func ctlOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ctlPrintJobs(w io.Writer, format string, js []api.Job) error {
	if format == "json" {
		return ctlPrintJSON(w, js)
	}
	rows := make([][]string, 0, len(js))
	for _, j := range js {
		var res []string
		for _, r := range j.Results {
			res = append(res, r.URI+"="+r.Data)
		}
		detail := strings.Join(res, " ")
		if j.Error != "" {
			detail = j.Error
		}
		rows = append(rows, []string{strconv.FormatInt(j.ID, 10), j.Device, j.Command, ctlOrDash(j.URI), j.State,
			ctlStatus(j.Status), ctlTime(&j.CreatedAt), ctlTruncate(detail, 60)})
	}
	return ctlTable(w, []string{"ID", "DEVICE", "COMMAND", "URI", "STATE", "STATUS", "CREATED", "RESULT"}, rows)
}

func ctlPrintJob(w io.Writer, format string, j *api.Job) error {
	if format == "json" {
		return ctlPrintJSON(w, j)
	}
	if err := ctlPrintJobs(w, "table", []api.Job{*j}); err != nil {
		return err
	}
	if j.Warning != "" {
		fmt.Fprintln(w, "warning:", j.Warning)
	}
	return nil
}

func ctlDeviceAdd(o *ctlOptions) *cobra.Command {
	var req api.DeviceCreate
	var labels []string
	var acct ctlAccountFlags
	cmd := &cobra.Command{
		Use:   "add ID --username U --password P [--server-auth S] [--cert FILE | --cert-sha256 HEX] [--transport-auth cert|cert+dm]",
		Short: "Enrol a device with its credentials",
		Long: `Enrol a device. Without --server-password the server generates one and shows
it once: configure it on the device (it authenticates the server and package 0).
--cert (or --cert-sha256) binds the device's TLS client certificate;
--transport-auth says whether that certificate replaces (cert) or adds to
(cert+dm) the DM-level credentials.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if req.AccountFields, _, err = acct.fields(cmd); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			req.ID = args[0]
			for _, l := range labels {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					return fmt.Errorf("--label %q: want key=value", l)
				}
				if req.Labels == nil {
					req.Labels = map[string]string{}
				}
				req.Labels[k] = v
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			d, err := c.CreateDevice(ctx, req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				return ctlPrintJSON(w, d)
			}
			if err := ctlPrintDevices(w, "table", []api.Device{d.Device}); err != nil {
				return err
			}
			if d.ServerPassword != "" {
				fmt.Fprintf(w, "server password (shown once): %s\n", d.ServerPassword)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Username, "username", "", "user name the device authenticates with (required)")
	f.StringVar(&req.Password, "password", "", "password the device authenticates with (required)")
	f.StringVar(&req.ServerPassword, "server-password", "", "password the server authenticates with (generated when omitted)")
	f.StringVar(&req.Auth, "auth", "md5", "auth scheme: basic, md5 or hmac")
	f.StringVar(&req.NotifyAddr, "notify-addr", "", "where package 0 goes: udp://host:port or sms:+number")
	f.StringArrayVar(&labels, "label", nil, "operator label key=value (repeatable)")
	acct.register(cmd)
	_ = cmd.MarkFlagRequired("username")
	_ = cmd.MarkFlagRequired("password")
	return cmd
}

// ctlParseLabels turns repeated --label k=v flags into a map (nil when none).
func ctlParseLabels(labels []string) (map[string]string, error) {
	var m map[string]string
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want key=value", l)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m, nil
}

// ctlDeviceSet changes an enrolled device through PATCH /devices/{id}: only
// the flags given are sent, so the rest of the record stays as it is. It is
// how an operator gives a device its notify address after enrolment, or
// rotates its credentials.
func ctlDeviceSet(o *ctlOptions) *cobra.Command {
	var u api.DeviceUpdate
	var notifyAddr, username, password, serverPassword, authScheme string
	var labels []string
	var acct ctlAccountFlags
	cmd := &cobra.Command{
		Use:   "set ID [--notify-addr A] [--label k=v …] [--username U --password P] [--server-password SP] [--auth basic|md5|hmac] [--server-auth S] [--cert FILE | --cert-sha256 HEX] [--transport-auth P]",
		Short: "Change a device's notify address, labels, credentials or auth scheme",
		Long: `Change an enrolled device. Only the flags given change; --label replaces the
device's whole label set with the labels given. --username and --password go
together (a new client credential); --server-password changes the credential
the server authenticates itself with (and signs package 0 with). --auth alone
is enough to change the scheme: the server keeps a hash of username:password
that verifies basic, md5 and hmac alike. --server-auth, --cert/--cert-sha256
and --transport-auth change the account as in "device add" (an empty value
clears one).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if f.Changed("username") != f.Changed("password") {
				return errors.New("--username and --password go together")
			}
			if f.Changed("auth") {
				switch authScheme {
				case "basic", "md5", "hmac":
				default:
					return fmt.Errorf("--auth %q: want basic, md5 or hmac", authScheme)
				}
			}
			var err error
			if u.Labels, err = ctlParseLabels(labels); err != nil {
				return err
			}
			acctFields, acctSet, err := acct.fields(cmd)
			if err != nil {
				return err
			}
			if acctSet["server_auth"] {
				u.ServerAuth = &acctFields.ServerAuth
			}
			if acctSet["cert_sha256"] {
				u.CertSHA256 = &acctFields.CertSHA256
			}
			if acctSet["transport_auth"] {
				u.TransportAuth = &acctFields.TransportAuth
			}
			changed := u.Labels != nil || len(acctSet) > 0
			for _, fl := range []struct {
				name string
				val  *string
				dst  **string
			}{
				{"notify-addr", &notifyAddr, &u.NotifyAddr}, {"username", &username, &u.Username},
				{"password", &password, &u.Password}, {"server-password", &serverPassword, &u.ServerPassword},
				{"auth", &authScheme, &u.Auth},
			} {
				if f.Changed(fl.name) {
					*fl.dst, changed = fl.val, true
				}
			}
			if !changed {
				return errors.New("nothing to change: give --notify-addr, --label, --username/--password, --server-password, --auth, --server-auth, --cert/--cert-sha256 or --transport-auth")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			d, err := c.UpdateDevice(ctx, args[0], u)
			if err != nil {
				return err
			}
			return ctlPrintDevices(cmd.OutOrStdout(), o.format("table"), []api.Device{*d})
		},
	}
	f := cmd.Flags()
	f.StringVar(&notifyAddr, "notify-addr", "", "where package 0 goes: udp://host:port or sms:+number")
	f.StringArrayVar(&labels, "label", nil, "operator label key=value (repeatable; replaces all labels)")
	f.StringVar(&username, "username", "", "new user name the device authenticates with (with --password)")
	f.StringVar(&password, "password", "", "new password the device authenticates with (with --username)")
	f.StringVar(&serverPassword, "server-password", "", "new password the server authenticates with")
	f.StringVar(&authScheme, "auth", "", "auth scheme: basic, md5 or hmac")
	acct.register(cmd)
	return cmd
}

// ctlNotifyHint points an operator whose device has no notify address at the
// ctl command that sets one, instead of the raw API route the server names.
func ctlNotifyHint(err error, device string) error {
	var e *client.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "notify_addr") || !strings.Contains(e.Message, "PATCH") {
		return err
	}
	msg := strings.NewReplacer("PATCH /devices/{id}", "`omadm ctl device set "+device+" --notify-addr ADDR`",
		"without notify", "without --notify").Replace(e.Message)
	return &client.Error{StatusCode: e.StatusCode, Message: msg}
}

func ctlDeviceShow(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one device",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			d, err := c.GetDevice(ctx, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				return ctlPrintJSON(w, d)
			}
			rows := [][]string{{"id", d.ID}, {"auth", d.Auth}, {"username", d.Username}, {"notify_addr", ctlOrDash(d.NotifyAddr)},
				{"created", ctlTime(&d.CreatedAt)}, {"last seen", ctlTime(d.LastSeen)}, {"labels", ctlLabels(d.Labels)}}
			keys := make([]string, 0, len(d.DevInfo))
			for k := range d.DevInfo {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				rows = append(rows, []string{k, d.DevInfo[k]})
			}
			return ctlTable(w, []string{"FIELD", "VALUE"}, rows)
		},
	}
}

func ctlDeviceRm(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID…",
		Aliases: []string{"delete"},
		Short:   "Remove devices and everything stored about them",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			for _, id := range args {
				if err := c.DeleteDevice(ctx, id); err != nil {
					return err
				}
				if o.format("table") == "table" {
					fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", id)
				}
			}
			return nil
		},
	}
}

// ctlJobFlags are the options of every command that queues a job.
type ctlJobFlags struct {
	wait   time.Duration
	notify bool
}

func (jf *ctlJobFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&jf.wait, "wait", 0, "wait up to this long for the job to finish; exit 1 if it failed, 3 if the wait ran out")
	cmd.Flags().BoolVar(&jf.notify, "notify", false, "send package 0 so the device connects now")
}

// exit statuses of `ctl --wait`: 1 like every failed operation; a wait that
// ran out is 3, apart from 2, the status of a wrong command line (exit.go).
const (
	exitJobFailed  = exitFailed
	exitJobTimeout = 3
)

// ctlSubmit queues req for device, optionally waits, and prints the job.
func ctlSubmit(cmd *cobra.Command, o *ctlOptions, jf *ctlJobFlags, device string, req api.JobRequest) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	req.Notify = jf.notify
	ctx, cancel := o.ctx(cmd)
	defer cancel()
	j, err := c.CreateJob(ctx, device, req)
	if err != nil {
		return ctlNotifyHint(err, device)
	}
	if j.Warning != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", j.Warning)
	}
	if jf.wait <= 0 {
		return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
	}
	return ctlWait(cmd, o, c, j, jf.wait)
}

func ctlWait(cmd *cobra.Command, o *ctlOptions, c *client.Client, j *api.Job, wait time.Duration) error {
	wctx, wcancel := context.WithTimeout(cmd.Context(), wait)
	defer wcancel()
	stop := startProgress(cmd.ErrOrStderr(), fmt.Sprintf("waiting for job %d", j.ID))
	done, err := c.WaitJob(wctx, j.ID)
	stop()
	if done == nil {
		done = j
	}
	if perr := ctlPrintJob(cmd.OutOrStdout(), o.format("json"), done); perr != nil {
		return perr
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &exitError{code: exitJobTimeout, err: fmt.Errorf("job %d still %s after %s", j.ID, done.State, wait)}
	case err != nil:
		return err
	case done.State != "done":
		msg := fmt.Sprintf("job %d %s", done.ID, done.State)
		if done.Status != 0 {
			msg += fmt.Sprintf(" (status %d)", done.Status)
		}
		if done.Error != "" {
			msg += ": " + done.Error
		}
		return &exitError{code: exitJobFailed, err: errors.New(msg)}
	}
	return nil
}

func ctlGet(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	cmd := &cobra.Command{
		Use:   "get ID URI…",
		Short: "Queue a Get of one or more nodes (URI may end in ?prop=Name or ?list=Struct)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.JobRequest{Command: "Get"}
			for _, u := range args[1:] {
				req.Items = append(req.Items, api.JobItem{URI: u})
			}
			return ctlSubmit(cmd, o, &jf, args[0], req)
		},
	}
	jf.register(cmd)
	return cmd
}

// ctlValueFlags are the Meta of a value given on the command line.
type ctlValueFlags struct {
	format, mime string
	set          bool
}

func (vf *ctlValueFlags) register(cmd *cobra.Command, defFormat string, withSet bool) {
	cmd.Flags().StringVar(&vf.format, "format", defFormat, "Meta Format: chr, int, bool, b64, bin, xml, date, time, float, node, null")
	cmd.Flags().StringVar(&vf.mime, "type", "", "Meta Type (MIME), e.g. text/plain")
	if withSet {
		cmd.Flags().BoolVar(&vf.set, "set", false, "idempotent: Add falls back to Replace on 418 (and Replace to Add on 404)")
	}
}

func ctlReplace(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	cmd := &cobra.Command{
		Use:   "replace ID URI VALUE",
		Short: "Queue a Replace of a leaf value",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.JobRequest{Command: "Replace", Set: vf.set,
				Items: []api.JobItem{{URI: args[1], Format: vf.format, Type: vf.mime, Data: args[2]}}}
			return ctlSubmit(cmd, o, &jf, args[0], req)
		},
	}
	jf.register(cmd)
	vf.register(cmd, "chr", true)
	return cmd
}

func ctlAdd(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	cmd := &cobra.Command{
		Use:   "add ID URI [VALUE]",
		Short: "Queue an Add of a leaf (with VALUE) or an interior node (without)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			it := api.JobItem{URI: args[1], Format: vf.format, Type: vf.mime}
			if len(args) == 3 {
				it.Data = args[2]
				if it.Format == "" {
					it.Format = "chr"
				}
			} else if it.Format == "" {
				it.Format = "node"
			}
			return ctlSubmit(cmd, o, &jf, args[0], api.JobRequest{Command: "Add", Set: vf.set, Items: []api.JobItem{it}})
		},
	}
	jf.register(cmd)
	vf.register(cmd, "", true)
	return cmd
}

func ctlDelete(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	cmd := &cobra.Command{
		Use:   "delete ID URI…",
		Short: "Queue a Delete of nodes (and their subtrees)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.JobRequest{Command: "Delete"}
			for _, u := range args[1:] {
				req.Items = append(req.Items, api.JobItem{URI: u})
			}
			return ctlSubmit(cmd, o, &jf, args[0], req)
		},
	}
	jf.register(cmd)
	return cmd
}

func ctlExec(o *ctlOptions) *cobra.Command {
	var jf ctlJobFlags
	var vf ctlValueFlags
	var correlator string
	cmd := &cobra.Command{
		Use:   "exec ID URI [DATA]",
		Short: "Queue an Exec of a node (e.g. ./FUMO/x/Update)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			it := api.JobItem{URI: args[1], Format: vf.format, Type: vf.mime}
			if len(args) == 3 {
				it.Data = args[2]
			}
			return ctlSubmit(cmd, o, &jf, args[0], api.JobRequest{Command: "Exec", Correlator: correlator, Items: []api.JobItem{it}})
		},
	}
	jf.register(cmd)
	vf.register(cmd, "", false)
	cmd.Flags().StringVar(&correlator, "correlator", "", "correlator echoed in the device's generic alert")
	return cmd
}

func ctlJobs(o *ctlOptions) *cobra.Command {
	var states []string
	var after int64
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs [ID]",
		Short: "List a device's jobs, or every device's without ID",
		Long: `List the jobs of device ID, or of every device when ID is left out,
ordered by job id and paged. With --state the whole fleet is searched for
jobs in those states, e.g. every failed job:

  omadm ctl jobs --state failed`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			device := ""
			if len(args) == 1 {
				if device = args[0]; device == "" {
					return errors.New("empty device ID (leave it out to list every device's jobs)")
				}
			}
			page, err := c.ListJobs(ctx, device, client.JobQuery{States: states, After: after, Limit: limit})
			if err != nil {
				return err
			}
			if err := ctlPrintJobs(cmd.OutOrStdout(), o.format("table"), page.Jobs); err != nil {
				return err
			}
			if page.Next != "" && o.format("table") == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more: --after %s\n", page.Next)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: queued, sent, done, failed, cancelled")
	cmd.Flags().Int64Var(&after, "after", 0, "paging cursor: jobs with a greater id")
	cmd.Flags().IntVar(&limit, "limit", 100, "page size (1..1000)")
	return cmd
}

func ctlJobID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a job id", s)
	}
	return id, nil
}

func ctlJob(o *ctlOptions) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "job [DEVICE] JOBID",
		Short: "Show one job (its state, SyncML status and results)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlJobID(args[len(args)-1])
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			j, err := c.GetJob(ctx, id)
			if err != nil {
				return err
			}
			if len(args) == 2 && j.Device != args[0] {
				return fmt.Errorf("job %d belongs to device %q, not %q", id, j.Device, args[0])
			}
			if wait > 0 {
				return ctlWait(cmd, o, c, j, wait)
			}
			return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the job to finish; exit 1 if it failed, 3 if the wait ran out")
	return cmd
}

func ctlCancel(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel [DEVICE] JOBID",
		Short: "Cancel a queued or sent job",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ctlJobID(args[len(args)-1])
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			if len(args) == 2 {
				// Check ownership first so a mistyped id never cancels another device's job.
				j, err := c.GetJob(ctx, id)
				if err != nil {
					return err
				}
				if j.Device != args[0] {
					return fmt.Errorf("job %d belongs to device %q, not %q", id, j.Device, args[0])
				}
			}
			j, err := c.CancelJob(ctx, id)
			if err != nil {
				return err
			}
			return ctlPrintJob(cmd.OutOrStdout(), o.format("json"), j)
		},
	}
}

func ctlNotify(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "notify ID",
		Short: "Send package 0 so the device opens a session now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			r, err := c.Notify(ctx, args[0])
			if err != nil {
				return ctlNotifyHint(err, args[0])
			}
			if o.format("table") == "json" {
				return ctlPrintJSON(cmd.OutOrStdout(), r)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "notification sent to %s (%s)\n", r.Device, r.Addr)
			return nil
		},
	}
}

func ctlTrace(o *ctlOptions) *cobra.Command {
	var session string
	var limit int
	cmd := &cobra.Command{
		Use:   "trace ID",
		Short: "Show the device's recent DM messages, decoded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			tl, err := c.Traces(ctx, args[0], session, limit)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				return ctlPrintJSON(w, tl.Traces)
			}
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
		},
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
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			device := ""
			if len(args) == 1 {
				device = args[0]
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			el, err := c.Events(ctx, device, after, limit)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				return ctlPrintJSON(w, el.Events)
			}
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
		},
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
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			prefix := ""
			if len(args) == 2 {
				prefix = args[1]
			}
			ctx, cancel := o.ctx(cmd)
			defer cancel()
			t, err := c.Tree(ctx, args[0], prefix)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.format("table") == "json" {
				return ctlPrintJSON(w, t)
			}
			rows := make([][]string, 0, len(t.Nodes))
			for _, n := range t.Nodes {
				rows = append(rows, []string{n.URI, ctlOrDash(n.Format), ctlOrDash(n.Type), ctlTruncate(n.Value, 60), ctlTime(&n.UpdatedAt)})
			}
			return ctlTable(w, []string{"URI", "FORMAT", "TYPE", "VALUE", "UPDATED"}, rows)
		},
	}
}
