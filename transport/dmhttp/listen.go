package dmhttp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Defaults of ServerLimits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxConns          = 1024
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxConnsPerAddr   = 256
)

// ServerLimits bound what one connection, and all of them together, can hold
// of a server. Zero fields take the defaults above.
type ServerLimits struct {
	// ReadHeaderTimeout cuts a connection whose request headers do not arrive
	// in time (slow-loris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the response (long-lived streams extend
	// their own deadline).
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends nothing.
	IdleTimeout time.Duration
	// MaxConns is how many connections are served at once. When all are
	// open, a new connection takes the place of the one idle the longest
	// (kept alive between requests, or without a request yet); when all
	// are busy with requests it waits until one closes. Negative = no limit.
	MaxConns int
	// MaxConnsPerAddr is how many of the MaxConns one remote address (IP)
	// may hold; a connection beyond it is closed at once, so that one host
	// trickling requests cannot take every slot (zero: the default;
	// negative: no per-address limit; only with MaxConns).
	MaxConnsPerAddr int
	// MaxHeaderBytes bounds request headers.
	MaxHeaderBytes int
}

func (l ServerLimits) withDefaults() ServerLimits {
	or := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	or(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	or(&l.ReadTimeout, DefaultReadTimeout)
	or(&l.WriteTimeout, DefaultWriteTimeout)
	or(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnsPerAddr == 0 {
		l.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	return l
}

// NewServer returns an http.Server for h with the limits' timeouts (zero
// fields: defaults). Serve it on Listen's listener, which applies MaxConns.
func NewServer(h http.Handler, l ServerLimits, log *slog.Logger) *http.Server {
	l = l.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ConnState:         trackConnState,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}

// Listen opens a TCP listener on addr that serves at most l.MaxConns
// connections at once, at most l.MaxConnsPerAddr of them from one remote
// address, and, with tc, speaks TLS (the connection limits count
// connections before their handshake, so handshakes cannot exceed them).
func Listen(addr string, l ServerLimits, tc *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if l = l.withDefaults(); l.MaxConns > 0 {
		ln = newLimitListener(ln, l.MaxConns, l.MaxConnsPerAddr)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// LimitListener returns a listener that holds at most n accepted connections
// open at once. When all n are open and another connection is waiting, a
// connection that is doing nothing for the server that serves it (kept
// alive between requests, or opened without a request yet; see NewServer)
// is closed to make room, the one that has waited longest first; only
// when every open connection is busy with a request does the new one wait
// for one to close. So a peer cannot lock everyone out by holding the
// slots with idle connections; one at a time waits accepted, the rest in
// the kernel's backlog, holding no server memory.
func LimitListener(ln net.Listener, n int) net.Listener { return newLimitListener(ln, n, 0) }

// newLimitListener is LimitListener that also closes, at once, a new
// connection from an address (IP) that already holds perAddr of them
// (perAddr <= 0: no such limit).
func newLimitListener(ln net.Listener, n, perAddr int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{}),
		wake: make(chan struct{}, 1), idle: make(map[*limitConn]uint64), perAddr: perAddr, byAddr: map[string]int{}}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	closeOnce sync.Once
	done      chan struct{}

	wake    chan struct{} // a connection became idle
	perAddr int
	mu      sync.Mutex
	seq     uint64
	idle    map[*limitConn]uint64 // idle connections, by when they became idle
	byAddr  map[string]int        // open connections per remote IP (with perAddr)
}

func (l *limitListener) Accept() (net.Conn, error) {
	var c net.Conn
	var host string
	for {
		var err error
		c, err = l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if host = remoteHost(c); l.takeAddr(host) {
			break
		}
		c.Close() // this address holds its share of the connections already
	}
	lc := &limitConn{Conn: c, l: l, host: host}
	for {
		select {
		case l.sem <- struct{}{}:
			return lc, nil
		default:
		}
		if l.evict() {
			continue
		}
		select {
		case l.sem <- struct{}{}:
			return lc, nil
		case <-l.wake:
		case <-l.done:
			l.dropAddr(host)
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

func remoteHost(c net.Conn) string {
	a := c.RemoteAddr()
	if a == nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// takeAddr counts a connection of host, unless host holds perAddr already.
func (l *limitListener) takeAddr(host string) bool {
	if l.perAddr <= 0 || host == "" {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[host] >= l.perAddr {
		return false
	}
	l.byAddr[host]++
	return true
}

func (l *limitListener) dropAddr(host string) {
	if l.perAddr <= 0 || host == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[host]--; l.byAddr[host] <= 0 {
		delete(l.byAddr, host)
	}
}

// evict closes the connection idle the longest, if any; its slot frees
// when its server finishes with it.
func (l *limitListener) evict() bool {
	l.mu.Lock()
	var oldest *limitConn
	for c, at := range l.idle {
		if oldest == nil || at < l.idle[oldest] {
			oldest = c
		}
	}
	if oldest != nil {
		delete(l.idle, oldest)
	}
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	_ = oldest.Close()
	return true
}

func (l *limitListener) setIdle(c *limitConn, idle bool) {
	l.mu.Lock()
	if idle {
		l.seq++
		l.idle[c] = l.seq
	} else {
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if idle {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.setIdle(c, false)
		c.l.dropAddr(c.host)
		<-c.l.sem
	})
	return err
}

// trackConnState tells a LimitListener (under any wrapping, TLS included)
// which of its connections are idle: new (no request read yet) or kept
// alive between requests.
func trackConnState(c net.Conn, s http.ConnState) {
	for {
		if lc, ok := c.(*limitConn); ok {
			lc.l.setIdle(lc, s == http.StateNew || s == http.StateIdle)
			return
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = u.NetConn()
	}
}

// Client certificate policies of ServerTLSConfig.
const (
	ClientAuthNone    = "none"    // no certificate is asked for
	ClientAuthRequest = "request" // asked for; a device may connect without
	ClientAuthRequire = "require" // the handshake fails without one
)

// ServerTLSOptions configure ServerTLSConfig.
type ServerTLSOptions struct {
	CertFile, KeyFile string // PEM server certificate chain and key (required)
	// ClientCAFile is a PEM bundle of CAs that issue device certificates.
	// When set, a presented certificate must chain to one of them or the
	// handshake fails. When empty, a presented certificate is not
	// chain-checked (only its validity period is): the handshake still
	// proves the device holds its key, and only a device whose account is
	// bound to that exact certificate (its SHA-256) is authenticated by it.
	ClientCAFile string
	// ClientAuth is none, request (default) or require.
	ClientAuth string
}

// ServerTLSConfig builds the server's TLS configuration: TLS 1.2 or later
// and the client-certificate policy. OMA-TS-DM_Security-V1_2 §5.1.3:
// servers MUST support transport-level client authentication and MUST
// request it when the client uses TLS, hence the "request" default.
func ServerTLSConfig(o ServerTLSOptions) (*tls.Config, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("TLS needs a certificate and its key")
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.ClientCAFile != "" {
		pem, err := os.ReadFile(o.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificates in client CA file %s", o.ClientCAFile)
		}
		tc.ClientCAs = pool
	}
	verify := tc.ClientCAs != nil
	if !verify {
		// Pinning mode: the chain is not checked, but a certificate outside
		// its validity period is still refused.
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			now, leaf := time.Now(), cs.PeerCertificates[0]
			if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
				return fmt.Errorf("client certificate %q is not valid now (valid %s to %s)", leaf.Subject.CommonName,
					leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
			}
			return nil
		}
	}
	switch o.ClientAuth {
	case ClientAuthRequest, "":
		tc.ClientAuth = tls.RequestClientCert
		if verify {
			tc.ClientAuth = tls.VerifyClientCertIfGiven
		}
	case ClientAuthRequire:
		tc.ClientAuth = tls.RequireAnyClientCert
		if verify {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	case ClientAuthNone:
		if verify {
			return nil, errors.New("a client CA file with client auth \"none\" would never be used: give request or require")
		}
		tc.ClientAuth = tls.NoClientCert
	default:
		return nil, fmt.Errorf("client auth %q: want none, request or require", o.ClientAuth)
	}
	return tc, nil
}
