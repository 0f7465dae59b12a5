package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/mo/devdetail"
	"github.com/omadm/omadm/mo/devinfo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
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
//
// A device of a Fleet is built when it first needs its tree (a session, a
// notification, Value) and dropped again when it is idle (no session, no
// queued report, no operation running in the background, no DiagMon trap
// policy): what the server changed in its tree is kept as
// dmtree.Tree.Changes and replayed when it is built again, its objects'
// state is in its StateDir, as on a real device that restarts. An idle
// device costs a few hundred bytes. Tree, Client and the object accessors
// keep the device built for good (they hand out its parts).
type Device struct {
	id       Identity
	creds    Credentials
	stateDir string
	p        *proto // shared by a fleet's devices
	idx      int    // number in the fleet

	mu      sync.Mutex
	l       *live // nil while idle
	users   int   // sessions and reads holding l
	pinned  bool  // parts handed out: l is never dropped
	lazy    bool  // l may be dropped when idle (fleet devices)
	changes []byte

	// The server nonces, for Addressed while the device is idle; kept
	// current by the nonce store.
	nmu      sync.Mutex
	srvNonce []byte
	altNonce []byte

	reboots  atomic.Int64
	sessions atomic.Int64
	mos      mos
}

// proto is what the devices of one configuration share: their options
// without the per-device fields, and the schemes checked once.
type proto struct {
	o                 DeviceOptions
	scheme, srvScheme string
	topts             *dmtree.Options
	ui                client.UI
}

// live is a built device.
type live struct {
	tree    *dmtree.Tree
	client  *client.Client
	scomo   *scomo.Object
	diagmon *diagmon.Object
	connmo  *connmo.Object
	fumo    *fumo.Object
	lawmo   *lawmo.Object

	qmu   sync.Mutex
	early []*syncml.Alert // reports queued while the engine was being built
}

func newProto(o DeviceOptions) (*proto, error) {
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
	p := &proto{o: o, scheme: scheme, srvScheme: srvScheme, topts: o.TreeOptions, ui: o.UI}
	if p.topts == nil {
		p.topts = &dmtree.Options{MaxDepth: 16, MaxTotLen: 512, MaxSegLen: 64}
	}
	if p.ui == nil {
		p.ui = client.AutoAnswer{}
	}
	p.o.Identity, p.o.Credentials, p.o.StateDir = Identity{}, Credentials{}, ""
	return p, nil
}

// NewDevice builds the device's tree and client engine.
func NewDevice(o DeviceOptions) (*Device, error) {
	if o.Identity.DevID == "" {
		return nil, errors.New("sim: device needs an identity with a DevID")
	}
	p, err := newProto(o)
	if err != nil {
		return nil, err
	}
	d := &Device{id: o.Identity, creds: o.Credentials, stateDir: o.StateDir, p: p}
	if d.l, err = d.build(); err != nil {
		return nil, err
	}
	return d, nil
}

// newIdle returns a fleet device that is built on first use.
func newIdle(p *proto, id Identity, creds Credentials, stateDir string) *Device {
	return &Device{id: id, creds: creds, stateDir: stateDir, p: p, lazy: true}
}

// build makes the device's tree, objects and engine, replaying the changes
// of its last build.
func (d *Device) build() (*live, error) {
	o := d.p.o
	l := &live{tree: dmtree.New(d.p.topts)}
	fail := func(what string, err error) (*live, error) {
		l.close()
		return nil, fmt.Errorf("sim: %s of %s: %w", what, d.id.DevID, err)
	}
	if err := d.install(l); err != nil {
		return fail("building tree", err)
	}
	var err error
	report := d.reporter(l)
	if o.SCOMODir != "" {
		dir := filepath.Join(o.SCOMODir, fileName(d.id.DevID))
		l.scomo, err = scomo.Install(l.tree, SCOMORoot, scomo.Config{
			Dir: dir, Servers: []string{o.ServerID}, Report: report,
			Installer: &scomo.DirInstaller{Dir: filepath.Join(dir, "components")},
		})
		if err != nil {
			return fail("SCOMO", err)
		}
	}
	if l.diagmon, err = diagmon.Install(l.tree, DiagMonURI, diagmon.Config{Servers: []string{o.ServerID},
		Functions: d.fakeFunctions(), Report: report}); err != nil {
		return fail("DiagMon", err)
	}
	if l.connmo, err = connmo.Install(l.tree, ConnMOURI, connmo.Config{Servers: []string{o.ServerID}}); err != nil {
		return fail("ConnMO", err)
	}
	if err := d.installMOs(l, report); err != nil {
		return fail("building objects", err)
	}
	l.tree.RecordChanges()
	if err := l.tree.ApplyChanges(d.changes); err != nil {
		return fail("replaying the tree's changes", err)
	}
	acct, err := dmacc.FindByServerID(l.tree, o.ServerID)
	if err != nil {
		return fail("account", err)
	}
	d.nmu.Lock()
	d.srvNonce = acct.Server.Data
	alt := d.altNonce
	d.nmu.Unlock()
	c, err := client.New(client.Config{
		Tree: client.DMTree(l.tree),
		Account: client.Account{
			ServerID: acct.ServerID, ServerURL: acct.Addr, AuthScheme: d.p.scheme, ServerAuthScheme: d.p.srvScheme,
			ClientName: acct.Client.Name, ClientSecret: acct.Client.Secret, ClientNonce: acct.Client.Data,
			ServerName: acct.Server.Name, ServerSecret: acct.Server.Secret, ServerNonce: acct.Server.Data,
			ServerNonceAlt: alt,
		},
		Nonces:   nonceStore{d: d, tree: l.tree},
		DeviceID: d.id.DevID, Transport: o.Transport, Encoding: o.Encoding, UI: d.p.ui,
		MaxMsgSize: o.MaxMsgSize, MaxObjSize: o.MaxObjSize, Logger: o.Logger, Trace: o.Trace, Retry: o.Retry,
	})
	if err != nil {
		return fail("engine", err)
	}
	l.qmu.Lock()
	l.client = c
	early := l.early
	l.early = nil
	l.qmu.Unlock()
	for _, a := range early {
		c.QueueAlert(a)
	}
	return l, nil
}

