package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/mo/devdetail"
	"github.com/omadm/omadm/mo/devinfo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// Settings subtree every simulated device carries, writable by its DM server:
// the place operators change configuration (Replace), exercise Atomic and
// Exec, the way vendor extensions sit under ./Vendor on real devices.
const (
	SettingsRoot    = "./Vendor/Sim/Settings"
	PollIntervalURI = SettingsRoot + "/PollInterval" // int, seconds
	TelemetryURI    = SettingsRoot + "/Telemetry"    // bool
	APNURI          = SettingsRoot + "/APN"          // chr
	OpsRoot         = "./Vendor/Sim/Ops"
	// RebootURI executes synchronously (200) and counts reboots.
	RebootURI = OpsRoot + "/Reboot"
	// DiagnosticsURI is accepted asynchronously (202); the device reports the
	// outcome later in a 1226 generic alert carrying the Exec's correlator.
	DiagnosticsURI = OpsRoot + "/Diagnostics"
	// DiagnosticsAlertType is the Meta Type of that generic alert.
	DiagnosticsAlertType = "org.omadm.sim.diagnostics"
)

// Auth schemes, named as the REST API and `omadm sim --auth` name them.
const (
	AuthBasic = "basic"
	AuthMD5   = "md5"
	AuthHMAC  = "hmac"
)

// SchemeOf maps an API auth name ("basic", "md5", "hmac") to the SyncML
// credential type the client engine uses.
func SchemeOf(name string) (string, error) {
	switch name {
	case AuthBasic:
		return syncml.AuthBasic, nil
	case AuthMD5, "":
		return syncml.AuthMD5, nil
	case AuthHMAC:
		return syncml.AuthMAC, nil
	}
	return "", fmt.Errorf("auth %q: want basic, md5 or hmac", name)
}

// DeviceOptions configure one simulated device.
type DeviceOptions struct {
	Identity    Identity
	Credentials Credentials
	// ServerURL is the DM endpoint (…/dm); ServerID the server's identifier
	// (default "omadm").
	ServerURL, ServerID string
	// Auth is "basic", "md5" (default) or "hmac".
	Auth string
	// ServerAuth is the scheme the server's credentials must use (SRVCRED
	// AAuthType): "basic", "md5" or "hmac"; "" means the same as Auth.
	ServerAuth string
	// Encoding of the device's messages (default XML).
	Encoding syncml.Encoding
	// Transport carries messages; transport/dmhttp provides the HTTP one
	// (required).
	Transport client.Transport
	// UI answers user-interaction alerts (default: client.AutoAnswer{}, an
	// unattended device that accepts).
	UI client.UI
	// MaxMsgSize and MaxObjSize are the device's advertised limits (0 = client defaults).
	MaxMsgSize, MaxObjSize int
	// Retry is the transport retry policy (zero = client defaults).
	Retry client.RetryPolicy
	// Logger receives the client engine's lines (default: discard).
	Logger *slog.Logger
	// Trace sees every message sent and received (optional).
	Trace func(client.TraceEvent)
	// Tree limits and options (nil: a phone-like tree with URI limits).
	TreeOptions *dmtree.Options
	// StateDir is the device's own directory, where its FUMO object keeps
	// the package and its state ("": the device has no FUMO object; a
	// Fleet gives every device one).
	StateDir string
	// Fetch downloads a FUMO package (nil: the simulated download, see
	// FailMarker).
	Fetch func(ctx context.Context, url string, w io.Writer) error
	// OnReport, when set, is called after an object queued a report (a
	// 1226 generic alert) on the device's engine: start a session so the
	// server hears of it (nil: it goes out in the next session).
	OnReport func(*Device)
	// SCOMODir, when set, gives the device a software component object at
	// SCOMORoot: its state goes to SCOMODir/<device>, and components are
	// really installed, as directories, below SCOMODir/<device>/components.
	// Its reports go out like the other objects' (OnReport).
	SCOMODir string
}

// Device is one simulated device: its own in-memory management tree with
// DevInfo, DevDetail, a DMAcc account, a writable settings subtree, FUMO
// (FUMOURI) and LAWMO (LAWMOURI), and a real client engine that talks to the server through the given transport.
type Device struct {
	id     Identity
	creds  Credentials
	auth   string
	tree   *dmtree.Tree
	client *client.Client

	scomo    *scomo.Object
	reboots  atomic.Int64
	sessions atomic.Int64
	mos      mos
	diagmon  *diagmon.Object
	connmo   *connmo.Object
}

