package obex

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
)

// The reversed roles: the DM client (the device) is the OBEX server and the
// DM server connects to it, as over a cable or a local link where the
// device only listens (transports.md §3, "roles may be reversed"). The
// SyncML OBEX binding text was not available; the exchange here keeps the
// binding's rule that the OBEX client drives every operation:
//
//  1. the DM server CONNECTs to the SYNCML-DM target and may PUT a package
//     0 (Type application/vnd.syncml.notification) to start a session;
//  2. it GETs the device's message (package 1 first), hands it to its
//     engine and PUTs the reply, and repeats;
//  3. after the reply that ends the session it DISCONNECTs.

// ContentTypeNotification is the media type of a package 0
// (OMA-TS-DM_Notification-V1_2).
const ContentTypeNotification = "application/vnd.syncml.notification"

// DeviceServer is the DM client's side of the reversed roles: an OBEX
// server (serve it with Serve, ServeConn or ServeLine) and the
// client.Transport of the device's engine. RoundTrip offers the engine's
// message to the DM server's next GET and returns what the DM server PUTs
// next; package 0 PUTs arrive on Package0.
type DeviceServer struct {
	*Server
	// CheckPackage0, when set before serving, judges each package 0 PUT as
	// it arrives: nil is answered OK, an error Forbidden, and Package0
	// delivers nothing. The DM server then learns at once that its
	// notification was refused instead of waiting for a session.
	CheckPackage0 func(pkg0 []byte) error

	out  chan *client.Request
	in   chan *client.Response
	pkg0 chan []byte
}

var _ client.Transport = (*DeviceServer)(nil)

// NewDeviceServer returns the device side of the reversed roles. o as for
// NewServer (MaxMessage bounds what the DM server may PUT; IdleTimeout also
// bounds how long a GET waits for the device's message).
func NewDeviceServer(o *ServerOptions) *DeviceServer {
	d := &DeviceServer{out: make(chan *client.Request), in: make(chan *client.Response, 1), pkg0: make(chan []byte, 4)}
	d.Server = NewServer(nil, o)
	d.Server.role = deviceRole{d}
	return d
}

// Package0 delivers each package 0 the DM server PUT (to be checked and
// acted on by the device, e.g. client.Client's notification handling).
func (d *DeviceServer) Package0() <-chan []byte { return d.pkg0 }

// RoundTrip hands req to the DM server's next GET and waits for the
// message it PUTs in reply. req.URL is not used.
func (d *DeviceServer) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	select {
	case <-d.in: // a reply nobody waited for (a former session's) is dropped
	default:
	}
	select {
	case d.out <- req:
	case <-ctx.Done():
		return nil, fmt.Errorf("obex: no GET from the DM server: %w", ctx.Err())
	case <-d.done:
		return nil, ErrServerClosed
	}
	select {
	case r := <-d.in:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("obex: no reply PUT by the DM server: %w", ctx.Err())
	case <-d.done:
		return nil, ErrServerClosed
	}
}

type deviceRole struct{ d *DeviceServer }

func (deviceRole) accepts(ct string) (bool, bool) {
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == ContentTypeNotification {
		return true, false
	}
	return dmType(ct)
}

func (r deviceRole) put(c *sconn) error {
	if mt, _, _ := mime.ParseMediaType(c.putType); mt == ContentTypeNotification {
		if check := r.d.CheckPackage0; check != nil {
			if err := check(c.body); err != nil {
				c.s.lim.Warn(c.s.log, "obex package 0 refused", "remote", c.remote, "err", err)
				return c.respond(RespForbidden)
			}
			return c.respond(RespOK)
		}
		select {
		case r.d.pkg0 <- c.body:
			return c.respond(RespOK)
		default:
			c.s.lim.Warn(c.s.log, "obex package 0 refused: earlier ones not taken yet", "remote", c.remote)
			return c.respond(RespServiceUnavailable)
		}
	}
	if !c.fetched {
		c.s.lim.Warn(c.s.log, "obex PUT refused: no device message was fetched first (GET)", "remote", c.remote)
		return c.respond(RespForbidden)
	}
	c.fetched = false
	select {
	case r.d.in <- &client.Response{Body: c.body, ContentType: c.putType, HMAC: c.hmac, SecureSession: c.s.o.SecureLink}:
		return c.respond(RespOK)
	default:
		return c.respond(RespServiceUnavailable)
	}
}

// next waits for the device's message, at most the idle timeout.
func (r deviceRole) next(c *sconn) *envelope.Outbound {
	var timeout <-chan time.Time
	if d := c.s.o.IdleTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case req := <-r.d.out:
		return &envelope.Outbound{Body: req.Body, ContentType: req.ContentType, HMAC: req.HMAC}
	case <-timeout:
	case <-c.s.done:
	}
	return nil
}

func (deviceRole) sent(c *sconn) { c.fetched = true }

