package fumo

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
	DefaultMaxSize         = 512 << 20
	DefaultDownloadTimeout = moframe.DefaultDownloadTimeout
	DefaultConnectTimeout  = download.DefaultConnectTimeout
	DefaultStallTimeout    = download.DefaultStallTimeout
	DefaultStallBytes      = download.DefaultStallBytes
)

// Config is the device side of an update package node.
type Config struct {
	// Dir holds the package being downloaded or installed and the object's
	// state, so that an operation interrupted by a restart is resumed
	// (required; created when missing).
	Dir string
	// Report queues a 1226 alert for the device's next session (required).
	// With the client engine: Client.QueueAlert, then start a session so
	// that the server hears of it soon.
	Report func(*syncml.Alert)
	// Install installs the package file at path and says how it went. Nil
	// makes Update fail with ResultNotImplemented.
	Install func(ctx context.Context, path string) Result
	// Resume says how an update ended when the device restarted during it
	// (State was 60), for example by comparing the running firmware version
	// with the package's. Nil reports ResultUpdateFailed.
	Resume func(ctx context.Context, path string) Result
	// Fetch downloads url into w. Nil fetches http and https URLs with
	// HTTPClient (http.DefaultClient when nil). A fetch error maps to a
	// Result by ResultOf.
	Fetch      func(ctx context.Context, url string, w io.Writer) error
	HTTPClient *http.Client
	// MaxSize bounds a package (DefaultMaxSize when 0); a larger one fails
	// with ResultDownloadOutOfMemory.
	MaxSize int64
	// DownloadTimeout bounds one download (DefaultDownloadTimeout when 0);
	// past it the download fails with ResultDownloadTimeout.
	DownloadTimeout time.Duration
	// ConnectTimeout bounds connecting to the package server, TLS handshake
	// included (DefaultConnectTimeout when 0). It applies to the default
	// fetch, over HTTPClient's transport when that is an *http.Transport.
	ConnectTimeout time.Duration
	// StallTimeout and StallBytes detect a package server that stalls or
	// trickles (DefaultStallTimeout and DefaultStallBytes when 0): the
	// default fetch fails with ResultDownloadTimeout when no response
	// header arrives within StallTimeout of sending the request, or when
	// fewer than StallBytes of the body arrive in any StallTimeout period.
	StallTimeout time.Duration
	StallBytes   int64
	// AcceptTypes are the media types a download descriptor's <type> must
	// match one of ("type/*" and "*/*" wildcards allowed); empty accepts
	// any. A mismatch fails the download before it starts (OMA DL status
	// 953, ResultNotAcceptable).
	AcceptTypes []string
	// FreeSpace says how many bytes Dir can still take; a descriptor whose
	// size exceeds it fails with OMA DL status 901 and
	// ResultDownloadOutOfMemory before the download starts. Nil asks the
	// file system.
	FreeSpace func() (int64, bool)
	// Servers are granted Get, Replace and Exec on the package node (its
	// ACL); empty leaves the ACL as inherited.
	Servers []string
	Log     *slog.Logger
}

