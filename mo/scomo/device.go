package scomo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/internal/download"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/syncml"
)

// Defaults of Config.
const (
	DefaultMaxSize         = 256 << 20
	DefaultDownloadTimeout = moframe.DefaultDownloadTimeout
)

// Component is a software component an Installer installs.
type Component struct {
	// ID is the component's identifier: the run-time name of its nodes and
	// the package's PkgID.
	ID          string
	Name        string
	Description string
	// Package is the path of the downloaded package.
	Package string
	// Version is what Install found the component's version to be (it
	// becomes Deployed/<x>/Version).
	Version string
}

// Installer does the real work of the operations. An error reports the
// operation's failure code (1405 install, 1408 remove, 1409 activate, 1410
// deactivate), or the code of a *moframe.ResultError (for example 1401 user
// cancelled, 1406 out of memory, 1407 validation failed). Each method may be
// called again for the same component after a restart cut it short, so it
// must be idempotent.
type Installer interface {
	// Install installs c (replacing an installed component of the same
	// ID), active or not, and may set c.Version.
	Install(ctx context.Context, c *Component, active bool) error
	// Remove uninstalls the component; removing one that is not there
	// succeeds.
	Remove(ctx context.Context, id string) error
	// Activate and Deactivate switch the component on and off.
	Activate(ctx context.Context, id string) error
	Deactivate(ctx context.Context, id string) error
}

// Config is the device side of the object.
type Config struct {
	// Dir holds the packages being downloaded and the operation in
	// progress, so that one a restart cuts short is run again and reported
	// (required; created when missing).
	Dir string
	// Report queues a 1226 alert for the device's next session (required).
	Report func(*syncml.Alert)
	// Installer installs, removes, activates and deactivates components;
	// nil fails those operations with ResultNotImplemented.
	Installer Installer
	// Fetch downloads url into w; nil fetches http and https URLs with
	// HTTPClient (http.DefaultClient when nil), bounded like FUMO's.
	Fetch      func(ctx context.Context, url string, w io.Writer) error
	HTTPClient *http.Client
	// MaxSize bounds a package (DefaultMaxSize when 0): a larger one fails
	// with ResultDownloadOutOfMemory.
	MaxSize int64
	// DownloadTimeout bounds one download (DefaultDownloadTimeout when 0).
	DownloadTimeout time.Duration
	// ConnectTimeout and StallTimeout bound the default fetch (see fumo.Config).
	ConnectTimeout, StallTimeout time.Duration
	// AcceptTypes are the media types a download descriptor's <type> must
	// match one of ("type/*" and "*/*" allowed); empty accepts any. A
	// mismatch fails the download before it starts (OMA DL status 953,
	// ResultValidationFailed).
	AcceptTypes []string
	// FreeSpace says how many bytes Dir can still take; a descriptor whose
	// size exceeds it fails with OMA DL status 901 and
	// ResultDownloadOutOfMemory before the download starts. Nil asks the
	// file system.
	FreeSpace func() (int64, bool)
	// Servers are granted Get, Replace, Exec, Add and Delete on the object
	// (its ACL); empty leaves the ACL as inherited.
	Servers []string
	Log     *slog.Logger
}

// Object is the installed object with its plug-in mounted.
type Object struct {
	moframe.Instance
	t   *dmtree.Tree
	cfg Config
	log *slog.Logger
	dl  *moframe.Downloader
	run *moframe.Runner
}

var _ interface {
	dmtree.Plugin
	dmtree.Executor
	dmtree.Completer
} = (*Object)(nil)

