// Command omadm-agent is the OMA DM 1.2 device agent: it keeps a management
// tree in a state directory, talks to a DM server over HTTP(S) and answers
// package 0 notifications.
//
// One client-initiated session:
//
//	omadm-agent --state /var/lib/omadm --server https://dm.example/dm --server-id dm.example \
//	    --device-id IMEI:493005100592800 --username dev --password pw --server-password spw --once
//
// Daemon (notifications and periodic check-in):
//
//	omadm-agent --state /var/lib/omadm --notify-listen udp://127.0.0.1:2948 --poll 1h
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/internal/buildinfo"
	"github.com/omadm/omadm/mo/devdetail"
	"github.com/omadm/omadm/mo/devinfo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
	"github.com/omadm/omadm/transport/obex"
)

// version is the DmV the agent reports.
const version = "omadm-agent/1.0"

type options struct {
	state                               string
	server, serverID, deviceID          string
	username, password, serverPassword  string
	authScheme, serverAuth, encoding    string
	bootstrap                           string
	once                                bool
	notifyListen                        string
	poll                                time.Duration
	logLevel                            string
	trace                               string
	ca, cert, key                       string
	tlsCA, tlsServerSHA256              string
	ui                                  string
	maxMsgSize, maxObjSize              int
	tree                                dmtree.Options
	retries                             int
	retryBackoff, timeout               time.Duration
	sessionTimeout                      time.Duration
	maxMessages                         int
	bootSec, bootMAC, bootKey, bootIMSI string
	fumo, fumoInstall, fumoVerify       string
	lawmo, lawmoLock, lawmoWipe         string
	lawmoReset, lawmoWipeList           string
	scomo, scomoDir, scomoHook          string
	scomoTypes                          string
	dlConnect, dlStall                  time.Duration
	checkUpdate                         bool
	fwVersion, fumoTypes                string
	bootAccept, bootPIN                 string
	bootPolicy                          *auth.BootstrapPolicy
	liveTree                            *dmtree.Tree // the running tree, for pushed bootstraps
	diagmon, diagmonStorage, diagmonLog string
	diagmonLogBytes                     int
	connmo, connmoApply                 string
	showVersion                         bool
	transport                           string // "" (HTTP), wsp://gateway:port, obex://… or obex+serial://…
	obexListen                          string // reversed OBEX roles (obex_listen.go)
	obexDev                             *obex.DeviceServer
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("omadm-agent", flag.ContinueOnError)
	// Parse errors are reported by flagError, -h by the usage below.
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.showVersion, "version", false, "print the version (module, VCS revision, Go) and exit")
	fs.StringVar(&o.state, "state", "", "state directory holding the management tree (required)")
	fs.StringVar(&o.server, "server", "", "DM server URL (sets up the account)")
	fs.StringVar(&o.transport, "transport", "", transportUsage)
	fs.StringVar(&o.serverID, "server-id", "", "DM server identifier (DMAcc ServerID)")
	fs.StringVar(&o.deviceID, "device-id", "", "device id (DevInfo/DevId), e.g. IMEI:493005100592800")
	fs.StringVar(&o.username, "username", "", "client credential name (CLCRED AAuthName)")
	fs.StringVar(&o.password, "password", "", "client credential secret (CLCRED AAuthSecret)")
	fs.StringVar(&o.serverPassword, "server-password", "", "server credential secret (SRVCRED AAuthSecret; also the package 0 secret)")
	fs.StringVar(&o.authScheme, "auth", "md5", "client authentication: basic, md5, hmac or none")
	fs.StringVar(&o.serverAuth, "server-auth", "", "scheme the server's credentials must use (SRVCRED AAuthType): basic, md5 or hmac (default: as --auth)")
	fs.StringVar(&o.encoding, "encoding", "xml", "message encoding: xml or wbxml")
	fs.StringVar(&o.bootstrap, "bootstrap", "", "bootstrap file: TNDS XML, or a DM message (XML or WBXML) adding a DMAcc")
	fs.BoolVar(&o.once, "once", false, "run one client-initiated session and exit (0 on success)")
	fs.StringVar(&o.notifyListen, "notify-listen", "", "package 0 listener, udp://127.0.0.1:PORT (raw or WDP/WSP push)")
	fs.StringVar(&o.obexListen, "obex-listen", "", obexListenUsage)
	fs.DurationVar(&o.poll, "poll", 0, "periodic client-initiated session interval in daemon mode (0 = never)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.trace, "trace", "", "directory to write every message sent and received (WBXML also decoded to XML)")
	fs.StringVar(&o.ca, "ca", "", "PEM file of CA certificates trusted for the server, besides the system roots")
	fs.StringVar(&o.tlsCA, "tls-ca", "", "PEM file of the only CAs trusted for the server (the system roots are not)")
	fs.StringVar(&o.tlsServerSHA256, "tls-server-sha256", "", "pin the server's TLS certificate: SHA-256 of its DER form in hex, comma-separated for several; alone it replaces CA checks (self-signed servers)")
	fs.StringVar(&o.cert, "tls-cert", "", "PEM client certificate for TLS client authentication")
	fs.StringVar(&o.key, "tls-key", "", "PEM key of --tls-cert")
	fs.StringVar(&o.cert, "cert", "", "same as --tls-cert")
	fs.StringVar(&o.key, "key", "", "same as --tls-key")
	fs.StringVar(&o.ui, "ui", "auto", "user-interaction alerts: auto (accept defaults), terminal, or none (406)")
	fs.IntVar(&o.maxMsgSize, "max-msg-size", 0, "largest message accepted (default 64 KiB)")
	fs.IntVar(&o.maxObjSize, "max-obj-size", 0, "largest object accepted (default 4 MiB)")
	fs.IntVar(&o.tree.MaxNodes, "tree-max-nodes", 20000, "most nodes the management tree holds (0 = unlimited; more → 420 Device full)")
	fs.IntVar(&o.tree.MaxValueSize, "tree-max-value", 8<<20, "largest leaf value in bytes (more → 413 Request entity too large)")
	fs.Int64Var(&o.tree.MaxTotalBytes, "tree-max-bytes", 32<<20, "most bytes of leaf values and node metadata (names, types, titles, ACLs) the tree holds (0 = unlimited; more → 420 Device full)")
	fs.IntVar(&o.retries, "retries", 2, "re-sends of a message the server did not answer (0 = try once)")
	fs.DurationVar(&o.retryBackoff, "retry-backoff", time.Second, "wait before the first re-send; doubles per re-send up to 30s")
	fs.DurationVar(&o.timeout, "timeout", time.Minute, "bound of one request/response exchange")
	fs.DurationVar(&o.sessionTimeout, "session-timeout", 30*time.Minute, "bound of one whole DM session; then Alert 1223 ends it")
	fs.IntVar(&o.maxMessages, "max-messages", 1000, "most messages the agent sends in one DM session")
	fs.StringVar(&o.bootSec, "bootstrap-sec", "", "bootstrap security of a WBXML --bootstrap: NETWORKID, USERPIN or USERPIN_NETWORKID")
	fs.StringVar(&o.bootMAC, "bootstrap-mac", "", "MAC of the --bootstrap file: 40 hex digits of HMAC-SHA1(key, file)")
	fs.StringVar(&o.bootKey, "bootstrap-key", "", "key of --bootstrap-sec (network secret, PIN, or both as the mechanism defines)")
	fs.StringVar(&o.bootIMSI, "bootstrap-imsi", "", "with --bootstrap-sec NETWORKID instead of --bootstrap-key: the device's IMSI, keyed in its 3GPP semi-octet form")
	fs.StringVar(&o.bootAccept, "bootstrap-accept", "", "with --notify-listen: comma-separated security methods a WAP-pushed bootstrap may use (NETWORKID/NETWPIN, USERPIN, USERPIN_NETWORKID/USERNETWPIN, USERPINMAC); empty refuses every pushed bootstrap")
	fs.StringVar(&o.bootPIN, "bootstrap-pin", "", "user PIN of USERPIN and USERPIN_NETWORKID bootstraps; for USERPINMAC the whole PIN the user was given")
	fs.StringVar(&o.fumo, "fumo", "", "firmware update (FUMO) package node, e.g. ./FwUpdate/Default; packages are kept under <state>/fumo")
	fs.StringVar(&o.fumoInstall, "fumo-install", "", "with --fumo: command that installs a firmware package, run by /bin/sh with the package path as $1; exit 0 = updated")
	fs.StringVar(&o.fumoVerify, "fumo-verify", "", "with --fumo: command run after a restart during an update, package path as $1; exit 0 = the new firmware runs")
	fs.DurationVar(&o.dlConnect, "download-connect-timeout", fumo.DefaultConnectTimeout, "bound of connecting (TLS handshake included) to a package server (FUMO PkgURL)")
	fs.DurationVar(&o.dlStall, "download-stall-timeout", fumo.DefaultStallTimeout, "a package download fails (FUMO 407) when no response arrives within this, or less than 4 KiB arrives in any such period")
	fs.BoolVar(&o.checkUpdate, "check-update", false, "with --fumo: ask the server for a firmware update (FUMO client-initiated: generic alert org.openmobilealliance.dm.firmwareupdate.devicerequest) in the first session")
	fs.StringVar(&o.fwVersion, "fw-version", "", "the running firmware version (DevDetail/FwV), which the server's release policy matches")
	fs.StringVar(&o.fumoTypes, "fumo-types", "", "with --fumo: comma-separated media types a download descriptor may announce (type/* allowed; default any)")
	fs.StringVar(&o.lawmo, "lawmo", "", "lock and wipe (LAWMO) object node, e.g. ./LAWMO")
	fs.StringVar(&o.lawmoLock, "lawmo-lock", "", "with --lawmo: command that applies a lock state, run by /bin/sh with $1 = fully-locked, partially-locked or unlocked; exit 0 = done")
	fs.StringVar(&o.lawmoWipe, "lawmo-wipe", "", "with --lawmo: command that wipes user data, with the AvailableWipeList items to erase as $1…")
	fs.StringVar(&o.lawmoReset, "lawmo-factory-reset", "", "with --lawmo: command that resets the device to factory state")
	fs.StringVar(&o.scomo, "scomo", "", "software component (SCOMO) object node, e.g. ./SCOMO; packages and the operation in progress are kept under <state>/scomo")
	fs.StringVar(&o.scomoDir, "scomo-dir", "", "with --scomo: directory components are installed in, one subdirectory per component (default <state>/scomo/components)")
	fs.StringVar(&o.scomoTypes, "scomo-types", "", "with --scomo: comma-separated media types a download descriptor may announce (type/* allowed; default any)")
	fs.StringVar(&o.scomoHook, "scomo-hook", "", "with --scomo: command run by /bin/sh at each step with $1 = install, install-inactive, remove, activate or deactivate, $2 = the component id, $3 = its directory; exit 0 = done")
	fs.StringVar(&o.lawmoWipeList, "lawmo-wipe-list", "", "with --lawmo: comma-separated items Wipe can erase (AvailableWipeList), e.g. 'SD card,Contacts'")
	fs.StringVar(&o.diagmon, "diagmon", "", "diagnostics and monitoring (DiagMon) object node, e.g. ./DiagMon: memory, load, storage and battery functions, trap policies")
	fs.StringVar(&o.diagmonStorage, "diagmon-storage", "/", "with --diagmon: path whose file system the Storage function reads")
	fs.StringVar(&o.diagmonLog, "diagmon-log", "", "with --diagmon: file whose end the LogTail function uploads (no LogTail function without it)")
	fs.IntVar(&o.diagmonLogBytes, "diagmon-log-bytes", 16<<10, "with --diagmon-log: most bytes LogTail uploads (at most 64 KiB)")
	fs.StringVar(&o.connmo, "connmo", "", "connectivity (ConnMO) container node, e.g. ./ConnMO: access points and proxies servers provision")
	fs.StringVar(&o.connmoApply, "connmo-apply", "", "with --connmo: command run by /bin/sh when a server changed the container; it reads every leaf as NAP/<name>/Addr=value lines on stdin; exit 0 = in force (else retried)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "Usage: omadm-agent --state DIR (--once | --notify-listen ADDR | --obex-listen ADDR | --poll D) [flags]")
			fs.PrintDefaults()
			return nil, err
		}
		return nil, flagError(fs, err)
	}
	if o.showVersion {
		return o, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.state == "" {
		return nil, errors.New("--state is required")
	}
	if err := checkTransport(o.transport); err != nil {
		return nil, err
	}
	if err := checkOBEXListen(o); err != nil {
		return nil, err
	}
	if o.tree.MaxNodes < 0 || o.tree.MaxValueSize <= 0 || o.tree.MaxTotalBytes < 0 {
		return nil, errors.New("--tree-max-nodes and --tree-max-bytes must be >= 0, --tree-max-value > 0")
	}
	if o.retries < 0 || o.retryBackoff <= 0 || o.timeout <= 0 {
		return nil, errors.New("--retries must be >= 0, --retry-backoff and --timeout > 0")
	}
	if o.sessionTimeout <= 0 || o.maxMessages <= 0 {
		return nil, errors.New("--session-timeout and --max-messages must be > 0")
	}
	if o.dlConnect <= 0 || o.dlStall <= 0 {
		return nil, errors.New("--download-connect-timeout and --download-stall-timeout must be > 0")
	}
	if o.ca != "" && o.tlsCA != "" {
		return nil, errors.New("give --ca (added to the system roots) or --tls-ca (the only roots), not both")
	}
	if (o.cert == "") != (o.key == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	for _, p := range serverPins(o.tlsServerSHA256) {
		if _, err := dmhttp.ParseCertSHA256(p); err != nil {
			return nil, fmt.Errorf("--tls-server-sha256: %w", err)
		}
	}
	if o.bootKey != "" && o.bootIMSI != "" {
		return nil, errors.New("give --bootstrap-key or --bootstrap-imsi, not both")
	}
	hasKey := o.bootKey != "" || o.bootIMSI != ""
	if (o.bootSec != "" || o.bootMAC != "") && (o.bootSec == "" || o.bootMAC == "" || !hasKey || o.bootstrap == "") {
		return nil, errors.New("--bootstrap-sec, --bootstrap-mac and --bootstrap-key (or --bootstrap-imsi) go together, with --bootstrap")
	}
	if (hasKey || o.bootPIN != "") && o.bootSec == "" && o.bootAccept == "" {
		return nil, errors.New("--bootstrap-key, --bootstrap-imsi and --bootstrap-pin need --bootstrap-sec (a --bootstrap file) or --bootstrap-accept (pushed bootstraps)")
	}
	var network []byte
	if o.bootIMSI != "" {
		if o.bootSec != "" && !strings.EqualFold(o.bootSec, auth.BootstrapNetworkID) && !strings.EqualFold(o.bootSec, "NETWPIN") {
			return nil, errors.New("--bootstrap-imsi is the key of --bootstrap-sec NETWORKID only")
		}
		k, err := auth.IMSIKey(o.bootIMSI)
		if err != nil {
			return nil, fmt.Errorf("--bootstrap-imsi: %w", err)
		}
		network = k
		if o.bootSec != "" {
			o.bootKey = string(k)
		}
	} else if o.bootKey != "" {
		network = []byte(o.bootKey)
	}
	if o.bootAccept != "" {
		if o.notifyListen == "" {
			return nil, errors.New("--bootstrap-accept needs --notify-listen (pushed bootstraps arrive there)")
		}
		pol := &auth.BootstrapPolicy{Network: network, PIN: o.bootPIN}
		for _, m := range strings.Split(o.bootAccept, ",") {
			c, err := auth.ParseBootstrapSec(m)
			if err != nil {
				return nil, fmt.Errorf("--bootstrap-accept: %w", err)
			}
			if _, err := auth.BootstrapKey(c, network, cmp.Or(o.bootPIN, "x")); err != nil && c != auth.BootstrapUserPINMAC {
				return nil, fmt.Errorf("--bootstrap-accept %s: give its key (--bootstrap-imsi or --bootstrap-key, --bootstrap-pin): %w", c, err)
			}
			if (c == auth.BootstrapUserPIN || c == auth.BootstrapUserPINNetworkID || c == auth.BootstrapUserPINMAC) && o.bootPIN == "" {
				return nil, fmt.Errorf("--bootstrap-accept %s needs --bootstrap-pin", c)
			}
			pol.Accept = append(pol.Accept, c)
		}
		o.bootPolicy = pol
	}
	if !o.once && o.notifyListen == "" && o.poll == 0 && o.obexListen == "" {
		return nil, errors.New("nothing to do: give --once, --notify-listen, --obex-listen or --poll")
	}
	if o.poll < 0 {
		return nil, errors.New("--poll must be >= 0")
	}
	if o.fumo == "" && (o.checkUpdate || o.fumoTypes != "") {
		return nil, errors.New("--check-update and --fumo-types need --fumo (the package node)")
	}
	if o.fumo == "" && (o.fumoInstall != "" || o.fumoVerify != "") {
		return nil, errors.New("--fumo-install and --fumo-verify need --fumo (the package node)")
	}
	if o.lawmo == "" && (o.lawmoLock != "" || o.lawmoWipe != "" || o.lawmoReset != "" || o.lawmoWipeList != "") {
		return nil, errors.New("--lawmo-lock, --lawmo-wipe, --lawmo-factory-reset and --lawmo-wipe-list need --lawmo (the object node)")
	}
	if o.scomo == "" && (o.scomoDir != "" || o.scomoHook != "" || o.scomoTypes != "") {
		return nil, errors.New("--scomo-dir, --scomo-hook and --scomo-types need --scomo (the object node)")
	}
	if o.diagmon == "" && (o.diagmonLog != "" || o.diagmonStorage != "/") {
		return nil, errors.New("--diagmon-storage and --diagmon-log need --diagmon (the object node)")
	}
	if o.connmo == "" && o.connmoApply != "" {
		return nil, errors.New("--connmo-apply needs --connmo (the container node)")
	}
	if o.diagmonLogBytes <= 0 || o.diagmonLogBytes > diagmon.MaxLogTail {
		return nil, fmt.Errorf("--diagmon-log-bytes must be from 1 to %d", diagmon.MaxLogTail)
	}
	// Validated here, not where they are used, so a typo is refused even when
	// the state directory already holds an account and --auth would be unused.
	if _, err := parseAuth(o.authScheme); err != nil {
		return nil, err
	}
	if sa, err := parseAuth(o.serverAuth); err != nil || sa == "" && o.serverAuth != "" {
		return nil, fmt.Errorf("--server-auth %q: want basic, md5 or hmac", o.serverAuth)
	}
	if _, err := parseLogLevel(o.logLevel); err != nil {
		return nil, err
	}
	return o, nil
}

// serverPins splits --tls-server-sha256.
func serverPins(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseAuth maps --auth to the SyncML authentication type ("" for none).
func parseAuth(s string) (string, error) {
	switch strings.ToLower(s) {
	case "basic":
		return syncml.AuthBasic, nil
	case "md5", "digest":
		return syncml.AuthMD5, nil
	case "hmac":
		return syncml.AuthMAC, nil
	case "none", "":
		return "", nil
	}
	return "", fmt.Errorf("--auth %q: want basic, md5, hmac or none", s)
}

// parseLogLevel maps --log-level to a slog level.
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; ctx ends on SIGINT/SIGTERM. It returns the exit
// code: 0 success, 1 failure (with the reason on stderr), 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "omadm-agent:", err)
		return 2
	}
	if o.showVersion {
		fmt.Fprintln(stdout, buildinfo.Read().String("omadm-agent"))
		return 0
	}
	lvl, _ := parseLogLevel(o.logLevel) // validated by parseFlags
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if err := agent(ctx, o, log, stdin, stdout); err != nil {
		fmt.Fprintln(stderr, "omadm-agent:", terminalSafe(err.Error()))
		return 1
	}
	return 0
}

