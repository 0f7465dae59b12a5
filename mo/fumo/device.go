package fumo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/internal/place"
	"github.com/omadm/omadm/syncml"
)

// Defaults of Config.
const (
	DefaultMaxSize         = 512 << 20
	DefaultDownloadTimeout = time.Hour
	DefaultConnectTimeout  = 30 * time.Second
	DefaultStallTimeout    = 60 * time.Second
	DefaultStallBytes      = 4096
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
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.StallBytes <= 0 {
		cfg.StallBytes = DefaultStallBytes
	}
	cfg.HTTPClient = withTimeouts(cfg.HTTPClient, cfg.ConnectTimeout, cfg.StallTimeout)
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
	o := &Object{t: t, uri: uri, cfg: cfg, log: cfg.Log.With("fumo", uri), st: persisted{State: StateIdle}}
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

// download fetches url into Dir/package.bin through a partial file.
func (o *Object) download(ctx context.Context, url string) (Result, error) {
	if url == "" {
		return ResultBadURL, errors.New("no PkgURL")
	}
	part := filepath.Join(o.cfg.Dir, partFile)
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return ResultDownloadOutOfMemory, err
	}
	fetch := o.cfg.Fetch
	if fetch == nil {
		fetch = o.httpFetch
	}
	dctx, cancel := context.WithTimeout(ctx, o.cfg.DownloadTimeout)
	err = fetch(dctx, url, &limitWriter{w: f, left: o.cfg.MaxSize})
	cancel()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, filepath.Join(o.cfg.Dir, packageFile))
	}
	if err != nil {
		os.Remove(part)
		return ResultOf(err), err
	}
	return ResultSuccessful, nil
}

// withTimeouts returns c (http.DefaultClient when nil) with its transport
// copied and given the connect bound (dial and TLS handshake) and the
// response header bound, where the transport leaves them unset. A
// transport that is not an *http.Transport is kept as it is: the header
// watchdog of httpFetch still bounds it.
func withTimeouts(c *http.Client, connect, stall time.Duration) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return c
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, connect)
		defer cancel()
		conn, err := dial(dctx, network, addr)
		var ne net.Error
		if err != nil && ctx.Err() == nil && (dctx.Err() != nil || errors.As(err, &ne) && ne.Timeout()) {
			// The dialer's own deadline may fire just before the context's.
			err = &ResultError{ResultDownloadTimeout, fmt.Errorf("connecting to %s: no connection within %s: %w", addr, connect, err)}
		}
		return conn, err
	}
	if t.TLSHandshakeTimeout <= 0 || t.TLSHandshakeTimeout > connect {
		t.TLSHandshakeTimeout = connect
	}
	if t.ResponseHeaderTimeout <= 0 || t.ResponseHeaderTimeout > stall {
		t.ResponseHeaderTimeout = stall
	}
	cc := *c
	cc.Transport = t
	return &cc
}

// httpFetch is the default Fetch: GET over http or https, bounded by the
// connect timeout, the response header timeout and the stall watchdog.
func (o *Object) httpFetch(ctx context.Context, url string, w io.Writer) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return &ResultError{ResultBadURL, fmt.Errorf("unsupported URL %q (want http or https)", url)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &ResultError{ResultBadURL, err}
	}
	// Backstop for transports withTimeouts could not configure: connect
	// and response header within ConnectTimeout+StallTimeout.
	bound := o.cfg.ConnectTimeout + o.cfg.StallTimeout
	header := time.AfterFunc(bound, func() {
		cancel(&ResultError{ResultDownloadTimeout, fmt.Errorf("GET %s: no response within %s", url, bound)})
	})
	resp, err := o.cfg.HTTPClient.Do(req)
	header.Stop()
	if err != nil {
		var re *ResultError
		if errors.As(err, &re) {
			return err
		}
		if cause := context.Cause(ctx); errors.As(cause, &re) {
			return cause
		}
		var oe interface{ Timeout() bool }
		if errors.As(err, &oe) && oe.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return &ResultError{ResultDownloadTimeout, err}
		}
		return &ResultError{ResultServerUnavailable, err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusProxyAuthRequired:
		return &ResultError{ResultDownloadAuthFailed, fmt.Errorf("GET %s: %s", url, resp.Status)}
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusGatewayTimeout:
		return &ResultError{ResultDownloadTimeout, fmt.Errorf("GET %s: %s", url, resp.Status)}
	case resp.StatusCode >= 500:
		return &ResultError{ResultServerError, fmt.Errorf("GET %s: %s", url, resp.Status)}
	default:
		return &ResultError{ResultBadURL, fmt.Errorf("GET %s: %s", url, resp.Status)}
	}
	if resp.ContentLength > 0 {
		if lw, ok := w.(*limitWriter); ok && resp.ContentLength > lw.left {
			return &ResultError{ResultDownloadOutOfMemory, fmt.Errorf("package of %d bytes exceeds the limit", resp.ContentLength)}
		}
	}
	body := &countingReader{r: resp.Body}
	stop := watchProgress(&body.n, o.cfg.StallTimeout, o.cfg.StallBytes, func(got int64) {
		cancel(&ResultError{ResultDownloadTimeout, fmt.Errorf("GET %s: download stalled: %d bytes in %s, want at least %d",
			url, got, o.cfg.StallTimeout, o.cfg.StallBytes)})
	})
	n, err := io.Copy(w, body)
	stop()
	if err != nil {
		var re *ResultError
		if cause := context.Cause(ctx); ctx.Err() != nil && errors.As(cause, &re) {
			return cause
		}
		return err
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return &ResultError{ResultDownloadNetwork, fmt.Errorf("GET %s: got %d of %d bytes", url, n, resp.ContentLength)}
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// watchProgress calls stalled once, with the bytes counted in the period,
// when a period of length every passes with fewer than least bytes added
// to n; stop ends the watch.
func watchProgress(n *atomic.Int64, every time.Duration, least int64, stalled func(got int64)) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		last    int64
		t       *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		cur := n.Load()
		if cur-last < least {
			stopped = true
			stalled(cur - last)
			return
		}
		last = cur
		t.Reset(every)
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
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