// NewDevice builds the device's tree and client engine.
func NewDevice(o DeviceOptions) (*Device, error) {
	if o.Identity.DevID == "" {
		return nil, errors.New("sim: device needs an identity with a DevID")
	}
	if o.Transport == nil {
		return nil, errors.New("sim: device needs a transport")
	}
	if o.ServerURL == "" {
		return nil, errors.New("sim: device needs the server URL")
	}
	if o.ServerID == "" {
		o.ServerID = "omadm"
	}
	scheme, err := SchemeOf(o.Auth)
	if err != nil {
		return nil, err
	}
	srvScheme := scheme
	if o.ServerAuth != "" {
		if srvScheme, err = SchemeOf(o.ServerAuth); err != nil {
			return nil, err
		}
	}
	topts := o.TreeOptions
	if topts == nil {
		topts = &dmtree.Options{MaxDepth: 16, MaxTotLen: 512, MaxSegLen: 64}
	}
	d := &Device{id: o.Identity, creds: o.Credentials, auth: o.Auth, tree: dmtree.New(topts)}
	if err := d.install(o, scheme, srvScheme); err != nil {
		return nil, fmt.Errorf("sim: building tree of %s: %w", o.Identity.DevID, err)
	}
	ui := o.UI
	if ui == nil {
		ui = client.AutoAnswer{}
	}
	acct, err := dmacc.FindByServerID(d.tree, o.ServerID)
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{
		Tree: client.DMTree(d.tree),
		Account: client.Account{
			ServerID: acct.ServerID, ServerURL: acct.Addr, AuthScheme: scheme, ServerAuthScheme: srvScheme,
			ClientName: acct.Client.Name, ClientSecret: acct.Client.Secret, ClientNonce: acct.Client.Data,
			ServerName: acct.Server.Name, ServerSecret: acct.Server.Secret, ServerNonce: acct.Server.Data,
		},
		Nonces: client.NonceStoreFunc(func(serverID string, level client.NonceLevel, nonce []byte) error {
			return dmacc.SetNonce(d.tree, serverID, string(level), nonce)
		}),
		DeviceID: o.Identity.DevID, Transport: o.Transport, Encoding: o.Encoding, UI: ui,
		MaxMsgSize: o.MaxMsgSize, MaxObjSize: o.MaxObjSize, Logger: o.Logger, Trace: o.Trace, Retry: o.Retry,
	})
	if err != nil {
		return nil, err
	}
	d.client = c
	if o.SCOMODir != "" {
		dir := filepath.Join(o.SCOMODir, fileName(o.Identity.DevID))
		d.scomo, err = scomo.Install(d.tree, SCOMORoot, scomo.Config{
			Dir: dir, Servers: []string{o.ServerID}, Report: d.reporter(o),
			Installer: &scomo.DirInstaller{Dir: filepath.Join(dir, "components")},
		})
		if err != nil {
			return nil, fmt.Errorf("sim: %s: %w", o.Identity.DevID, err)
		}
	}
	if d.diagmon, err = diagmon.Install(d.tree, DiagMonURI, diagmon.Config{Servers: []string{o.ServerID},
		Functions: d.fakeFunctions(), Report: d.reporter(o)}); err != nil {
		return nil, fmt.Errorf("sim: DiagMon of %s: %w", o.Identity.DevID, err)
	}
	if d.connmo, err = connmo.Install(d.tree, ConnMOURI, connmo.Config{Servers: []string{o.ServerID}}); err != nil {
		return nil, fmt.Errorf("sim: ConnMO of %s: %w", o.Identity.DevID, err)
	}
	if err := d.installMOs(o); err != nil {
		return nil, fmt.Errorf("sim: building objects of %s: %w", o.Identity.DevID, err)
	}
	return d, nil
}

// SCOMORoot is where a device with DeviceOptions.SCOMODir keeps its
// software component object.
const SCOMORoot = "./SCOMO"

// SCOMO is the device's software component object (nil without
// DeviceOptions.SCOMODir).
func (d *Device) SCOMO() *scomo.Object { return d.scomo }

// fileName maps a device id to a file name.
func fileName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, id)
}

func aauthType(scheme string) string {
	switch scheme {
	case syncml.AuthBasic:
		return "BASIC"
	case syncml.AuthMAC:
		return "HMAC"
	}
	return "DIGEST"
}