// terminalSafe replaces control characters (escape sequences a server may
// have put in an HTTP reason phrase or a message) and bidirectional
// overrides by U+FFFD, so that an error printed to the operator's terminal
// cannot drive it.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return utf8.RuneError
		}
		return r
	}, s)
}

func agent(ctx context.Context, o *options, log *slog.Logger, stdin io.Reader, stdout io.Writer) error {
	if err := os.MkdirAll(o.state, 0o700); err != nil {
		return err
	}
	tree, err := dmtree.Open(o.state, &o.tree)
	if err != nil {
		return fmt.Errorf("opening state: %w", err)
	}
	defer tree.Close()
	deviceID, err := setup(tree, o)
	if err != nil {
		return err
	}
	accts, err := dmacc.Accounts(tree)
	if err != nil {
		return fmt.Errorf("reading DMAcc: %w", err)
	}
	var acc *dmacc.Account
	for i := range accts {
		if o.serverID == "" || accts[i].ServerID == o.serverID {
			acc = &accts[i]
			break
		}
	}
	if acc == nil {
		return errors.New("no DM account: give --server and --server-id, or --bootstrap")
	}
	if o.obexListen != "" {
		o.obexDev = obexDevice(o, log) // the transport of every session
	} else {
		o.transport = transportSpec(o.transport, acc.Addr) // transport_obex.go
	}
	tp, err := agentTransport(o)
	if err != nil {
		return err
	}
	defer closeTransport(tp, log)
	enc := syncml.EncodingXML
	switch o.encoding {
	case "xml":
	case "wbxml":
		enc = syncml.EncodingWBXML
	default:
		return fmt.Errorf("--encoding %q: want xml or wbxml", o.encoding)
	}
	acct := clientAccount(*acc)
	acct.ServerNonceAlt = loadAltNonce(o.state, acct.ServerID)
	cfg := client.Config{
		Tree: client.DMTree(tree), Account: acct, Nonces: treeNonces(tree, o.state),
		DeviceID: deviceID, Transport: tp, Encoding: enc, Logger: log,
		MaxMsgSize: o.maxMsgSize, MaxObjSize: o.maxObjSize,
		Retry:          client.RetryPolicy{Attempts: o.retries + 1, Backoff: o.retryBackoff, Timeout: o.timeout},
		MaxSessionTime: o.sessionTimeout, MaxMessages: o.maxMessages,
	}
	switch o.ui {
	case "auto":
		cfg.UI = client.AutoAnswer{}
	case "terminal":
		cfg.UI = &client.Terminal{In: stdin, Out: stdout}
	case "none":
	default:
		return fmt.Errorf("--ui %q: want auto, terminal or none", o.ui)
	}
	if o.trace != "" {
		if cfg.Trace, err = traceDir(o.trace, log); err != nil {
			return err
		}
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	kick := make(chan struct{}, 1)
	var running []waiter // objects whose operations run after a session
	if o.fumo != "" {
		fw, err := startFUMO(tree, o, acct.ServerID, c, kick, log)
		if err != nil {
			return err
		}
		defer fw.Close()
		running = append(running, fw)
	}
	if o.lawmo != "" {
		lw, err := startLAWMO(tree, o, acct.ServerID, c, kick, log)
		if err != nil {
			return err
		}
		defer lw.Close()
		running = append(running, lw)
	}
	if o.scomo != "" {
		sc, err := startSCOMO(tree, o, acct.ServerID, c, kick, log)
		if err != nil {
			return err
		}
		defer sc.Close()
		running = append(running, sc)
	}
	if o.diagmon != "" {
		dmCtx, stopDM := context.WithCancel(ctx)
		dm, err := startDiagMon(dmCtx, tree, o, acct.ServerID, c, kick, log)
		if err != nil {
			stopDM()
			return err
		}
		defer func() { stopDM(); dm.Close() }()
		running = append(running, dm)
	}
	if o.connmo != "" {
		cm, err := startConnMO(tree, o, acct.ServerID, log)
		if err != nil {
			return err
		}
		if o.once {
			defer func() { _, _ = cm.Sync(ctx) }()
		} else {
			wctx, stopW := context.WithCancel(ctx)
			defer stopW()
			go watchConnMO(wctx, cm)
		}
	}
	if o.checkUpdate {
		c.QueueAlert(updateRequest(o.fumo, o.fwVersion))
		log.Info("asking the server for a firmware update", "node", o.fumo, "fw_version", o.fwVersion)
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	if o.once {
		return once(ctx, c, running, stdout, log)
	}
	o.liveTree = tree
	return daemon(ctx, o, c, kick, log)
}

// setup installs the standard objects on first start, applies a bootstrap
// and the account given by flags; it returns the device id.
func setup(tree *dmtree.Tree, o *options) (string, error) {
	devID := o.deviceID
	if devID == "" {
		devID, _ = get(tree, devinfo.Root+"/DevId")
	}
	if devID == "" {
		return "", errors.New("--device-id is required on first start")
	}
	if err := devinfo.Install(tree, devinfo.Info{DevID: devID, Man: "omadm", Mod: "omadm-agent", DmV: version}); err != nil {
		return "", fmt.Errorf("installing DevInfo: %w", err)
	}
	if err := devdetail.Install(tree, devdetail.Detail{DevTyp: "linux", OEM: "omadm", FwV: o.fwVersion, SwV: version, LrgObj: true}); err != nil {
		return "", fmt.Errorf("installing DevDetail: %w", err)
	}
	if err := dmacc.Install(tree); err != nil {
		return "", fmt.Errorf("installing DMAcc: %w", err)
	}
	if o.bootstrap != "" {
		if err := bootstrap(tree, o); err != nil {
			return "", fmt.Errorf("bootstrap %s: %w", o.bootstrap, err)
		}
	}
	if o.server != "" {
		scheme, err := parseAuth(o.authScheme)
		if err != nil {
			return "", err
		}
		srvScheme, _ := parseAuth(o.serverAuth)
		if err := writeAccount(tree, accountSpec{
			serverURL: o.server, serverID: o.serverID, username: o.username, password: o.password,
			srvPassword: o.serverPassword, scheme: scheme, srvScheme: srvScheme,
		}); err != nil {
			return "", err
		}
	}
	return devID, nil
}

// bootstrap applies a TNDS document, or a DM bootstrap message (XML or
// WBXML, Add/Replace of a DMAcc by TNDS or plain items) processed like a
// server message but never answered. With --bootstrap-sec the file must be
// WBXML and carry the given MAC = hex(HMAC-SHA1(key, file))
// (OMA-TS-DM_Bootstrap-V1_2, bootstrap security).
func bootstrap(tree *dmtree.Tree, o *options) error {
	f, err := os.Open(o.bootstrap)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxBootstrapFile+1))
	f.Close()
	if err != nil {
		return err
	}
	if len(b) > maxBootstrapFile {
		return fmt.Errorf("larger than %d bytes", maxBootstrapFile)
	}
	enc, _ := syncml.Detect("", b)
	if o.bootSec != "" {
		if enc != syncml.EncodingWBXML {
			return errors.New("--bootstrap-sec applies to WBXML bootstrap messages only")
		}
		if err := auth.VerifyBootstrap(o.bootSec, []byte(o.bootKey), b, o.bootMAC); err != nil {
			return err
		}
	}
	if head := string(b[:min(len(b), 512)]); enc == syncml.EncodingXML && strings.Contains(head, "<MgmtTree") && !strings.Contains(head, "<SyncML") {
		return tree.Add("", ".", dmtree.Value{Type: syncml.TypeTNDSXML, Data: b})
	}
	_, err = client.ApplyBootstrap(client.DMTree(tree), b, "")
	return err
}