// ResultOf maps a download error to the result the alert carries: a
// *moframe.ResultError (from a custom Fetch) keeps its Code; the rest is
// taken for a network failure.
func ResultOf(err error) Result {
	var re *moframe.ResultError
	switch {
	case err == nil:
		return ResultSuccessful
	case errors.As(err, &re):
		return Result(re.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return ResultDownloadTimeout
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return ResultDownloadTimeout
	}
	return ResultDownloadNetwork
}

// Object is one update package node with its plug-in mounted.
type Object struct {
	moframe.Instance
	t   *dmtree.Tree
	cfg Config
	log *slog.Logger
	dl  *moframe.Downloader
	run *moframe.Runner
}

// packageFile is the package's file in Config.Dir.
const packageFile = "package.bin"

var _ interface {
	dmtree.Plugin
	dmtree.ValueGetter
	dmtree.ValueSetter
	dmtree.Executor
} = (*Object)(nil)

// Install creates the update package node at uri (for example
// ./FwUpdate/Default) with its operations, binds the FUMO DDF to it, mounts
// the plug-in and resumes an operation a restart interrupted. Call it at
// every start; Close stops the running operation (it resumes at the next
// start).
func Install(t *dmtree.Tree, uri string, cfg Config) (*Object, error) {
	if cfg.Dir == "" || cfg.Report == nil {
		return nil, errors.New("fumo: Config.Dir and Config.Report are required")
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("fumo: %w", err)
	}
	// The node and the optional children this device supports; the DDF
	// then adds the required ones (State, the PkgURLs). PkgName, PkgVersion
	// and PkgData allow no Add, so the device creates them empty for the
	// server to Replace.
	uri, err := Model.Install(t, uri, cfg.Servers,
		"PkgName", "PkgVersion", "Download", "Update", "Update/PkgData", "DownloadAndUpdate")
	if err != nil {
		return nil, fmt.Errorf("fumo: %w (want e.g. ./FwUpdate/Default)", err)
	}
	o := &Object{t: t, cfg: cfg, log: cfg.Log.With("fumo", uri)}
	o.dl = moframe.NewDownloader(moframe.DownloadConfig{Fetch: cfg.Fetch, HTTPClient: cfg.HTTPClient, MaxSize: cfg.MaxSize,
		DownloadTimeout: cfg.DownloadTimeout, ConnectTimeout: cfg.ConnectTimeout, StallTimeout: cfg.StallTimeout,
		StallBytes: cfg.StallBytes, AcceptTypes: cfg.AcceptTypes, FreeSpace: cfg.FreeSpace, Log: o.log})
	o.run, err = moframe.NewRunner(moframe.RunnerConfig{Name: "fumo", Dir: cfg.Dir, Report: cfg.Report, Log: o.log,
		Initial: moframe.Record{State: int(StateIdle)},
		Valid:   func(r moframe.Record) bool { return stateNames[State(r.State)] != "" }})
	if err != nil {
		return nil, err
	}
	o.Instance = moframe.NewInstance(uri, o.run)
	if err := t.Mount(uri, o); err != nil {
		return nil, fmt.Errorf("fumo: %w", err)
	}
	o.run.Resume(o.resume)
	return o, nil
}

// State is the current value of <x>/State.
func (o *Object) State() State { return State(o.run.Record().State) }

// GetValue implements dmtree.ValueGetter: State is live.
func (o *Object) GetValue(uri string) (dmtree.Value, error) {
	if uri != o.URI()+"/State" {
		return dmtree.Value{}, dmtree.ErrUseStored
	}
	return dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain", Data: []byte(strconv.Itoa(int(o.State())))}, nil
}

// SetValue implements dmtree.ValueSetter: a package pushed into
// Update/PkgData is written to Dir and makes the object ready to update.
// Empty data (the device clearing the leaf) changes nothing.
func (o *Object) SetValue(uri string, v dmtree.Value) error {
	if uri != o.URI()+"/Update/PkgData" || len(v.Data) == 0 {
		return nil
	}
	return o.run.Change(func(r *moframe.Record) error {
		if int64(len(v.Data)) > o.cfg.MaxSize {
			return syncml.Errorf(syncml.StatusEntityTooLarge, "package of %d bytes exceeds %d", len(v.Data), o.cfg.MaxSize)
		}
		if err := moframe.WriteFileSync(filepath.Join(o.cfg.Dir, packageFile), v.Data); err != nil {
			return syncml.Errorf(syncml.StatusDeviceFull, "store the package: %v", err)
		}
		*r = moframe.Record{State: int(StateReadyToUpdate)}
		return nil
	})
}

// Exec implements dmtree.Executor: it checks that the operation may start in
// the current state, answers 202 and runs it after the session.
func (o *Object) Exec(_ context.Context, uri string, _ []byte, correlator string) (syncml.StatusCode, error) {
	op, err := ParseOp(strings.TrimPrefix(uri, o.URI()+"/"))
	if err != nil || uri != o.URI()+"/"+string(op) {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed (Exec %s/Download, Update or DownloadAndUpdate)", uri, o.URI())
	}
	// The tree is read before the runner's lock is taken: a Replace holding
	// the tree's lock may be waiting for it in SetValue.
	if o.run.Busy() {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.URI(), o.State())
	}
	var url string
	if op != OpUpdate {
		res, err := o.t.Get("", uri+"/PkgURL")
		if err == nil && len(res) == 1 {
			url = strings.TrimSpace(string(res[0].Data))
		}
		if url == "" {
			return 0, syncml.Errorf(syncml.StatusIncompleteCommand, "%s/PkgURL is not set", uri)
		}
	}
	next := StateDownloading
	if op == OpUpdate {
		next = StateUpdating
	}
	check := func(cur moframe.Record) error {
		s := State(cur.State)
		switch {
		case op == OpUpdate && (!o.hasPackage() || (s != StateReadyToUpdate && s != StateUpdateFailedHaveData)):
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "no package to install in state %d (%s)", s, s)
		case op != OpUpdate && (s == StateDownloading || s == StateUpdating):
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.URI(), s)
		}
		return nil
	}
	err = o.run.Begin(check, moframe.Record{State: int(next), Op: string(op), Correlator: correlator},
		func(ctx context.Context) *moframe.Outcome {
			if op != OpUpdate {
				download.Reset(o.cfg.Dir) // a new download: nothing of an earlier one is resumed
			}
			return o.work(ctx, op, url)
		})
	if err != nil {
		return 0, err
	}
	return syncml.StatusAccepted, nil
}

