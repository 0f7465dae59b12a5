package obex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/client"
)

// DefaultMaxResponse bounds a reply body when ClientOptions.MaxResponse is 0.
const DefaultMaxResponse = 8 << 20

// DefaultPort is the OBEX-over-TCP port a URL without one dials (IANA
// "obex", 650/tcp).
const DefaultPort = "650"

// ClientOptions configure the device side of the binding.
type ClientOptions struct {
	// Dial opens the carrier: a TCP connection, a serial line. Required
	// for NewClientTransport; DialURL fills it from the URL.
	Dial func(ctx context.Context) (io.ReadWriteCloser, error)
	// MaxPacket is the maximum packet length we receive, announced in
	// CONNECT (default and upper bound MaxPacketSize, lower bound
	// MinPacketSize).
	MaxPacket int
	// MaxResponse bounds a reply body (default DefaultMaxResponse).
	MaxResponse int
	// CloseTimeout bounds the DISCONNECT exchange of Close (default 5 s).
	CloseTimeout time.Duration
	// SecureLink declares that the carrier itself authenticates the
	// session (a serial cable, a paired local link): every reply is then
	// reported as client.Response.SecureSession, and the device's engine
	// checks the server's credentials once per session instead of in every
	// message (OMA-TS-DM_Security-V1_2 §5.3). Set it when the server's
	// ServerOptions.SecureLink is set, so that both sides agree.
	SecureLink bool
}

// ResponseError is an OBEX response other than the one the exchange
// needed: the peer refused the request.
type ResponseError struct {
	Op   string // "CONNECT", "PUT", "GET"
	Code byte
}

// Error names the operation and the OBEX response code.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("obex: %s answered 0x%02X (%s)", e.Op, e.Code, codeName(e.Code))
}

func codeName(c byte) string {
	switch c {
	case RespContinue:
		return "Continue"
	case RespOK:
		return "OK"
	case RespBadRequest:
		return "Bad Request"
	case RespUnauthorized:
		return "Unauthorized"
	case RespForbidden:
		return "Forbidden"
	case RespNotFound:
		return "Not Found"
	case RespMethodNotAllowed:
		return "Method Not Allowed"
	case RespNotAcceptable:
		return "Not Acceptable"
	case RespRequestTimeout:
		return "Request Timeout"
	case RespLengthRequired:
		return "Length Required"
	case RespEntityTooLarge:
		return "Request Entity Too Large"
	case RespUnsupportedMediaType:
		return "Unsupported Media Type"
	case RespInternalError:
		return "Internal Server Error"
	case RespNotImplemented:
		return "Not Implemented"
	case RespServiceUnavailable:
		return "Service Unavailable"
	}
	return "unknown"
}

// ClientTransport is the DM client's side of the OBEX binding, a
// client.Transport: it CONNECTs to the SYNCML-DM target, PUTs each DM
// message and GETs the reply on the same OBEX connection, and connects
// again when the connection was lost. Safe for one session at a time
// (calls are serialised).
type ClientTransport struct {
	o ClientOptions

	mu      sync.Mutex
	conn    io.ReadWriteCloser
	connID  uint32
	hasID   bool
	peerMax int
	rbuf    []byte
	wbuf    []byte
	in, out Packet
}

var _ client.Transport = (*ClientTransport)(nil)

// NewClientTransport returns a transport over the carrier o.Dial opens.
func NewClientTransport(o ClientOptions) (*ClientTransport, error) {
	if o.Dial == nil {
		return nil, errors.New("obex: ClientOptions.Dial is required")
	}
	if o.MaxPacket <= 0 || o.MaxPacket > MaxPacketSize {
		o.MaxPacket = MaxPacketSize
	}
	o.MaxPacket = max(o.MaxPacket, MinPacketSize)
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	return &ClientTransport{o: o}, nil
}

// IsURL reports whether s names an OBEX carrier: obex://host[:port]
// (OBEX over TCP) or obex+serial:///dev/… (a serial line).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "obex://") || strings.HasPrefix(s, "obex+serial://")
}

// DialURL returns a transport for an OBEX URL: obex://host[:port] (TCP,
// port DefaultPort when absent) or obex+serial:///path/to/device (a
// character device, opened raw with OpenSerial). o.Dial is replaced.
func DialURL(raw string, o ClientOptions) (*ClientTransport, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("obex: bad URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "obex":
		if u.Host == "" || u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("obex: URL %q: want obex://host[:port]", raw)
		}
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), DefaultPort)
		}
		o.Dial = func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	case "obex+serial":
		if u.Host != "" || u.Path == "" {
			return nil, fmt.Errorf("obex: URL %q: want obex+serial:///path/to/device", raw)
		}
		path := u.Path
		o.Dial = func(context.Context) (io.ReadWriteCloser, error) { return OpenSerial(path) }
	default:
		return nil, fmt.Errorf("obex: URL %q: scheme must be obex or obex+serial", raw)
	}
	return NewClientTransport(o)
}