// maxBootstrapFile bounds the --bootstrap file.
const maxBootstrapFile = 1 << 20

// session runs one client-initiated session and prints its outcome.
func session(ctx context.Context, c *client.Client, stdout io.Writer) (*client.SessionResult, error) {
	res, err := c.Run(ctx, client.Trigger{})
	fmt.Fprintf(stdout, "session %s %s: %d sent, %d received, %d commands\n",
		res.SessionID, res.State, res.MessagesSent, res.MessagesReceived, len(res.Commands))
	return res, err
}

// daemon waits for package 0, the poll interval and kick (an alert queued by
// a management object, e.g. a FUMO result) and runs a session for each.
func daemon(ctx context.Context, o *options, c *client.Client, kick <-chan struct{}, log *slog.Logger) error {
	errc := make(chan error, 1)
	if o.notifyListen != "" {
		l, err := notification.Listen(o.notifyListen)
		if err != nil {
			return fmt.Errorf("--notify-listen: %w", err)
		}
		defer l.Close()
		// Every datagram is authenticated before anything is queued or
		// logged; drops are counted in one summary line per interval.
		in := c.NewInbox(client.InboxOptions{Served: loadServed(o.state, log), Save: saveServed(o.state, log)})
		log.Info("listening for package 0", "addr", l.Addr().String())
		go func() {
			errc <- l.ServeRaw(ctx, func(b []byte) {
				if notification.IsBootstrapPush(b) {
					pushedBootstrap(o, b, log)
					return
				}
				in.Offer(b)
			})
		}()
		runCtx, cancel := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { in.Run(runCtx); close(ran) }()
		defer func() { cancel(); <-ran }()
	}
	if o.obexDev != nil {
		stop, err := serveOBEXListen(ctx, o, o.obexDev, c, errc, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	var tick <-chan time.Time
	if o.poll > 0 {
		t := time.NewTicker(o.poll)
		defer t.Stop()
		tick = t.C
	}
	log.Info("omadm-agent running", "poll", o.poll.String())
	for {
		select {
		case <-ctx.Done():
			log.Info("omadm-agent stopping")
			return nil
		case err := <-errc:
			if err != nil {
				return fmt.Errorf("notification listener: %w", err)
			}
			errc = nil
		case <-tick:
			_, _ = c.Run(ctx, client.Trigger{})
		case <-kick:
			if c.PendingAlerts() > 0 {
				log.Info("reporting queued alerts", "alerts", c.PendingAlerts())
				_, _ = c.Run(ctx, client.Trigger{})
			}
		}
	}
}

// traceDir writes each message as <session>-<msgid>-<dir>.<xml|wbxml>, with
// a decoded .xml beside every WBXML message.
func traceDir(dir string, log *slog.Logger) (func(client.TraceEvent), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	seq := 0
	return func(ev client.TraceEvent) {
		seq++
		base := filepath.Join(dir, fmt.Sprintf("%s-%04d-%s-%s", ev.Time.UTC().Format("20060102T150405"), seq, ev.SessionID, ev.Direction))
		enc, _ := syncml.Detect(ev.ContentType, ev.Body)
		ext := ".xml"
		if enc == syncml.EncodingWBXML {
			ext = ".wbxml"
		}
		if err := os.WriteFile(base+ext, ev.Body, 0o600); err != nil {
			log.Warn("trace write failed", "err", err)
			return
		}
		if enc == syncml.EncodingWBXML && ev.Message != nil {
			if x, err := syncml.EncodeXML(ev.Message); err == nil {
				_ = os.WriteFile(base+".decoded.xml", x, 0o600)
			}
		}
	}, nil
}
