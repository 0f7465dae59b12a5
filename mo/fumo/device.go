package fumo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/mo/internal/download"
	"github.com/omadm/omadm/mo/internal/place"
	"github.com/omadm/omadm/syncml"
)

// Defaults of Config.
const (
	DefaultMaxSize         = 512 << 20
	DefaultDownloadTimeout = time.Hour
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
	// 953, result ResultNotAcceptable).
	AcceptTypes []string
	// FreeSpace says how many bytes Dir can still take; a descriptor whose
	// size exceeds it fails with OMA DL status 901 and
	// ResultDownloadOutOfMemory before the download starts. Nil asks the
	// file system (no check where it cannot tell).
	FreeSpace func() (int64, bool)
	// Servers are granted Get, Replace and Exec on the package node (its
	// ACL); empty leaves the ACL as inherited.
	Servers []string
	Log     *slog.Logger
}

// ResultError is a fetch or install error that names its Result.
type ResultError struct {
	Result Result
	Err    error
}

func (e *ResultError) Error() string { return fmt.Sprintf("%s: %v", e.Result, e.Err) }
func (e *ResultError) Unwrap() error { return e.Err }

// ResultOf maps a download error to the result the alert carries: a
// ResultError keeps its own; the rest is taken for a network failure.
func ResultOf(err error) Result {
	var re *ResultError
	switch {
	case err == nil:
		return ResultSuccessful
	case errors.As(err, &re):
		return re.Result
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
	t   *dmtree.Tree
	uri string
	cfg Config
	log *slog.Logger
	get *download.Getter

	mu      sync.Mutex
	st      persisted
	running bool
	gen     int // counts start calls: an old run must not clear a newer one's running

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// persisted is what Dir/state.json keeps across restarts.
type persisted struct {
	State      State  `json:"state"`
	Op         Op     `json:"op,omitempty"`
	Correlator string `json:"correlator,omitempty"`
	// DD is the download descriptor PkgURL gave, once fetched and checked:
	// a download resumed after a restart goes on with its objectURI.
	DD *dlota.Descriptor `json:"dd,omitempty"`
}

const (
	stateFile   = "state.json"
	packageFile = "package.bin"
	partFile    = "package.part"
)

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
	if cfg.DownloadTimeout <= 0 {
		cfg.DownloadTimeout = DefaultDownloadTimeout
	}

	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	uri, err := place.Node(uri)
	if err != nil {
		return nil, fmt.Errorf("fumo: %w (want e.g. ./FwUpdate/Default)", err)
	}
	parent, name := path.Dir(uri), path.Base(uri)
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("fumo: %w", err)
	}
	// The node and the optional children this device supports; the DDF
	// then adds the required ones (State, the PkgURLs). PkgName, PkgVersion
	// and PkgData allow no Add, so the device creates them empty for the
	// server to Replace.
	for _, n := range []struct {
		uri string
		v   dmtree.Value
	}{
		{uri, dmtree.Value{Format: dmtree.FormatNode, Type: MOID}},
		{uri + "/PkgName", dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain"}},
		{uri + "/PkgVersion", dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain"}},
		{uri + "/Download", dmtree.Value{Format: dmtree.FormatNode}},
		{uri + "/Update", dmtree.Value{Format: dmtree.FormatNode}},
		{uri + "/Update/PkgData", dmtree.Value{Format: dmtree.FormatBin, Type: "application/octet-stream"}},
		{uri + "/DownloadAndUpdate", dmtree.Value{Format: dmtree.FormatNode}},
	} {
		if err := place.Add(t, n.uri, n.v); err != nil {
			return nil, fmt.Errorf("fumo: %w", err)
		}
	}
	def, err := DDF(name)
	if err != nil {
		return nil, err
	}
	if err := t.Install(parent, def); err != nil {
		return nil, fmt.Errorf("fumo: bind the DDF at %s: %w", uri, err)
	}
	if err := place.Grant(t, uri, cfg.Servers); err != nil {
		return nil, fmt.Errorf("fumo: %w", err)
	}
	o := &Object{t: t, uri: uri, cfg: cfg, log: cfg.Log.With("fumo", uri), st: persisted{State: StateIdle},
		get: download.New(download.Options{Client: cfg.HTTPClient, ConnectTimeout: cfg.ConnectTimeout,
			StallTimeout: cfg.StallTimeout, StallBytes: cfg.StallBytes, MaxSize: cfg.MaxSize})}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	if err := o.load(); err != nil {
		return nil, err
	}
	if err := t.Mount(uri, o); err != nil {
		return nil, fmt.Errorf("fumo: %w", err)
	}
	o.resume()
	return o, nil
}

// URI is the package node's canonical URI.
func (o *Object) URI() string { return o.uri }

// State is the current value of <x>/State.
func (o *Object) State() State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.st.State
}

// Wait blocks until no operation is running.
func (o *Object) Wait() { o.wg.Wait() }

// Close stops a running operation without reporting it and waits for it;
// its state stays on disk and the next Install resumes it.
func (o *Object) Close() {
	o.cancel()
	o.wg.Wait()
}

// Mounted implements dmtree.Plugin.
func (o *Object) Mounted(string) error { return nil }

// GetValue implements dmtree.ValueGetter: State is live.
func (o *Object) GetValue(uri string) (dmtree.Value, error) {
	if uri != o.uri+"/State" {
		return dmtree.Value{}, dmtree.ErrUseStored
	}
	return dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain", Data: []byte(strconv.Itoa(int(o.State())))}, nil
}

// SetValue implements dmtree.ValueSetter: a package pushed into
// Update/PkgData is written to Dir and makes the object ready to update.
// Empty data (the device clearing the leaf) changes nothing.
func (o *Object) SetValue(uri string, v dmtree.Value) error {
	if uri != o.uri+"/Update/PkgData" || len(v.Data) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.uri, o.st.State)
	}
	if int64(len(v.Data)) > o.cfg.MaxSize {
		return syncml.Errorf(syncml.StatusEntityTooLarge, "package of %d bytes exceeds %d", len(v.Data), o.cfg.MaxSize)
	}
	if err := writeFileSync(filepath.Join(o.cfg.Dir, packageFile), v.Data); err != nil {
		return syncml.Errorf(syncml.StatusDeviceFull, "store the package: %v", err)
	}
	o.st = persisted{State: StateReadyToUpdate}
	if err := o.save(); err != nil {
		return syncml.Errorf(syncml.StatusCommandFailed, "%v", err)
	}
	return nil
}

