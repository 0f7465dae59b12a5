package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// httpWorkers is how many sessions run at the same time in the HTTP
// benchmarks (closed loop: a worker starts the next session when one ends).
const httpWorkers = 8

// httpDevices is how many devices the server phase cycles through: in each
// round every device gets its Get and Replace queued (untimed: queueing is
// the operator's side, not part of a session), then one session (timed),
// as `omadm bench` does.
const httpDevices = 256

// BenchmarkHTTPSessions_* measure full management sessions over real HTTP on
// 127.0.0.1 (MD5 authentication, one Get, one Replace, Status and Results
// stored: two round trips). The durable benchmarks (_SQLite, _Postgres) run,
// in the same run and over the same session shape, three phases:
//
//   - a bare net/http handler answering the same number of round trips with
//     the same request and reply bytes (bare-sessions/s, ratio_vs_bare);
//   - the engine on memstore, where storing costs next to nothing
//     (mem-sessions/s): the yardstick for the durable store;
//   - the engine on the durable store (sessions/s).
//
// The memory and durable phases alternate in two halves each (memory,
// durable, memory, durable) so that a change of load on a shared machine
// touches both. ratio_vs_memory = durable sessions/s ÷ memstore sessions/s
// is the figure the storage work is measured by; CPU per session of each
// phase (this process: devices, HTTP and server; a PostgreSQL server's own
// CPU is not included) is steadier than the rates on a loaded machine.
//
// Sub-benchmarks pick the device driver of the server phases: "scripted"
// (sim.ScriptedDevice, whose cost is close to the bare phase's replay, so
// the ratio measures the server) and "codec" (every device message built
// and every reply decoded with the syncml codec, as a device engine does).
func BenchmarkHTTPSessions_SQLite(b *testing.B) {
	for _, driver := range []string{"scripted", "codec"} {
		b.Run(driver, func(b *testing.B) { benchHTTP(b, openSQLite(b), driver) })
	}
}

// BenchmarkHTTPSessions_Postgres needs OMADM_TEST_POSTGRES (scripts/pg-throwaway.sh;
// `scripts/pg-throwaway.sh durable` for fsync and synchronous_commit on).
func BenchmarkHTTPSessions_Postgres(b *testing.B) {
	for _, driver := range []string{"scripted", "codec"} {
		b.Run(driver, func(b *testing.B) { benchHTTP(b, openPostgres(b), driver) })
	}
}

