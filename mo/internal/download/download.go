// Package download fetches a package over HTTP or HTTPS for the management
// objects that download one (FUMO's PkgURL, and the like), with the bounds
// every such download needs: connecting, waiting for the response header,
// a body that stalls or trickles, and the size. A failure says its Kind, so
// that each object maps it to its own result code.
package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultStallTimeout   = 60 * time.Second
	DefaultStallBytes     = 4096
)

// Options bound a download; zero values take the defaults.
type Options struct {
	// Client makes the request (http.DefaultClient when nil). Its transport,
	// when an *http.Transport, is copied and given the connect and header
	// bounds it leaves unset or sets longer.
	Client *http.Client
	// ConnectTimeout bounds connecting, TLS handshake included
	// (DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// StallTimeout and StallBytes detect a server that stalls or trickles
	// (DefaultStallTimeout, DefaultStallBytes): the download fails with
	// KindTimeout when no response header arrives within StallTimeout of
	// sending the request, or when fewer than StallBytes of the body arrive
	// in any StallTimeout period.
	StallTimeout time.Duration
	StallBytes   int64
	// MaxSize bounds the body (no bound when 0); a larger one fails with
	// KindTooLarge.
	MaxSize int64
}

// Kind classifies a failed download.
type Kind int

// Kinds of failure.
const (
	KindNetwork     Kind = iota // the connection broke, or the body was cut short
	KindTimeout                 // connect, response header, stall or trickle, or the caller's deadline
	KindBadURL                  // not an http(s) URL, or the server has nothing there (4xx)
	KindAuth                    // the server wants authentication (401, 403, 407)
	KindUnavailable             // no connection could be made
	KindServer                  // the server failed (5xx)
	KindTooLarge                // larger than Options.MaxSize
	KindStorage                 // writing the package failed
	KindRange                   // the server refused the Range of a resumed download (416)
)

// Error is a failed download.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the Kind of err: an *Error's own, KindTimeout for
// deadlines and timeouts, else KindNetwork.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) && te.Timeout() {
		return KindTimeout
	}
	return KindNetwork
}

// Getter downloads with one set of Options.
type Getter struct {
	o Options
}

// New returns a Getter for o.
func New(o Options) *Getter {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.StallBytes <= 0 {
		o.StallBytes = DefaultStallBytes
	}
	o.Client = withTimeouts(o.Client, o.ConnectTimeout, o.StallTimeout)
	return &Getter{o: o}
}

// withTimeouts returns c (http.DefaultClient when nil) with its transport
// copied and given the connect bound (dial and TLS handshake) and the
// response header bound. A transport that is not an *http.Transport is
// kept as it is: Get's header watchdog still bounds it.
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
			err = &Error{KindTimeout, fmt.Errorf("connecting to %s: no connection within %s: %w", addr, connect, err)}
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
	if cc.CheckRedirect == nil {
		cc.CheckRedirect = checkRedirect
	}
	return &cc
}

// maxRedirects bounds the redirects a download follows (as net/http does).
const maxRedirects = 10

// checkRedirect refuses a redirect that leaves TLS: a package asked for
// over https must not arrive in clear text, where anyone on the path could
// replace it.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fail(KindBadURL, "GET %s: stopped after %d redirects", via[0].URL.Redacted(), len(via))
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fail(KindBadURL, "GET %s: refused redirect to %s: it leaves TLS", via[0].URL.Redacted(), req.URL.Redacted())
	}
	return nil
}

// Get fetches url into w. Every error is an *Error.
func (g *Getter) Get(ctx context.Context, url string, w io.Writer) error {
	_, err := g.GetFrom(ctx, url, 0, w)
	return err
}

// Response describes what GetFrom received.
type Response struct {
	// ContentType is the response's media type, without parameters.
	ContentType string
	// Resumed is set when the server answered the Range request with the
	// rest of the body (206): w got only the bytes after offset. When it is
	// false, w got the whole body and the caller must discard what it held.
	Resumed bool
	// Total is the whole body's size when the server said it (-1 unknown).
	Total int64
}