// Exec implements dmtree.Executor: it checks that the operation may start in
// the current state, answers 202 and runs it after the session.
func (o *Object) Exec(_ context.Context, uri string, _ []byte, correlator string) (syncml.StatusCode, error) {
	op, err := ParseOp(strings.TrimPrefix(uri, o.uri+"/"))
	if err != nil || uri != o.uri+"/"+string(op) {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed (Exec %s/Download, Update or DownloadAndUpdate)", uri, o.uri)
	}
	// The tree is read without o.mu: a Replace holding the tree's lock may be
	// waiting for o.mu in SetValue.
	if o.busy() {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.uri, o.State())
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
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running {
		return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.uri, o.st.State)
	}
	next := StateDownloading
	switch op {
	case OpUpdate:
		if !o.hasPackage() || (o.st.State != StateReadyToUpdate && o.st.State != StateUpdateFailedHaveData) {
			return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "no package to install in state %d (%s)", o.st.State, o.st.State)
		}
		next = StateUpdating
	default:
		if o.st.State == StateDownloading || o.st.State == StateUpdating {
			return 0, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is busy (%s)", o.uri, o.st.State)
		}
	}
	prev := o.st
	o.st = persisted{State: next, Op: op, Correlator: correlator}
	if err := o.save(); err != nil {
		o.st = prev
		return 0, syncml.Errorf(syncml.StatusCommandFailed, "%v", err)
	}
	if op != OpUpdate {
		// A new download: what an earlier one left is not resumed.
		os.Remove(filepath.Join(o.cfg.Dir, partFile))
	}
	o.start(func(ctx context.Context) { o.run(ctx, op, url) })
	return syncml.StatusAccepted, nil
}

func (o *Object) busy() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.running
}

// start runs fn in the background; o.mu is held. finish marks the object
// idle before it reports, so that an Exec in the session the report starts
// finds it free; this run's own end clears running only if no newer run
// started meanwhile.
func (o *Object) start(fn func(context.Context)) {
	o.running = true
	o.gen++
	gen := o.gen
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		fn(o.ctx)
		o.mu.Lock()
		if o.gen == gen {
			o.running = false
		}
		o.mu.Unlock()
	}()
}