// work carries op through the state machine and says how it ended.
func (o *Object) work(ctx context.Context, op Op, url string) *moframe.Outcome {
	if op != OpUpdate {
		if url == "" { // resumed: read it again
			if res, err := o.t.Get("", o.URI()+"/"+string(op)+"/PkgURL"); err == nil && len(res) == 1 {
				url = strings.TrimSpace(string(res[0].Data))
			}
		}
		r, err := o.download(ctx, url)
		if ctx.Err() != nil {
			return nil // stopped: resumed at the next start
		}
		if !r.Successful() {
			o.log.Warn("firmware download failed", "url", url, "result", int(r), "err", err)
			return o.outcome(op, StateDownloadFailed, r)
		}
		o.log.Info("firmware downloaded", "url", url)
		if op == OpDownload {
			o.run.Step(int(StateDownloadComplete))
			return o.outcome(op, StateReadyToUpdate, ResultSuccessful)
		}
		o.run.Step(int(StateUpdating))
	}
	return o.update(ctx, op, o.install)
}

// outcome is op's final state s and its report r.
func (o *Object) outcome(op Op, s State, r Result) *moframe.Outcome {
	return &moframe.Outcome{Final: moframe.Record{State: int(s)},
		Report: moframe.ResultReport(op.AlertType(), o.URI(), int(r), r.Successful())}
}

// install runs Config.Install.
func (o *Object) install(ctx context.Context, p string) Result {
	if o.cfg.Install == nil {
		return ResultNotImplemented
	}
	return o.cfg.Install(ctx, p)
}

// update installs the package and reports; the package is deleted after a
// successful update and kept after a failed one, so that Update can be
// retried.
func (o *Object) update(ctx context.Context, op Op, install func(context.Context, string) Result) *moframe.Outcome {
	p := filepath.Join(o.cfg.Dir, packageFile)
	r := install(ctx, p)
	if ctx.Err() != nil {
		return nil
	}
	if !r.Successful() {
		o.log.Warn("firmware update failed", "result", int(r))
		return o.outcome(op, StateUpdateFailedHaveData, r)
	}
	o.log.Info("firmware updated", "result", int(r))
	o.run.Step(int(StateUpdateSucceededData))
	os.Remove(p)
	o.clearPkgData()
	return o.outcome(op, StateUpdateSucceededNoData, r)
}

