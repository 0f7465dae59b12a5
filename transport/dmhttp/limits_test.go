package dmhttp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// startLimited serves h with the package's own server and listener (what
// `omadm serve` uses) on 127.0.0.1 and returns the address.
func startLimited(t *testing.T, h http.Handler, l dmhttp.ServerLimits) string {
	t.Helper()
	ln, err := dmhttp.Listen("127.0.0.1:0", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := dmhttp.NewServer(h, l, quiet())
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// readStarted wraps a handler so each request signals once its handler
// starts reading the body: by then any buffer sized from Content-Length
// would already be allocated.
func readStarted(h http.Handler, started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &signalReader{ReadCloser: r.Body, c: started}
		h.ServeHTTP(w, r)
	})
}

type signalReader struct {
	io.ReadCloser
	c    chan<- struct{}
	once sync.Once
}

func (s *signalReader) Read(p []byte) (int, error) {
	s.once.Do(func() { s.c <- struct{}{} })
	return s.ReadCloser.Read(p)
}

// heapInUse is the Go heap and stacks in use after a collection. The server
// runs in this process and every byte a held connection pins (the old
// Content-Length preallocation included) is Go heap or goroutine stack, so
// this measures exactly the server's share; the process RSS would add the
// test binary and pages the runtime has freed but not yet returned.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServer_HeldConnectionsAnnouncingLargeBodiesPinLittleMemory(t *testing.T) {
	const conns, announced = 100, 4 << 20
	started := make(chan struct{}, conns)
	h := dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{MaxBodySize: announced, Logger: quiet()})
	addr := startLimited(t, readStarted(h, started), dmhttp.ServerLimits{})
	before := heapInUse()
	for range conns {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", syncml.ContentTypeXML, announced)
	}
	bound := time.After(30 * time.Second)
	for i := range conns {
		select {
		case <-started:
		case <-bound:
			t.Fatalf("only %d of %d requests reached their handler", i, conns)
		}
	}
	after := heapInUse()
	grew := int64(after) - int64(before)
	t.Logf("%d connections holding %d-byte announcements: heap+stacks in use grew by %.1f MB", conns, announced, float64(grew)/1e6)
	if grew >= 100<<20 {
		t.Fatalf("heap grew by %d bytes (limit 100 MB): bodies are preallocated from Content-Length", grew)
	}
}

func TestServer_AnnouncedOversizedBodyIs413BeforeItIsSent(t *testing.T) {
	addr := startLimited(t, dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{MaxBodySize: 1024, Logger: quiet()}), dmhttp.ServerLimits{})
	c := dial(t, addr)
	// Only the headers are sent: the answer must not wait for the body.
	fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", syncml.ContentTypeXML, 1<<30)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Fatalf("status %d, close %v; want 413 and the connection closed", resp.StatusCode, resp.Close)
	}
}

func TestServer_ChunkedBodyBeyondTheLimitIs413(t *testing.T) {
	addr := startLimited(t, dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{MaxBodySize: 1024, Logger: quiet()}), dmhttp.ServerLimits{})
	pr, pw := io.Pipe()
	go func() {
		// Writes until the server stops reading; the pipe then fails.
		for {
			if _, err := pw.Write(make([]byte, 512)); err != nil {
				return
			}
		}
	}()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/dm", pr)
	req.Header.Set("Content-Type", syncml.ContentTypeXML)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

// waitClosed reads c until the server closes it; the deadline only bounds a hang.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept the slow connection open")
	}
}

func TestServer_SlowClientsAreCutByTimeouts(t *testing.T) {
	tests := []struct {
		name   string
		limits dmhttp.ServerLimits
		send   string
	}{
		{"headers never finish", dmhttp.ServerLimits{ReadHeaderTimeout: 50 * time.Millisecond},
			"POST /dm HTTP/1.1\r\nHost: dm\r\n"},
		{"body never finishes", dmhttp.ServerLimits{ReadTimeout: 50 * time.Millisecond},
			"POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: " + syncml.ContentTypeXML + "\r\nContent-Length: 100\r\n\r\n<SyncML>"},
		{"idle kept-alive connection", dmhttp.ServerLimits{IdleTimeout: 50 * time.Millisecond},
			"GET /dm HTTP/1.1\r\nHost: dm\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startLimited(t, dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{Logger: quiet()}), tc.limits)
			c := dial(t, addr)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, c)
		})
	}
}

