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

	"github.com/omadm/omadm/api/client"
)

// Defaults of `omadm ctl` when neither flags nor environment say otherwise.
const (
	defaultServerURL = "http://127.0.0.1:8080"
	defaultDataDir   = "omadm-data"
	tokenFileName    = "api-token"

	// defaultReportPoll bounds the back-off between reads of an operation a
	// --wait follows (the event stream wakes it earlier).
	defaultReportPoll = 5 * time.Second
)

// ctlOptions are the settings of one `omadm ctl` invocation: the flags every
// ctl subcommand shares, bound by command.
type ctlOptions struct {
	server  string
	token   string
	output  string
	timeout time.Duration

	jsonAlias bool // deprecated --json, same as -o json

	reportPoll time.Duration // see defaultReportPoll
}

// newCtlCmd builds the `ctl` command tree for one invocation.
func newCtlCmd() *cobra.Command {
	return (&ctlOptions{reportPoll: defaultReportPoll}).command()
}

// command builds the `ctl` command tree with its flags bound to o. Each
// subcommand group is built in its own ctl_<subject>.go; add a new one to
// the lists below.
func (o *ctlOptions) command() *cobra.Command {
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

// ctx is the context of one API request: the command's, bounded by --timeout.
func (o *ctlOptions) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), o.timeout)
}

// connect is how every ctl subcommand starts talking to the server: the API
// client (server and token resolved, -o checked) and a context bounded by
// --timeout, which cancel releases. Print the answer with o.print.
func (o *ctlOptions) connect(cmd *cobra.Command) (c *client.Client, ctx context.Context, cancel context.CancelFunc, err error) {
	if c, err = o.client(); err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel = o.ctx(cmd)
	return c, ctx, cancel, nil
}

// withClient is the RunE of a ctl subcommand that talks to the server from
// its first line: run gets the API client and a context bounded by
// --timeout (see connect).
func (o *ctlOptions) withClient(run func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, ctx, cancel, err := o.connect(cmd)
		if err != nil {
			return err
		}
		defer cancel()
		return run(ctx, c, cmd, args)
	}
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

// ctlID parses the job, operation or campaign id s; a bad one is an error
// saying it is not what ("a job id").
func ctlID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not %s", s, what)
	}
	return id, nil
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

func ctlOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