// clearPkgData empties a package pushed through Update/PkgData once it is
// installed, so that the tree does not keep it.
func (o *Object) clearPkgData() {
	err := o.t.Replace("", o.URI()+"/Update/PkgData", dmtree.Value{Format: dmtree.FormatBin})
	if err != nil && syncml.StatusOf(err) != syncml.StatusNotFound {
		o.log.Warn("could not clear PkgData", "err", err)
	}
}

// download fetches url into Dir/package.bin. With the default fetch, url
// may name the package or an OMA download descriptor (OMA-TS-DM-FUMO-V1_0:
// PkgURL is "a URL … to the download descriptor or the package"), and a
// download interrupted by a restart resumes where it stopped (HTTP Range).
func (o *Object) download(ctx context.Context, url string) (Result, error) {
	if url == "" {
		return ResultBadURL, errors.New("no PkgURL")
	}
	err := o.dl.Download(ctx, url, filepath.Join(o.cfg.Dir, packageFile), o.cfg.Dir)
	switch {
	case err == nil:
		return ResultSuccessful, nil
	case moframe.IsStorage(err):
		return ResultDownloadOutOfMemory, err
	case o.cfg.Fetch == nil:
		return resultOfKind[download.KindOf(err)], err
	}
	return ResultOf(err), err
}

// resultOfKind maps a failed download to its FUMO result code
// (OMA-TS-DM-FUMO-V1_0 §10.2 result codes): every timeout, a stalled or
// trickling server included, is 407 "Alternate Download Request Time-Out".
var resultOfKind = map[download.Kind]Result{
	download.KindNetwork:     ResultDownloadNetwork,
	download.KindTimeout:     ResultDownloadTimeout,
	download.KindBadURL:      ResultBadURL,
	download.KindAuth:        ResultDownloadAuthFailed,
	download.KindUnavailable: ResultServerUnavailable,
	download.KindServer:      ResultServerError,
	download.KindTooLarge:    ResultDownloadOutOfMemory,
	download.KindStorage:     ResultDownloadOutOfMemory,
	download.KindRange:       ResultDownloadNetwork,
	// Through a download descriptor (OMA DL status in brackets): a
	// descriptor the device cannot use (906, 951) or a media type it does
	// not take (953) is 405 "Not Acceptable"; media that does not match
	// the descriptor's size (905) is 402 "Corrupted", one that
	// fails the SHA-256 404 "Failed Validation"; an unconfirmed 900 report
	// discards the package as a network failure.
	download.KindDescriptor:    ResultNotAcceptable,
	download.KindNotAcceptable: ResultNotAcceptable,
	download.KindMismatch:      ResultCorruptedPackage,
	download.KindChecksum:      ResultValidationFailed,
	download.KindNotConfirmed:  ResultDownloadNetwork,
}

// resume continues what a restart interrupted (moframe.Runner.Resume).
func (o *Object) resume(rec moframe.Record) (moframe.Record, moframe.Work) {
	op := Op(rec.Op)
	switch State(rec.State) {
	case StateDownloading:
		o.log.Info("resuming the interrupted download", "op", op)
		return rec, func(ctx context.Context) *moframe.Outcome { return o.work(ctx, op, "") }
	case StateDownloadComplete:
		if op == OpDownloadAndUpdate {
			rec.State = int(StateUpdating)
			return rec, func(ctx context.Context) *moframe.Outcome { return o.update(ctx, OpDownloadAndUpdate, o.install) }
		}
		return rec, func(context.Context) *moframe.Outcome {
			return o.outcome(OpDownload, StateReadyToUpdate, ResultSuccessful)
		}
	case StateUpdating:
		if op == "" {
			op = OpUpdate
		}
		o.log.Info("the device restarted during an update; asking how it ended")
		return rec, func(ctx context.Context) *moframe.Outcome {
			return o.update(ctx, op, func(ctx context.Context, p string) Result {
				if o.cfg.Resume == nil {
					return ResultUpdateFailed
				}
				return o.cfg.Resume(ctx, p)
			})
		}
	}
	return rec, nil
}

func (o *Object) hasPackage() bool {
	_, err := os.Stat(filepath.Join(o.cfg.Dir, packageFile))
	return err == nil
}