// GetFrom fetches url into w like Get. An offset above 0 asks for the
// bytes from offset on (RFC 9110 §14.2 Range): a server that supports it
// answers 206 and Resumed is set; one that ignores Range answers 200 and w
// gets the whole body. MaxSize bounds the whole body, offset included.
// Every error is an *Error.
func (g *Getter) GetFrom(ctx context.Context, url string, offset int64, w io.Writer) (Response, error) {
	res := Response{Total: -1}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return res, fail(KindBadURL, "unsupported URL %q (want http or https)", url)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return res, &Error{KindBadURL, err}
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	// Backstop for transports withTimeouts could not configure: connect
	// and response header within ConnectTimeout+StallTimeout.
	bound := g.o.ConnectTimeout + g.o.StallTimeout
	header := time.AfterFunc(bound, func() {
		cancel(fail(KindTimeout, "GET %s: no response within %s", url, bound))
	})
	resp, err := g.o.Client.Do(req)
	header.Stop()
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
			return res, e
		case errors.As(context.Cause(ctx), &e):
			return res, e
		case KindOf(err) == KindTimeout:
			return res, &Error{KindTimeout, err}
		}
		return res, &Error{KindUnavailable, err}
	}
	defer resp.Body.Close()
	res.ContentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	limit := g.o.MaxSize
	switch {
	case resp.StatusCode == http.StatusOK:
		res.Total = resp.ContentLength
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			return res, fail(KindNetwork, "GET %s: asked for bytes from %d, got Content-Range %q", url, offset, resp.Header.Get("Content-Range"))
		}
		res.Resumed, res.Total = true, total
		if limit > 0 {
			limit -= offset
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		// What we hold is already the whole body (or more): the caller
		// starts over without a Range.
		return res, fail(KindRange, "GET %s: %s for bytes from %d", url, resp.Status, offset)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusProxyAuthRequired:
		return res, fail(KindAuth, "GET %s: %s", url, resp.Status)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusGatewayTimeout:
		return res, fail(KindTimeout, "GET %s: %s", url, resp.Status)
	case resp.StatusCode >= 500:
		return res, fail(KindServer, "GET %s: %s", url, resp.Status)
	default:
		return res, fail(KindBadURL, "GET %s: %s", url, resp.Status)
	}
	if g.o.MaxSize > 0 && (resp.ContentLength > limit || res.Total > g.o.MaxSize) {
		return res, fail(KindTooLarge, "GET %s: %d bytes exceed the limit of %d", url, max(resp.ContentLength, res.Total), g.o.MaxSize)
	}
	body := &countingReader{r: resp.Body}
	stop := watchProgress(&body.n, g.o.StallTimeout, g.o.StallBytes, func(got int64) {
		cancel(fail(KindTimeout, "GET %s: download stalled: %d bytes in %s, want at least %d",
			url, got, g.o.StallTimeout, g.o.StallBytes))
	})
	if offset > 0 && !res.Resumed {
		// The server sent the whole body: what w holds goes.
		r, ok := w.(Restarter)
		if !ok {
			return res, fail(KindStorage, "GET %s: the server ignored the Range and the writer cannot start over", url)
		}
		if err := r.Restart(); err != nil {
			return res, &Error{KindStorage, err}
		}
	}
	dst := &sink{w: w, left: limit, limited: g.o.MaxSize > 0}
	n, err := io.Copy(dst, body)
	stop()
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
			return res, e
		case ctx.Err() != nil && errors.As(context.Cause(ctx), &e):
			return res, e
		case KindOf(err) == KindTimeout:
			return res, &Error{KindTimeout, err}
		}
		return res, &Error{KindNetwork, err}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return res, fail(KindNetwork, "GET %s: got %d of %d bytes", url, n, resp.ContentLength)
	}
	return res, nil
}

// Restarter is a writer that can drop what it holds and start over: GetFrom
// calls Restart when it asked for a Range and the server sent the whole body.
type Restarter interface {
	Restart() error
}

// GetFile downloads url into the file name, resuming an earlier attempt: when
// the file holds bytes, only the rest is asked for (a Range request), and the
// file is rewritten from the start when the server does not support ranges
// or refuses this one. The file is synced before GetFile returns; on failure
// it keeps what arrived, for the next attempt. size is the file's size.
func (g *Getter) GetFile(ctx context.Context, url, name string) (res Response, size int64, err error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return res, 0, &Error{KindStorage, err}
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = &Error{KindStorage, cerr}
		}
	}()
	fw := &fileWriter{f: f}
	for range 2 {
		off, serr := f.Seek(0, io.SeekEnd)
		if serr != nil {
			return res, 0, &Error{KindStorage, serr}
		}
		res, err = g.GetFrom(ctx, url, off, fw)
		if KindOf(err) != KindRange {
			break
		}
		if err := fw.Restart(); err != nil {
			return res, 0, &Error{KindStorage, err}
		}
	}
	if serr := f.Sync(); serr != nil && err == nil {
		err = &Error{KindStorage, serr}
	}
	fi, serr := f.Stat()
	if serr != nil {
		return res, 0, &Error{KindStorage, serr}
	}
	return res, fi.Size(), err
}

// fileWriter appends to a file and restarts it by truncation.
type fileWriter struct{ f *os.File }

func (w *fileWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *fileWriter) Restart() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	_, err := w.f.Seek(0, io.SeekStart)
	return err
}

// contentRange reads "bytes start-end/total" (RFC 9110 §14.4); total is -1
// when given as "*".
func contentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < 0 {
			return 0, 0, false
		}
	}
	return start, total, true
}

// sink writes the body, failing with KindTooLarge past the limit and with
// KindStorage when the writer fails.
type sink struct {
	w       io.Writer
	left    int64
	limited bool
}

func (s *sink) Write(p []byte) (int, error) {
	if s.limited {
		if int64(len(p)) > s.left {
			return 0, fail(KindTooLarge, "the package exceeds the size limit")
		}
		s.left -= int64(len(p))
	}
	n, err := s.w.Write(p)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{KindStorage, err}
		}
	}
	return n, err
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