// DialDevice is the DM server's side of the reversed roles: it connects to
// the device's OBEX server (o.Dial), PUTs pkg0 when given, then GETs each
// device message, hands it to e and PUTs the reply, until a reply ends the
// session (Outbound.Token "", unless it challenges the device's
// credentials: the device then sends its package 1 again), and
// DISCONNECTs. secure tells the engine
// the link authenticates the session (envelope.Inbound.SecureSession);
// maxMessages bounds the exchange (0 = 1000). It is ConnectDevice followed
// by DeviceConn.Serve.
func DialDevice(ctx context.Context, e Engine, o ClientOptions, pkg0 []byte, secure bool, maxMessages int) error {
	dc, err := ConnectDevice(ctx, o, pkg0)
	if err != nil {
		return err
	}
	return dc.Serve(ctx, e, secure, maxMessages)
}

// DeviceConn is a DM server's OBEX connection to a device's OBEX server
// (the reversed roles), package 0 delivered; Serve runs the DM session
// over it.
type DeviceConn struct {
	t      *ClientTransport
	remote string
}

// ConnectDevice connects to the device's OBEX server (o.Dial), CONNECTs to
// the DM target and PUTs pkg0 when given; ctx bounds only these steps. A
// device that refuses the package 0 makes it fail with a *ResponseError
// (Op "PUT"). The connection is the caller's: Serve or Close it.
func ConnectDevice(ctx context.Context, o ClientOptions, pkg0 []byte) (*DeviceConn, error) {
	t, err := NewClientTransport(o)
	if err != nil {
		return nil, err
	}
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	dc := &DeviceConn{t: t, remote: "obex"}
	if c, ok := t.conn.(net.Conn); ok {
		dc.remote = c.RemoteAddr().String()
	}
	if pkg0 != nil {
		stop := t.bind(ctx)
		_, err := t.put(ContentTypeNotification, pkg0, "")
		stop()
		if err != nil {
			t.drop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("obex: package 0: %w (%v)", ctx.Err(), err)
			}
			return nil, fmt.Errorf("obex: package 0: %w", err)
		}
	}
	return dc, nil
}

// Close drops the connection without DISCONNECT (Serve ends it itself).
func (dc *DeviceConn) Close() { dc.t.drop() }

// Serve GETs each device message, hands it to e and PUTs the reply, until a
// reply ends the session (Outbound.Token "" without a credentials
// challenge); it then DISCONNECTs. ctx
// bounds the whole session. The connection is closed when Serve returns.
// secure and maxMessages as for DialDevice.
func (dc *DeviceConn) Serve(ctx context.Context, e Engine, secure bool, maxMessages int) error {
	t := dc.t
	if maxMessages <= 0 {
		maxMessages = 1000
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.drop()
	if t.conn == nil {
		return errors.New("obex: connection to the device already closed")
	}
	stop := t.bind(ctx)
	defer stop()
	addr := &connToken{}
	for range maxMessages {
		msg, err := t.get("")
		if err != nil {
			return fmt.Errorf("obex: fetching the device's message: %w", err)
		}
		out, err := e.Handle(ctx, &envelope.Inbound{Body: msg.Body, ContentType: msg.ContentType, HMAC: msg.HMAC,
			Addr: addr, SecureSession: secure, RemoteAddr: dc.remote})
		if err != nil {
			return fmt.Errorf("obex: the engine refused the device's message: %w", err)
		}
		if _, err := t.put(out.ContentType, out.Body, out.HMAC); err != nil {
			return fmt.Errorf("obex: sending the reply: %w", err)
		}
		addr.token = out.Token
		if out.Token == "" && !challenged(out) {
			t.out = Packet{Code: OpDisconnect, Headers: t.out.Headers[:0]}
			t.idHeader()
			if err := t.send(FormRequest); err == nil {
				_, _ = t.recv(FormResponse)
			}
			return nil
		}
	}
	return fmt.Errorf("obex: session still open after %d messages", maxMessages)
}

// challenged reports whether a reply that belongs to no session refuses
// the device's credentials with a challenge (SyncHdr Status 401 or 407 with
// Chal): the device then sends its package 1 again with new credentials
// (OMA-TS-DM_Security-V1_2 §5.3; OMA-TS-DM_Protocol-V1_2, authentication in
// the session), so the exchange goes on with another GET.
func challenged(out *envelope.Outbound) bool {
	m, _, err := syncml.Decode(out.Body, out.ContentType, nil)
	if err != nil {
		return false
	}
	for _, c := range m.Body {
		if st, ok := c.(*syncml.Status); ok && st.CmdRef == "0" && st.Chal != nil {
			return st.Data == syncml.StatusInvalidCredentials || st.Data == syncml.StatusMissingCredentials
		}
	}
	return false
}

// connToken is the session addressing of one outgoing OBEX connection.
type connToken struct{ token string }

func (c *connToken) Token() string       { return c.token }
func (*connToken) RespURI(string) string { return "" }

var _ envelope.Addressing = (*connToken)(nil)
