package e2e_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

const serverID = "omadm-e2e"

// backend opens stores of one kind. Two opens of the same backend in one
// test share the same database, as two server processes would.
type backend struct {
	name string
	// open returns a new handle on the test's database.
	open func(t *testing.T) storage.Store
}

func backends(t *testing.T) []backend {
	sqliteDB := map[*testing.T]string{}
	var mu sync.Mutex
	return []backend{
		{"sqlite", func(t *testing.T) storage.Store {
			mu.Lock()
			path, ok := sqliteDB[t]
			if !ok {
				path = filepath.Join(t.TempDir(), "omadm.db")
				sqliteDB[t] = path
			}
			mu.Unlock()
			st, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
		{"postgres", func(t *testing.T) storage.Store {
			dsn := os.Getenv("OMADM_TEST_POSTGRES")
			if dsn == "" {
				t.Skip("OMADM_TEST_POSTGRES is not set: PostgreSQL end-to-end tests skipped (start one with scripts/pg-throwaway.sh)")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// A fixed key: every run shares the database, and the key
			// must open what earlier runs sealed.
			st, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKey: testKey(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	}
}

// matrix runs fn for {XML, WBXML} × {SQLite, PostgreSQL}.
func matrix(t *testing.T, fn func(t *testing.T, b backend, enc syncml.Encoding)) {
	for _, b := range backends(t) {
		for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
			t.Run(b.name+"/"+enc.String(), func(t *testing.T) { fn(t, b, enc) })
		}
	}
}

// node is one server instance: an engine on a store behind the real HTTP
// handler on 127.0.0.1 port 0.
type node struct {
	store  storage.Store
	engine *server.Engine
	hs     *httptest.Server
	url    string // …/dm
}

type nodeOption func(*server.Options, *dmhttp.HandlerOptions)

func startNode(t *testing.T, st storage.Store, opts ...nodeOption) *node {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	so := server.Options{Store: st, ServerID: serverID, Logger: log,
		Senders: map[string]notification.Sender{"udp": &notification.UDPSender{}}}
	ho := dmhttp.HandlerOptions{Logger: log}
	for _, o := range opts {
		o(&so, &ho)
	}
	e, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) }) // before the store closes (cleanups run last first)
	hs := httptest.NewServer(dmhttp.NewHandler(e, &ho))
	t.Cleanup(hs.Close)
	return &node{store: st, engine: e, hs: hs, url: hs.URL + "/dm"}
}

// agent is a real device: sim builds the tree (DevInfo, DevDetail, DMAcc,
// settings) and the client engine; the transport is the real dmhttp one,
// wrapped so tests can redirect or cut messages.
type agent struct {
	*sim.Device
	route *router
}

// router sends each message to the URL route returns (default: unchanged)
// and lets a test act around each exchange.
type router struct {
	mu     sync.Mutex
	tp     client.Transport
	n      int                                      // messages posted
	target func(n int, url string) string           // rewrites the URL of message n (1-based)
	seen   func(n int, req *client.Request)         // sees message n before it is sent
	after  func(n int, resp *client.Response) error // runs after message n was answered
}

func (r *router) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	r.mu.Lock()
	r.n++
	n, target, after, seen := r.n, r.target, r.after, r.seen
	r.mu.Unlock()
	if seen != nil {
		seen(n, req)
	}
	cp := *req
	if target != nil {
		cp.URL = target(n, req.URL)
	}
	resp, err := r.tp.RoundTrip(ctx, &cp)
	if err == nil && after != nil {
		err = after(n, resp)
	}
	return resp, err
}

type agentOption func(*sim.DeviceOptions)

func withAuth(a string) agentOption              { return func(o *sim.DeviceOptions) { o.Auth = a } }
func withMaxMsgSize(n int) agentOption           { return func(o *sim.DeviceOptions) { o.MaxMsgSize = n } }
func withRetry(r client.RetryPolicy) agentOption { return func(o *sim.DeviceOptions) { o.Retry = r } }

// newAgent builds a device with a fresh identity and enrols it in st.
func newAgent(t *testing.T, st storage.Store, serverURL string, enc syncml.Encoding, opts ...agentOption) *agent {
	t.Helper()
	id := sim.NewIdentity(rand.IntN(1000000))
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := &router{tp: tp}
	o := sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("e2e", id.DevID), ServerURL: serverURL,
		ServerID: serverID, Auth: sim.AuthMD5, Encoding: enc, Transport: r,
		Retry: client.RetryPolicy{Attempts: 2, Backoff: 10 * time.Millisecond, Timeout: 20 * time.Second}}
	for _, f := range opts {
		f(&o)
	}
	d, err := sim.NewDevice(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := d.Credentials()
	dev := &storage.Device{ID: d.ID(), AuthScheme: d.Auth(), Username: c.Username, Password: c.Password, ServerPassword: c.ServerPassword}
	if err := st.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DeleteDevice(context.Background(), d.ID()) })
	return &agent{Device: d, route: r}
}

// queue stores a job for the agent and returns its id.
func queue(t *testing.T, st storage.Store, devID string, spec storage.JobSpec) int64 {
	t.Helper()
	j := &storage.Job{DeviceID: devID, Spec: spec}
	if err := st.CreateJob(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func job(t *testing.T, st storage.Store, id int64) *storage.Job {
	t.Helper()
	j, err := st.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// session runs one client-initiated session and fails the test if it does not complete.
func (a *agent) session(t *testing.T) *client.SessionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := a.Run(ctx)
	if err != nil {
		t.Fatalf("session of %s: %v (%s)", a.ID(), err, res)
	}
	if res.State != client.StateCompleted {
		t.Fatalf("session state %s", res.State)
	}
	return res
}

func item(uri string) []storage.JobItem { return []storage.JobItem{{URI: uri}} }

// post sends raw bytes to url and returns the HTTP status and body.
func post(t *testing.T, url, contentType string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// logBuffer collects a node's log lines so tests can assert the line a
// rejection left. Safe for the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.WriteString(string(p))
}

// mark is the current end of the log; since(mark) returns what came after.
func (l *logBuffer) mark() int { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Len() }

func (l *logBuffer) since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()[mark:]
}

// withLogs sends the engine's and the HTTP handler's log lines (debug and
// up) to w instead of discarding them.
func withLogs(w io.Writer) nodeOption {
	return func(so *server.Options, ho *dmhttp.HandlerOptions) {
		l := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
		so.Logger, ho.Logger = l, l
	}
}

// testKey is the fixed secret key of the end-to-end databases.
func testKey(t *testing.T) *secret.Key {
	k, err := secret.FromBytes(bytes.Repeat([]byte{0x5e}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