// run carries op through the state machine and reports its outcome.
func (o *Object) run(ctx context.Context, op Op, url string) {
	if op != OpUpdate {
		if url == "" { // resumed: read it again
			if res, err := o.t.Get("", o.uri+"/"+string(op)+"/PkgURL"); err == nil && len(res) == 1 {
				url = strings.TrimSpace(string(res[0].Data))
			}
		}
		r, err := o.download(ctx, url)
		if ctx.Err() != nil {
			return // stopped: resumed at the next start
		}
		if !r.Successful() {
			o.log.Warn("firmware download failed", "url", url, "result", int(r), "err", err)
			o.finish(op, StateDownloadFailed, r)
			return
		}
		o.log.Info("firmware downloaded", "url", url)
		if op == OpDownload {
			o.set(StateDownloadComplete)
			o.finish(op, StateReadyToUpdate, ResultSuccessful)
			return
		}
		o.set(StateUpdating)
	}
	o.update(ctx, op, o.install)
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
func (o *Object) update(ctx context.Context, op Op, install func(context.Context, string) Result) {
	p := filepath.Join(o.cfg.Dir, packageFile)
	r := install(ctx, p)
	if ctx.Err() != nil {
		return
	}
	if !r.Successful() {
		o.log.Warn("firmware update failed", "result", int(r))
		o.finish(op, StateUpdateFailedHaveData, r)
		return
	}
	o.log.Info("firmware updated", "result", int(r))
	o.set(StateUpdateSucceededData)
	os.Remove(p)
	o.clearPkgData()
	o.finish(op, StateUpdateSucceededNoData, r)
}

// clearPkgData empties a package pushed through Update/PkgData once it is
// installed, so that the tree does not keep it.
func (o *Object) clearPkgData() {
	err := o.t.Replace("", o.uri+"/Update/PkgData", dmtree.Value{Format: dmtree.FormatBin})
	if err != nil && syncml.StatusOf(err) != syncml.StatusNotFound {
		o.log.Warn("could not clear PkgData", "err", err)
	}
}

// download fetches url into Dir/package.bin through a partial file. With
// the default fetch, a download interrupted by a restart resumes where it
// stopped (an HTTP Range request), and a PkgURL that serves an OMA download
// descriptor is followed to its media object (OMA-TS-DM-FUMO-V1_0: PkgURL
// may name the package or a download descriptor).
func (o *Object) download(ctx context.Context, url string) (Result, error) {
	if url == "" {
		return ResultBadURL, errors.New("no PkgURL")
	}
	part := filepath.Join(o.cfg.Dir, partFile)
	dctx, cancel := context.WithTimeout(ctx, o.cfg.DownloadTimeout)
	defer cancel()
	if o.cfg.Fetch != nil {
		return o.fetchWith(dctx, url, part)
	}
	o.mu.Lock()
	dd := o.st.DD
	o.mu.Unlock()
	if dd == nil {
		res, _, err := o.get.GetFile(dctx, url, part)
		if err != nil {
			if ctx.Err() == nil {
				os.Remove(part)
			}
			return resultOfKind[download.KindOf(err)], err
		}
		if !dlota.IsDescriptor(res.ContentType, url) {
			return o.keep(part)
		}
		b, err := os.ReadFile(part)
		os.Remove(part)
		if err != nil {
			return ResultDownloadOutOfMemory, err
		}
		if dd, err = dlota.ParseDescriptor(b, url); err != nil {
			var de *dlota.DDError
			errors.As(err, &de)
			o.notify(ctx, de.InstallNotifyURI, de.Status)
			return ResultNotAcceptable, err
		}
		if r, err := o.admit(ctx, dd); err != nil {
			return r, err
		}
		o.mu.Lock()
		o.st.DD = dd
		err = o.save()
		o.mu.Unlock()
		if err != nil {
			return ResultDownloadOutOfMemory, err
		}
		o.log.Info("download descriptor accepted", "object", dd.ObjectURI, "size", dd.Size, "type", dd.Types)
	}
	return o.downloadObject(ctx, dctx, dd, part)
}

// admit checks a descriptor against what this object takes, before any
// byte of the media is fetched (OMA-Download-OTA-V1_0, descriptor
// processing: 953 for a type the device cannot use, 901 for too little
// memory), and reports a refusal to installNotifyURI.
func (o *Object) admit(ctx context.Context, dd *dlota.Descriptor) (Result, error) {
	if !dd.Accepts(o.cfg.AcceptTypes) {
		o.notify(ctx, dd.InstallNotifyURI, dlota.StatusNonAcceptableContent)
		return ResultNotAcceptable, fmt.Errorf("descriptor type %v: this object accepts %v", dd.Types, o.cfg.AcceptTypes)
	}
	if dd.Size > o.cfg.MaxSize {
		o.notify(ctx, dd.InstallNotifyURI, dlota.StatusInsufficientMemory)
		return ResultDownloadOutOfMemory, fmt.Errorf("descriptor size %d exceeds the limit of %d", dd.Size, o.cfg.MaxSize)
	}
	free, ok := o.freeSpace()
	if ok && dd.Size > free {
		o.notify(ctx, dd.InstallNotifyURI, dlota.StatusInsufficientMemory)
		return ResultDownloadOutOfMemory, fmt.Errorf("descriptor size %d exceeds the %d bytes free in %s", dd.Size, free, o.cfg.Dir)
	}
	return ResultSuccessful, nil
}

func (o *Object) freeSpace() (int64, bool) {
	if o.cfg.FreeSpace != nil {
		return o.cfg.FreeSpace()
	}
	return download.FreeSpace(o.cfg.Dir)
}

// downloadObject fetches a descriptor's media object (resuming what part
// holds), checks it against the descriptor and reports the outcome to
// installNotifyURI. The package counts as delivered only once a 900 report
// is confirmed (OMA-Download-OTA-V1_0, "Status Report").
func (o *Object) downloadObject(ctx, dctx context.Context, dd *dlota.Descriptor, part string) (Result, error) {
	res, size, err := o.get.GetFile(dctx, dd.ObjectURI, part)
	if err != nil {
		if ctx.Err() != nil {
			return ResultDownloadNetwork, err // stopped: resumed at the next start
		}
		k := download.KindOf(err)
		st := dlota.StatusLossOfService
		switch k {
		case download.KindTooLarge, download.KindStorage:
			st = dlota.StatusInsufficientMemory
			os.Remove(part)
		case download.KindBadURL, download.KindAuth, download.KindServer:
			st = dlota.StatusLoaderError
			os.Remove(part)
		}
		o.notify(ctx, dd.InstallNotifyURI, st)
		return resultOfKind[k], err
	}
	var mismatch error
	r := ResultCorruptedPackage
	switch {
	case size != dd.Size:
		mismatch = fmt.Errorf("got %d bytes, the descriptor says %d", size, dd.Size)
	case dd.SHA256 != "":
		sum, err := fileSHA256(part)
		if err != nil {
			return ResultDownloadOutOfMemory, err
		}
		if sum != dd.SHA256 {
			mismatch, r = fmt.Errorf("SHA-256 %s, the descriptor says %s", sum, dd.SHA256), ResultValidationFailed
		}
	}
	if mismatch == nil && res.ContentType != "" && res.ContentType != "application/octet-stream" && !dd.Accepts([]string{res.ContentType}) {
		mismatch, r = fmt.Errorf("served as %s, the descriptor says %v", res.ContentType, dd.Types), ResultNotAcceptable
	}
	if mismatch != nil {
		os.Remove(part)
		// 905: the media does not match the descriptor's attributes.
		o.notify(ctx, dd.InstallNotifyURI, dlota.StatusAttributeMismatch)
		return r, mismatch
	}
	if dd.InstallNotifyURI != "" {
		if err := o.get.Notify(ctx, dd.InstallNotifyURI, dlota.StatusSuccess); err != nil {
			os.Remove(part)
			return ResultDownloadNetwork, fmt.Errorf("the 900 report was not confirmed, so the package is discarded: %w", err)
		}
	}
	return o.keep(part)
}

// notify sends a status report when the descriptor named a URI; a failure
// is logged (the FUMO result tells the DM server in any case).
func (o *Object) notify(ctx context.Context, uri string, st dlota.Status) {
	if uri == "" {
		return
	}
	if err := o.get.Notify(ctx, uri, st); err != nil {
		o.log.Warn("download status report failed", "status", st.String(), "err", err)
	}
}

// keep makes the downloaded part the package.
func (o *Object) keep(part string) (Result, error) {
	if err := os.Rename(part, filepath.Join(o.cfg.Dir, packageFile)); err != nil {
		os.Remove(part)
		return ResultDownloadOutOfMemory, err
	}
	return ResultSuccessful, nil
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fetchWith downloads through Config.Fetch (no resume, no descriptor).
func (o *Object) fetchWith(ctx context.Context, url, part string) (Result, error) {
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return ResultDownloadOutOfMemory, err
	}
	err = o.cfg.Fetch(ctx, url, &limitWriter{w: f, left: o.cfg.MaxSize})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(part)
		return ResultOf(err), err
	}
	return o.keep(part)
}

