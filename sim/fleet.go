package sim

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// Options configure a Fleet. Zero fields take the documented defaults.
type Options struct {
	// ServerURL is the DM endpoint, e.g. http://127.0.0.1:8080/dm (required).
	ServerURL string
	// ServerID is the server identifier devices' accounts name (default "omadm").
	ServerID string
	// Devices is how many devices to simulate (required, ≥ 1).
	Devices int
	// FirstIndex numbers the devices FirstIndex … FirstIndex+Devices-1; the
	// number picks the identity (NewIdentity), so two simulators with
	// disjoint ranges drive disjoint devices.
	FirstIndex int
	// Secret derives every device's credentials (DeriveCredentials); default
	// "omadm-sim".
	Secret string
	// Auth is "basic", "md5" (default) or "hmac".
	Auth string
	// Encoding of device messages (default XML).
	Encoding syncml.Encoding
	// Transport carries every device's messages (required); share one
	// keep-alive HTTP client among all devices.
	Transport client.Transport
	// Concurrency bounds sessions in flight (default 64).
	Concurrency int
	// Sessions is how many sessions each device runs when Duration is 0
	// (default 1).
	Sessions int
	// Duration bounds the run; 0 = until every device ran Sessions sessions.
	Duration time.Duration
	// Interval is the check-in period of each device: 0 runs sessions back to
	// back (closed loop, as fast as Concurrency allows); > 0 schedules each
	// device every Interval ± Jitter (open loop).
	Interval time.Duration
	// Jitter is the fraction (0–1) by which each check-in interval varies
	// (default 0.1).
	Jitter float64
	// Burst makes every device's first check-in fall at the start of the run
	// instead of spread over the first interval: the thundering herd after an
	// outage.
	Burst bool
	// NotifyListen is the UDP address ("127.0.0.1:0") where the fleet listens
	// for package 0; "" disables notifications. All devices share the socket
	// and the digest finds the addressed device.
	NotifyListen string
	// NotifySockets is how many UDP sockets the devices share (default 1):
	// device i registers socket i mod NotifySockets, so a package 0 is
	// checked against that socket's devices only (the digest is the only
	// way to find the addressee, and checking it costs about a microsecond
	// per device). With a port other than 0 in NotifyListen the sockets
	// take consecutive ports.
	NotifySockets int
	// UI answers user-interaction alerts (default: accept everything).
	UI client.UI
	// MaxMsgSize and MaxObjSize are the devices' advertised limits.
	MaxMsgSize, MaxObjSize int
	// Retry is the devices' retry policy (default: 2 attempts, 200 ms backoff, 30 s timeout).
	Retry client.RetryPolicy
	// Logger receives fleet-level lines (default: discard); DeviceLogger the
	// engines' own lines (default: discard).
	Logger, DeviceLogger *slog.Logger
	// OnSession, when set, sees every finished session (from many goroutines).
	OnSession func(d *Device, res *client.SessionResult)
	// SCOMODir gives every device a software component object keeping its
	// state and components below it (DeviceOptions.SCOMODir); "" = none.
	SCOMODir string
	// Seed makes schedules reproducible (0 = random).
	Seed uint64
	// StateDir holds the devices' own directories (their FUMO state);
	// "" makes a temporary one that Close removes.
	StateDir string
	// Classify names the reason of a failed session for the error counters
	// (for example "http-503" from a transport error type); "" falls back to
	// Reason.
	Classify func(error) string
}

// Fleet is a population of simulated devices in one process. Build it with
// New, optionally Enroll it and Listen for notifications, then Run it.
type Fleet struct {
	o       Options
	log     *slog.Logger
	devices []*Device
	byID    map[string]*Device
	stats   *Stats
	sem     chan struct{}

	stateDir string // removed by Close when the fleet made it
	ctx      context.Context
	stop     context.CancelFunc

	lmu       sync.Mutex
	listeners []*notification.Listener
	wg        sync.WaitGroup
	closed    chan struct{}
}

