package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// demoConfig is everything `omadm demo` can be told.
type demoConfig struct {
	data     string
	listen   string
	devices  int
	logLevel string
	// stepTimeout bounds each scripted step (tests shorten it).
	stepTimeout time.Duration
	// noWait makes the demo return after its ready line instead of waiting
	// for a signal (tests).
	noWait bool
}

func newDemoCmd() *cobra.Command {
	c := demoConfig{stepTimeout: 20 * time.Second}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a server with simulated devices and a scripted management scenario",
		Long: `demo starts the DM server in this process on the embedded SQLite store (a
temporary directory unless --data is given), enrols simulated devices with
realistic DevInfo/DevDetail trees, and runs a short scenario through the REST
API and package 0 notifications: read device information, change a setting,
an Atomic that rolls back, a user-interaction alert and a generic alert.

It then keeps running, devices answering notifications, so you can try
"omadm ctl" against it; Ctrl-C stops it cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.data, "data", "", "data directory (default: a temporary directory removed at exit)")
	f.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address the server listens on (port 0 picks a free one)")
	f.IntVar(&c.devices, "devices", 5, "number of simulated devices")
	f.StringVar(&c.logLevel, "log-level", "warn", "server log level (logs go to stderr)")
	return cmd
}

// demo is one run of the scenario.
type demo struct {
	dataDir      string   // the demo's data directory (FUMO packages of the device go below it)
	componentURL string   // the demo's SCOMO component package
	firmwareURL  string   // where the demo's firmware package is served
	closers      []func() // run when the demo stops, last first
	out          io.Writer
	api          *apiclient.Client
	fleet        *sim.Fleet
	step         int
	wait         time.Duration
}

func runDemo(ctx context.Context, c demoConfig, stdout, stderr io.Writer) (err error) {
	if c.devices < 1 || c.devices > 10000 {
		return errors.New("--devices must be between 1 and 10000")
	}
	if c.stepTimeout <= 0 {
		c.stepTimeout = 20 * time.Second
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	dataDir := c.data
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "omadm-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
	}
	rs, err := startServer(ctx, serveConfig{Listen: c.listen, DataDir: dataDir, Logger: log, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer func() {
		if serr := rs.Shutdown(context.Background()); serr != nil && err == nil {
			err = serr
		}
	}()
	if rs.Token == "" {
		return fmt.Errorf("the API token of %s is not known here (the server keeps only its hash and %s was deleted): set OMADM_API_TOKEN",
			dataDir, filepath.Join(dataDir, tokenFileName))
	}
	fmt.Fprintf(stdout, "omadm demo: DM server at %s/dm, storage SQLite in %s\n", rs.URL, dataDir)

	hc := simHTTPClient(8)
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: hc, UserAgent: "omadm-sim"})
	if err != nil {
		return err
	}
	fleet, err := sim.New(sim.Options{
		ServerURL: rs.URL + "/dm", Devices: c.devices, Transport: tp, NotifyListen: "127.0.0.1:0",
		Concurrency: 8, Logger: log, Classify: classifyHTTP, SCOMODir: filepath.Join(dataDir, "scomo"),
	})
	if err != nil {
		return err
	}
	defer fleet.Close()
	if _, err := fleet.Listen(ctx); err != nil {
		return err
	}
	d := &demo{dataDir: dataDir, out: stdout, api: apiclient.New(rs.URL, rs.Token), fleet: fleet, wait: c.stepTimeout}
	defer func() {
		for i := len(d.closers) - 1; i >= 0; i-- {
			d.closers[i]()
		}
	}()
	if err := fleet.Enroll(ctx, apiEnroller{d.api}, 4, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enrolled %d simulated devices through the REST API (package 0 to %s):\n", c.devices, fleet.NotifyAddr())
	for _, dev := range fleet.Devices() {
		id := dev.Identity()
		fmt.Fprintf(stdout, "  %-22s %s %s, %s, firmware %s\n", id.DevID, id.Man, id.Mod, id.DevTyp, id.FwV)
	}
	for _, dev := range fleet.Devices() {
		if _, err := fleet.Session(ctx, dev); err != nil {
			return fmt.Errorf("first check-in of %s: %w", dev.ID(), err)
		}
	}
	sn := fleet.Stats().Snapshot()
	fmt.Fprintf(stdout, "every device checked in once: %d sessions, %d failed, p50 %s\n", sn.Sessions, sn.Failed, fmtMS(sn.P50))

	if err := d.scenario(ctx, fleet.Devices()[0]); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}

	first := fleet.Devices()[0].ID()
	fmt.Fprintf(stdout, `
The server keeps running and the devices keep answering notifications.
  Console:    %s/ui/
  API:        %s/api/v1   (OpenAPI: %s/api/v1/openapi.json)
  API token:  %s
  Device URL: %s/dm
Try, in another terminal:
  export OMADM_SERVER=%s OMADM_API_TOKEN=%s DEMO_DEVICE=%s DEMO_FIRMWARE=%s
  go run ./cmd/omadm ctl device list
  go run ./cmd/omadm ctl get %s ./DevDetail/FwV --notify --wait 10s
  go run ./cmd/omadm ctl replace %s %s 1800 --format int --notify --wait 10s
  go run ./cmd/omadm ctl fumo %s %s --notify --wait 30s
  go run ./cmd/omadm ctl diag run %s battery --notify --wait 30s
  go run ./cmd/omadm ctl scomo install %s hello2 %s --notify --wait 30s
  go run ./cmd/omadm ctl scomo inventory %s --refresh --notify --wait 10s
  go run ./cmd/omadm ctl campaign create --name fw-demo --mo fumo --param pkg_url=%s \
      --all --waves 1,100%% --max-failure-percent 20 --wait 2m
`, rs.URL, rs.URL, rs.URL, rs.Token, rs.URL, rs.URL, rs.Token, first, d.firmwareURL, first, first, sim.PollIntervalURI, first, d.firmwareURL, first,
		first, d.componentURL, first, d.firmwareURL)
	fmt.Fprintln(stdout, "omadm demo ready; press Ctrl-C to stop")
	if c.noWait {
		return nil
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return nil
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// scenario runs the scripted management steps against one device.
func (d *demo) scenario(ctx context.Context, dev *sim.Device) error {
	id := dev.ID()
	fmt.Fprintf(d.out, "\nScenario on %s: each job is queued through the REST API and the server wakes the device with package 0.\n", id)

	// 1. Read device information.
	var items []api.JobItem
	for _, u := range []string{"./DevInfo/Man", "./DevInfo/Mod", "./DevInfo/DmV", "./DevInfo/Lang",
		"./DevDetail/DevTyp", "./DevDetail/FwV", "./DevDetail/SwV", "./DevDetail/HwV", "./DevDetail/URI/MaxDepth"} {
		items = append(items, api.JobItem{URI: u})
	}
	j, err := d.run(ctx, "Read device information", id, api.JobRequest{Command: "Get", Items: items})
	if err != nil {
		return err
	}
	if j.Status != int(syncml.StatusOK) || len(j.Results) != len(items) {
		return fmt.Errorf("the Get answered %d with %d results", j.Status, len(j.Results))
	}

	// 2. Change a setting.
	before := dev.Value(sim.PollIntervalURI)
	j, err = d.run(ctx, "Change a setting", id, api.JobRequest{Command: "Replace",
		Items: []api.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "900"}}})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    device tree: %s was %s, now %s\n", sim.PollIntervalURI, before, dev.Value(sim.PollIntervalURI))
	if j.Status != int(syncml.StatusOK) {
		return fmt.Errorf("the Replace answered %d", j.Status)
	}

	// 3. An Atomic whose second member is refused: everything rolls back.
	apnBefore := dev.Value(sim.APNURI)
	j, err = d.run(ctx, "Atomic that rolls back (DevInfo/Man is read-only)", id, api.JobRequest{Command: "Atomic", Children: []api.JobRequest{
		{Command: "Replace", Items: []api.JobItem{{URI: sim.APNURI, Data: "iot.example.net"}}},
		{Command: "Replace", Items: []api.JobItem{{URI: "./DevInfo/Man", Data: "Tampered Inc."}}},
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    device tree: %s is still %q (rolled back)\n", sim.APNURI, dev.Value(sim.APNURI))
	if j.Status != int(syncml.StatusAtomicFailed) || dev.Value(sim.APNURI) != apnBefore {
		return fmt.Errorf("the Atomic answered %d, children %v", j.Status, j.ChildStatuses)
	}

	// 4. A user-interaction alert, answered by the simulated user: a single
	// choice, so the answer (the chosen entry, in the Status item) is visible.
	uia := &api.UIAlert{Code: int(syncml.AlertSingleChoice), Text: "When should the security update be installed?",
		MaxDT: 30, Default: "2", Choices: []string{"Now", "Tonight", "Next week"}}
	j, err = d.run(ctx, "User-interaction alert (answered by the device's simulated user)", id, api.JobRequest{Command: "Alert", Alert: uia})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "    device answered: %s\n", uiAnswer(j))
	if j.Status != int(syncml.StatusOK) {
		return fmt.Errorf("the UI alert answered %d", j.Status)
	}

	// 5. A generic alert: diagnostics run asynchronously (202) and the device
	// reports the outcome with Alert 1226.
	j, err = d.run(ctx, "Exec diagnostics (the device reports back with a generic alert)", id, api.JobRequest{Command: "Exec",
		Correlator: "diag-1", Items: []api.JobItem{{URI: sim.DiagnosticsURI}}})
	if err != nil {
		return err
	}
	if j.Status != int(syncml.StatusAccepted) && j.Status != int(syncml.StatusOK) {
		return fmt.Errorf("the Exec answered %d", j.Status)
	}
	ev, err := d.genericAlert(ctx, dev, "diag-1")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n[%d] Generic alert from the device\n", d.next())
	fmt.Fprintf(d.out, "    Alert 1226 type %s source %s correlator %s\n    data: %s\n", ev.Type, ev.Source, ev.Correlator, ev.Data)

	// 6. Diagnostics over DiagMon, reported and listed by the server.
	if err := d.diagnostics(ctx, dev); err != nil {
		return err
	}

	// 7. A firmware update over FUMO.
	if err := d.firmwareUpdate(ctx, dev); err != nil {
		return err
	}
	// 8. A software component install over SCOMO.
	return d.componentInstall(ctx, dev)
}

func (d *demo) next() int { d.step++; return d.step }

// run queues one job with an immediate notification, waits for its outcome
// and prints it.
func (d *demo) run(ctx context.Context, title, id string, req api.JobRequest) (*api.Job, error) {
	fmt.Fprintf(d.out, "\n[%d] %s\n", d.next(), title)
	req.Notify = true
	j, err := d.api.CreateJob(ctx, id, req)
	if err != nil {
		return nil, err
	}
	if j.Warning != "" {
		fmt.Fprintf(d.out, "    warning: %s\n", j.Warning)
	}
	wctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	j, err = d.api.WaitJob(wctx, j.ID)
	if err != nil {
		return nil, fmt.Errorf("job %d (%s): %w", j.ID, title, err)
	}
	printJob(d.out, j, "    ")
	return j, nil
}

// printJob writes a job as a readable account: command, items, status,
// member statuses and results.
func printJob(w io.Writer, j *api.Job, indent string) {
	fmt.Fprintf(w, "%sjob %d: %s%s -> %s (%s)\n", indent, j.ID, j.Command, specText(j.Spec), syncml.StatusCode(j.Status), j.State)
	for i, c := range j.Spec.Children {
		st := "-"
		if i < len(j.ChildStatuses) {
			st = syncml.StatusCode(j.ChildStatuses[i]).String()
		}
		fmt.Fprintf(w, "%s  %s%s -> %s\n", indent, c.Command, specText(c), st)
	}
	if j.Spec.Alert != nil {
		fmt.Fprintf(w, "%s  alert %d %q\n", indent, j.Spec.Alert.Code, j.Spec.Alert.Text)
	}
	for _, r := range j.Results {
		if j.Spec.Alert != nil {
			break // a UI alert's items are its answer: uiAnswer words them
		}
		fmt.Fprintf(w, "%s  %-28s = %s\n", indent, r.URI, r.Data)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "%s  error: %s\n", indent, j.Error)
	}
}

// uiAnswer says in words what the device answered to a UI alert job: the
// status code carries yes/no/cancel/timeout and, for text input and choices,
// the Status items (stored as the job's results) carry the answer itself.
func uiAnswer(j *api.Job) string {
	st := syncml.StatusCode(j.Status)
	var a *api.UIAlert
	if j.Spec.Alert != nil {
		a = j.Spec.Alert
	}
	var data []string
	for _, r := range j.Results {
		data = append(data, r.Data)
	}
	switch {
	case j.State != "done":
		return fmt.Sprintf("nothing (%s, %s)", j.State, st)
	case st == syncml.StatusNotModified && a != nil && a.Code == int(syncml.AlertConfirmOrReject):
		return fmt.Sprintf("%s: the user said no", st)
	case st == syncml.StatusCancelled:
		return fmt.Sprintf("%s: the user cancelled", st)
	case !st.Success():
		return fmt.Sprintf("%s: no answer", st)
	case a == nil:
		return st.String()
	}
	switch syncml.AlertCode(a.Code) {
	case syncml.AlertDisplay:
		return fmt.Sprintf("%s: the message was shown", st)
	case syncml.AlertConfirmOrReject:
		return fmt.Sprintf("%s: the user said yes", st)
	case syncml.AlertTextInput:
		return fmt.Sprintf("%s: the user typed %q", st, strings.Join(data, ""))
	}
	var chosen []string
	for _, d := range data {
		for _, n := range strings.Split(d, "-") {
			if i, err := strconv.Atoi(strings.TrimSpace(n)); err == nil && i >= 1 && i <= len(a.Choices) {
				chosen = append(chosen, fmt.Sprintf("%d %q", i, a.Choices[i-1]))
			} else if n != "" {
				chosen = append(chosen, strconv.Quote(n))
			}
		}
	}
	if len(chosen) == 0 {
		return fmt.Sprintf("%s: the user chose nothing", st)
	}
	return fmt.Sprintf("%s: the user chose %s", st, strings.Join(chosen, ", "))
}

func specText(r api.JobRequest) string {
	var b strings.Builder
	for _, it := range r.Items {
		b.WriteString(" ")
		b.WriteString(it.URI)
		if it.Data != "" {
			fmt.Fprintf(&b, "=%q", it.Data)
		}
	}
	return b.String()
}

// genericAlert waits for the 1226 that answers correlator: the device sends
// it in the session after the Exec; if none is under way it checks in itself.
func (d *demo) genericAlert(ctx context.Context, dev *sim.Device, corr string) (*api.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	if dev.Client().PendingAlerts() > 0 {
		if _, err := d.fleet.Session(ctx, dev); err != nil {
			return nil, fmt.Errorf("device session carrying the generic alert: %w", err)
		}
	}
	delay := 20 * time.Millisecond
	for {
		evs, err := d.api.Events(ctx, dev.ID(), 0, 1000)
		if err != nil {
			return nil, err
		}
		for i := range evs.Events {
			if e := &evs.Events[i]; e.Kind == "generic-alert" && e.Correlator == corr {
				return e, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no generic alert with correlator %q arrived: %w", corr, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}
