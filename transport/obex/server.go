package obex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omadm/omadm/internal/lograte"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
)

// Engine is what the OBEX server drives: *server.Engine satisfies it.
type Engine interface {
	Handle(ctx context.Context, in *envelope.Inbound) (*envelope.Outbound, error)
}

// MessageLimiter is an optional ability of an Engine: the largest message it
// accepts. A PUT announcing or carrying more is refused as it arrives.
type MessageLimiter interface {
	MaxMessageSize() int
}

// Defaults of ServerOptions.
const (
	DefaultMaxMessage  = 4 << 20
	DefaultIdleTimeout = 2 * time.Minute
	DefaultMaxConns    = 256
)

// ServerOptions configure NewServer. The zero value (or nil) is usable.
type ServerOptions struct {
	// MaxPacket is the maximum packet length we receive, announced in the
	// CONNECT response (default and upper bound MaxPacketSize, lower bound
	// MinPacketSize).
	MaxPacket int
	// MaxMessage bounds one DM message (PUT body): 0 = the engine's
	// MaxMessageSize when it is a MessageLimiter, else DefaultMaxMessage.
	MaxMessage int
	// IdleTimeout is how long a peer may stay silent, and how long one
	// packet may take to write, before the OBEX connection is dropped
	// (default DefaultIdleTimeout; negative = no bound). On a serial line
	// the line stays open and waits for the next CONNECT.
	IdleTimeout time.Duration
	// MaxConns bounds the TCP connections served at once; more are closed
	// on accept (default DefaultMaxConns; negative = no bound).
	MaxConns int
	// SecureLink declares that the carrier itself authenticates the
	// device (a serial cable or a paired local link the operator trusts):
	// the engine then checks DM credentials once per session and the
	// connection's token proves the later messages
	// (OMA-TS-DM_Security-V1_2 §5.3; envelope.Inbound.SecureSession).
	// Leave it off for OBEX over TCP reachable by others.
	SecureLink bool
	// Logger receives one line per refused or failed exchange (nil:
	// slog.Default()); lines of one kind are rate limited.
	Logger *slog.Logger
}

// ErrServerClosed is returned by Serve and ServeSerial after Close.
var ErrServerClosed = errors.New("obex: server closed")

// Server is the DM server's side of the OBEX binding: an OBEX server that
// accepts CONNECT to the SYNCML-DM target, takes each DM message as a PUT
// and returns the engine's reply to the GET that follows. The OBEX
// connection is the session's address: each message is handed to the
// engine with the token of the session the connection's last reply named.
type Server struct {
	e      Engine
	role   role
	o      ServerOptions
	log    *slog.Logger
	lim    *lograte.Limiter
	nextID atomic.Uint32

	mu     sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed by Close
	lns    map[net.Listener]struct{}
	conns  map[io.Closer]struct{}
	wg     sync.WaitGroup
}

// NewServer returns a server feeding e.
func NewServer(e Engine, opts *ServerOptions) *Server {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxPacket <= 0 || o.MaxPacket > MaxPacketSize {
		o.MaxPacket = MaxPacketSize
	}
	o.MaxPacket = max(o.MaxPacket, MinPacketSize)
	if o.MaxMessage <= 0 {
		if l, ok := e.(MessageLimiter); ok {
			o.MaxMessage = l.MaxMessageSize()
		}
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	s := &Server{e: e, role: engineRole{}, o: o, log: o.Logger, lim: lograte.New(10 * time.Second),
		lns: map[net.Listener]struct{}{}, conns: map[io.Closer]struct{}{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	s.nextID.Store(uint32(time.Now().UnixNano()))
	return s
}

func (s *Server) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Serve accepts OBEX-over-TCP connections on ln ("OBEX over IP") until
// Close, serving each in its own goroutine. It returns ErrServerClosed
// after Close, else the accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	var pause time.Duration
	var sem chan struct{}
	if s.o.MaxConns > 0 {
		sem = make(chan struct{}, s.o.MaxConns)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				// Out of descriptors or a connection gone before
				// accept: pause a little (growing) and go on.
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				s.lim.Warn(s.log, "obex accept failed; retrying", "err", err, "after", pause)
				select {
				case <-s.done:
					return ErrServerClosed
				case <-time.After(pause):
				}
				continue
			}
			return err
		}
		pause = 0
		if sem != nil {
			select {
			case sem <- struct{}{}:
			default:
				s.lim.Warn(s.log, "obex connection refused: too many connections", "remote", c.RemoteAddr().String(), "max", s.o.MaxConns)
				c.Close()
				continue
			}
		}
		if !s.track(c) {
			c.Close()
			return ErrServerClosed
		}
		go func() {
			defer func() {
				if sem != nil {
					<-sem
				}
			}()
			defer s.untrack(c)
			defer c.Close()
			sc := s.newConn(c, c.RemoteAddr().String(), false)
			if err := sc.serve(); err != nil && !quiet(err) {
				s.lim.Warn(s.log, "obex connection ended", "remote", sc.remote, "err", err)
			}
		}()
	}
}

