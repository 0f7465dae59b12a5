package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// benchConfig is everything `omadm bench` can be told.
type benchConfig struct {
	devices     int
	concurrency int
	duration    time.Duration
	db          string
	encoding    string
	auth        string
	json        bool
	cpuprofile  string
	profPhase   string // profile only this phase ("" = the whole run)
	prof        *os.File
}

// profile starts the CPU profile of phase when --profile-phase names it and
// returns what stops it (a no-op otherwise).
func (c benchConfig) profile(phase string) func() {
	if c.prof == nil || c.profPhase != phase {
		return func() {}
	}
	if err := pprof.StartCPUProfile(c.prof); err != nil {
		return func() {}
	}
	return pprof.StopCPUProfile
}

func newBenchCmd() *cobra.Command {
	c := benchConfig{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure full management sessions against a bare net/http baseline, in one run",
		Long: `bench runs, in this process and one run:

 1. the real server on SQLite (and on PostgreSQL with --db) under two device
    drivers, each doing full management sessions (authenticate, one Get, one
    Replace, Status and Results stored):
    - "scripted": lightweight scripted devices (sim.ScriptedDevice: message
      templates filled per session, replies read with a byte scanner), whose
      cost is about that of the bare phase's replay, so the ratio measures
      the server;
    - "engine": simulated devices running the real client engine and tree
      (the fleet simulator), which compete with the server for the CPU;
 2. a bare net/http handler answering the same round trips with the same
    bytes (one scripted session captured and replayed).

It prints sessions/s, round trips/s, their ratio to the bare handler, p50/p99
session latency and memory per active session. Each phase runs --duration
with --concurrency sessions in flight. Server phases run in rounds: every
device gets its Get and Replace queued (untimed: queueing is the operator's
side, not part of a session), then one session each (timed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&c.devices, "devices", 1000, "simulated devices (sessions cycle through them)")
	f.IntVar(&c.concurrency, "concurrency", 32, "sessions in flight")
	f.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per phase")
	f.StringVar(&c.db, "db", "", "also measure PostgreSQL at this postgres:// URL (in a schema of its own, dropped afterwards)")
	f.StringVar(&c.encoding, "encoding", "xml", "message encoding: xml or wbxml")
	f.StringVar(&c.auth, "auth", "md5", "device authentication: md5, hmac or basic")
	f.BoolVar(&c.json, "json", false, "print the results as JSON")
	f.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	f.StringVar(&c.profPhase, "profile-phase", "", "with --cpuprofile: profile only this phase's measured rounds (and the untimed queueing between them), e.g. sqlite/scripted")
	return cmd
}

// benchPhase is the outcome of one phase.
type benchPhase struct {
	Name        string            `json:"name"`
	Sessions    uint64            `json:"sessions"`
	RoundTrips  uint64            `json:"round_trips"`
	Seconds     float64           `json:"seconds"`
	SessionsPS  float64           `json:"sessions_per_s"`
	RoundTripPS float64           `json:"round_trips_per_s"`
	P50ms       float64           `json:"p50_ms"`
	P99ms       float64           `json:"p99_ms"`
	Ratio       float64           `json:"ratio_to_bare,omitempty"`
	MemPerSessK float64           `json:"mem_per_active_session_kib,omitempty"`
	JobsDone    int               `json:"jobs_done,omitempty"`
	Errors      map[string]uint64 `json:"errors"`
}

// benchReport is the --json output.
type benchReport struct {
	Devices        int          `json:"devices"`
	Concurrency    int          `json:"concurrency"`
	DurationSec    float64      `json:"duration_s"`
	Encoding       string       `json:"encoding"`
	Auth           string       `json:"auth"`
	CPUs           int          `json:"cpus"`
	GoVersion      string       `json:"go"`
	RoundTripsPerS int          `json:"round_trips_per_session"`
	Phases         []benchPhase `json:"phases"`
}

// exchange is one captured round trip.
type exchange struct {
	reqType, respType string
	req, resp         []byte
}

func runBench(ctx context.Context, c benchConfig, stdout, stderr io.Writer) error {
	if c.devices < 1 || c.concurrency < 1 || c.duration <= 0 {
		return errors.New("--devices, --concurrency and --duration must be positive")
	}
	enc, err := parseEncoding(c.encoding)
	if err != nil {
		return err
	}
	if _, err := sim.SchemeOf(c.auth); err != nil {
		return fmt.Errorf("--auth: %w", err)
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if c.profPhase != "" {
			c.prof = f
		} else {
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
	} else if c.profPhase != "" {
		return errors.New("--profile-phase needs --cpuprofile")
	}
	rep := benchReport{Devices: c.devices, Concurrency: c.concurrency, DurationSec: c.duration.Seconds(),
		Encoding: enc.String(), Auth: c.auth, CPUs: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	dir, err := os.MkdirTemp("", "omadm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	backends := []struct{ name, db string }{{"sqlite", ""}}
	if c.db != "" {
		backends = append(backends, struct{ name, db string }{"postgres", c.db})
	}
	var captured []exchange
	var serverPhases []benchPhase
	for i, b := range backends {
		logf("%s: starting", b.name)
		if b.db != "" {
			dsn, drop, err := benchSchema(ctx, b.db)
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			defer drop()
			b.db = dsn
		}
		phs, ex, err := benchServer(ctx, c, enc, b.name, serveConfig{
			Listen: "127.0.0.1:0", DataDir: dir, DB: b.db, Token: "bench", Logger: quiet, ShutdownTimeout: 10 * time.Second,
		}, i == 0, logf)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		if i == 0 {
			captured = ex
		}
		serverPhases = append(serverPhases, phs...)
	}
	rep.RoundTripsPerS = len(captured)
	logf("bare net/http: replaying %d captured round trips per session", len(captured))
	bare, err := benchBare(ctx, c, captured)
	if err != nil {
		return fmt.Errorf("bare handler: %w", err)
	}
	rep.Phases = append(rep.Phases, bare)
	for _, ph := range serverPhases {
		if bare.SessionsPS > 0 {
			ph.Ratio = round2(ph.SessionsPS / bare.SessionsPS)
		}
		rep.Phases = append(rep.Phases, ph)
	}
	if c.json {
		je := json.NewEncoder(stdout)
		je.SetIndent("", "  ")
		return je.Encode(rep)
	}
	fmt.Fprintf(stdout, "omadm bench: %d devices, %d sessions in flight, %s per phase, %s, %s auth; %d CPUs, %s\n",
		c.devices, c.concurrency, c.duration, enc, c.auth, rep.CPUs, rep.GoVersion)
	fmt.Fprintf(stdout, "session shape: %d round trips (authenticate + DevInfo, Get + Replace, Status + Results stored)\n\n", len(captured))
	fmt.Fprintf(stdout, "%-18s %11s %14s %9s %9s %9s %14s %7s\n", "phase", "sessions/s", "round trips/s", "p50", "p99", "ratio", "mem/session", "errors")
	for _, ph := range rep.Phases {
		ratio, mem := "1", "-"
		if ph.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", ph.Ratio)
		}
		if ph.MemPerSessK > 0 {
			mem = fmt.Sprintf("%.0f KiB", ph.MemPerSessK)
		}
		var errs uint64
		for _, n := range ph.Errors {
			errs += n
		}
		fmt.Fprintf(stdout, "%-18s %11.0f %14.0f %7.2fms %7.2fms %9s %14s %7d\n", ph.Name, ph.SessionsPS, ph.RoundTripPS, ph.P50ms, ph.P99ms, ratio, mem, errs)
	}
	fmt.Fprintln(stdout, "\nscripted = lightweight scripted devices (cost ≈ the bare replay); engine = real client engine + tree per device.")
	fmt.Fprintln(stdout, "ratio = server sessions/s ÷ bare sessions/s (equal to the round-trip ratio: same shape).")
	fmt.Fprintln(stdout, "mem/session = (peak heap in use − idle heap) ÷ sessions in flight, device side included (one process).")
	return nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// benchServer starts the server on one backend, enrols a fleet, warms it up,
// then measures full management sessions for the configured duration. With
// capture it also records the messages of one session for the bare phase.
func benchServer(ctx context.Context, c benchConfig, enc syncml.Encoding, name string, cfg serveConfig, capture bool,
	logf func(string, ...any)) ([]benchPhase, []exchange, error) {
	ph := benchPhase{Name: name + "/engine"}
	rs, err := startServer(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Shutdown(context.Background())
	store := rs.Store
	hc := simHTTPClient(c.concurrency)
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{HTTPClient: hc, UserAgent: "omadm-bench"})
	if err != nil {
		return nil, nil, err
	}
	fleet, err := sim.New(sim.Options{ServerURL: rs.URL + "/dm", Devices: c.devices, Auth: c.auth, Encoding: enc,
		Transport: tp, Concurrency: c.concurrency, Secret: "omadm-bench", Classify: classifyHTTP})
	if err != nil {
		return nil, nil, err
	}
	defer fleet.Close()
	en := sim.EnrollerFunc(func(ctx context.Context, e sim.Enrolment) error {
		d := &storage.Device{ID: e.DeviceID, AuthScheme: e.Auth, Username: e.Username, Password: e.Password, ServerPassword: e.ServerPassword}
		err := store.CreateDevice(ctx, d)
		if errors.Is(err, storage.ErrExists) {
			// A device left by an earlier run: start it afresh.
			if err = store.DeleteDevice(ctx, d.ID); err == nil {
				err = store.CreateDevice(ctx, d)
			}
		}
		return err
	})
	if err := fleet.Enroll(ctx, en, 8, nil); err != nil {
		return nil, nil, err
	}
	// The operator's side of a round: one Get and one Replace queued for
	// every device, in batches of a few hundred devices, before the round's
	// sessions start. Queueing is not part of a management session and is
	// not timed (the storage benchmarks measure CreateJob).
	round := 0
	queueAll := func(ctx context.Context, ids []string) error {
		round++
		for lo := 0; lo < len(ids); lo += 256 {
			chunk := ids[lo:min(lo+256, len(ids))]
			err := storage.InBatch(ctx, store, func(st storage.Store) error {
				for _, id := range chunk {
					for _, spec := range []storage.JobSpec{
						{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}},
						{Command: "Replace", Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: strconv.Itoa(60 + round%3600)}}},
					} {
						if err := st.CreateJob(ctx, &storage.Job{DeviceID: id, Spec: spec}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("queueing jobs: %w", err)
			}
		}
		return nil
	}
	var ids []string
	for _, d := range fleet.Devices() {
		ids = append(ids, d.ID())
	}
	// Warm-up: every device checks in once (nonces settle, connections open).
	logf("%s: %d devices enrolled; warm-up session each", name, c.devices)
	if err := forDevices(ctx, fleet, c.concurrency, 0, func(ctx context.Context, d *sim.Device, _ int) error {
		_, err := fleet.Session(ctx, d)
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("warm-up: %w", err)
	}
	fleet.ResetStats()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	idle := ms.HeapInuse
	peak := atomic.Uint64{}
	sampleStop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-sampleStop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	logf("%s: measuring for %s", name, c.duration)
	stopProf := c.profile(ph.Name)
	el, err := timedRounds(ctx, c.duration, func(ctx context.Context) error { return queueAll(ctx, ids) },
		func(ctx context.Context) error {
			return forDevices(ctx, fleet, c.concurrency, 0, func(ctx context.Context, d *sim.Device, _ int) error {
				_, _ = fleet.Session(ctx, d) // failures are counted by reason
				return nil
			})
		})
	stopProf()
	close(sampleStop)
	<-sampled
	if err != nil {
		return nil, nil, err
	}
	sn := fleet.Stats().Snapshot()
	ph.Sessions, ph.RoundTrips, ph.Seconds = sn.Sessions, sn.RoundTrips, el.Seconds()
	ph.SessionsPS, ph.RoundTripPS = float64(sn.OK)/el.Seconds(), float64(sn.RoundTrips)/el.Seconds()
	ph.P50ms, ph.P99ms, ph.Errors = sn.P50ms, sn.P99ms, sn.Errors
	if p := peak.Load(); p > idle {
		ph.MemPerSessK = float64(p-idle) / float64(c.concurrency) / 1024
	}
	done, err := store.CountJobs(ctx, storage.JobDone)
	if err == nil {
		ph.JobsDone = done
	}
	logf("%s: %d sessions, %d jobs done in the store", ph.Name, sn.Sessions, done)

	// The same load with scripted devices, whose cost is about that of the
	// bare phase's replay: this is the line that measures the server.
	var scripted []*sim.ScriptedDevice
	for _, d := range fleet.Devices() {
		en := fleet.Enrolment(d)
		sd, err := sim.NewScriptedDevice(sim.ScriptedOptions{ServerURL: rs.URL + "/dm", DeviceID: en.DeviceID,
			Username: en.Username, Password: en.Password, Auth: en.Auth, Encoding: enc,
			Transport: &plainTransport{hc: hc}, MaxMsgSize: 16 << 10})
		if err != nil {
			return nil, nil, err
		}
		scripted = append(scripted, sd)
	}
	sph, captured, err := benchScripted(ctx, c, name+"/scripted", scripted, func(ctx context.Context) error { return queueAll(ctx, ids) },
		func(ctx context.Context) error { return queueAll(ctx, ids[:1]) }, capture, hc, logf)
	if err != nil {
		return nil, nil, err
	}
	return []benchPhase{sph, ph}, captured, nil
}

// plainTransport posts DM messages with a plain http.Client, as the bare
// phase does (no retries, no RespURI bookkeeping: the scripted device does
// that).
type plainTransport struct{ hc *http.Client }

func (t *plainTransport) RoundTrip(ctx context.Context, r *client.Request) (*client.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	if r.HMAC != "" {
		req.Header.Set("x-syncml-hmac", r.HMAC)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return &client.Response{ContentType: resp.Header.Get("Content-Type"), HMAC: resp.Header.Get("x-syncml-hmac"), Body: body}, nil
}

// recordingTransport keeps the exchanges of one session for the bare phase.
type recordingTransport struct {
	next client.Transport
	ex   []exchange
}

func (t *recordingTransport) RoundTrip(ctx context.Context, r *client.Request) (*client.Response, error) {
	resp, err := t.next.RoundTrip(ctx, r)
	if err == nil {
		t.ex = append(t.ex, exchange{reqType: r.ContentType, respType: resp.ContentType,
			req: bytes.Clone(r.Body), resp: bytes.Clone(resp.Body)})
	}
	return resp, err
}

// benchScripted measures full management sessions run by scripted devices
// (sim.ScriptedDevice) for the configured duration, after one warm-up
// session each (the first one answers an MD5 challenge). With capture it
// first records one session's messages for the bare phase.
func benchScripted(ctx context.Context, c benchConfig, name string, devs []*sim.ScriptedDevice,
	queueAll, queueFirst func(context.Context) error, capture bool, hc *http.Client, logf func(string, ...any)) (benchPhase, []exchange, error) {
	ph := benchPhase{Name: name, Errors: map[string]uint64{}}
	var seq atomic.Int64
	sid := func() string { return strconv.FormatInt(seq.Add(1), 16) }
	logf("%s: warm-up session each", name)
	if err := forEach(ctx, len(devs), c.concurrency, 0, func(ctx context.Context, i, _ int) error {
		_, err := devs[i].Session(ctx, sid())
		return err
	}); err != nil {
		return ph, nil, fmt.Errorf("warm-up: %w", err)
	}
	var captured []exchange
	if capture {
		d := devs[0]
		rt := &recordingTransport{next: &plainTransport{hc: hc}}
		if err := queueFirst(ctx); err != nil {
			return ph, nil, err
		}
		d.SetTransport(rt)
		_, err := d.Session(ctx, sid())
		d.SetTransport(rt.next)
		if err != nil {
			return ph, nil, fmt.Errorf("capturing a session: %w", err)
		}
		captured = rt.ex
	}
	stats := sim.NewStats()
	var sessions, trips, failed atomic.Uint64
	logf("%s: measuring for %s", name, c.duration)
	stopProf := c.profile(name)
	el, err := timedRounds(ctx, c.duration, queueAll, func(ctx context.Context) error {
		return forEach(ctx, len(devs), c.concurrency, 0, func(ctx context.Context, i, _ int) error {
			t0 := time.Now()
			res, err := devs[i].Session(ctx, sid())
			trips.Add(uint64(res.RoundTrips))
			if err != nil || res.Commands != 2 {
				failed.Add(1)
				return nil
			}
			stats.Latency.Record(time.Since(t0))
			sessions.Add(1)
			return nil
		})
	})
	stopProf()
	if err != nil {
		return ph, nil, err
	}
	ph.Sessions, ph.RoundTrips, ph.Seconds = sessions.Load()+failed.Load(), trips.Load(), el.Seconds()
	ph.SessionsPS, ph.RoundTripPS = float64(sessions.Load())/el.Seconds(), float64(trips.Load())/el.Seconds()
	sn := stats.Snapshot()
	ph.P50ms, ph.P99ms = sn.P50ms, sn.P99ms
	if n := failed.Load(); n > 0 {
		ph.Errors["session"] = n
	}
	logf("%s: %d sessions", name, ph.Sessions)
	return ph, captured, nil
}

// timedRounds repeats rounds until their timed parts add up to at least d
// (and at least one ran): queue (untimed) gives every device its jobs, then
// run (timed) gives every device one session. It returns the timed total.
func timedRounds(ctx context.Context, d time.Duration, queue, run func(context.Context) error) (time.Duration, error) {
	var total time.Duration
	for total < d {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if err := queue(ctx); err != nil {
			return total, err
		}
		start := time.Now()
		if err := run(ctx); err != nil {
			return total, err
		}
		total += time.Since(start)
	}
	return total, nil
}

// benchSchema creates a schema of its own for one PostgreSQL phase and
// returns the DSN that uses it, and the function that drops it. Each run then
// starts from empty tables: what an earlier run deleted (dead rows waiting
// for autovacuum) cannot slow this one down, and nothing is left behind.
func benchSchema(ctx context.Context, dsn string) (string, func(), error) {
	scoped, drop, err := postgres.TempSchema(ctx, dsn, "omadm_bench")
	if err != nil {
		return "", nil, fmt.Errorf("--db: a schema for the benchmark (the role needs CREATE on the database): %w", err)
	}
	return scoped, func() { _ = drop() }, nil
}

// forDevices runs fn for the fleet's devices round robin (see forEach).
func forDevices(ctx context.Context, f *sim.Fleet, workers, rounds int, fn func(context.Context, *sim.Device, int) error) error {
	devs := f.Devices()
	return forEach(ctx, len(devs), workers, rounds, func(ctx context.Context, i, n int) error { return fn(ctx, devs[i], n) })
}

// forEach runs fn for device indexes 0…count-1 round robin with workers
// goroutines (n is the running session number): rounds < 0 repeats until
// ctx ends, otherwise every device runs once per round for rounds rounds
// (0 = exactly once each).
func forEach(ctx context.Context, count, workers, rounds int, fn func(ctx context.Context, i, n int) error) error {
	total := int64(count)
	if rounds > 0 {
		total *= int64(rounds)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				if rounds >= 0 && n >= total {
					return
				}
				if err := fn(ctx, int(n%int64(count)), int(n)); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// benchBare serves the captured answers from a bare net/http handler and
// replays the captured requests with the same concurrency and client.
func benchBare(ctx context.Context, c benchConfig, ex []exchange) (benchPhase, error) {
	ph := benchPhase{Name: "bare net/http", Errors: map[string]uint64{}}
	if len(ex) == 0 {
		return ph, errors.New("no captured session")
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.Header.Get("X-Bench-Step"))
		if err != nil || i < 0 || i >= len(ex) {
			http.Error(w, "bad step", http.StatusBadRequest)
			return
		}
		if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 4<<20)); err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", ex[i].respType)
		w.Header().Set("Cache-Control", "private")
		_, _ = w.Write(ex[i].resp)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ph, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/dm"
	hc := simHTTPClient(c.concurrency)
	stats := sim.NewStats()
	var sessions, trips, failed atomic.Uint64
	one := func(ctx context.Context) error {
		for i, e := range ex {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(e.req))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", e.reqType)
			req.Header.Set("X-Bench-Step", strconv.Itoa(i))
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			trips.Add(1)
		}
		return nil
	}
	mctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	defer c.profile(ph.Name)()
	start := time.Now()
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mctx.Err() == nil {
				t0 := time.Now()
				if err := one(mctx); err != nil {
					if mctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				stats.Latency.Record(time.Since(t0))
				sessions.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	ph.Sessions, ph.RoundTrips, ph.Seconds = sessions.Load(), trips.Load(), el.Seconds()
	ph.SessionsPS, ph.RoundTripPS = float64(ph.Sessions)/el.Seconds(), float64(ph.RoundTrips)/el.Seconds()
	sn := stats.Snapshot()
	ph.P50ms, ph.P99ms = sn.P50ms, sn.P99ms
	if n := failed.Load(); n > 0 {
		ph.Errors["http"] = n
	}
	return ph, nil
}
