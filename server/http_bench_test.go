package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// httpWorkers is how many devices run sessions at the same time in the HTTP
// benchmarks (closed loop: each starts its next session when one ends).
const httpWorkers = 8

// BenchmarkHTTPSessions_* measure full management sessions over real HTTP on
// 127.0.0.1 (MD5 authentication, one Get, one Replace, Status and Results
// stored: two round trips) and, in the same run, a bare net/http handler
// answering the same number of round trips with the same request and reply
// bytes. Reported: sessions/s and p99 session latency of both, and their
// ratio (the target is ratio ≥ 0.33 with p99 < 50 ms).
func BenchmarkHTTPSessions_SQLite(b *testing.B) { benchHTTP(b, openSQLite(b)) }

// BenchmarkHTTPSessions_Postgres needs OMADM_TEST_POSTGRES (scripts/pg-throwaway.sh).
func BenchmarkHTTPSessions_Postgres(b *testing.B) { benchHTTP(b, openPostgres(b)) }

func openPostgres(tb testing.TB) storage.Store {
	tb.Helper()
	dsn := os.Getenv("OMADM_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("OMADM_TEST_POSTGRES is not set (scripts/pg-throwaway.sh starts a server)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	rb := make([]byte, 6)
	rand.Read(rb)
	schema := "omadm_bench_" + hex.EncodeToString(rb)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String())
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

func benchHTTP(b *testing.B, store storage.Store) {
	ctx := context.Background()
	h := newHarness(b, store)
	h.e.Handle(ctx, nil) // warm the engine's lazy paths
	base := serve(b, dmhttp.NewHandler(h.e, nil))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpWorkers, MaxConnsPerHost: httpWorkers}}
	b.Cleanup(client.CloseIdleConnections)

	devs := make([]*device, httpWorkers)
	for i := range devs {
		id := fmt.Sprintf("IMEI:bench%03d", i)
		if err := store.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "md5", Username: devUser, Password: devPass,
			ServerPassword: srvPass, ServerNonce: []byte("first-nonce"), ClientNonce: []byte("client-nonce")}); err != nil {
			b.Fatal(err)
		}
		d := newDevice(h.e, "md5")
		d.id = id
		devs[i] = d
	}
	var rec exchangeLog
	if _, err := httpSession(ctx, client, base, store, devs[0], 0, &rec); err != nil {
		b.Fatal(err)
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
	bareRate, bareP99, err := runLoad(b.N, func(worker, n int) error {
		for i, q := range []string{"?m=1", "?m=2"} {
			resp, err := client.Post(bare+"/dm"+q, rec.ct, bytes.NewReader(rec.req[i]))
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
	rate, p99, err := runLoad(b.N, func(worker, n int) error {
		_, err := httpSession(ctx, client, base, store, devs[worker], n+1, nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(rate, "sessions/s")
	b.ReportMetric(float64(p99)/1e6, "p99-ms")
	b.ReportMetric(bareRate, "bare-sessions/s")
	b.ReportMetric(float64(bareP99)/1e6, "bare-p99-ms")
	b.ReportMetric(rate/bareRate, "ratio")
}

// runLoad runs n sessions on httpWorkers closed-loop workers and returns
// sessions per second and the p99 session latency.
func runLoad(n int, session func(worker, n int) error) (float64, time.Duration, error) {
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
				if err := session(w, i); err != nil {
					errs[w] = err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	slices.Sort(lat)
	return float64(n) / elapsed.Seconds(), lat[min(n-1, n*99/100)], nil
}

// httpSession queues a Get and a Replace for d and runs one session over
// HTTP, checking that both jobs end done. rec, when set, records the bytes.
func httpSession(ctx context.Context, c *http.Client, base string, store storage.Store, d *device, n int, rec *exchangeLog) (time.Duration, error) {
	jobs := []*storage.Job{
		{DeviceID: d.id, Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}}},
		{DeviceID: d.id, Spec: storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/X", Data: "1"}}}},
	}
	if err := storage.InBatch(ctx, store, func(s storage.Store) error {
		for _, j := range jobs {
			if err := s.CreateJob(ctx, j); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	t0 := time.Now()
	d.sessionID = fmt.Sprintf("%x", n+1)
	d.msgID = 0
	d.url = base + "/dm"
	if rec != nil {
		rec.ct = d.enc.ContentType()
	}
	post := func(i int, m *syncml.Message) (*syncml.Message, error) {
		body, err := syncml.Encode(m, d.enc)
		if err != nil {
			return nil, err
		}
		resp, err := c.Post(d.url, d.enc.ContentType(), bytes.NewReader(body))
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
		if rec != nil {
			rec.req[i], rec.reply[i] = body, out
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
	r, err := post(0, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if err != nil {
		return 0, err
	}
	if got := len(commands(r)); got != 2 {
		return 0, fmt.Errorf("package 2 has %d commands, want 2", got)
	}
	r, err = post(1, d.message(true, d.answer(r, nil, fwResults)...))
	if err != nil {
		return 0, err
	}
	if !r.Final || len(commands(r)) != 0 {
		return 0, fmt.Errorf("package 4 is not a bare Final: %v", names(commands(r)))
	}
	return time.Since(t0), nil
}