// ServeConn serves one OBEX connection on rw (for instance an accepted
// socket) until DISCONNECT, the idle timeout, an I/O error or Close. It
// closes rw. remote names the peer in logs and to the engine.
func (s *Server) ServeConn(rw io.ReadWriteCloser, remote string) error {
	if !s.track(rw) {
		rw.Close()
		return ErrServerClosed
	}
	defer s.untrack(rw)
	defer rw.Close()
	err := s.newConn(rw, remote, false).serve()
	if quiet(err) {
		return nil
	}
	return err
}

// ServeLine serves successive OBEX connections on an open serial line
// (or one side of a pty) until an I/O error or Close: after DISCONNECT or
// the idle timeout it waits for the next CONNECT on the same line. It
// closes rw.
func (s *Server) ServeLine(rw io.ReadWriteCloser, name string) error {
	if !s.track(rw) {
		rw.Close()
		return ErrServerClosed
	}
	defer s.untrack(rw)
	defer rw.Close()
	err := s.newConn(rw, name, true).serve()
	if s.isClosed() {
		return ErrServerClosed
	}
	return err
}

// ServeSerial opens the character device at path as a raw serial line and
// serves it (ServeLine), reopening it after an I/O error (the line was
// unplugged) with a growing pause, until Close.
func (s *Server) ServeSerial(path string) error {
	pause := time.Second
	for {
		f, err := OpenSerial(path)
		if err == nil {
			err = s.ServeLine(f, path)
			if errors.Is(err, ErrServerClosed) {
				return err
			}
			pause = time.Second
		}
		if s.isClosed() {
			return ErrServerClosed
		}
		s.lim.Warn(s.log, "obex serial line failed; reopening", "path", path, "err", err, "after", pause)
		select {
		case <-s.done:
			return ErrServerClosed
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops the listeners, closes every connection and line (an
// exchange in the engine finishes first: it commits atomically) and waits
// for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.cancel()
	return nil
}

// quiet reports errors that end a connection normally (peer gone, closed).
func quiet(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed)
}

type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// sconn is one OBEX connection (or serial line) of the server.
type sconn struct {
	s          *Server
	rw         io.ReadWriter
	dl         deadliner // nil when rw has no deadlines
	remote     string
	persistent bool // a serial line: survives DISCONNECT and idle timeouts

	rbuf, wbuf []byte
	in         Packet
	out        Packet

	connected bool
	connID    uint32
	peerMax   int
	// token is the engine's session token for the next message: the OBEX
	// connection is the session's address (envelope's connection-bound
	// binding), so no RespURI goes to the device.
	token    string
	newToken string // Outbound.Token of the reply being fetched
	fetched  bool   // reversed roles: the device's message was fetched, a reply may be PUT

	// The PUT in progress.
	putting bool
	putType string
	putDS   bool
	putLen  int // announced Length, -1 when none
	body    []byte
	hmac    string

	// The reply waiting for GET.
	reply     *envelope.Outbound
	replyType string
	replyOff  int
	getting   bool
}

func (s *Server) newConn(rw io.ReadWriter, remote string, persistent bool) *sconn {
	c := &sconn{s: s, rw: rw, remote: remote, persistent: persistent, peerMax: MinPacketSize}
	c.dl, _ = rw.(deadliner)
	return c
}

var errIdle = errors.New("obex: idle timeout")

func (c *sconn) serve() error {
	for {
		b, err := c.read()
		if errors.Is(err, errIdle) {
			if !c.persistent {
				return nil
			}
			c.s.log.Info("obex connection idle; waiting for the next CONNECT", "remote", c.remote)
			c.reset()
			continue
		}
		if errors.Is(err, ErrPacketTooLarge) || errors.Is(err, ErrMalformed) {
			// The packet boundary is lost: nothing after it can be read.
			c.s.lim.Warn(c.s.log, "obex packet refused", "remote", c.remote, "err", err)
			_ = c.respond(RespBadRequest)
			return err
		}
		if err != nil {
			return err
		}
		if err := c.in.Decode(b, FormRequest); err != nil {
			c.s.lim.Warn(c.s.log, "obex packet refused", "remote", c.remote, "err", err)
			if c.in.Code == OpConnect {
				err = c.connectResponse(RespBadRequest, false)
			} else {
				err = c.respond(RespBadRequest)
			}
			if err != nil {
				return err
			}
			continue
		}
		done, err := c.handle()
		if err != nil {
			return err
		}
		if done {
			if !c.persistent {
				return nil
			}
			c.reset()
		}
	}
}

// Token and RespURI make the connection the session's address
// (envelope.Addressing).
func (c *sconn) Token() string { return c.token }

// RespURI is "": the device reaches the session again on this connection.
func (c *sconn) RespURI(string) string { return "" }

var _ envelope.Addressing = (*sconn)(nil)

func (c *sconn) reset() {
	c.connected, c.connID, c.peerMax, c.token, c.fetched = false, 0, MinPacketSize, "", false
	c.endPut()
	c.reply, c.getting, c.replyOff = nil, false, 0
}

func (c *sconn) endPut() {
	c.putting, c.putType, c.putDS, c.putLen, c.hmac = false, "", false, -1, ""
	// Never reused: the engine may keep the message it was handed (its
	// wire trace is written behind the exchange).
	c.body = nil
}

func (c *sconn) read() ([]byte, error) {
	if c.dl != nil {
		var t time.Time
		if c.s.o.IdleTimeout > 0 && (c.connected || !c.persistent) {
			t = time.Now().Add(c.s.o.IdleTimeout)
		}
		_ = c.dl.SetReadDeadline(t)
	}
	b, err := ReadPacket(c.rw, c.rbuf, c.s.o.MaxPacket)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, errIdle
		}
		return nil, err
	}
	c.rbuf = b[:0]
	return b, nil
}