// install creates the standard objects, the account and the settings subtree.
func (d *Device) install(o DeviceOptions, scheme, srvScheme string) error {
	id := o.Identity
	if err := devinfo.Install(d.tree, devinfo.Info{DevID: id.DevID, Man: id.Man, Mod: id.Mod, DmV: id.DmV, Lang: id.Lang}); err != nil {
		return err
	}
	if err := devdetail.Install(d.tree, devdetail.Detail{DevTyp: id.DevTyp, OEM: id.OEM, FwV: id.FwV, SwV: id.SwV, HwV: id.HwV, LrgObj: true}); err != nil {
		return err
	}
	if err := dmacc.Install(d.tree); err != nil {
		return err
	}
	typ := aauthType(scheme)
	if err := dmacc.AddAccount(d.tree, dmacc.Account{
		ID: "DMServer", ServerID: o.ServerID, Name: o.ServerID, Addr: o.ServerURL, AuthPref: typ,
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: typ, Name: o.Credentials.Username, Secret: o.Credentials.Password},
		Server: dmacc.Credential{Level: dmacc.LevelServer, Type: aauthType(srvScheme), Name: o.ServerID, Secret: o.Credentials.ServerPassword},
	}); err != nil {
		return err
	}
	node := dmtree.Value{Format: dmtree.FormatNode}
	for _, s := range []struct {
		uri string
		v   dmtree.Value
	}{
		{"./Vendor", node}, {"./Vendor/Sim", node}, {SettingsRoot, node}, {OpsRoot, node},
		{PollIntervalURI, dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain", Data: []byte("3600")}},
		{TelemetryURI, dmtree.Value{Format: dmtree.FormatBool, Type: "text/plain", Data: []byte("true")}},
		{APNURI, dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte("internet.example.net")}},
		{RebootURI, dmtree.Value{Format: dmtree.FormatNull}},
		{DiagnosticsURI, dmtree.Value{Format: dmtree.FormatNull}},
	} {
		if err := d.tree.Add("", s.uri, s.v); err != nil {
			return fmt.Errorf("%s: %w", s.uri, err)
		}
	}
	acl, err := dmtree.NewACL(map[dmtree.Cmd][]string{
		dmtree.CmdAdd: {o.ServerID}, dmtree.CmdDelete: {o.ServerID}, dmtree.CmdGet: {o.ServerID},
		dmtree.CmdReplace: {o.ServerID}, dmtree.CmdExec: {o.ServerID},
	})
	if err != nil {
		return err
	}
	if err := d.tree.Replace("", "./Vendor/Sim?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		return err
	}
	if err := d.tree.Mount(RebootURI, dmtree.ExecFunc(func(context.Context, string, []byte, string) (syncml.StatusCode, error) {
		d.reboots.Add(1)
		return syncml.StatusOK, nil
	})); err != nil {
		return err
	}
	return d.tree.Mount(DiagnosticsURI, dmtree.ExecFunc(func(_ context.Context, _ string, _ []byte, corr string) (syncml.StatusCode, error) {
		// The diagnostics "run" after the session; the outcome goes out in
		// the next one as a generic alert answering the Exec.
		d.client.QueueAlert(client.GenericAlert(corr, DiagnosticsURI, DiagnosticsAlertType, "chr", "",
			"battery=ok storage=ok radio=ok reboots="+strconv.FormatInt(d.reboots.Load(), 10)))
		return syncml.StatusAccepted, nil
	}))
}

// ID is the device id (DevInfo/DevId).
func (d *Device) ID() string { return d.id.DevID }

// Identity is what the device reports about itself.
func (d *Device) Identity() Identity { return d.id }

// Credentials are the device's DM credentials.
func (d *Device) Credentials() Credentials { return d.creds }

// Auth is the device's auth scheme name ("basic", "md5", "hmac").
func (d *Device) Auth() string {
	if d.auth == "" {
		return AuthMD5
	}
	return d.auth
}

// Tree is the device's management tree (read it to check what the server did).
func (d *Device) Tree() *dmtree.Tree { return d.tree }

// Client is the device's engine (QueueAlert, Account).
func (d *Device) Client() *client.Client { return d.client }

// Reboots counts Execs of RebootURI.
func (d *Device) Reboots() int64 { return d.reboots.Load() }

// Sessions counts sessions the device ran.
func (d *Device) Sessions() int64 { return d.sessions.Load() }

// Value reads one leaf as the device (no ACL), "" when absent.
func (d *Device) Value(uri string) string {
	rs, err := d.tree.Get("", uri)
	if err != nil || len(rs) != 1 {
		return ""
	}
	return string(rs[0].Data)
}

// Run runs one client-initiated session (Alert 1201); alerts go out in
// package 1 (for example a 1226 generic alert).
func (d *Device) Run(ctx context.Context, alerts ...*syncml.Alert) (*client.SessionResult, error) {
	d.sessions.Add(1)
	return d.client.Run(ctx, client.Trigger{Alerts: alerts})
}

// Addressed reports whether package 0 p is for this device: it names our
// server and its digest verifies with a nonce the device accepts: the stored
// one, the reset nonce, or the alternate one a session that broke off may
// have left the server holding (the check HandlePackage0 makes). Devices
// sharing one UDP port use it to find the addressee.
func (d *Device) Addressed(p *notification.Package0) bool {
	return d.client.Authentic(p)
}

// RunNotification runs the server-initiated session of a package 0 the
// device verified (client.Client.Verify), without checking it again.
func (d *Device) RunNotification(ctx context.Context, n *client.Notification) (*client.SessionResult, error) {
	d.sessions.Add(1)
	return d.client.RunNotification(ctx, n)
}

// HandlePackage0 runs the server-initiated session p asks for.
func (d *Device) HandlePackage0(ctx context.Context, p *notification.Package0) (*client.SessionResult, error) {
	d.sessions.Add(1)
	return d.client.HandlePackage0(ctx, p)
}