// httpFetch is the default Fetch: GET over http or https with the
// connect, response header and stall bounds of Config.
func (o *Object) httpFetch(ctx context.Context, url string, w io.Writer) error {
	err := o.get.Get(ctx, url, w)
	if err == nil {
		return nil
	}
	return &ResultError{resultOfKind[download.KindOf(err)], err}
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
}

// limitWriter fails a download that outgrows Config.MaxSize.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, &ResultError{ResultDownloadOutOfMemory, errors.New("package exceeds the size limit")}
	}
	l.left -= int64(len(p))
	n, err := l.w.Write(p)
	if err != nil {
		// The device's storage, not the network: full or failing.
		err = &ResultError{ResultDownloadOutOfMemory, err}
	}
	return n, err
}

// finish records the final state of op and reports its result.
func (o *Object) finish(op Op, s State, r Result) {
	o.mu.Lock()
	corr := o.st.Correlator
	o.st = persisted{State: s}
	if err := o.save(); err != nil {
		o.log.Error("could not save the FUMO state", "err", err)
	}
	o.running = false
	o.mu.Unlock()
	mark := ""
	if !r.Successful() {
		mark = "critical"
	}
	o.cfg.Report(&syncml.Alert{Data: syncml.AlertGeneric, Correlator: corr, Items: []syncml.Item{{
		Source: &syncml.Location{LocURI: o.uri},
		Meta:   &syncml.Meta{Type: op.AlertType(), Format: "int", Mark: mark},
		Data:   syncml.TextData(strconv.Itoa(int(r))),
	}}})
}