func (c *sconn) write(p *Packet, f Form) error {
	var err error
	c.wbuf, err = p.Append(c.wbuf[:0], f)
	if err != nil {
		return err
	}
	if c.dl != nil && c.s.o.IdleTimeout > 0 {
		_ = c.dl.SetWriteDeadline(time.Now().Add(c.s.o.IdleTimeout))
	}
	_, err = c.rw.Write(c.wbuf)
	return err
}

// respond sends a response without headers.
func (c *sconn) respond(code byte) error {
	c.out = Packet{Code: code, Headers: c.out.Headers[:0]}
	return c.write(&c.out, FormResponse)
}

func (c *sconn) connectResponse(code byte, ok bool) error {
	c.out = Packet{Code: code, Version: Version, MaxPacket: uint16(c.s.o.MaxPacket), Headers: c.out.Headers[:0]}
	if ok {
		c.out.Headers = append(c.out.Headers, Uint32(HdrConnectionID, c.connID), Bytes(HdrWho, []byte(Target)))
	}
	return c.write(&c.out, FormConnectResponse)
}

// handle answers one request; done reports the end of the OBEX connection.
func (c *sconn) handle() (done bool, err error) {
	p := &c.in
	switch p.Code {
	case OpConnect:
		return false, c.connect()
	case OpDisconnect:
		c.connected = false
		return true, c.respond(RespOK)
	case OpAbort:
		// IrOBEX 1.2 §3.3.5: the operation in progress ends; the answer is OK.
		c.endPut()
		c.getting, c.replyOff = false, 0
		return false, c.respond(RespOK)
	case OpPut, OpPut | FinalBit, OpGet, OpGet | FinalBit:
	case OpSetPath:
		return false, c.respond(RespNotImplemented)
	default:
		c.s.lim.Warn(c.s.log, "obex request refused: unknown opcode", "remote", c.remote, "opcode", fmt.Sprintf("0x%02X", p.Code))
		return false, c.respond(RespNotImplemented)
	}
	if !c.connected {
		// The binding carries DM only inside a connection to its target.
		c.s.lim.Warn(c.s.log, "obex request refused: no CONNECT to the SYNCML-DM target", "remote", c.remote, "opcode", fmt.Sprintf("0x%02X", p.Code))
		return false, c.respond(RespForbidden)
	}
	if h := p.Header(HdrConnectionID); h != nil && h.Value != c.connID {
		c.s.lim.Warn(c.s.log, "obex request refused: unknown connection id", "remote", c.remote)
		return false, c.respond(RespServiceUnavailable)
	}
	if p.Code&^FinalBit == OpPut {
		c.getting, c.replyOff = false, 0
		return false, c.put()
	}
	if c.putting {
		c.endPut() // a GET ends an unfinished PUT
	}
	return false, c.get()
}