func openPostgres(tb testing.TB) storage.Store {
	tb.Helper()
	dsn := os.Getenv("OMADM_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("OMADM_TEST_POSTGRES is not set (scripts/pg-throwaway.sh starts a server)")
	}
	ctx := context.Background()
	scoped, drop, err := postgres.TempSchema(ctx, dsn, "omadm_bench")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = drop() })
	key, _, err := secret.NewKey()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := postgres.OpenWith(ctx, scoped, &postgres.Options{SecretKey: key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// serve runs h on 127.0.0.1:0 until the benchmark ends.
func serve(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// exchangeLog is one session's wire bytes, replayed by the bare handler.
type exchangeLog struct {
	ct         string
	req, reply [2][]byte
}

// httpTransport is the device side of the benchmarks: the same http.Client
// the bare phase uses, so both phases pay the same for HTTP.
type httpTransport struct {
	c   *http.Client
	rec *exchangeLog // when set, the exchanges are recorded
	n   int
}

func (t *httpTransport) RoundTrip(ctx context.Context, r *client.Request) (*client.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	if r.HMAC != "" {
		req.Header.Set(auth.HeaderHMAC, r.HMAC)
	}
	resp, err := t.c.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, out)
	}
	if t.rec != nil && t.n < 2 {
		t.rec.ct = r.ContentType
		t.rec.req[t.n], t.rec.reply[t.n] = bytes.Clone(r.Body), out
		t.n++
	}
	return &client.Response{ContentType: resp.Header.Get("Content-Type"), Body: out}, nil
}

// httpPhase is one engine served over HTTP with its own devices: the
// server side of a phase of benchHTTP.
type httpPhase struct {
	store    storage.Store
	driver   string
	hc       *http.Client
	base     string
	codecs   []*device
	scripted []*sim.ScriptedDevice
	rounds   int // rounds run so far: session IDs go on from there

	sessions int
	timed    time.Duration
	lat      []time.Duration
	cpu      time.Duration // process CPU while the phase ran, queueing included
	dbCPU    time.Duration // the PostgreSQL server's CPU meanwhile (see dbServerCPU)
	dbOK     bool
}

// newHTTPPhase starts an engine on store and creates its devices. With rec
// set it also runs one recorded session of a device of its own, whose bytes
// the bare handler replays.
func newHTTPPhase(b *testing.B, store storage.Store, driver string, hc *http.Client, rec *exchangeLog) *httpPhase {
	ctx := context.Background()
	h := newHarness(b, store)
	h.e.Handle(ctx, nil) // warm the engine's lazy paths
	p := &httpPhase{store: store, driver: driver, hc: hc, base: serve(b, dmhttp.NewHandler(h.e, nil)),
		codecs: make([]*device, httpDevices), scripted: make([]*sim.ScriptedDevice, httpDevices)}
	prefix := fmt.Sprintf("IMEI:%s%d", driver, time.Now().UnixNano()%1e6)
	newDev := func(id string, tr *httpTransport) *sim.ScriptedDevice {
		if err := store.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "md5", Username: devUser, Password: devPass,
			ServerPassword: srvPass, ServerNonce: []byte("first-nonce"), ClientNonce: []byte("client-nonce")}); err != nil {
			b.Fatal(err)
		}
		sd, err := sim.NewScriptedDevice(sim.ScriptedOptions{ServerURL: p.base + "/dm", DeviceID: id, Username: devUser,
			Password: devPass, Nonce: []byte("first-nonce"), Transport: tr, GetValue: "1.0"})
		if err != nil {
			b.Fatal(err)
		}
		return sd
	}
	for i := range httpDevices {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		p.scripted[i] = newDev(id, &httpTransport{c: hc})
		d := newDevice(h.e, "md5")
		d.id = id
		p.codecs[i] = d
	}
	if rec != nil {
		recID := prefix + "-rec"
		rd := newDev(recID, &httpTransport{c: hc, rec: rec})
		if err := queueBenchJobs(ctx, store, recID); err != nil {
			b.Fatal(err)
		}
		if _, err := rd.Session(ctx, "1"); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// run runs n more sessions (in rounds, see runRounds) and adds them to the
// phase's totals.
func (p *httpPhase) run(n int) error {
	ctx := context.Background()
	cpu := processCPU()
	db, dbOK := dbServerCPU()
	first := p.rounds
	timed, lat, rounds, err := runRounds(n, func(dev int) error {
		return queueBenchJobs(ctx, p.store, p.scripted[dev].ID())
	}, func(dev, round int) error {
		round += first
		if p.driver == "codec" {
			return httpSession(ctx, p.hc, p.base, p.codecs[dev], round+1)
		}
		res, err := p.scripted[dev].Session(ctx, strconv.FormatInt(int64(round+1), 16))
		if err == nil && res.Commands != 2 {
			err = fmt.Errorf("session answered %d commands, want 2", res.Commands)
		}
		return err
	})
	p.cpu += processCPU() - cpu
	if db2, ok := dbServerCPU(); ok && dbOK {
		p.dbCPU += db2 - db
		p.dbOK = true
	}
	p.rounds += rounds
	p.sessions += len(lat)
	p.timed += timed
	p.lat = append(p.lat, lat...)
	return err
}

// result is the phase's sessions per second, p99 latency and CPU per session.
func (p *httpPhase) result() (rate float64, p99 time.Duration, cpuPerSession float64, err error) {
	rate, p99, err = rateAndP99(p.lat, p.timed)
	if p.sessions > 0 {
		cpuPerSession = float64(p.cpu.Microseconds()) / float64(p.sessions)
	}
	return rate, p99, cpuPerSession, err
}

// benchHTTP runs the bare phase, then the memstore and the durable server
// phases alternated in two halves each (only the durable phase when store
// is a memstore), with the given device driver: "scripted"
// (sim.ScriptedDevice: message templates and a byte scanner, about the cost
// of the bare phase's replay) or "codec" (a scripted client that builds and
// decodes every message with the syncml codec, as a real device engine
// does).
func benchHTTP(b *testing.B, store storage.Store, driver string) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpWorkers, MaxConnsPerHost: httpWorkers}}
	b.Cleanup(hc.CloseIdleConnections)
	var rec exchangeLog
	dur := newHTTPPhase(b, store, driver, hc, &rec)
	var mem *httpPhase
	if _, ok := store.(*memstore.Store); !ok {
		mem = newHTTPPhase(b, memstore.New(), driver, hc, nil)
	}

	bare := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		i := 0
		if r.URL.RawQuery == "m=2" {
			i = 1
		}
		w.Header().Set("Content-Type", rec.ct)
		w.Write(rec.reply[i])
	}))

	b.ResetTimer()
	bareCPU := processCPU()
	bareRate, bareP99, err := runLoad(b.N, func(int) error {
		for i, q := range []string{"?m=1", "?m=2"} {
			resp, err := hc.Post(bare+"/dm"+q, rec.ct, bytes.NewReader(rec.req[i]))
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(body, rec.reply[i]) {
				return fmt.Errorf("bare reply %d differs (%v)", i, err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	bareCPU = processCPU() - bareCPU
	for half := range 2 {
		n := b.N/2 + half*(b.N%2)
		if mem != nil {
			if err := mem.run(n); err != nil {
				b.Fatal(err)
			}
		}
		if err := dur.run(n); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rate, p99, cpu, err := dur.result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(cpu, "cpu-µs/session")
	if _, ok := store.(*postgres.Store); ok && dur.dbOK {
		// The database server's CPU, for PostgreSQL started by
		// scripts/pg-throwaway.sh on this machine.
		b.ReportMetric(float64(dur.dbCPU.Microseconds())/float64(dur.sessions), "db-cpu-µs/session")
	}
	b.ReportMetric(float64(bareCPU.Microseconds())/float64(b.N), "bare-cpu-µs/session")
	b.ReportMetric(rate, "sessions/s")
	b.ReportMetric(float64(p99)/1e6, "p99-ms")
	b.ReportMetric(bareRate, "bare-sessions/s")
	b.ReportMetric(float64(bareP99)/1e6, "bare-p99-ms")
	b.ReportMetric(rate/bareRate, "ratio_vs_bare")
	if mem != nil {
		memRate, memP99, memCPU, err := mem.result()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(memCPU, "mem-cpu-µs/session")
		b.ReportMetric(memRate, "mem-sessions/s")
		b.ReportMetric(float64(memP99)/1e6, "mem-p99-ms")
		b.ReportMetric(rate/memRate, "ratio_vs_memory")
	}
}

// queueBenchJobs queues the session's Get and Replace for the device.
func queueBenchJobs(ctx context.Context, store storage.Store, id string) error {
	return storage.InBatch(ctx, store, func(s storage.Store) error {
		for _, spec := range []storage.JobSpec{
			{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}},
			{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/X", Data: "1"}}},
		} {
			if err := s.CreateJob(ctx, &storage.Job{DeviceID: id, Spec: spec}); err != nil {
				return err
			}
		}
		return nil
	})
}

// runLoad runs n sessions on httpWorkers closed-loop workers and returns
// sessions per second and the p99 session latency.
func runLoad(n int, session func(i int) error) (float64, time.Duration, error) {
	elapsed, lat, err := runWorkers(n, session)
	if err != nil {
		return 0, 0, err
	}
	return rateAndP99(lat, elapsed)
}

// runRounds runs n sessions in rounds of at most httpDevices: queue(dev)
// for every device of the round, untimed and in that order, then one
// session(dev, round) per device on httpWorkers workers, timed. It returns
// the time of the timed parts, each session's latency and how many rounds
// ran.
func runRounds(n int, queue func(dev int) error, session func(dev, round int) error) (time.Duration, []time.Duration, int, error) {
	var lat []time.Duration
	var timed time.Duration
	round := 0
	for ; n > 0; round++ {
		size := min(n, httpDevices)
		n -= size
		for dev := range size {
			if err := queue(dev); err != nil {
				return timed, lat, round, err
			}
		}
		elapsed, rl, err := runWorkers(size, func(dev int) error { return session(dev, round) })
		if err != nil {
			return timed, lat, round, err
		}
		timed += elapsed
		lat = append(lat, rl...)
	}
	return timed, lat, round, nil
}

// runWorkers calls one(i) for i in [0, n) on httpWorkers closed-loop
// workers and returns the wall time and each call's latency.
func runWorkers(n int, one func(i int) error) (time.Duration, []time.Duration, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	errs := make([]error, httpWorkers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range httpWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := one(i); err != nil {
					errs[w] = err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), lat, errors.Join(errs...)
}

// rateAndP99 turns latencies measured over elapsed into calls per second
// and the 99th percentile.
func rateAndP99(lat []time.Duration, elapsed time.Duration) (float64, time.Duration, error) {
	if len(lat) == 0 {
		return 0, 0, errors.New("no sessions ran")
	}
	slices.Sort(lat)
	return float64(len(lat)) / elapsed.Seconds(), lat[min(len(lat)-1, len(lat)*99/100)], nil
}

// httpSession runs one session of d over HTTP with the syncml codec on the
// device side, checking that the reply shapes are right.
func httpSession(ctx context.Context, c *http.Client, base string, d *device, n int) error {
	d.sessionID = fmt.Sprintf("%x", n+1)
	d.msgID = 0
	d.url = base + "/dm"
	post := func(m *syncml.Message) (*syncml.Message, error) {
		body, err := syncml.Encode(m, d.enc)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", d.enc.ContentType())
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %s: %s", resp.Status, out)
		}
		r, _, err := syncml.Decode(out, resp.Header.Get("Content-Type"), nil)
		if err != nil {
			return nil, err
		}
		if r.Header.RespURI != "" {
			d.url = r.Header.RespURI
		}
		for _, cmd := range r.Body {
			if s, ok := cmd.(*syncml.Status); ok && s.CmdRef == "0" && s.Chal != nil {
				if nonce, err := auth.ChalNonce(s.Chal); err == nil && nonce != nil {
					d.nonce = nonce
				}
			}
		}
		return r, nil
	}
	r, err := post(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if err != nil {
		return err
	}
	if got := len(commands(r)); got != 2 {
		return fmt.Errorf("package 2 has %d commands, want 2", got)
	}
	r, err = post(d.message(true, d.answer(r, nil, fwResults)...))
	if err != nil {
		return err
	}
	if !r.Final || len(commands(r)) != 0 {
		return fmt.Errorf("package 4 is not a bare Final: %v", names(commands(r)))
	}
	return nil
}

// BenchmarkHTTPSessions_Memory runs the same sessions on memstore, where
// storing costs next to nothing: the ceiling the engine and HTTP allow, and
// the yardstick for what the SQL backends' storage costs.
func BenchmarkHTTPSessions_Memory(b *testing.B) {
	for _, driver := range []string{"scripted", "codec"} {
		b.Run(driver, func(b *testing.B) { benchHTTP(b, memstore.New(), driver) })
	}
}

// BenchmarkHTTPSessions_CommitFloor runs the same sessions on memstore plus
// one durable row per DM message in SQLite or PostgreSQL (a tree-cache
// upsert of the message's device, through the store's WriteEffects and so
// its group commit, as the real messages' writes, before the reply goes
// out): what committing every message durably costs by itself,
// with nothing else stored there. Its ratio_vs_memory is the ceiling of any
// store that commits each message; the distance from it to
// HTTPSessions_SQLite / _Postgres is the rows, statements and reads of the
// real store (BENCHMARKS.md, "what the remaining gap is made of"). The
// postgres case needs OMADM_TEST_POSTGRES like BenchmarkHTTPSessions_Postgres.
func BenchmarkHTTPSessions_CommitFloor(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) storage.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		b.Run(db.name, func(b *testing.B) {
			benchHTTP(b, &commitFloor{Store: memstore.New(), durable: db.open(b)}, "scripted")
		})
	}
}

// commitFloor is memstore whose devices also exist in a durable store, to
// which each message's WriteEffects adds one row.
type commitFloor struct {
	*memstore.Store
	durable storage.Store
}

func (c *commitFloor) CreateDevice(ctx context.Context, d *storage.Device) error {
	copied := *d
	if err := c.durable.CreateDevice(ctx, &copied); err != nil {
		return err
	}
	return c.Store.CreateDevice(ctx, d)
}

// WriteEffects stores e in memory, then, for a message's effects (those
// with a session: the write-behind traces and events have none), commits
// one row.
func (c *commitFloor) WriteEffects(ctx context.Context, e *storage.Effects) error {
	if err := c.Store.WriteEffects(ctx, e); err != nil || e.Session == nil {
		return err
	}
	return storage.WriteEffects(ctx, c.durable, &storage.Effects{
		Nodes: []storage.TreeNode{{DeviceID: e.Session.DeviceID, URI: "./floor", Value: e.Session.SessionID}}})
}