// nonceStore keeps the device's nonces in its tree (DMAcc AAuthData) and
// the server nonces also beside the tree, for Addressed while idle.
type nonceStore struct {
	d    *Device
	tree *dmtree.Tree
}

func (s nonceStore) SaveNonce(serverID string, level client.NonceLevel, nonce []byte) error {
	if level == client.LevelServer {
		s.d.nmu.Lock()
		s.d.srvNonce = bytes.Clone(nonce)
		s.d.nmu.Unlock()
	}
	return dmacc.SetNonce(s.tree, serverID, string(level), nonce)
}

func (s nonceStore) SaveAltServerNonce(_ string, nonce []byte) error {
	s.d.nmu.Lock()
	s.d.altNonce = bytes.Clone(nonce)
	s.d.nmu.Unlock()
	return nil
}

// close stops the built objects' background work.
func (l *live) close() {
	if l.fumo != nil {
		l.fumo.Close()
	}
	if l.lawmo != nil {
		l.lawmo.Close()
	}
	if l.scomo != nil {
		l.scomo.Close()
	}
	if l.diagmon != nil {
		l.diagmon.Close()
	}
}

// idle reports whether dropping l loses nothing but what Changes keeps.
func (l *live) idle() bool {
	switch {
	case l.client.PendingAlerts() > 0,
		l.fumo != nil && l.fumo.Busy(),
		l.lawmo != nil && l.lawmo.Busy(),
		l.scomo != nil && l.scomo.Busy(),
		l.diagmon.Busy(), l.diagmon.Interval() > 0:
		return false
	}
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return len(l.early) == 0
}

// acquire builds the device if it is idle and holds it built until release.
func (d *Device) acquire() (*live, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.l == nil {
		l, err := d.build()
		if err != nil {
			return nil, err
		}
		d.l = l
	}
	d.users++
	return d.l, nil
}

// release ends a use; the last one drops a fleet device that is idle.
func (d *Device) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users--
	d.dropIfIdle()
}

func (d *Device) dropIfIdle() {
	l := d.l
	if !d.lazy || d.pinned || d.users > 0 || l == nil || !l.idle() {
		return
	}
	d.changes = l.tree.Changes()
	l.close()
	d.l = nil
}

// pin builds the device for good (its parts are being handed out); nil
// when it cannot be built (the error is logged).
func (d *Device) pin() *live {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.l == nil {
		l, err := d.build()
		if err != nil {
			if d.p.o.Logger != nil {
				d.p.o.Logger.Error("building simulated device", "device", d.id.DevID, "err", err)
			}
			return nil
		}
		d.l = l
	}
	d.pinned = true
	return d.l
}

// holdsReports reports whether the device has alerts queued for its next
// session.
func (d *Device) holdsReports() bool {
	d.mu.Lock()
	l := d.l
	d.mu.Unlock()
	if l == nil {
		return false
	}
	l.qmu.Lock()
	early, c := len(l.early), l.client
	l.qmu.Unlock()
	return early > 0 || (c != nil && c.PendingAlerts() > 0)
}

// Built reports whether the device is built now (false: idle, holding only
// its identity, counters and tree changes).
func (d *Device) Built() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.l != nil
}

// SCOMORoot is where a device with DeviceOptions.SCOMODir keeps its
// software component object.
const SCOMORoot = "./SCOMO"

