package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/fleet/content"
	"github.com/omadm/omadm/internal/buildinfo"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/smsgw"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/transport/dmhttp"
	"github.com/omadm/omadm/web"
)

// serveConfig is everything `omadm serve` can be told. `omadm demo` and
// `omadm bench` fill it directly to start the same server in process.
type serveConfig struct {
	Listen  string // host:port; port 0 picks a free one
	DataDir string // token file and default SQLite database (default ./omadm-data)
	DB      string // postgres://… DSN; empty = SQLite at <DataDir>/omadm.db
	TLSCert string
	TLSKey  string
	// TLSClientCA is a PEM bundle of the CAs that issue device certificates
	// (empty: a device certificate is trusted only through the SHA-256 bound
	// to its account); TLSClientAuth is none, request (default with TLS) or
	// require.
	TLSClientCA   string
	TLSClientAuth string
	// HTTP bounds connections: timeouts and how many are served at once
	// (zero fields: dmhttp defaults).
	HTTP       dmhttp.ServerLimits
	PublicURL  string // how devices reach us (RespURI base behind a proxy)
	SMSWebhook string // SMS gateway URL for sms: notify addresses
	// SQLiteSync is SQLite's synchronous mode: "normal" (default: survives a
	// process crash) or "full" (fsync per commit: survives power loss).
	SQLiteSync string
	ServerID   string
	// Token is the API token; empty = $OMADM_API_TOKEN, else the one whose
	// SHA-256 is in <DataDir>/api-token.sha256 (generated on first start,
	// the plaintext then written once to <DataDir>/api-token).
	Token string
	// SecretKeyFile seals the server's credentials toward devices in the
	// database (AES-256-GCM); "" = <DataDir>/secret.key, created 0600 on
	// first start.
	SecretKeyFile string
	// Logger receives structured logs; nil = logs on stderr at LogLevel in
	// LogFormat.
	Logger    *slog.Logger
	LogLevel  string // debug, info (default), warn, error
	LogFormat string // text (default) or json
	// ShutdownTimeout bounds a graceful shutdown (default 15 s).
	ShutdownTimeout time.Duration
	// Engine tunes the DM engine; Store, ServerID, Logger, Senders and OnEvent
	// are set by startServer.
	Engine server.Options
	// OpSweep is how often the operations scheduler times out operations
	// past their deadline (default fleet.DefaultInterval).
	OpSweep time.Duration
	// OpTick, when set, replaces OpSweep's ticker (tests run one sweep
	// per value sent); OpNow replaces the operations' clock.
	OpTick <-chan time.Time
	OpNow  func() time.Time
	// CampaignInterval is how often the scheduler drives campaigns and
	// CampaignLease how long a node's hold on a campaign lasts unrenewed
	// (defaults fleet.DefaultCampaignInterval, fleet.DefaultLeaseTTL).
	CampaignInterval, CampaignLease time.Duration
	// CampaignKeep is how long finished campaigns are kept (0: forever).
	CampaignKeep time.Duration
	// OBEX serves DM over OBEX too (serve_obex.go).
	OBEX serveOBEXConfig
	// OBEXDial notifies obex:// devices by connecting to them (serve_obex_dial.go).
	OBEXDial obexDialConfig
	// Push configures the PPG and Kannel sendsms senders (serve_push.go).
	Push pushConfig
}

// runningServer is a started omadm server.
type runningServer struct {
	URL       string // base URL, e.g. http://127.0.0.1:8080
	Addr      net.Addr
	Token     string // API token when this process knows it (see serveToken); the server keeps its SHA-256
	TokenFile string // "" when the token came from the config or environment
	Store     storage.Store
	Engine    *server.Engine
	API       *handler.Handler
	// Ops is the operations layer and Scheduler its background loop.
	Ops       *fleet.Manager
	Campaigns *fleet.Campaigns
	Scheduler *fleet.Scheduler
	Log       *slog.Logger
	// TokenGenerated is true when this start generated the token.
	TokenGenerated bool
	OBEX           *serveOBEX      // nil without OBEX flags
	OBEXDial       *obexDialSender // nil without --obex-dial

	srv      *http.Server
	relayCtl context.CancelFunc
	relayEnd chan struct{}
	served   chan error
	timeout  time.Duration
}