// New makes the fleet's devices. A device is built (its tree, account and
// engine) when it first runs a session and dropped again when idle, so an
// idle fleet costs well under a kilobyte per device.
func New(o Options) (*Fleet, error) {
	if o.Devices < 1 {
		return nil, errors.New("sim: Devices must be at least 1")
	}
	if o.FirstIndex < 0 || o.FirstIndex+o.Devices > 1000000 {
		return nil, errors.New("sim: device numbers must lie in 0…999999")
	}
	if o.Transport == nil {
		return nil, errors.New("sim: Options.Transport is required")
	}
	if o.ServerURL == "" {
		return nil, errors.New("sim: Options.ServerURL is required")
	}
	if _, err := SchemeOf(o.Auth); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	if o.ServerID == "" {
		o.ServerID = "omadm"
	}
	if o.Secret == "" {
		o.Secret = "omadm-sim"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.NotifySockets <= 0 {
		o.NotifySockets = 1
	}
	if o.Sessions <= 0 {
		o.Sessions = 1
	}
	if o.Jitter <= 0 {
		o.Jitter = 0.1
	}
	o.Jitter = min(o.Jitter, 1)
	if o.Interval < 0 {
		return nil, errors.New("sim: Interval must not be negative")
	}
	if o.Retry.Attempts <= 0 {
		o.Retry = client.RetryPolicy{Attempts: 2, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Timeout: 30 * time.Second}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{o: o, log: log, byID: make(map[string]*Device, o.Devices), stats: NewStats(),
		sem: make(chan struct{}, o.Concurrency), closed: make(chan struct{})}
	dir := o.StateDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "omadm-sim-"); err != nil {
			return nil, fmt.Errorf("sim: state directory: %w", err)
		}
		f.stateDir = dir
	}
	f.ctx, f.stop = context.WithCancel(context.Background())
	// A device's report (FUMO, LAWMO) goes out in a session of its own at
	// once, as omadm-agent does, and again while it is not delivered.
	report := func(d *Device) {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.deliver(d)
		}()
	}
	p, err := newProto(DeviceOptions{
		ServerURL: o.ServerURL, ServerID: o.ServerID, Auth: o.Auth, Encoding: o.Encoding,
		Transport: o.Transport, UI: o.UI, MaxMsgSize: o.MaxMsgSize, MaxObjSize: o.MaxObjSize,
		Retry: o.Retry, Logger: o.DeviceLogger, SCOMODir: o.SCOMODir, OnReport: report,
	})
	if err != nil {
		f.closeDevices()
		return nil, err
	}
	// Devices are built on first use and dropped when idle (see Device);
	// the first one is built here so that a configuration error shows now.
	f.devices = make([]*Device, 0, o.Devices)
	for i := range o.Devices {
		id := NewIdentity(o.FirstIndex + i)
		d := newIdle(p, id, DeriveCredentials(o.Secret, id.DevID), filepath.Join(dir, stateDirName(id.DevID)))
		d.idx = i
		f.devices = append(f.devices, d)
		f.byID[d.ID()] = d
	}
	if _, err := f.devices[0].acquire(); err != nil {
		f.closeDevices()
		return nil, err
	}
	f.devices[0].release()
	return f, nil
}

// Report sessions that fail are tried again after reportBackoff, doubling
// up to reportMaxBackoff, reportAttempts times in all, while the device
// still holds a report (a server restarting must not lose it).
const (
	reportAttempts   = 10
	reportBackoff    = time.Second
	reportMaxBackoff = 30 * time.Second
)

// deliver runs report sessions for d until its queued reports are sent.
func (f *Fleet) deliver(d *Device) {
	wait := reportBackoff
	for attempt := 1; ; attempt++ {
		_, err := f.Session(f.ctx, d)
		if err == nil || f.ctx.Err() != nil {
			return
		}
		if !d.holdsReports() {
			return // another session sent them
		}
		if attempt == reportAttempts {
			f.log.Warn("report session failed; giving up", "device", d.ID(), "attempts", attempt, "err", err)
			return
		}
		f.log.Debug("report session failed; trying again", "device", d.ID(), "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-f.ctx.Done():
			t.Stop()
			return
		}
		wait = min(2*wait, reportMaxBackoff)
	}
}