func TestServer_ConnectionsBeyondMaxConnsWaitForOneToClose(t *testing.T) {
	started := make(chan struct{}, 2)
	h := dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{Logger: quiet()})
	addr := startLimited(t, readStarted(h, started), dmhttp.ServerLimits{MaxConns: 2})
	var held []net.Conn
	for range 2 {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\n", syncml.ContentTypeXML)
		held = append(held, c)
		<-started
	}
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/dm", strings.NewReader("<SyncML/>"))
		req.Header.Set("Content-Type", syncml.ContentTypeXML)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		done <- err
	}()
	held[0].Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting connection was not served after a slot freed")
	}
}

// chanListener accepts the connections sent on its channel.
type chanListener struct {
	ch     chan net.Conn
	closed chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { close(l.closed); return nil }
func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

func TestLimitListener_HoldsAcceptUntilAConnectionCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := &chanListener{ch: make(chan net.Conn, 3), closed: make(chan struct{})}
		for range 3 {
			a, b := net.Pipe()
			defer b.Close()
			inner.ch <- a
		}
		ln := dmhttp.LimitListener(inner, 2)
		c1, _ := ln.Accept()
		c2, _ := ln.Accept()
		defer c2.Close()
		got := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				got <- c
			}
		}()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a third connection was accepted while two were open")
		default:
		}
		c1.Close()
		synctest.Wait()
		select {
		case c := <-got:
			c.Close()
		default:
			t.Fatal("no connection accepted after one closed")
		}
	})
}

var _ dmhttp.MessageLimiter = (*server.Engine)(nil)

func TestHandler_BodyLimitIsTheEngineMessageLimit(t *testing.T) {
	e, err := server.New(server.Options{Store: memstore.New(), MaxMsgSize: 1024, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	addr := startLimited(t, dmhttp.NewHandler(e, &dmhttp.HandlerOptions{Logger: quiet()}), dmhttp.ServerLimits{})
	c := dial(t, addr)
	fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: 1025\r\n\r\n", syncml.ContentTypeXML)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d for a body one byte over the engine's MaxMsgSize, want 413", resp.StatusCode)
	}
}

// A peer that holds every connection slot with connections doing nothing
// (kept alive after a request, or opened without sending one) does not lock
// others out: a new connection takes the place of the one idle the longest.
func TestServer_IdleConnectionsGiveUpTheirSlotsToNewOnes(t *testing.T) {
	h := dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{Logger: quiet()})
	const slots = 3
	// Timeouts far beyond the test: only eviction can free a slot.
	addr := startLimited(t, h, dmhttp.ServerLimits{MaxConns: slots, ReadHeaderTimeout: time.Hour, IdleTimeout: time.Hour})
	for i := range slots {
		c := dial(t, addr)
		if i%2 == 1 {
			continue // opened, nothing sent
		}
		fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: 9\r\n\r\n<SyncML/>", syncml.ContentTypeXML)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // the connection stays open, kept alive
	}
	// More new clients than slots, one after the other, each on a new
	// connection, each bounded by a timeout that only cuts a hang.
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	for i := range 2 * slots {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/dm", strings.NewReader("<SyncML/>"))
		req.Header.Set("Content-Type", syncml.ContentTypeXML)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("client %d while idle connections held every slot: %v", i, err)
		}
		resp.Body.Close()
	}
}

// One address cannot take every slot: beyond MaxConnsPerAddr its new
// connections are closed at once (here every client is 127.0.0.1), and a
// slot it gives back serves it again.
func TestServer_OneAddressHoldsAtMostItsShareOfConnections(t *testing.T) {
	started := make(chan struct{}, 2)
	h := dmhttp.NewHandler(&echoEngine{}, &dmhttp.HandlerOptions{Logger: quiet()})
	l := dmhttp.ServerLimits{MaxConns: 10, MaxConnsPerAddr: 2}
	ln, err := dmhttp.Listen("127.0.0.1:0", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := dmhttp.NewServer(readStarted(h, started), l, quiet())
	closed := make(chan struct{}, 10)
	track := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		track(c, s) // the server has closed c (and freed its slot) before StateClosed
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	var held []net.Conn
	for range 2 {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /dm HTTP/1.1\r\nHost: dm\r\nContent-Type: %s\r\nContent-Length: 100\r\n\r\n", syncml.ContentTypeXML)
		held = append(held, c)
		<-started // busy in the handler: not evictable
	}
	extra := dial(t, addr)
	_ = extra.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
	if n, err := extra.Read(make([]byte, 1)); err == nil {
		t.Fatalf("a third connection from the address was served (%d bytes)", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a third connection from the address was held open, not closed")
	}
	held[0].Close()
	<-closed
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/dm", strings.NewReader("<SyncML/>"))
	req.Header.Set("Content-Type", syncml.ContentTypeXML)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("the address was not served again after one of its connections closed: %v", err)
	}
	resp.Body.Close()
}
