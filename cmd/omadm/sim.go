package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
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

// simConfig is everything `omadm sim` can be told.
type simConfig struct {
	server      string
	apiURL      string
	token       string
	serverID    string
	devices     int
	first       int
	concurrency int
	sessions    int
	duration    time.Duration
	interval    time.Duration
	jitter      float64
	burst       bool
	encoding    string
	auth        string
	secret      string
	enroll      bool
	notify      string
	notifySocks int
	json        bool
	quiet       bool
	scomo       bool
	scomoDir    string
}

func newSimCmd() *cobra.Command {
	var c simConfig
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a fleet of devices against a DM server (load and scale tests)",
		Long: `sim runs thousands of simulated devices in one process, each with its own
management tree (DevInfo, DevDetail, DMAcc, a settings subtree), credentials and
session state, built on the real client engine and HTTP transport.

Without --duration every device runs --sessions sessions, at most --concurrency
at a time. With --duration the run stops starting sessions when it ends; with
--interval each device checks in every interval ± jitter (open loop),
otherwise sessions run back to back (closed loop). --burst starts every
device at once. --enroll first registers the devices through the REST API
(credentials are derived from --secret, so later runs find them again).

A progress line goes to stderr every second; the summary goes to stdout
(--json for machines). The exit status is 1 when any session failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runSim(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.server, "server", "", "DM server URL, e.g. http://127.0.0.1:8080 (/dm is added when the path is empty); default $OMADM_SERVER")
	f.StringVar(&c.apiURL, "api", "", "REST API base URL for --enroll (default: the --server host)")
	f.StringVar(&c.token, "api-token", "", "API token for --enroll (default $OMADM_API_TOKEN)")
	f.StringVar(&c.serverID, "server-id", "omadm", "the server's identifier (DMAcc ServerID)")
	f.IntVar(&c.devices, "devices", 100, "number of simulated devices")
	f.IntVar(&c.first, "first", 0, "number of the first device (identities are numbered)")
	f.IntVar(&c.concurrency, "concurrency", 64, "sessions in flight at most")
	f.IntVar(&c.sessions, "sessions", 1, "sessions per device when --duration is not given")
	f.DurationVar(&c.duration, "duration", 0, "run for this long (0 = until every device ran --sessions sessions)")
	f.DurationVar(&c.interval, "interval", 0, "check-in period of each device (0 = back to back)")
	f.Float64Var(&c.jitter, "jitter", 0.1, "fraction by which each check-in interval varies")
	f.BoolVar(&c.burst, "burst", false, "every device checks in at the start (no spreading over the first interval)")
	f.StringVar(&c.encoding, "encoding", "xml", "message encoding: xml or wbxml")
	f.StringVar(&c.auth, "auth", "md5", "device authentication: md5, hmac or basic")
	f.StringVar(&c.secret, "secret", "omadm-sim", "secret the device credentials are derived from")
	f.BoolVar(&c.enroll, "enroll", false, "enrol (or update) every device through the REST API first")
	f.StringVar(&c.notify, "notify-listen", "", "UDP address to receive package 0 on, e.g. 127.0.0.1:0 (registered with --enroll)")
	f.IntVar(&c.notifySocks, "notify-sockets", 1, "UDP sockets for package 0 (device i registers socket i mod N, consecutive ports from --notify-listen's); the addressee is found by checking each device's digest, so use one socket per few hundred devices")
	f.BoolVar(&c.json, "json", false, "print the summary as JSON")
	f.BoolVar(&c.quiet, "quiet", false, "no progress line")
	f.BoolVar(&c.scomo, "scomo", true, "every device carries a software component object at ./SCOMO (installs really unpack into --scomo-dir)")
	f.StringVar(&c.scomoDir, "scomo-dir", "", "with --scomo: directory for the devices' component state and installed components (default: a temporary directory removed at exit)")
	return cmd
}

// dmEndpoint turns a server URL into the device endpoint.
func dmEndpoint(server string) (dm, base string, err error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("--server %q: want an http(s) URL such as http://127.0.0.1:8080", server)
	}
	base = u.Scheme + "://" + u.Host
	if u.Path == "" || u.Path == "/" {
		u.Path = "/dm"
	}
	return u.String(), base, nil
}

func parseEncoding(s string) (syncml.Encoding, error) {
	switch strings.ToLower(s) {
	case "xml":
		return syncml.EncodingXML, nil
	case "wbxml":
		return syncml.EncodingWBXML, nil
	}
	return 0, fmt.Errorf("--encoding %q: want xml or wbxml", s)
}

// simHTTPClient is the one keep-alive client every simulated device shares:
// enough idle connections for the concurrency, so sessions do not pay for
// new TCP connections.
func simHTTPClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * concurrency,
		MaxIdleConnsPerHost:   2 * concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr}
}

// classifyHTTP names transport failures by their HTTP status.
func classifyHTTP(err error) string {
	var he *dmhttp.HTTPStatusError
	if errors.As(err, &he) {
		return fmt.Sprintf("http-%d", he.Code)
	}
	return ""
}

// apiEnroller enrols devices through the REST API; an existing device is
// updated to the simulator's credentials, so runs can be repeated.
type apiEnroller struct{ c *apiclient.Client }

func (a apiEnroller) Enroll(ctx context.Context, e sim.Enrolment) error {
	_, err := a.c.CreateDevice(ctx, api.DeviceCreate{ID: e.DeviceID, Username: e.Username, Password: e.Password,
		ServerPassword: e.ServerPassword, Auth: e.Auth, NotifyAddr: e.NotifyAddr, Labels: e.Labels})
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.StatusCode == http.StatusConflict {
		_, err = a.c.UpdateDevice(ctx, e.DeviceID, api.DeviceUpdate{Username: &e.Username, Password: &e.Password,
			ServerPassword: &e.ServerPassword, Auth: &e.Auth, NotifyAddr: &e.NotifyAddr, Labels: e.Labels})
	}
	return err
}

// simSummary is the --json output.
type simSummary struct {
	Server      string       `json:"server"`
	Devices     int          `json:"devices"`
	Concurrency int          `json:"concurrency"`
	Encoding    string       `json:"encoding"`
	Auth        string       `json:"auth"`
	EnrolSec    float64      `json:"enrol_s,omitempty"`
	BuildSec    float64      `json:"build_s"`
	Result      sim.Snapshot `json:"result"`
}

func runSim(ctx context.Context, c simConfig, stdout, stderr io.Writer) error {
	if c.server == "" {
		c.server = os.Getenv("OMADM_SERVER")
	}
	if c.server == "" {
		return errors.New("--server is required (or set OMADM_SERVER)")
	}
	dm, base, err := dmEndpoint(c.server)
	if err != nil {
		return err
	}
	enc, err := parseEncoding(c.encoding)
	if err != nil {
		return err
	}
	if _, err := sim.SchemeOf(c.auth); err != nil {
		return fmt.Errorf("--auth: %w", err)
	}
	if c.devices < 1 || c.concurrency < 1 {
		return errors.New("--devices and --concurrency must be at least 1")
	}
	hc := simHTTPClient(c.concurrency)
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: hc, UserAgent: "omadm-sim"})
	if err != nil {
		return err
	}
	progress := func(format string, args ...any) {
		if !c.quiet {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	scomoDir := ""
	if c.scomo {
		if scomoDir = c.scomoDir; scomoDir == "" {
			if scomoDir, err = os.MkdirTemp("", "omadm-sim-scomo-"); err != nil {
				return err
			}
			defer os.RemoveAll(scomoDir)
		}
	}
	t0 := time.Now()
	fleet, err := sim.New(sim.Options{
		ServerURL: dm, ServerID: c.serverID, Devices: c.devices, FirstIndex: c.first, Secret: c.secret,
		Auth: c.auth, Encoding: enc, Transport: tp, Concurrency: c.concurrency, Sessions: c.sessions,
		Duration: c.duration, Interval: c.interval, Jitter: c.jitter, Burst: c.burst, NotifyListen: c.notify, NotifySockets: c.notifySocks,
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Classify: classifyHTTP, SCOMODir: scomoDir,
	})
	if err != nil {
		return err
	}
	defer fleet.Close()
	sum := simSummary{Server: dm, Devices: c.devices, Concurrency: c.concurrency, Encoding: enc.String(), Auth: c.auth,
		BuildSec: time.Since(t0).Seconds()}
	progress("built %d devices in %.1fs", c.devices, sum.BuildSec)
	if _, err := fleet.Listen(ctx); err != nil {
		return err
	}
	if c.enroll {
		apiURL := c.apiURL
		if apiURL == "" {
			apiURL = base
		}
		token := c.token
		if token == "" {
			token = os.Getenv("OMADM_API_TOKEN")
		}
		if token == "" {
			return errors.New("--enroll needs --api-token (or OMADM_API_TOKEN)")
		}
		ac := apiclient.New(apiURL, token)
		ac.HTTP = hc
		t1 := time.Now()
		last := time.Now()
		err := fleet.Enroll(ctx, apiEnroller{ac}, min(c.concurrency, 32), func(n int) {
			if time.Since(last) >= time.Second || n == c.devices {
				last = time.Now()
				progress("enrolled %d/%d devices", n, c.devices)
			}
		})
		if err != nil {
			return err
		}
		sum.EnrolSec = time.Since(t1).Seconds()
		progress("enrolled %d devices in %.1fs", c.devices, sum.EnrolSec)
	}
	fleet.ResetStats()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var prev sim.Snapshot
		for {
			select {
			case <-stopProgress:
				return
			case <-tick.C:
				sn := fleet.Stats().Snapshot()
				progress("%s", sn.ProgressLine(prev))
				prev = sn
			}
		}
	}()
	res, runErr := fleet.Run(ctx)
	close(stopProgress)
	<-progressDone
	sum.Result = res
	if c.json {
		je := json.NewEncoder(stdout)
		je.SetIndent("", "  ")
		if err := je.Encode(sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "omadm sim: %d devices against %s (%s, %s, concurrency %d)\n", c.devices, dm, enc, c.auth, c.concurrency)
		if err := res.WriteText(stdout); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	if res.Failed > 0 {
		return failedf("%d of %d sessions failed", res.Failed, res.Sessions)
	}
	return nil
}