// Devices returns the fleet's devices in number order.
func (f *Fleet) Devices() []*Device { return f.devices }

// Device returns the device with the given id, or nil.
func (f *Fleet) Device(id string) *Device { return f.byID[id] }

// Stats are the live counters (shared by Run and notification sessions).
func (f *Fleet) Stats() *Stats { return f.stats }

// ResetStats starts counting afresh (for example after enrolment).
func (f *Fleet) ResetStats() { f.stats = NewStats() }

// Session runs one client-initiated session on d within the fleet's
// concurrency bound and records it in the stats.
func (f *Fleet) Session(ctx context.Context, d *Device, alerts ...*syncml.Alert) (*client.SessionResult, error) {
	return f.track(ctx, d, func() (*client.SessionResult, error) { return d.Run(ctx, alerts...) })
}

func (f *Fleet) track(ctx context.Context, d *Device, run func() (*client.SessionResult, error)) (*client.SessionResult, error) {
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.sem }()
	st := f.stats
	st.begin()
	start := time.Now()
	res, err := run()
	el := time.Since(start)
	reason := ""
	msgs, cmds := 0, 0
	if res != nil {
		msgs, cmds = res.MessagesSent, len(res.Commands)
	}
	if err != nil {
		if f.o.Classify != nil {
			reason = f.o.Classify(err)
		}
		if reason == "" {
			reason = Reason(err)
		}
		f.log.Debug("session failed", "device", d.ID(), "reason", reason, "err", err)
	}
	st.end(el, msgs, cmds, reason)
	if f.o.OnSession != nil && res != nil {
		f.o.OnSession(d, res)
	}
	return res, err
}

// Reason classifies a session error for the "errors by reason" counters.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, client.ErrAuthFailed):
		return "auth"
	case errors.Is(err, client.ErrServerAuth):
		return "server-auth"
	case errors.Is(err, client.ErrAborted):
		return "aborted"
	case errors.Is(err, client.ErrProtocol):
		return "protocol"
	case errors.Is(err, client.ErrTooManyMessages):
		return "too-many-messages"
	case errors.Is(err, client.ErrCancelled), errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, client.ErrTransport):
		return "transport"
	}
	return "other"
}

// Run drives the check-in pattern of Options and returns the final counters.
// When Duration ends no new session starts and those in flight finish; when
// ctx ends, sessions in flight are cancelled (devices send Alert 1223) and
// Run returns ctx's error.
func (f *Fleet) Run(ctx context.Context) (Snapshot, error) {
	stop := ctx
	if f.o.Duration > 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(ctx, f.o.Duration)
		defer cancel()
	}
	work := make(chan *Device)
	var wg sync.WaitGroup
	trapCtx, stopTraps := context.WithCancel(stop)
	defer stopTraps()
	wg.Add(1)
	go func() { defer wg.Done(); f.collectTraps(trapCtx) }()
	for range f.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				_, _ = f.Session(ctx, d)
			}
		}()
	}
	var err error
	if f.o.Interval > 0 {
		err = f.schedule(stop, work)
	} else {
		err = f.closedLoop(stop, work)
	}
	close(work)
	stopTraps()
	wg.Wait()
	if ctx.Err() != nil {
		return f.stats.Snapshot(), ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return f.stats.Snapshot(), err
}