func (c *sconn) connect() error {
	p := &c.in
	t := p.Header(HdrTarget)
	if t == nil || string(t.Data) != Target {
		target := ""
		if t != nil {
			target = fmt.Sprintf("%q", t.Data)
		}
		c.s.lim.Warn(c.s.log, "obex CONNECT refused: target is not SYNCML-DM", "remote", c.remote, "target", target)
		// The service asked for is not offered here.
		return c.connectResponse(RespServiceUnavailable, false)
	}
	if p.Version>>4 != Version>>4 {
		c.s.lim.Warn(c.s.log, "obex CONNECT refused: version", "remote", c.remote, "version", fmt.Sprintf("0x%02X", p.Version))
		return c.connectResponse(RespBadRequest, false)
	}
	c.reset()
	c.connected = true
	c.connID = c.s.nextID.Add(1)
	if c.connID == 0xFFFFFFFF { // IrOBEX 1.2 §2.2.11: reserved
		c.connID = c.s.nextID.Add(1)
	}
	c.peerMax = min(int(p.MaxPacket), MaxPacketSize)
	return c.connectResponse(RespOK, true)
}

// put takes one PUT packet of a DM message.
func (c *sconn) put() error {
	p := &c.in
	if !c.putting {
		c.endPut()
		c.reply = nil
		th := p.Header(HdrType)
		if th == nil {
			c.s.lim.Warn(c.s.log, "obex PUT refused: no Type header", "remote", c.remote)
			return c.respond(RespBadRequest)
		}
		ct := th.TypeString()
		ok, ds := c.s.role.accepts(ct)
		if !ok {
			c.s.lim.Warn(c.s.log, "obex PUT refused: type is not a DM message", "remote", c.remote, "type", ct)
			return c.respond(RespUnsupportedMediaType)
		}
		c.putting, c.putType, c.putDS = true, ct, ds
		if h := p.Header(HdrLength); h != nil {
			if int64(h.Value) > int64(c.s.o.MaxMessage) {
				// Refused on the announcement, before any body is taken.
				c.s.lim.Warn(c.s.log, "obex PUT refused: message too large", "remote", c.remote, "length", h.Value, "max", c.s.o.MaxMessage)
				c.endPut()
				return c.respond(RespEntityTooLarge)
			}
			c.putLen = int(h.Value)
		}
	}
	for i := range p.Headers {
		h := &p.Headers[i]
		switch h.ID {
		case HdrBody, HdrEndOfBody:
			if len(c.body)+len(h.Data) > c.s.o.MaxMessage || c.putLen >= 0 && len(c.body)+len(h.Data) > c.putLen {
				c.s.lim.Warn(c.s.log, "obex PUT refused: message too large", "remote", c.remote, "max", c.s.o.MaxMessage, "length", c.putLen)
				c.endPut()
				return c.respond(RespEntityTooLarge)
			}
			c.body = append(c.body, h.Data...)
		case HdrHTTP:
			if v := httpLines(h.Data, headerHMAC); v != "" {
				c.hmac = v
			}
		}
	}
	if !p.Final() {
		return c.respond(RespContinue)
	}
	defer c.endPut()
	if len(c.body) == 0 {
		// A PUT without a body deletes an object in OBEX; a DM message
		// is never empty.
		c.s.lim.Warn(c.s.log, "obex PUT refused: empty body", "remote", c.remote)
		return c.respond(RespBadRequest)
	}
	if c.putLen >= 0 && len(c.body) != c.putLen {
		c.s.lim.Warn(c.s.log, "obex PUT refused: body shorter than its Length header", "remote", c.remote, "length", c.putLen, "got", len(c.body))
		return c.respond(RespBadRequest)
	}
	return c.s.role.put(c)
}