// Install creates the object at uri (for example ./SCOMO) or binds it again,
// mounts the plug-in and runs again an operation a restart cut short. Call
// it at every start; Close stops a running operation (it runs again at the
// next start).
func Install(t *dmtree.Tree, uri string, cfg Config) (*Object, error) {
	if cfg.Dir == "" || cfg.Report == nil {
		return nil, errors.New("scomo: Config.Dir and Config.Report are required")
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	uri, err := Model.Place(t, uri)
	if err != nil {
		return nil, fmt.Errorf("scomo: %w (want e.g. ./SCOMO)", err)
	}
	if err := Model.BindAt(t, uri); err != nil {
		return nil, fmt.Errorf("scomo: %w", err)
	}
	// The server adds Download/<x> and may delete what it added: the DDF
	// allows Add, Delete, Exec, Get and Replace somewhere.
	if err := moframe.Grant(t, uri, cfg.Servers, Model.Commands()...); err != nil {
		return nil, fmt.Errorf("scomo: %w", err)
	}
	o := &Object{t: t, cfg: cfg, log: cfg.Log.With("scomo", uri)}
	o.dl = moframe.NewDownloader(moframe.DownloadConfig{Fetch: cfg.Fetch, HTTPClient: cfg.HTTPClient, MaxSize: cfg.MaxSize,
		DownloadTimeout: cfg.DownloadTimeout, ConnectTimeout: cfg.ConnectTimeout, StallTimeout: cfg.StallTimeout,
		AcceptTypes: cfg.AcceptTypes, FreeSpace: cfg.FreeSpace, Log: o.log})
	o.run, err = moframe.NewRunner(moframe.RunnerConfig{Name: "scomo", Dir: cfg.Dir, Report: cfg.Report, Log: o.log,
		Valid: func(r moframe.Record) bool { return r.Op == "" || r.Params["id"] != "" && r.Params["branch"] != "" }})
	if err != nil {
		return nil, err
	}
	o.Instance = moframe.NewInstance(uri, o.run)
	if err := t.Mount(uri, o); err != nil {
		return nil, fmt.Errorf("scomo: %w", err)
	}
	o.run.Resume(func(rec moframe.Record) (moframe.Record, moframe.Work) {
		if rec.Op == "" {
			return rec, nil
		}
		job := jobOf(rec)
		o.log.Info("running again the operation a restart cut short", "op", job.op, "node", job.node())
		return rec, func(ctx context.Context) *moframe.Outcome { return o.work(ctx, job) }
	})
	return o, nil
}

// Complete implements dmtree.Completer: a package node the server adds
// below Download gets its Status and Operations.
func (o *Object) Complete(uri string) bool {
	rest, ok := strings.CutPrefix(uri, o.URI()+"/"+string(BranchDownload)+"/")
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// job is one operation on one package or component.
type job struct {
	root   string
	branch Branch
	id     string
	op     Op
	// From Download/<x>, read at the Exec.
	url, name, desc, pkgType string
}

func (j job) node() string   { return j.root + "/" + string(j.branch) + "/" + j.id }
func (j job) source() string { return j.node() + "/Operations/" + string(j.op) }

func (j job) record(state int, correlator string) moframe.Record {
	return moframe.Record{State: state, Op: string(j.op), Correlator: correlator, Target: j.node(), Params: map[string]string{
		"root": j.root, "branch": string(j.branch), "id": j.id, "url": j.url, "name": j.name, "description": j.desc, "pkg_type": j.pkgType}}
}

func jobOf(r moframe.Record) job {
	p := r.Params
	return job{root: p["root"], branch: Branch(p["branch"]), id: p["id"], op: Op(r.Op),
		url: p["url"], name: p["name"], desc: p["description"], pkgType: p["pkg_type"]}
}

// parse finds the branch, the component and the operation an Exec targets.
func (o *Object) parse(uri string) (job, bool) {
	rest, ok := strings.CutPrefix(uri, o.URI()+"/")
	if !ok {
		return job{}, false
	}
	for b, ops := range Ops {
		r, ok := strings.CutPrefix(rest, string(b)+"/")
		if !ok {
			continue
		}
		segs := strings.Split(r, "/")
		if len(segs) != 3 || segs[1] != "Operations" {
			return job{}, false
		}
		for _, op := range ops {
			if string(op) == segs[2] {
				return job{root: o.URI(), branch: b, id: segs[0], op: op}, true
			}
		}
	}
	return job{}, false
}

// Exec implements dmtree.Executor: it checks the operation, answers 202 and
// runs it after the session.
func (o *Object) Exec(_ context.Context, uri string, _ []byte, correlator string) (syncml.StatusCode, error) {
	j, ok := o.parse(uri)
	if !ok {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed (Exec an Operations node of a Download, Delivered or Deployed component)", uri)
	}
	if o.run.Busy() {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy with another operation", o.URI())
	}
	state := 0
	switch j.branch {
	case BranchDownload:
		j.url = strings.TrimSpace(o.leaf(j.node() + "/PkgURL"))
		if j.url == "" {
			return 0, syncml.Errorf(syncml.StatusIncompleteCommand, "%s/PkgURL is not set", j.node())
		}
		j.name, j.desc, j.pkgType = o.leaf(j.node()+"/Name"), o.leaf(j.node()+"/Description"), o.leaf(j.node()+"/PkgType")
		state = int(DownloadProgressing)
	case BranchDelivered:
		if j.op != OpRemove && !o.hasPackage(j.id) {
			return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s has no package left to install", j.node())
		}
		j.name, j.desc = o.leaf(j.node()+"/Name"), o.leaf(j.node()+"/Description")
		state = int(DeliveredInstallProgressing)
		if j.op == OpRemove {
			state = int(DeliveredRemoveProgressing)
		}
	case BranchDeployed:
		state = map[Op]int{OpActivate: int(DeployedActivateProgressing), OpDeactivate: int(DeployedDeactivateProgressing),
			OpRemove: int(DeployedRemoveProgressing)}[j.op]
	}
	err := o.run.Begin(nil, j.record(state, correlator), func(ctx context.Context) *moframe.Outcome {
		if j.branch == BranchDownload {
			download.Reset(o.downloadDir()) // a new download: nothing of an earlier one is resumed
		}
		return o.work(ctx, j)
	})
	if err != nil {
		return 0, err
	}
	return syncml.StatusAccepted, nil
}

// work runs j and says how it ended.
func (o *Object) work(ctx context.Context, j job) *moframe.Outcome {
	switch j.branch {
	case BranchDownload:
		return o.downloadOp(ctx, j)
	case BranchDelivered:
		if j.op == OpRemove {
			return o.removeDelivered(j)
		}
		return o.installDelivered(ctx, j)
	case BranchDeployed:
		return o.deployedOp(ctx, j)
	}
	return o.outcome(j, j.node(), ResultUndefined)
}

// outcome reports r for j, Target the node the result concerns
// (OMA-TS-DM-SCOMO-V1_0: the alert's Target is the delivered or deployed
// component), Data the result code and the component's identifier.
func (o *Object) outcome(j job, target string, r Result) *moframe.Outcome {
	return &moframe.Outcome{Report: &moframe.Report{Type: AlertOperationComplete, Source: j.source(), Target: target,
		Format: "xml", Data: AlertData(r, j.id), Failed: !r.Successful()}}
}

// downloadOp runs Download, DownloadInstall and DownloadInstallInactive.
func (o *Object) downloadOp(ctx context.Context, j job) *moframe.Outcome {
	status := j.node() + "/Status"
	o.setInt(status, int(DownloadProgressing))
	r, err := o.download(ctx, j.url, o.pkgPath(j.id))
	if ctx.Err() != nil {
		return nil
	}
	if !r.Successful() {
		o.log.Warn("package download failed", "id", j.id, "url", j.url, "result", int(r), "err", err)
		o.setInt(status, int(DownloadFailed))
		return o.outcome(j, j.node(), r)
	}
	if j.op == OpDownload {
		o.setInt(status, int(DownloadComplete))
		dl := j.root + "/" + string(BranchDelivered) + "/" + j.id
		if err := o.createInstance(dl, map[string]string{"PkgID": j.id, "Name": j.name, "Description": j.desc, "PkgType": j.pkgType},
			map[string]int{"State": int(Delivered), "Status": int(DeliveredIdle)}); err != nil {
			o.log.Error("could not record the delivered package", "id", j.id, "err", err)
			o.setInt(status, int(DownloadFailed))
			return o.outcome(j, j.node(), ResultClientError)
		}
		o.deleteNode(j.node())
		o.log.Info("package delivered", "id", j.id)
		return o.outcome(j, dl, ResultSuccessful)
	}
	o.setInt(status, int(DownloadInstallProgressing))
	r, dep := o.install(ctx, j, j.op == OpDownloadInstall)
	if ctx.Err() != nil {
		return nil
	}
	if !r.Successful() {
		o.setInt(status, int(DownloadInstallFailedData))
		return o.outcome(j, j.node(), r)
	}
	o.deleteNode(j.node())
	os.Remove(o.pkgPath(j.id))
	return o.outcome(j, dep, r)
}

// installDelivered runs Install and InstallInactive of a delivered package.
func (o *Object) installDelivered(ctx context.Context, j job) *moframe.Outcome {
	status := j.node() + "/Status"
	o.setInt(status, int(DeliveredInstallProgressing))
	r, dep := o.install(ctx, j, j.op == OpInstall)
	if ctx.Err() != nil {
		return nil
	}
	if !r.Successful() {
		o.setInt(status, int(DeliveredInstallFailedData))
		return o.outcome(j, j.node(), r)
	}
	// Installed: the component holds what it needs; the package goes.
	os.Remove(o.pkgPath(j.id))
	o.setInt(j.node()+"/State", int(Installed))
	o.setInt(status, int(DeliveredIdle))
	return o.outcome(j, dep, r)
}

// removeDelivered deletes a delivered package and its node.
func (o *Object) removeDelivered(j job) *moframe.Outcome {
	o.setInt(j.node()+"/Status", int(DeliveredRemoveProgressing))
	if err := os.Remove(o.pkgPath(j.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		o.log.Warn("could not remove the delivered package", "id", j.id, "err", err)
		o.setInt(j.node()+"/Status", int(DeliveredRemoveFailed))
		return o.outcome(j, j.node(), ResultRemoveFailed)
	}
	o.deleteNode(j.node())
	return o.outcome(j, j.node(), ResultSuccessful)
}

// install runs the Installer on j's package and records the deployed
// component; it returns the result and the component's node.
func (o *Object) install(ctx context.Context, j job, active bool) (Result, string) {
	dep := j.root + "/" + string(BranchDeployed) + "/" + j.id
	if o.cfg.Installer == nil {
		return ResultNotImplemented, ""
	}
	c := &Component{ID: j.id, Name: j.name, Description: j.desc, Package: o.pkgPath(j.id)}
	err := o.cfg.Installer.Install(ctx, c, active)
	if ctx.Err() != nil {
		return 0, ""
	}
	if err != nil {
		r := Result(moframe.CodeOf(err, int(ResultSuccessful), int(ResultInstallFailed)))
		o.log.Warn("component install failed", "id", j.id, "result", int(r), "err", err)
		return r, ""
	}
	state := Inactive
	if active {
		state = Active
	}
	if err := o.createInstance(dep, map[string]string{"ID": j.id, "PkgIDRef": j.id, "Name": j.name, "Description": j.desc, "Version": c.Version},
		map[string]int{"State": int(state), "Status": int(DeployedIdle)}); err != nil {
		o.log.Error("could not record the deployed component", "id", j.id, "err", err)
		return ResultClientError, ""
	}
	o.log.Info("component installed", "id", j.id, "version", c.Version, "state", state.String())
	return ResultSuccessful, dep
}

// deployedOp runs Activate, Deactivate and Remove of a deployed component.
func (o *Object) deployedOp(ctx context.Context, j job) *moframe.Outcome {
	status := j.node() + "/Status"
	var progress, failed DeployedStatus
	var call func(context.Context, string) error
	var next DeployedState
	in := o.cfg.Installer
	switch j.op {
	case OpActivate:
		progress, failed, next = DeployedActivateProgressing, DeployedActivateFailed, Active
		if in != nil {
			call = in.Activate
		}
	case OpDeactivate:
		progress, failed, next = DeployedDeactivateProgressing, DeployedDeactivateFailed, Inactive
		if in != nil {
			call = in.Deactivate
		}
	default:
		progress, failed = DeployedRemoveProgressing, DeployedRemoveFailed
		if in != nil {
			call = in.Remove
		}
	}
	o.setInt(status, int(progress))
	r := ResultNotImplemented
	if call != nil {
		err := call(ctx, j.id)
		if ctx.Err() != nil {
			return nil
		}
		r = Result(moframe.CodeOf(err, int(ResultSuccessful), int(j.op.failure())))
		if err != nil {
			o.log.Warn("component operation failed", "op", j.op, "id", j.id, "result", int(r), "err", err)
		}
	}
	if !r.Successful() {
		o.setInt(status, int(failed))
		return o.outcome(j, j.node(), r)
	}
	if j.op == OpRemove {
		o.deleteNode(j.node())
		o.log.Info("component removed", "id", j.id)
	} else {
		o.setInt(j.node()+"/State", int(next))
		o.setInt(status, int(DeployedIdle))
		o.log.Info("component state changed", "id", j.id, "state", next.String())
	}
	return o.outcome(j, j.node(), r)
}

// createInstance creates (or updates) a Delivered or Deployed node with
// the nodes its DDF requires and the values given.
func (o *Object) createInstance(uri string, chr map[string]string, ints map[string]int) error {
	if err := moframe.AddNode(o.t, uri, dmtree.Value{Format: dmtree.FormatNode}); err != nil {
		return err
	}
	// Binding again gives the new instance its required nodes.
	if err := Model.BindAt(o.t, o.URI()); err != nil {
		return err
	}
	for k, v := range chr {
		if v == "" && k != "ID" && k != "PkgID" {
			continue
		}
		if err := o.put(uri+"/"+k, dmtree.FormatChr, v); err != nil {
			return err
		}
	}
	for k, v := range ints {
		if err := o.put(uri+"/"+k, dmtree.FormatInt, strconv.Itoa(v)); err != nil {
			return err
		}
	}
	return nil
}

// put sets a leaf as the device, creating it when missing.
func (o *Object) put(uri, format, value string) error {
	v := dmtree.Value{Format: format, Type: "text/plain", Data: []byte(value)}
	_, err := o.t.Ensure(uri, v)
	if syncml.StatusOf(err) == syncml.StatusNotFound {
		err = o.t.Add("", uri, v)
	}
	return err
}

func (o *Object) setInt(uri string, n int) {
	if err := o.put(uri, dmtree.FormatInt, strconv.Itoa(n)); err != nil {
		o.log.Warn("could not set a status", "node", uri, "err", err)
	}
	o.run.Step(n)
}

func (o *Object) deleteNode(uri string) {
	if err := o.t.Delete("", uri); err != nil && syncml.StatusOf(err) != syncml.StatusNotFound {
		o.log.Warn("could not delete a node", "node", uri, "err", err)
	}
}

func (o *Object) leaf(uri string) string { return moframe.Leaf(o.t, uri) }

func (o *Object) pkgPath(id string) string {
	return filepath.Join(o.cfg.Dir, "packages", safeName(id)+".pkg")
}

func (o *Object) hasPackage(id string) bool {
	_, err := os.Stat(o.pkgPath(id))
	return err == nil
}

// safeName maps a node name to a file name: what is not a letter, digit,
// '-', '_' or '.' becomes '_', with a hex code so names stay distinct.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.' && b.Len() > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// downloadDir keeps the partial package and the accepted download
// descriptor of the running download, so that one a restart cut short
// resumes (one operation runs at a time).
func (o *Object) downloadDir() string { return filepath.Join(o.cfg.Dir, "download") }

// download fetches url into dst. With the default fetch, url may name the
// package or an OMA download descriptor (OMA-TS-DM-SCOMO-V1_0, the
// Download/<x>/PkgURL node: the package's or its descriptor's URL); the descriptor's
// type and size are checked before the download, the media's size and
// SHA-256 after it, the status is posted to its installNotifyURI, and a
// download a restart cut short resumes with an HTTP Range request.
func (o *Object) download(ctx context.Context, url, dst string) (Result, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return ResultDownloadOutOfMemory, err
	}
	if err := o.dl.Download(ctx, url, dst, o.downloadDir()); err != nil {
		return ResultOfDownload(err), err
	}
	return ResultSuccessful, nil
}

// ResultOfDownload maps a failed download to its SCOMO result code
// (OMA-TS-DM-SCOMO-V1_0 §8.7): an error naming its own code (a
// *moframe.ResultError of a custom Fetch) keeps it; a failure of the
// device's storage or a package over MaxSize is 1404; a downloader error
// maps by its kind (resultOfKind); anything else is 1402 "Download
// Failed".
func ResultOfDownload(err error) Result {
	var re *moframe.ResultError
	if errors.As(err, &re) {
		return Result(re.Code)
	}
	if moframe.IsStorage(err) {
		return ResultDownloadOutOfMemory
	}
	var de *download.Error
	if errors.As(err, &de) {
		if r, ok := resultOfKind[de.Kind]; ok {
			return r
		}
	}
	return ResultDownloadFailed
}

// resultOfKind maps the downloader's failure kinds to SCOMO result codes
// (OMA-TS-DM-SCOMO-V1_0 §8.7; the OMA DL status posted to the descriptor's
// installNotifyURI in brackets):
//   - the package server refused the credentials: 1403;
//   - the package or its descriptor's size exceeds MaxSize or the free
//     space (901), or writing it failed: 1404 "out of memory";
//   - the server answered 5xx: 1500; no connection could be made: 1501;
//   - the connection broke, timed out, stalled, the URL was not http(s) or
//     had nothing (4xx), the server refused the Range of a resumed download,
//     or the descriptor was invalid or of another DDVersion (906, 951): 1402
//     "Download Failed" (no package was received to validate);
//   - the descriptor's media type is one the device does not take (953),
//     the media's size differs from the descriptor's (905), or its SHA-256
//     does: 1407 "Failed package validation" (the package is not the one
//     the device can install);
//   - the 900 status report was not confirmed, so the package was
//     discarded: 1402.
var resultOfKind = map[download.Kind]Result{
	download.KindNetwork:       ResultDownloadFailed,
	download.KindTimeout:       ResultDownloadFailed,
	download.KindBadURL:        ResultDownloadFailed,
	download.KindAuth:          ResultDownloadAuthFailed,
	download.KindUnavailable:   ResultDownloadServerUnavail,
	download.KindServer:        ResultDownloadServerError,
	download.KindTooLarge:      ResultDownloadOutOfMemory,
	download.KindStorage:       ResultDownloadOutOfMemory,
	download.KindRange:         ResultDownloadFailed,
	download.KindDescriptor:    ResultDownloadFailed,
	download.KindNotAcceptable: ResultValidationFailed,
	download.KindMismatch:      ResultValidationFailed,
	download.KindChecksum:      ResultValidationFailed,
	download.KindNotConfirmed:  ResultDownloadFailed,
}