func newServeCmd() *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the DM server: device endpoint /dm, REST API /api/v1, console /ui/, /metrics, /healthz, /readyz",
		Long: `serve runs the OMA DM server. With no flags it listens on 127.0.0.1:8080 and keeps
its data in ./omadm-data (SQLite). The API token is $OMADM_API_TOKEN, or one
generated on first start: the server keeps its SHA-256 (<data>/api-token.sha256)
and writes the token once to <data>/api-token for the operator. Device passwords
are stored as hashes; the server's own passwords toward devices are encrypted
with the key in --secret-key-file (default <data>/secret.key, created on first
start: back it up, and give every node sharing a PostgreSQL database the same).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rs, err := startServer(ctx, cfg)
			if err != nil {
				return err
			}
			if rs.TokenGenerated {
				fmt.Fprintf(cmd.OutOrStdout(), "API token: %s (shown once; a copy for the operator is in %s, 0600, and may be deleted: the server keeps only its SHA-256)\n",
					rs.Token, rs.TokenFile)
			}
			select {
			case <-ctx.Done():
				rs.Log.Info("shutting down", "reason", "signal")
			case err := <-rs.served:
				rs.Log.Error("server stopped", "err", err)
				_ = rs.Shutdown(context.Background())
				return err
			}
			return rs.Shutdown(context.Background())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&cfg.DataDir, "data", defaultDataDir, "data directory (API token, SQLite database)")
	f.StringVar(&cfg.DB, "db", "", "PostgreSQL URL (postgres://…) instead of the embedded SQLite database")
	f.StringVar(&cfg.SecretKeyFile, "secret-key-file", "", "key file encrypting the server's credentials toward devices (default <data>/secret.key, created 0600 on first start)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	f.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM file of the CAs that issue device (client) certificates; without it a device certificate counts only when its SHA-256 is bound to the device")
	f.StringVar(&cfg.TLSClientAuth, "tls-client-auth", "", "TLS client certificates: none, request (the default with TLS) or require")
	f.DurationVar(&cfg.HTTP.ReadHeaderTimeout, "read-header-timeout", dmhttp.DefaultReadHeaderTimeout, "time a connection has to send its request headers")
	f.DurationVar(&cfg.HTTP.ReadTimeout, "read-timeout", dmhttp.DefaultReadTimeout, "time a connection has to send a whole request, body included")
	f.DurationVar(&cfg.HTTP.WriteTimeout, "write-timeout", dmhttp.DefaultWriteTimeout, "time to write a response (event streams extend their own)")
	f.DurationVar(&cfg.HTTP.IdleTimeout, "idle-timeout", dmhttp.DefaultIdleTimeout, "how long a kept-alive connection may stay idle")
	f.IntVar(&cfg.HTTP.MaxConns, "max-conns", dmhttp.DefaultMaxConns, "connections served at once; at the limit a new one replaces the one idle the longest, or waits until one closes (-1 = no limit)")
	f.IntVar(&cfg.HTTP.MaxConnsPerAddr, "max-conns-per-addr", dmhttp.DefaultMaxConnsPerAddr, "connections one remote IP may hold of --max-conns; more are closed at once (-1 = no per-address limit)")
	f.StringVar(&cfg.PublicURL, "public-url", "", "URL devices reach this server at (behind a proxy), e.g. https://dm.example.com")
	f.StringVar(&cfg.SMSWebhook, "sms-webhook", "", "SMS gateway URL used to send package 0 to sms:+number addresses")
	f.StringVar(&cfg.SQLiteSync, "sqlite-sync", "normal", "SQLite durability: normal (survives a crash of the process) or full (fsync per commit, survives power loss)")
	f.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text (key=value) or json (one object per line)")
	f.StringVar(&cfg.ServerID, "server-id", server.DefaultServerID, "our DM server identifier (ServerID)")
	f.DurationVar(&cfg.OpSweep, "op-sweep", fleet.DefaultInterval, "how often operations past their timeout are marked timed_out (every node may run it; each operation times out once)")
	f.DurationVar(&cfg.CampaignInterval, "campaign-interval", fleet.DefaultCampaignInterval, "how often campaigns are driven (devices started, re-notified, waves advanced)")
	f.DurationVar(&cfg.CampaignKeep, "campaign-keep", 0, "how long finished campaigns (completed, cancelled) and their device outcomes are kept before the scheduler deletes them; 0 keeps them forever")
	f.DurationVar(&cfg.CampaignLease, "campaign-lease", fleet.DefaultLeaseTTL, "how long a node's hold on a campaign lasts without renewal: another node takes over a dead node's campaigns after it")
	f.IntVar(&cfg.Engine.TraceKeep, "trace-keep", server.DefaultTraceKeep, "wire traces kept per device")
	f.DurationVar(&cfg.Engine.TraceMaxAge, "trace-retention", 0, "how long wire traces are kept before the hourly sweep deletes them, oldest first; 0 keeps them (up to --trace-keep per device)")
	cfg.Engine.TraceMaxBytes = defaultTraceMaxBytes
	f.Var(byteSizeFlag{&cfg.Engine.TraceMaxBytes}, "trace-max-bytes", "bytes all wire traces may take in storage; each minute's housekeeping deletes the oldest traces above it (e.g. 512MiB, 1GiB; 0: no bound)")
	f.Var(eventKeepFlag{&cfg.Engine.EventKeep}, "event-keep",
		"how long events (generic alerts, session start/end) are kept before the hourly sweep deletes them; 0 keeps them forever")
	f.DurationVar(&cfg.Engine.JobKeep, "job-keep", 0,
		"how long finished jobs (done, failed, cancelled) are kept before the hourly sweep deletes them; 0 keeps them forever")
	f.DurationVar(&cfg.Engine.TraceFlush, "trace-flush", server.DefaultTraceFlush,
		"how long traces and session start/end events may wait to be written, many sessions' worth at a time; negative writes them with each message (nothing lost if the process is killed, fewer sessions/s)")
	f.Float64Var(&cfg.Engine.DeviceEventRate, "device-event-rate", server.DefaultDeviceEventRate,
		"events (generic alerts, session start/end) per second one device may add, sustained; a generic alert over the budget is answered 503 and not stored (negative: no limit)")
	f.IntVar(&cfg.Engine.DeviceEventBurst, "device-event-burst", server.DefaultDeviceEventBurst, "events one device may add at once (its budget's size)")
	authLimitFlags(cmd, &cfg.Engine.AuthLimits)
	serveOBEXFlags(cmd, &cfg.OBEX)
	obexDialFlags(cmd, &cfg.OBEXDial)
	pushFlags(cmd, &cfg.Push)
	return cmd
}

// authLimitFlags are the limits on failed authentications (server.AuthLimits).
func authLimitFlags(cmd *cobra.Command, l *server.AuthLimits) {
	f := cmd.Flags()
	f.Float64Var(&l.DeviceRate, "auth-fail-rate", server.DefaultAuthFailDeviceRate,
		"failed authentications per second per device id before further failures are answered 503 (negative: no limit)")
	f.IntVar(&l.DeviceBurst, "auth-fail-burst", server.DefaultAuthFailDeviceBurst, "failed authentications a device id may cause at once")
	f.Float64Var(&l.AddrRate, "auth-fail-addr-rate", server.DefaultAuthFailAddrRate,
		"failed authentications per second per source address before further failures are answered 503 (negative: no limit)")
	f.IntVar(&l.AddrBurst, "auth-fail-addr-burst", server.DefaultAuthFailAddrBurst, "failed authentications a source address may cause at once")
	f.DurationVar(&l.LogEvery, "auth-fail-log-every", server.DefaultAuthFailLogEvery, "least time between two log lines about failed authentications, and about refused messages of one kind (malformed, too large, unknown session token…); the next line sums up those between")
	f.DurationVar(&l.EventEvery, "auth-fail-event-every", server.DefaultAuthFailEventEvery, "least time between two auth-failure events of one device")
}

// eventKeepFlag is --event-keep: a duration where 0 means "keep forever"
// (server.Options.EventKeep spells that as a negative value, its zero being
// the default).
type eventKeepFlag struct{ d *time.Duration }

func (f eventKeepFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return server.DefaultEventKeep.String()
	}
	if *f.d < 0 {
		return "0s"
	}
	return f.d.String()
}

func (f eventKeepFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 720h (0 keeps events forever): %w", err)
	}
	if d < 0 {
		return fmt.Errorf("negative duration %s (0 keeps events forever)", s)
	}
	if d == 0 {
		d = -1
	}
	*f.d = d
	return nil
}

func (eventKeepFlag) Type() string { return "duration" }

// newServeLogger builds the default logger at a named level in a named
// format (text or json).
func newServeLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// tokenHashFileName is the file in the data directory holding the hex
// SHA-256 of the API token: all the server keeps of a token it generated.
const tokenHashFileName = tokenFileName + ".sha256"

// serveToken is the API token as the server knows it.
type serveToken struct {
	Hash [sha256.Size]byte
	// Token is the plaintext when this process knows it: from the config or
	// the environment, generated now, or read back from the operator's copy
	// (File) for in-process clients (demo). "" otherwise.
	Token string
	// File is the operator's plaintext copy in the data directory ("" when
	// the token came from the config or the environment).
	File      string
	HashFile  string
	Generated bool // created by this start: shown once
}

// serveAPIToken returns the configured token, or the one whose hash is in
// the data directory, generating it on first start. Only the hash is what
// the server verifies against. At first start the plaintext goes to
// <data>/api-token as well (0600), for the operator and `omadm ctl` run
// beside the data directory; deleting that copy changes nothing for the
// server. A data directory of an older omadm, with api-token only, gets its
// hash file on first start.
func serveAPIToken(cfg *serveConfig) (serveToken, error) {
	if cfg.Token != "" {
		return serveToken{Hash: sha256.Sum256([]byte(cfg.Token)), Token: cfg.Token}, nil
	}
	if t := strings.TrimSpace(os.Getenv("OMADM_API_TOKEN")); t != "" {
		return serveToken{Hash: sha256.Sum256([]byte(t)), Token: t}, nil
	}
	st := serveToken{File: filepath.Join(cfg.DataDir, tokenFileName), HashFile: filepath.Join(cfg.DataDir, tokenHashFileName)}
	plain := func() string { // the operator's copy, if present
		b, err := os.ReadFile(st.File)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	b, err := os.ReadFile(st.HashFile)
	switch {
	case err == nil:
		h, herr := hex.DecodeString(strings.TrimSpace(string(b)))
		if herr != nil || len(h) != sha256.Size {
			return st, fmt.Errorf("API token hash file %s is not a hex SHA-256: delete it (and %s) to generate a new token", st.HashFile, st.File)
		}
		copy(st.Hash[:], h)
		if t := plain(); t != "" && sha256.Sum256([]byte(t)) == st.Hash {
			st.Token = t
		}
		return st, nil
	case !errors.Is(err, os.ErrNotExist):
		return st, fmt.Errorf("reading API token hash: %w", err)
	}
	if t := plain(); t != "" {
		// An older data directory: keep its token, store its hash.
		st.Token, st.Hash = t, sha256.Sum256([]byte(t))
		if err := writePrivateFile(st.HashFile, hex.EncodeToString(st.Hash[:])+"\n"); err != nil && !errors.Is(err, os.ErrExist) {
			return st, fmt.Errorf("writing API token hash: %w", err)
		}
		return serveAPIToken(cfg)
	} else if _, err := os.Stat(st.File); err == nil {
		return st, fmt.Errorf("API token file %s is empty: delete it to generate a new token", st.File)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return st, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(token))
	// O_EXCL: two servers starting together on one directory agree on one
	// token (the loser reads the winner's hash).
	if err := writePrivateFile(st.HashFile, hex.EncodeToString(hash[:])+"\n"); errors.Is(err, os.ErrExist) {
		return serveAPIToken(cfg)
	} else if err != nil {
		return st, fmt.Errorf("writing API token hash: %w", err)
	}
	if err := writePrivateFile(st.File, token+"\n"); err != nil {
		os.Remove(st.HashFile)
		return st, fmt.Errorf("writing API token: %w", err)
	}
	st.Token, st.Hash, st.Generated = token, hash, true
	return st, nil
}

// writePrivateFile creates path with mode 0600 (chmod after create: the
// umask cannot change it), failing with os.ErrExist when it exists.
func writePrivateFile(path, content string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := fh.WriteString(content)
	if err := errors.Join(werr, fh.Chmod(0o600), fh.Sync(), fh.Close()); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// servePrepareDataDir creates the data directory with mode 0700 (chmod after
// create, whatever the umask) and warns when an existing one is open to
// other users.
func servePrepareDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating data directory: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("creating data directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		log.Warn("data directory is accessible to other users; chmod 700 it", "dir", dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	return nil
}

// serveOpenStore opens PostgreSQL when a DSN is given, else SQLite in the data directory.
func serveOpenStore(ctx context.Context, cfg *serveConfig) (storage.Store, string, error) {
	switch {
	case strings.HasPrefix(cfg.DB, "postgres://"), strings.HasPrefix(cfg.DB, "postgresql://"):
		st, err := postgres.OpenWith(ctx, cfg.DB, &postgres.Options{SecretKeyFile: serveSecretKeyFile(cfg)})
		return st, "postgres", err
	case cfg.DB != "":
		return nil, "", fmt.Errorf("--db %q: want a postgres:// URL (omit --db for the embedded SQLite database)", cfg.DB)
	}
	opts := sqlite.Options{SecretKeyFile: serveSecretKeyFile(cfg)}
	switch strings.ToLower(cfg.SQLiteSync) {
	case "", "normal":
		opts.Synchronous = "NORMAL"
	case "full":
		opts.Synchronous = "FULL"
	default:
		return nil, "", fmt.Errorf("--sqlite-sync %q: want normal or full", cfg.SQLiteSync)
	}
	st, err := sqlite.OpenWith(filepath.Join(cfg.DataDir, "omadm.db"), &opts)
	return st, "sqlite", err
}

// serveSecretKeyFile is the key file sealing the server's credentials
// toward devices: --secret-key-file, default <data>/secret.key.
func serveSecretKeyFile(cfg *serveConfig) string {
	if cfg.SecretKeyFile != "" {
		return cfg.SecretKeyFile
	}
	return filepath.Join(cfg.DataDir, secret.FileName)
}

// startServer assembles and starts the server: store, engine, device
// endpoint, API, metrics. It returns once the listener is bound; Shutdown
// stops it gracefully.
func startServer(ctx context.Context, cfg serveConfig) (_ *runningServer, err error) {
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		if log, err = newServeLogger(os.Stderr, cmp.Or(cfg.LogLevel, "info"), cfg.LogFormat); err != nil {
			return nil, err
		}
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		if tlsCfg, err = dmhttp.ServerTLSConfig(dmhttp.ServerTLSOptions{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
			ClientCAFile: cfg.TLSClientCA, ClientAuth: cfg.TLSClientAuth}); err != nil {
			return nil, fmt.Errorf("--tls-*: %w", err)
		}
	} else if cfg.TLSClientCA != "" || cfg.TLSClientAuth != "" {
		return nil, errors.New("--tls-client-ca and --tls-client-auth need TLS: give --tls-cert and --tls-key")
	}
	if err := servePrepareDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	token, err := serveAPIToken(&cfg)
	if err != nil {
		return nil, err
	}
	store, backend, err := serveOpenStore(ctx, &cfg)
	if err != nil {
		return nil, fmt.Errorf("opening storage: %w", err)
	}
	if c, ok := store.(interface{ Converted() int }); ok && c.Converted() > 0 {
		log.Info("stored credentials converted to protected form", "devices", c.Converted(), "secret_key_file", serveSecretKeyFile(&cfg))
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()

	hub := handler.NewHub()
	relay := handler.NewRelay(store, hub, log, 0)
	eo := cfg.Engine
	var dial *obexDialSender
	eo.Store, eo.Logger = store, log
	eo.ServerID = cmp.Or(cfg.ServerID, eo.ServerID)
	if eo.Senders == nil {
		eo.Senders = map[string]notification.Sender{"udp": &notification.UDPSender{}}
		if cfg.SMSWebhook != "" {
			eo.Senders["sms"] = &smsgw.WebhookSender{URL: cfg.SMSWebhook}
		}
		if err := cfg.Push.addSenders(eo.Senders, log); err != nil {
			return nil, err
		}
		if dial, err = cfg.OBEXDial.addSender(eo.Senders, log); err != nil {
			return nil, err
		}
	}
	cat, err := content.Open(filepath.Join(cfg.DataDir, "packages"), content.Options{})
	if err != nil {
		return nil, err
	}
	var baseURL string // set once listening
	ops, err := fleet.New(fleet.Options{Store: store, Logger: log, Now: cfg.OpNow, Packages: cat.ResolvePackage(func() string { return baseURL }), OnChange: func(op *storage.Operation) {
		v := api.OperationFrom(op)
		hub.Publish(api.Update{Kind: api.UpdateOperation, Device: op.DeviceID, Operation: &v})
	}})
	if err != nil {
		return nil, err
	}
	prev := eo.OnEvent
	eo.OnEvent = func(u server.Update) {
		ops.Observe(u)
		relay.Push(u)
		if prev != nil {
			prev(u)
		}
	}
	if eo.FirmwareRequest == nil {
		eo.FirmwareRequest = cat.FirmwareRequests(ops, store, log)
	}
	engine, err := server.New(eo)
	if err != nil {
		return nil, err
	}
	dial.attach(engine)
	schemaReady, err := serveSchemaCheck(store, backend)
	if err != nil {
		return nil, err
	}
	camps := fleet.NewCampaigns(ops, fleet.CampaignOptions{Notifier: engine, LeaseTTL: cfg.CampaignLease, Keep: cfg.CampaignKeep,
		OnChange: func(c *storage.Campaign, counts map[storage.TargetState]int) {
			v := api.CampaignFrom(c, counts)
			hub.Publish(api.Update{Kind: api.UpdateCampaign, Time: c.UpdatedAt, Campaign: &v})
		},
		Watching: func() bool { return hub.Subscribers() > 0 }})
	apiH, err := handler.New(handler.Options{Store: store, Notifier: engine, TokenSHA256: token.Hash[:], Hub: hub, Logger: log, Version: buildinfo.Read().Version,
		Operations: ops, Ready: schemaReady, Campaigns: camps,
		Content: cat, PublicURL: cfg.PublicURL, ServerID: cmp.Or(eo.ServerID, server.DefaultServerID), Senders: eo.Senders})
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range append(engine.Collectors(), ops.Collectors()...) {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/dm", dmhttp.NewHandler(engine, &dmhttp.HandlerOptions{ExternalURL: cfg.PublicURL, Logger: log, LogEvery: cfg.Engine.AuthLimits.LogEvery}))
	mux.Handle("/api/", apiH)
	mux.Handle("GET /healthz", apiH)
	mux.Handle("GET /readyz", apiH)
	mux.Handle(content.DownloadPrefix, handler.Downloads(cat, store, apiH))
	mux.Handle("GET /ui/", web.Handler("/ui/"))
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))

	ln, err := dmhttp.Listen(cfg.Listen, cfg.HTTP, tlsCfg)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	obx, err := startServeOBEX(cfg.OBEX, engine, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	rs := &runningServer{
		URL: scheme + "://" + serveDisplayAddr(ln.Addr()), Addr: ln.Addr(), Token: token.Token, TokenFile: token.File,
		TokenGenerated: token.Generated,
		Store:          store, Engine: engine, API: apiH, Log: log, served: make(chan error, 1), relayEnd: make(chan struct{}),
		Ops: ops, Campaigns: camps, Scheduler: fleet.NewScheduler(ops, fleet.SchedulerOptions{Interval: cfg.OpSweep, Tick: cfg.OpTick,
			Campaigns: camps, CampaignInterval: cfg.CampaignInterval}),
		timeout: cfg.ShutdownTimeout, OBEX: obx, OBEXDial: dial,
	}
	// Timeouts cut slow-loris connections; the listener bounds how many are
	// served at once. Event streams extend their own write deadline.
	baseURL = cmp.Or(strings.TrimRight(cfg.PublicURL, "/"), rs.URL)
	rs.srv = dmhttp.NewServer(serveAccessLog(log, mux), cfg.HTTP, log)
	relayCtx, relayStop := context.WithCancel(context.WithoutCancel(ctx))
	rs.relayCtl = relayStop
	go func() { defer close(rs.relayEnd); relay.Run(relayCtx) }()
	rs.Scheduler.Start()
	go func() {
		if err := rs.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			rs.served <- err
		}
	}()
	dmURL := rs.URL + "/dm"
	if cfg.PublicURL != "" {
		dmURL = strings.TrimRight(cfg.PublicURL, "/") + "/dm"
	}
	log.Info("ready", "dm", dmURL, "api", rs.URL+"/api/v1", "metrics", rs.URL+"/metrics", "healthz", rs.URL+"/healthz", "readyz", rs.URL+"/readyz", "console", rs.URL+"/ui/",
		"storage", backend, "server_id", eo.ServerID, "tls", tlsCfg != nil, "tls_client_auth", serveClientAuth(tlsCfg, cfg.TLSClientAuth))
	return rs, nil
}

// Shutdown stops accepting requests, ends event streams, lets in-flight DM
// messages finish (every reply they owe is stored before they return), writes
// the traces still waiting behind the sessions, then closes the store. It is
// bounded by the configured shutdown timeout.
func (rs *runningServer) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, rs.timeout)
	defer cancel()
	rs.API.Hub().Close()
	var err error
	if serr := rs.srv.Shutdown(ctx); serr != nil {
		// Connections still open at the deadline are closed. That loses
		// nothing: the engine commits each DM message atomically, so a device
		// whose request is cut retries it; a connection a client dialled but
		// never used (net/http keeps such spares) is the usual straggler.
		rs.Log.Warn("graceful shutdown incomplete; closing remaining connections", "err", serr)
		if cerr := rs.srv.Close(); cerr != nil {
			err = cerr
		}
	}
	rs.OBEX.Close()
	rs.OBEXDial.Close()
	// Traces and session events still waiting behind the sessions.
	rs.Engine.Close(context.WithoutCancel(ctx))
	rs.Scheduler.Close()
	rs.relayCtl()
	<-rs.relayEnd
	if cerr := rs.Store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	rs.Log.Info("stopped")
	return err
}

// serveClientAuth names the client-certificate policy for the ready line.
func serveClientAuth(tc *tls.Config, flag string) string {
	if tc == nil {
		return "none"
	}
	return cmp.Or(flag, dmhttp.ClientAuthRequest)
}

// serveDisplayAddr makes a wildcard listen address usable in URLs printed for the
// operator.
func serveDisplayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// serveStatusRecorder remembers the status for the access log while keeping
// http.Flusher and deadlines reachable (Unwrap) for event streams.
type serveStatusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *serveStatusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *serveStatusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *serveStatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// serveAccessLog logs every request at debug level (errors ≥ 500 at warn).
func serveAccessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &serveStatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start), "remote", r.RemoteAddr)
	})
}