// role is what the OBEX server does with the DM messages: hand them to the
// engine and serve its replies (the DM server's side, engineRole), or hand
// them to a DM client and serve its messages (the reversed roles,
// DeviceServer).
type role interface {
	// accepts reports whether a PUT of media type ct is taken, and
	// whether ct is of the DS family.
	accepts(ct string) (ok, ds bool)
	// put takes a whole PUT (c.body, c.putType, c.hmac) and answers it.
	put(c *sconn) error
	// next returns the message a GET fetches when none is waiting (nil:
	// none, answered Not Found).
	next(c *sconn) *envelope.Outbound
	// sent is called once a message was fetched to its end.
	sent(c *sconn)
}

// engineRole is the DM server's side: PUT carries the device's message to
// the engine, GET fetches the engine's reply.
type engineRole struct{}

func (engineRole) accepts(ct string) (bool, bool) { return dmType(ct) }

func (engineRole) put(c *sconn) error {
	in := &envelope.Inbound{Body: c.body, ContentType: c.putType, HMAC: c.hmac, RemoteAddr: c.remote,
		Addr: c, SecureSession: c.s.o.SecureLink}
	out, err := c.s.e.Handle(c.s.ctx, in)
	if err != nil {
		code := respCode(err)
		if code == RespInternalError {
			c.s.log.Error("obex DM message failed", "remote", c.remote, "err", err)
		}
		return c.respond(code)
	}
	c.reply, c.replyOff, c.newToken = out, 0, out.Token
	c.replyType = out.ContentType
	if c.putDS {
		c.replyType = dsReply(out.ContentType)
	}
	return c.respond(RespOK)
}

func (engineRole) next(*sconn) *envelope.Outbound { return nil }

// sent: the reply is out, so the connection's next message belongs to the
// session it named ("" when it ended the session).
func (engineRole) sent(c *sconn) { c.token = c.newToken }

// get answers one GET packet with the next part of the reply.
func (c *sconn) get() error {
	p := &c.in
	if !c.getting {
		if th := p.Header(HdrType); th != nil {
			if ok, _ := dmType(th.TypeString()); !ok {
				c.s.lim.Warn(c.s.log, "obex GET refused: type is not a DM message", "remote", c.remote, "type", th.TypeString())
				return c.respond(RespUnsupportedMediaType)
			}
		}
		if c.reply == nil {
			if out := c.s.role.next(c); out != nil {
				c.reply, c.replyType = out, out.ContentType
			}
		}
		if c.reply == nil {
			c.s.lim.Warn(c.s.log, "obex GET refused: no DM reply waiting (PUT a message first)", "remote", c.remote)
			return c.respond(RespNotFound)
		}
		c.getting, c.replyOff = true, 0
	}
	if !p.Final() {
		// IrOBEX 1.2 §3.3.4: the request phase goes on until the Final bit.
		return c.respond(RespContinue)
	}
	c.out = Packet{Code: RespContinue, Headers: c.out.Headers[:0]}
	if c.replyOff == 0 {
		c.out.Headers = append(c.out.Headers, TypeHeader(c.replyType), Uint32(HdrLength, uint32(len(c.reply.Body))))
		if c.reply.HMAC != "" {
			c.out.Headers = append(c.out.Headers, hmacHeader(c.reply.HMAC))
		}
	}
	room := c.peerMax - c.out.Size(FormResponse) - 3
	if room <= 0 {
		c.s.lim.Warn(c.s.log, "obex GET failed: reply headers exceed the peer's packet length", "remote", c.remote, "max", c.peerMax)
		c.getting = false
		return c.respond(RespInternalError)
	}
	rest := c.reply.Body[c.replyOff:]
	if len(rest) <= room {
		c.out.Code = RespOK
		c.out.Headers = append(c.out.Headers, Bytes(HdrEndOfBody, rest))
		c.reply, c.getting, c.replyOff = nil, false, 0
		c.s.role.sent(c)
	} else {
		c.out.Headers = append(c.out.Headers, Bytes(HdrBody, rest[:room]))
		c.replyOff += room
	}
	return c.write(&c.out, FormResponse)
}

// respCode maps an engine error (carrying a SyncML status) to OBEX.
func respCode(err error) byte {
	switch syncml.StatusOf(err) {
	case syncml.StatusBadRequest:
		return RespBadRequest
	case syncml.StatusEntityTooLarge:
		return RespEntityTooLarge
	case syncml.StatusUnsupportedMediaType:
		return RespUnsupportedMediaType
	case syncml.StatusServiceUnavailable:
		return RespServiceUnavailable
	}
	return RespInternalError
}