// set moves to an intermediate state, keeping the operation.
func (o *Object) set(s State) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.st.State = s
	if err := o.save(); err != nil {
		o.log.Error("could not save the FUMO state", "err", err)
	}
}

// resume continues what a restart interrupted.
func (o *Object) resume() {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.st
	switch st.State {
	case StateDownloading:
		o.log.Info("resuming the interrupted download", "op", st.Op)
		o.start(func(ctx context.Context) { o.run(ctx, st.Op, "") })
	case StateDownloadComplete:
		if st.Op == OpDownloadAndUpdate {
			o.st.State = StateUpdating
			if err := o.save(); err != nil {
				o.log.Error("could not save the FUMO state", "err", err)
			}
			o.start(func(ctx context.Context) { o.update(ctx, OpDownloadAndUpdate, o.install) })
			return
		}
		o.start(func(context.Context) { o.finish(OpDownload, StateReadyToUpdate, ResultSuccessful) })
	case StateUpdating:
		op := st.Op
		if op == "" {
			op = OpUpdate
		}
		o.log.Info("the device restarted during an update; asking how it ended")
		o.start(func(ctx context.Context) {
			o.update(ctx, op, func(ctx context.Context, p string) Result {
				if o.cfg.Resume == nil {
					return ResultUpdateFailed
				}
				return o.cfg.Resume(ctx, p)
			})
		})
	}
}

func (o *Object) hasPackage() bool {
	_, err := os.Stat(filepath.Join(o.cfg.Dir, packageFile))
	return err == nil
}

func (o *Object) load() error {
	b, err := os.ReadFile(filepath.Join(o.cfg.Dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fumo: %w", err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil || stateNames[p.State] == "" {
		return fmt.Errorf("fumo: %s is damaged (%q); remove it to start from idle", filepath.Join(o.cfg.Dir, stateFile), b)
	}
	o.st = p
	return nil
}

// save writes the state; o.mu is held.
func (o *Object) save() error {
	b, _ := json.Marshal(o.st)
	if err := writeFileSync(filepath.Join(o.cfg.Dir, stateFile), b); err != nil {
		return fmt.Errorf("fumo: save state: %w", err)
	}
	return nil
}

// writeFileSync replaces name with data atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new content.
func writeFileSync(name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