// RoundTrip PUTs req.Body and GETs the reply. req.URL is not used: the
// carrier is the address. A connection kept from an earlier message that
// turns out to be dead before the server answered anything is replaced
// once.
func (t *ClientTransport) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for attempt := 0; ; attempt++ {
		reused := t.conn != nil
		if !reused {
			if err := t.connect(ctx); err != nil {
				return nil, err
			}
		}
		resp, answered, err := t.exchange(ctx, req)
		if err == nil {
			return resp, nil
		}
		t.drop()
		if reused && !answered && attempt == 0 && ctx.Err() == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("obex: %w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
}

// Close ends the OBEX connection with DISCONNECT and closes the carrier.
func (t *ClientTransport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.o.CloseTimeout)
	defer cancel()
	stop := t.bind(ctx)
	t.out = Packet{Code: OpDisconnect, Headers: t.out.Headers[:0]}
	t.idHeader()
	err := t.send(FormRequest)
	if err == nil {
		_, err = t.recv(FormResponse)
	}
	stop()
	cerr := t.conn.Close()
	t.conn = nil
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return cerr
}

func (t *ClientTransport) drop() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// bind makes ctx's deadline and cancellation reach the blocked reads and
// writes on the carrier; the returned func undoes it.
func (t *ClientTransport) bind(ctx context.Context) (stop func()) {
	c := t.conn
	dl, ok := c.(deadliner)
	if ok {
		d, _ := ctx.Deadline()
		_ = dl.SetReadDeadline(d)
		_ = dl.SetWriteDeadline(d)
	}
	after := context.AfterFunc(ctx, func() {
		if ok {
			past := time.Unix(1, 0)
			_ = dl.SetReadDeadline(past)
			_ = dl.SetWriteDeadline(past)
		} else {
			c.Close()
		}
	})
	return func() {
		after()
		if ok {
			_ = dl.SetReadDeadline(time.Time{})
			_ = dl.SetWriteDeadline(time.Time{})
		}
	}
}

func (t *ClientTransport) send(f Form) error {
	var err error
	t.wbuf, err = t.out.Append(t.wbuf[:0], f)
	if err != nil {
		return err
	}
	_, err = t.conn.Write(t.wbuf)
	return err
}

func (t *ClientTransport) recv(f Form) (*Packet, error) {
	b, err := ReadPacket(t.conn, t.rbuf, t.o.MaxPacket)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("obex: server closed the connection: %w", err)
		}
		return nil, err
	}
	t.rbuf = b[:0]
	if f == FormConnectResponse && len(b) == 3 && b[0] != RespOK {
		// A refusal of CONNECT without the version, flags and length
		// fields (OpenOBEX answers so): its code is all that matters.
		t.in = Packet{Code: b[0], Headers: t.in.Headers[:0]}
		return &t.in, nil
	}
	if err := t.in.Decode(b, f); err != nil {
		return nil, err
	}
	return &t.in, nil
}

func (t *ClientTransport) idHeader() {
	if t.hasID {
		t.out.Headers = append(t.out.Headers, Uint32(HdrConnectionID, t.connID))
	}
}

func (t *ClientTransport) connect(ctx context.Context) error {
	c, err := t.o.Dial(ctx)
	if err != nil {
		return fmt.Errorf("obex: %w", err)
	}
	t.conn = c
	stop := t.bind(ctx)
	defer stop()
	t.out = Packet{Code: OpConnect, Version: Version, MaxPacket: uint16(t.o.MaxPacket),
		Headers: append(t.out.Headers[:0], Bytes(HdrTarget, []byte(Target)))}
	err = t.send(FormRequest)
	var p *Packet
	if err == nil {
		p, err = t.recv(FormConnectResponse)
	}
	if err == nil && p.Code != RespOK {
		err = &ResponseError{Op: "CONNECT", Code: p.Code}
	}
	if err != nil {
		t.drop()
		if ctx.Err() != nil {
			return fmt.Errorf("obex: connect: %w (%v)", ctx.Err(), err)
		}
		return fmt.Errorf("obex: connect: %w", err)
	}
	t.peerMax = max(int(p.MaxPacket), MinPacketSize)
	t.connID, t.hasID = 0, false
	if h := p.Header(HdrConnectionID); h != nil {
		t.connID, t.hasID = h.Value, true
	}
	return nil
}