// SCOMO is the device's software component object (nil without
// DeviceOptions.SCOMODir).
func (d *Device) SCOMO() *scomo.Object {
	if l := d.pin(); l != nil {
		return l.scomo
	}
	return nil
}

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
func (d *Device) install(l *live) error {
	o, id, tree := d.p.o, d.id, l.tree
	if err := devinfo.Install(tree, devinfo.Info{DevID: id.DevID, Man: id.Man, Mod: id.Mod, DmV: id.DmV, Lang: id.Lang}); err != nil {
		return err
	}
	if err := devdetail.Install(tree, devdetail.Detail{DevTyp: id.DevTyp, OEM: id.OEM, FwV: id.FwV, SwV: id.SwV, HwV: id.HwV, LrgObj: true}); err != nil {
		return err
	}
	if err := dmacc.Install(tree); err != nil {
		return err
	}
	typ := aauthType(d.p.scheme)
	if err := dmacc.AddAccount(tree, dmacc.Account{
		ID: "DMServer", ServerID: o.ServerID, Name: o.ServerID, Addr: o.ServerURL, AuthPref: typ,
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: typ, Name: d.creds.Username, Secret: d.creds.Password},
		Server: dmacc.Credential{Level: dmacc.LevelServer, Type: aauthType(d.p.srvScheme), Name: o.ServerID, Secret: d.creds.ServerPassword},
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
		if err := tree.Add("", s.uri, s.v); err != nil {
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
	if err := tree.Replace("", "./Vendor/Sim?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		return err
	}
	if err := tree.Mount(RebootURI, dmtree.ExecFunc(func(context.Context, string, []byte, string) (syncml.StatusCode, error) {
		d.reboots.Add(1)
		return syncml.StatusOK, nil
	})); err != nil {
		return err
	}
	return tree.Mount(DiagnosticsURI, dmtree.ExecFunc(func(_ context.Context, _ string, _ []byte, corr string) (syncml.StatusCode, error) {
		// The diagnostics "run" after the session; the outcome goes out in
		// the next one as a generic alert answering the Exec.
		l.queue(client.GenericAlert(corr, DiagnosticsURI, DiagnosticsAlertType, "chr", "",
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
	if d.p.o.Auth == "" {
		return AuthMD5
	}
	return d.p.o.Auth
}

// Tree is the device's management tree (read it to check what the server
// did); the device stays built from now on.
func (d *Device) Tree() *dmtree.Tree {
	if l := d.pin(); l != nil {
		return l.tree
	}
	return nil
}

// Client is the device's engine (QueueAlert, Account); the device stays
// built from now on.
func (d *Device) Client() *client.Client {
	if l := d.pin(); l != nil {
		return l.client
	}
	return nil
}

// Reboots counts Execs of RebootURI.
func (d *Device) Reboots() int64 { return d.reboots.Load() }

// Sessions counts sessions the device ran.
func (d *Device) Sessions() int64 { return d.sessions.Load() }

// Value reads one leaf as the device (no ACL), "" when absent.
func (d *Device) Value(uri string) string {
	l, err := d.acquire()
	if err != nil {
		return ""
	}
	defer d.release()
	rs, err := l.tree.Get("", uri)
	if err != nil || len(rs) != 1 {
		return ""
	}
	return string(rs[0].Data)
}

// Run runs one client-initiated session (Alert 1201); alerts go out in
// package 1 (for example a 1226 generic alert).
func (d *Device) Run(ctx context.Context, alerts ...*syncml.Alert) (*client.SessionResult, error) {
	l, err := d.acquire()
	if err != nil {
		return nil, err
	}
	defer d.release()
	d.sessions.Add(1)
	return l.client.Run(ctx, client.Trigger{Alerts: alerts})
}

// Addressed reports whether package 0 p is for this device: it names our
// server and its digest verifies with a nonce the device accepts: the stored
// one, the reset nonce, or the alternate one a session that broke off may
// have left the server holding (the check HandlePackage0 makes). Devices
// sharing one UDP port use it to find the addressee.
func (d *Device) Addressed(p *notification.Package0) bool {
	d.mu.Lock()
	l := d.l
	d.mu.Unlock()
	if l != nil {
		return l.client.Authentic(p)
	}
	// Idle: the check client.Authentic makes, on the nonces kept beside
	// the tree.
	if p.ServerID != d.p.o.ServerID || p.SessionID == 0 {
		return false
	}
	trigger := p.Trigger
	if trigger == nil {
		q := *p
		b, err := q.Encode("", nil)
		if err != nil {
			return false
		}
		trigger = b[notification.DigestSize:]
	}
	d.nmu.Lock()
	stored, alt := d.srvNonce, d.altNonce
	d.nmu.Unlock()
	nonces := [][]byte{stored, notification.ResetNonce, notification.ResetNonceZeros}
	if len(alt) > 0 {
		nonces = append(nonces, alt)
	}
	return notification.NewVerifier(p.ServerID, d.creds.ServerPassword).Match(&p.Digest, trigger, nonces...) >= 0
}

// RunNotification runs the server-initiated session of a package 0 the
// device verified (client.Client.Verify), without checking it again.
func (d *Device) RunNotification(ctx context.Context, n *client.Notification) (*client.SessionResult, error) {
	l, err := d.acquire()
	if err != nil {
		return nil, err
	}
	defer d.release()
	d.sessions.Add(1)
	return l.client.RunNotification(ctx, n)
}

// HandlePackage0 runs the server-initiated session p asks for.
func (d *Device) HandlePackage0(ctx context.Context, p *notification.Package0) (*client.SessionResult, error) {
	l, err := d.acquire()
	if err != nil {
		return nil, err
	}
	defer d.release()
	d.sessions.Add(1)
	return l.client.HandlePackage0(ctx, p)
}