// closedLoop hands devices to the workers round robin, as fast as they take them.
func (f *Fleet) closedLoop(ctx context.Context, work chan<- *Device) error {
	for round := 0; f.o.Duration > 0 || round < f.o.Sessions; round++ {
		for _, d := range f.devices {
			select {
			case work <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// due is one scheduled check-in.
type due struct {
	at time.Time
	d  int
}

type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// schedule runs the open-loop poll pattern: each device checks in every
// Interval ± Jitter until the run ends. A device whose check-in falls due
// while its previous session still runs waits for a worker, as a real
// device's timer would fire late.
func (f *Fleet) schedule(ctx context.Context, work chan<- *Device) error {
	seed := f.o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Now()
	h := make(dueHeap, 0, len(f.devices))
	for i := range f.devices {
		at := start
		if !f.o.Burst {
			at = start.Add(time.Duration(rng.Int64N(int64(f.o.Interval))))
		}
		h = append(h, due{at: at, d: i})
	}
	heap.Init(&h)
	next := func() time.Duration {
		j := 1 + f.o.Jitter*(2*rng.Float64()-1)
		return time.Duration(float64(f.o.Interval) * j)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for h.Len() > 0 {
		top := h[0]
		if wait := time.Until(top.at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		select {
		case work <- f.devices[top.d]:
		case <-ctx.Done():
			return ctx.Err()
		}
		h[0].at = top.at.Add(next())
		heap.Fix(&h, 0)
	}
	return nil
}

// Listen opens the UDP sockets (Options.NotifyListen, NotifySockets) and
// serves package 0 in the background until Close: the addressed device
// runs the server-initiated session it asks for. It returns the address of
// the first socket ("udp://127.0.0.1:port"), or "" when notifications are
// disabled; each device registers its own socket's (Enrolment).
func (f *Fleet) Listen(ctx context.Context) (string, error) {
	if f.o.NotifyListen == "" {
		return "", nil
	}
	f.lmu.Lock()
	defer f.lmu.Unlock()
	if len(f.listeners) > 0 {
		return "udp://" + f.listeners[0].Addr().String(), nil
	}
	host, port, err := net.SplitHostPort(f.o.NotifyListen)
	if err != nil {
		return "", fmt.Errorf("sim: notification listener %q: %w", f.o.NotifyListen, err)
	}
	p0, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("sim: notification listener %q: bad port", f.o.NotifyListen)
	}
	for k := range f.o.NotifySockets {
		addr := f.o.NotifyListen
		if p0 != 0 {
			addr = net.JoinHostPort(host, strconv.Itoa(p0+k))
		}
		l, err := notification.Listen(addr)
		if err != nil {
			for _, l := range f.listeners {
				l.Close()
			}
			f.listeners = nil
			return "", fmt.Errorf("sim: notification listener: %w", err)
		}
		l.OnError = func(from net.Addr, err error) { f.log.Debug("ignored datagram", "from", from.String(), "err", err) }
		f.listeners = append(f.listeners, l)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		<-f.closed
		cancel()
	}()
	for k, l := range f.listeners {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = l.Serve(ctx, func(p *notification.Package0, _ []byte) { f.notified(ctx, k, p) })
		}()
	}
	return "udp://" + f.listeners[0].Addr().String(), nil
}

// notified runs the session package 0 p, received on socket k, asks for.
func (f *Fleet) notified(ctx context.Context, k int, p *notification.Package0) {
	d, n := f.addressee(k, p)
	if d == nil {
		f.log.Warn("package 0 for no simulated device", "server", p.ServerID, "session", p.SessionIDString())
		return
	}
	f.stats.notified.Add(1)
	// n holds its own copy of the package: the datagram buffer is reused.
	// It runs as verified on arrival, not checked again: a session of the
	// device's own that ends meanwhile rotates the server nonce, and the
	// package would then be refused and lost. The device stays built
	// (addressee acquired it) until the session ends.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer d.release()
		res, err := f.track(ctx, d, func() (*client.SessionResult, error) { return d.RunNotification(ctx, n) })
		if err != nil {
			f.log.Warn("notified session failed", "device", d.ID(), "err", err)
		} else {
			f.log.Debug("notified session", "device", d.ID(), "session", res.SessionID)
		}
	}()
}

// NotifyAddr is the address of the first socket ("" before Listen).
func (f *Fleet) NotifyAddr() string {
	f.lmu.Lock()
	defer f.lmu.Unlock()
	if len(f.listeners) == 0 {
		return ""
	}
	return "udp://" + f.listeners[0].Addr().String()
}

// notifyAddrOf is the address of the socket device i listens on ("" before
// Listen).
func (f *Fleet) notifyAddrOf(i int) string {
	f.lmu.Lock()
	defer f.lmu.Unlock()
	if len(f.listeners) == 0 {
		return ""
	}
	return "udp://" + f.listeners[i%len(f.listeners)].Addr().String()
}

// addressee finds, among the devices of socket k, the one whose
// credentials verify p, and the notification it verified. The device is
// returned acquired (built until release).
func (f *Fleet) addressee(k int, p *notification.Package0) (*Device, *client.Notification) {
	cp := *p
	cp.Trigger = bytes.Clone(p.Trigger) // p's bytes are the reused datagram buffer
	for i := k; i < len(f.devices); i += f.o.NotifySockets {
		d := f.devices[i]
		if !d.Addressed(&cp) {
			continue // the cheap check, which an idle device makes without being built
		}
		l, err := d.acquire()
		if err != nil {
			f.log.Warn("building the addressed device failed", "device", d.ID(), "err", err)
			return nil, nil
		}
		if n, v := l.client.Verify(&cp); v == client.VerdictQueued && n != nil {
			return d, n
		}
		d.release()
	}
	return nil, nil
}

// Close stops the notification listener and waits for notified sessions.
func (f *Fleet) Close() error {
	f.lmu.Lock()
	select {
	case <-f.closed:
		f.lmu.Unlock()
		return nil
	default:
	}
	close(f.closed)
	var err error
	for _, l := range f.listeners {
		err = errors.Join(err, l.Close())
	}
	f.lmu.Unlock()
	f.stop()
	f.wg.Wait()
	f.closeDevices()
	return err
}

// closeDevices stops the devices' objects and removes a temporary state
// directory.
func (f *Fleet) closeDevices() {
	for _, d := range f.devices {
		d.Close()
	}
	if f.stateDir != "" {
		os.RemoveAll(f.stateDir)
	}
}

// Enrolment is what the server must know about a device before its first
// session: the REST API's device record.
type Enrolment struct {
	DeviceID       string
	Auth           string // basic, md5, hmac
	Username       string
	Password       string
	ServerPassword string
	NotifyAddr     string // "" = no notifications
	Labels         map[string]string
}

// Enroller registers devices with the server; cmd/omadm implements it over
// the REST API (api/client), tests may write straight to a store. Enrolling a
// device that already exists must update it, so reruns work.
type Enroller interface {
	Enroll(ctx context.Context, e Enrolment) error
}

// EnrollerFunc adapts a function to Enroller.
type EnrollerFunc func(ctx context.Context, e Enrolment) error

// Enroll calls f.
func (fn EnrollerFunc) Enroll(ctx context.Context, e Enrolment) error { return fn(ctx, e) }

// Enrolment returns d's enrolment record with the address of its
// notification socket.
func (f *Fleet) Enrolment(d *Device) Enrolment {
	c := d.Credentials()
	return Enrolment{DeviceID: d.ID(), Auth: d.Auth(), Username: c.Username, Password: c.Password,
		ServerPassword: c.ServerPassword, NotifyAddr: f.notifyAddrOf(d.idx),
		Labels: map[string]string{"sim": "true", "model": d.Identity().Mod}}
}

// Enroll registers every device through en with at most workers requests in
// flight (default: Concurrency), calling progress (if set, one call at a time) after each one.
// It stops at the first error.
func (f *Fleet) Enroll(ctx context.Context, en Enroller, workers int, progress func(done int)) error {
	if workers <= 0 {
		workers = f.o.Concurrency
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *Device)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				if err := en.Enroll(ctx, f.Enrolment(d)); err != nil {
					cancel(fmt.Errorf("sim: enrolling %s: %w", d.ID(), err))
					return
				}
				// progress is called under the lock so callers need no
				// synchronisation of their own.
				mu.Lock()
				done++
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, d := range f.devices {
		select {
		case next <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