// exchange runs one PUT and GET; answered reports that the server sent
// any response to it.
func (t *ClientTransport) exchange(ctx context.Context, req *client.Request) (resp *client.Response, answered bool, err error) {
	stop := t.bind(ctx)
	defer stop()
	answered, err = t.put(req.ContentType, req.Body, req.HMAC)
	if err != nil {
		return nil, answered, err
	}
	resp, err = t.get(req.ContentType)
	return resp, true, err
}

// put sends one message as a PUT; answered reports that the peer sent any
// response.
func (t *ClientTransport) put(contentType string, msg []byte, hmac string) (answered bool, err error) {
	// PUT: headers in the first packet, the body in as many as the
	// server's maximum packet length needs (IrOBEX 1.2 §3.3.3).
	body := msg
	first := true
	for {
		t.out = Packet{Code: OpPut, Headers: t.out.Headers[:0]}
		if first {
			t.idHeader()
			t.out.Headers = append(t.out.Headers, TypeHeader(contentType), Uint32(HdrLength, uint32(len(msg))))
			if hmac != "" {
				t.out.Headers = append(t.out.Headers, hmacHeader(hmac))
			}
		} else {
			t.idHeader()
		}
		room := t.peerMax - t.out.Size(FormRequest) - 3
		if room <= 0 {
			return answered, fmt.Errorf("obex: PUT headers exceed the server's packet length %d", t.peerMax)
		}
		if len(body) <= room {
			t.out.Code |= FinalBit
			t.out.Headers = append(t.out.Headers, Bytes(HdrEndOfBody, body))
			body = nil
		} else {
			t.out.Headers = append(t.out.Headers, Bytes(HdrBody, body[:room]))
			body = body[room:]
		}
		if err := t.send(FormRequest); err != nil {
			return answered, err
		}
		p, err := t.recv(FormResponse)
		if err != nil {
			return answered, err
		}
		answered = true
		final := t.out.Code&FinalBit != 0
		switch {
		case final && p.Code == RespOK, !final && p.Code == RespContinue:
		default:
			return true, &ResponseError{Op: "PUT", Code: p.Code}
		}
		first = false
		if final {
			break
		}
	}
	return true, nil
}

// get fetches one message with GET of contentType ("" sends no Type); it
// comes in as many responses as needed (IrOBEX 1.2 §3.3.4).
func (t *ClientTransport) get(contentType string) (*client.Response, error) {
	r := &client.Response{ContentType: contentType, SecureSession: t.o.SecureLink}
	var buf []byte
	t.out = Packet{Code: OpGet | FinalBit, Headers: t.out.Headers[:0]}
	t.idHeader()
	if contentType != "" {
		t.out.Headers = append(t.out.Headers, TypeHeader(contentType))
	}
	for {
		if err := t.send(FormRequest); err != nil {
			return nil, err
		}
		p, err := t.recv(FormResponse)
		if err != nil {
			return nil, err
		}
		if p.Code != RespOK && p.Code != RespContinue {
			return nil, &ResponseError{Op: "GET", Code: p.Code}
		}
		for i := range p.Headers {
			h := &p.Headers[i]
			switch h.ID {
			case HdrType:
				r.ContentType = h.TypeString()
			case HdrLength:
				if int64(h.Value) > int64(t.o.MaxResponse) {
					return nil, fmt.Errorf("obex: reply of %d bytes exceeds %d", h.Value, t.o.MaxResponse)
				}
				if buf == nil {
					buf = make([]byte, 0, min(int(h.Value), 1<<20))
				}
			case HdrHTTP:
				if v := httpLines(h.Data, headerHMAC); v != "" {
					r.HMAC = v
				}
			case HdrBody, HdrEndOfBody:
				if len(buf)+len(h.Data) > t.o.MaxResponse {
					return nil, fmt.Errorf("obex: reply exceeds %d bytes", t.o.MaxResponse)
				}
				buf = append(buf, h.Data...)
			}
		}
		if p.Code == RespOK {
			break
		}
		t.out = Packet{Code: OpGet | FinalBit, Headers: t.out.Headers[:0]}
		t.idHeader()
	}
	if len(buf) == 0 {
		return nil, errors.New("obex: GET returned no DM message")
	}
	r.Body = buf
	return r, nil
}
