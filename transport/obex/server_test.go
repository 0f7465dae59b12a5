package obex_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/obex"
)

const (
	typeXML   = "application/vnd.syncml.dm+xml"
	typeWBXML = "application/vnd.syncml.dm+wbxml"
)

// echoEngine answers every message with "reply:" and its body, in its
// content type; it records what it was handed.
type echoEngine struct {
	mu     sync.Mutex
	ins    []envelope.Inbound
	tokens []string // in.Token() of each message
	secure []bool
	max    int
	err    error
	hmac   string
}

func (e *echoEngine) Handle(_ context.Context, in *envelope.Inbound) (*envelope.Outbound, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cp := *in
	cp.Body = bytes.Clone(in.Body)
	e.ins = append(e.ins, cp)
	e.tokens = append(e.tokens, in.Token())
	e.secure = append(e.secure, in.SecureSession)
	if e.err != nil {
		return nil, e.err
	}
	if in.RespURI("t") != "" {
		return nil, errors.New("a connection-bound binding wrote a RespURI")
	}
	tok := ""
	if !bytes.HasPrefix(in.Body, []byte("end")) {
		tok = fmt.Sprintf("tok-%d", len(e.ins))
	}
	return &envelope.Outbound{Body: append([]byte("reply:"), in.Body...), ContentType: in.ContentType, HMAC: e.hmac, Token: tok}, nil
}

func (e *echoEngine) MaxMessageSize() int { return e.max }

func (e *echoEngine) handled() []envelope.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]envelope.Inbound(nil), e.ins...)
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startServerB serves an echo engine for benchmarks.
func startServerB(b *testing.B, maxPacket int) (*obex.Server, string) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := obex.NewServer(&benchEngine{}, &obex.ServerOptions{Logger: quietLog(), MaxPacket: maxPacket})
	go func() { _ = s.Serve(ln) }()
	b.Cleanup(func() { s.Close() })
	return s, ln.Addr().String()
}

// benchEngine answers every message with itself.
type benchEngine struct{}

func (benchEngine) Handle(_ context.Context, in *envelope.Inbound) (*envelope.Outbound, error) {
	return &envelope.Outbound{Body: in.Body, ContentType: in.ContentType, Token: "t"}, nil
}

// startServer serves e over OBEX/TCP on 127.0.0.1 port 0.
func startServer(t *testing.T, e obex.Engine, o *obex.ServerOptions) (*obex.Server, string) {
	t.Helper()
	if o == nil {
		o = &obex.ServerOptions{}
	}
	if o.Logger == nil {
		o.Logger = quietLog()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := obex.NewServer(e, o)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, obex.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

// peer is a scripted OBEX client speaking raw packets.
type peer struct {
	t  *testing.T
	c  net.Conn
	id uint32
}

func dialPeer(t *testing.T, addr string) *peer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Bounds a hang only; no test waits for it.
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &peer{t: t, c: c}
}

func (p *peer) send(pk obex.Packet) {
	p.t.Helper()
	b, err := pk.Append(nil, obex.FormRequest)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) recv(f obex.Form) *obex.Packet {
	p.t.Helper()
	b, err := obex.ReadPacket(p.c, nil, obex.MaxPacketSize)
	if err != nil {
		p.t.Fatalf("reading response: %v", err)
	}
	pk, err := obex.DecodePacket(b, f)
	if err != nil {
		p.t.Fatal(err)
	}
	return pk
}

func (p *peer) do(pk obex.Packet) *obex.Packet {
	p.t.Helper()
	p.send(pk)
	return p.recv(obex.FormResponse)
}

func (p *peer) connect(target string, maxPacket uint16) *obex.Packet {
	p.t.Helper()
	p.send(obex.Packet{Code: obex.OpConnect, Version: obex.Version, MaxPacket: maxPacket, Headers: []obex.Header{obex.Bytes(obex.HdrTarget, []byte(target))}})
	r := p.recv(obex.FormConnectResponse)
	if h := r.Header(obex.HdrConnectionID); h != nil {
		p.id = h.Value
	}
	return r
}

func (p *peer) cid() obex.Header { return obex.Uint32(obex.HdrConnectionID, p.id) }

// wantEOF waits until the server closes the connection.
func (p *peer) wantEOF() {
	p.t.Helper()
	var b [64]byte
	for {
		_, err := p.c.Read(b[:])
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			p.t.Fatalf("want the server to close the connection, got %v", err)
		}
		return
	}
}

func wantCode(t *testing.T, what string, got *obex.Packet, want byte) {
	t.Helper()
	if got.Code != want {
		t.Fatalf("%s: response 0x%02X, want 0x%02X", what, got.Code, want)
	}
}

// DM over OBEX: CONNECT names the SYNCML-DM target; the answer carries Who
// and a Connection ID (IrOBEX 1.2 §2.2.10, §2.2.11; transports.md §3 —
// the SyncML OBEX binding text was not available).
func TestServer_ConnectAnswersWhoAndConnectionID(t *testing.T) {
	_, addr := startServer(t, &echoEngine{}, &obex.ServerOptions{MaxPacket: 4096})
	p := dialPeer(t, addr)
	r := p.connect(obex.Target, 1024)
	wantCode(t, "CONNECT", r, obex.RespOK)
	if r.MaxPacket != 4096 || r.Version != obex.Version {
		t.Errorf("max packet %d version 0x%02X", r.MaxPacket, r.Version)
	}
	if w := r.Header(obex.HdrWho); w == nil || string(w.Data) != obex.Target {
		t.Errorf("Who header %v", w)
	}
	if r.Header(obex.HdrConnectionID) == nil {
		t.Error("no Connection ID")
	}
}

func TestServer_RefusesOtherTargets(t *testing.T) {
	for _, target := range []string{"SYNCML-SYNC", "", "\xf9\xec\x7b\xc4"} {
		t.Run(target, func(t *testing.T) {
			_, addr := startServer(t, &echoEngine{}, nil)
			p := dialPeer(t, addr)
			var r *obex.Packet
			if target == "" {
				p.send(obex.Packet{Code: obex.OpConnect, Version: obex.Version, MaxPacket: 1024})
				r = p.recv(obex.FormConnectResponse)
			} else {
				r = p.connect(target, 1024)
			}
			wantCode(t, "CONNECT", r, obex.RespServiceUnavailable)
			// Nothing of DM is reachable without the DM target.
			wantCode(t, "PUT", p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("<SyncML/>"))}}), obex.RespForbidden)
		})
	}
}

// A DM message larger than the packets is PUT in several packets, each but
// the last answered Continue (IrOBEX 1.2 §3.3.3), and the reply is fetched
// by GETs answered Continue until the last, OK with End-of-Body (§3.3.4).
func TestServer_MultiPacketPutAndGet(t *testing.T) {
	e := &echoEngine{hmac: "algorithm=MD5, username=\"srv\", mac=abc"}
	_, addr := startServer(t, e, &obex.ServerOptions{MaxPacket: 300})
	p := dialPeer(t, addr)
	wantCode(t, "CONNECT", p.connect(obex.Target, 255), obex.RespOK)
	msg := bytes.Repeat([]byte("0123456789"), 100)
	chunks := [][]byte{msg[:100], msg[100:350], msg[350:600], msg[600:850], msg[850:]}
	for i, c := range chunks {
		pk := obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid()}}
		if i == 0 {
			pk.Headers = append(pk.Headers, obex.TypeHeader(typeWBXML), obex.Uint32(obex.HdrLength, uint32(len(msg))),
				obex.Bytes(obex.HdrHTTP, []byte("X-SyncML-HMAC: algorithm=MD5, username=\"dev\", mac=xyz\r\n")))
		}
		if i == len(chunks)-1 {
			pk.Code |= obex.FinalBit
			pk.Headers = append(pk.Headers, obex.Bytes(obex.HdrEndOfBody, c))
			wantCode(t, "final PUT", p.do(pk), obex.RespOK)
		} else {
			pk.Headers = append(pk.Headers, obex.Bytes(obex.HdrBody, c))
			wantCode(t, "PUT", p.do(pk), obex.RespContinue)
		}
	}
	in := e.handled()
	if len(in) != 1 || !bytes.Equal(in[0].Body, msg) || in[0].ContentType != typeWBXML || in[0].HMAC != `algorithm=MD5, username="dev", mac=xyz` {
		t.Fatalf("engine got %d messages: %+v", len(in), in)
	}
	var got []byte
	r := p.do(obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeWBXML)}})
	if ty := r.Header(obex.HdrType); ty == nil || ty.TypeString() != typeWBXML {
		t.Errorf("reply Type %v", ty)
	}
	if l := r.Header(obex.HdrLength); l == nil || int(l.Value) != len(msg)+6 {
		t.Errorf("reply Length %v", l)
	}
	if h := r.Header(obex.HdrHTTP); h == nil || !bytes.Contains(h.Data, []byte("x-syncml-hmac: "+e.hmac)) {
		t.Errorf("reply HTTP header %v", h)
	}
	packets := 1
	for r.Code == obex.RespContinue {
		if b := r.Header(obex.HdrBody); b != nil {
			got = append(got, b.Data...)
		}
		r = p.do(obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid()}})
		packets++
	}
	wantCode(t, "last GET", r, obex.RespOK)
	got = append(got, r.Header(obex.HdrEndOfBody).Data...)
	if !bytes.Equal(got, append([]byte("reply:"), msg...)) {
		t.Fatalf("reply %q", got)
	}
	if packets < 4 {
		t.Errorf("reply came in %d packets; the peer's 255-byte packets need at least 4", packets)
	}
	// The reply is fetched once.
	wantCode(t, "second GET", p.do(obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid()}}), obex.RespNotFound)
	wantCode(t, "DISCONNECT", p.do(obex.Packet{Code: obex.OpDisconnect, Headers: []obex.Header{p.cid()}}), obex.RespOK)
	p.wantEOF()
}

// A PUT announcing more than the engine's maximum message size is refused
// on its Length header, and one without Length as soon as its body passes
// the maximum: the server never buffers the whole of it.
func TestServer_RefusesOversizePut(t *testing.T) {
	for _, withLength := range []bool{true, false} {
		name := "without Length"
		if withLength {
			name = "on its Length header"
		}
		t.Run(name, func(t *testing.T) {
			e := &echoEngine{max: 1000}
			_, addr := startServer(t, e, nil)
			p := dialPeer(t, addr)
			p.connect(obex.Target, 2048)
			first := obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML)}}
			if withLength {
				first.Headers = append(first.Headers, obex.Uint32(obex.HdrLength, 1<<30))
				wantCode(t, "PUT", p.do(first), obex.RespEntityTooLarge)
			} else {
				first.Headers = append(first.Headers, obex.Bytes(obex.HdrBody, make([]byte, 600)))
				wantCode(t, "PUT 1", p.do(first), obex.RespContinue)
				wantCode(t, "PUT 2", p.do(obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid(), obex.Bytes(obex.HdrBody, make([]byte, 600))}}), obex.RespEntityTooLarge)
			}
			if n := len(e.handled()); n != 0 {
				t.Fatalf("engine handled %d messages", n)
			}
			// The connection stays usable for a message of allowed size.
			wantCode(t, "small PUT", p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("<SyncML/>"))}}), obex.RespOK)
		})
	}
}

// ABORT ends the PUT in progress (IrOBEX 1.2 §3.3.5): nothing reaches the
// engine and the next PUT starts afresh.
func TestServer_AbortMidPutDropsTheMessage(t *testing.T) {
	e := &echoEngine{}
	_, addr := startServer(t, e, nil)
	p := dialPeer(t, addr)
	p.connect(obex.Target, 2048)
	wantCode(t, "PUT", p.do(obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrBody, []byte("<Sync"))}}), obex.RespContinue)
	wantCode(t, "ABORT", p.do(obex.Packet{Code: obex.OpAbort, Headers: []obex.Header{p.cid()}}), obex.RespOK)
	wantCode(t, "GET", p.do(obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid()}}), obex.RespNotFound)
	wantCode(t, "PUT again", p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("<SyncML/>"))}}), obex.RespOK)
	in := e.handled()
	if len(in) != 1 || string(in[0].Body) != "<SyncML/>" {
		t.Fatalf("engine got %+v", in)
	}
}

// A peer that disconnects, or drops the connection, in the middle of a
// message leaves nothing behind in the engine.
func TestServer_DisconnectMidMessage(t *testing.T) {
	for _, drop := range []bool{false, true} {
		name := "DISCONNECT"
		if drop {
			name = "connection dropped"
		}
		t.Run(name, func(t *testing.T) {
			e := &echoEngine{}
			s, addr := startServer(t, e, nil)
			p := dialPeer(t, addr)
			p.connect(obex.Target, 2048)
			wantCode(t, "PUT", p.do(obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrBody, []byte("<Sync"))}}), obex.RespContinue)
			if drop {
				p.c.Close()
			} else {
				wantCode(t, "DISCONNECT", p.do(obex.Packet{Code: obex.OpDisconnect, Headers: []obex.Header{p.cid()}}), obex.RespOK)
				p.wantEOF()
			}
			s.Close() // waits for the connection's goroutine
			if n := len(e.handled()); n != 0 {
				t.Fatalf("engine handled %d messages", n)
			}
		})
	}
}

// Requests that break the binding get a clear OBEX response code.
func TestServer_RefusesRequestsOutsideTheBinding(t *testing.T) {
	e := &echoEngine{}
	_, addr := startServer(t, e, nil)
	p := dialPeer(t, addr)
	wantCode(t, "PUT before CONNECT", p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("x"))}}), obex.RespForbidden)
	p.connect(obex.Target, 2048)
	cases := []struct {
		name string
		pk   obex.Packet
		want byte
	}{
		{"PUT of another type", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader("text/x-vcard"), obex.Bytes(obex.HdrEndOfBody, []byte("x"))}}, obex.RespUnsupportedMediaType},
		{"PUT without Type", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.Bytes(obex.HdrEndOfBody, []byte("x"))}}, obex.RespBadRequest},
		{"PUT without body", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML)}}, obex.RespBadRequest},
		{"PUT shorter than its Length", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Uint32(obex.HdrLength, 10), obex.Bytes(obex.HdrEndOfBody, []byte("x"))}}, obex.RespBadRequest},
		{"PUT longer than its Length", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Uint32(obex.HdrLength, 1), obex.Bytes(obex.HdrEndOfBody, []byte("xy"))}}, obex.RespEntityTooLarge},
		{"PUT with another connection id", obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{obex.Uint32(obex.HdrConnectionID, p.id+1), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("x"))}}, obex.RespServiceUnavailable},
		{"GET before any PUT", obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML)}}, obex.RespNotFound},
		{"GET of another type", obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader("x-obex/folder-listing")}}, obex.RespUnsupportedMediaType},
		{"SETPATH", obex.Packet{Code: obex.OpSetPath, Headers: []obex.Header{p.cid()}}, obex.RespNotImplemented},
		{"unknown opcode", obex.Packet{Code: 0x86}, obex.RespNotImplemented},
	}
	for _, c := range cases {
		wantCode(t, c.name, p.do(c.pk), c.want)
	}
	if n := len(e.handled()); n != 0 {
		t.Fatalf("engine handled %d messages", n)
	}
}

// Engine errors map to OBEX response codes the way the HTTP binding maps
// them to HTTP statuses.
func TestServer_EngineErrorsBecomeResponseCodes(t *testing.T) {
	cases := []struct {
		code syncml.StatusCode
		want byte
	}{
		{syncml.StatusBadRequest, obex.RespBadRequest},
		{syncml.StatusEntityTooLarge, obex.RespEntityTooLarge},
		{syncml.StatusServiceUnavailable, obex.RespServiceUnavailable},
		{syncml.StatusCommandFailed, obex.RespInternalError},
	}
	for _, c := range cases {
		e := &echoEngine{err: syncml.Errorf(c.code, "refused")}
		_, addr := startServer(t, e, nil)
		p := dialPeer(t, addr)
		p.connect(obex.Target, 2048)
		wantCode(t, c.code.String(), p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("<SyncML/>"))}}), c.want)
	}
}

// A silent peer is dropped after the idle timeout.
func TestServer_IdleConnectionIsClosed(t *testing.T) {
	_, addr := startServer(t, &echoEngine{}, &obex.ServerOptions{IdleTimeout: 20 * time.Millisecond})
	p := dialPeer(t, addr)
	p.connect(obex.Target, 2048)
	p.wantEOF()
}

// A packet longer than the maximum the server announced loses the packet
// boundary: the server answers Bad Request and closes.
func TestServer_PacketLongerThanAnnouncedClosesConnection(t *testing.T) {
	_, addr := startServer(t, &echoEngine{}, &obex.ServerOptions{MaxPacket: 512})
	p := dialPeer(t, addr)
	p.connect(obex.Target, 2048)
	p.send(obex.Packet{Code: obex.OpPut, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrBody, make([]byte, 1000))}})
	wantCode(t, "PUT", p.recv(obex.FormResponse), obex.RespBadRequest)
	p.wantEOF()
}

// The client transport against the server: multi-packet both ways, HMAC
// both ways, the DS media types answered in kind.
func TestClientTransport_RoundTripsThroughServer(t *testing.T) {
	e := &echoEngine{hmac: "algorithm=MD5, username=\"srv\", mac=m"}
	_, addr := startServer(t, e, &obex.ServerOptions{MaxPacket: 600})
	tp, err := obex.DialURL("obex://"+addr, obex.ClientOptions{MaxPacket: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, ct := range []string{typeXML, typeWBXML, "application/vnd.syncml+xml"} {
		body := bytes.Repeat([]byte{byte('a' + i)}, 5000)
		resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: ct, Body: body, HMAC: "algorithm=MD5, username=\"dev\", mac=d"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(resp.Body, append([]byte("reply:"), body...)) || resp.ContentType != ct || resp.HMAC != e.hmac {
			t.Fatalf("message %d: type %q hmac %q body %d bytes", i, resp.ContentType, resp.HMAC, len(resp.Body))
		}
	}
	in := e.handled()
	if len(in) != 3 || in[0].HMAC != `algorithm=MD5, username="dev", mac=d` {
		t.Fatalf("engine got %d messages, first HMAC %q", len(in), in[0].HMAC)
	}
}

// A server that dropped the idle connection between two messages costs
// the client nothing: it connects again.
func TestClientTransport_ReconnectsAfterServerDroppedConnection(t *testing.T) {
	e := &echoEngine{}
	_, addr := startServer(t, e, nil)
	var mu sync.Mutex
	var conns []net.Conn
	tp, err := obex.NewClientTransport(obex.ClientOptions{Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	ctx := context.Background()
	if _, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeXML, Body: []byte("<one/>")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	conns[0].Close() // as if the server had timed it out
	mu.Unlock()
	resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeXML, Body: []byte("<two/>")})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "reply:<two/>" {
		t.Fatalf("reply %q", resp.Body)
	}
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2", len(conns))
	}
}

// Refusals reach the DM client as errors naming the OBEX response.
func TestClientTransport_ReportsRefusals(t *testing.T) {
	e := &echoEngine{max: 100}
	_, addr := startServer(t, e, nil)
	tp, err := obex.DialURL("obex://"+addr, obex.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	_, err = tp.RoundTrip(context.Background(), &client.Request{ContentType: typeXML, Body: make([]byte, 500)})
	var re *obex.ResponseError
	if !errors.As(err, &re) || re.Code != obex.RespEntityTooLarge || re.Op != "PUT" {
		t.Fatalf("err = %v", err)
	}
}

func TestDialURL_RefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1", "obex://", "obex://h:1/path", "obex+serial://host/dev/tty", "obex+serial://"} {
		if _, err := obex.DialURL(u, obex.ClientOptions{}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	for _, u := range []string{"obex://127.0.0.1:650", "obex://localhost", "obex+serial:///dev/ttyUSB0"} {
		if !obex.IsURL(u) {
			t.Errorf("%s not an OBEX URL", u)
		}
		if _, err := obex.DialURL(u, obex.ClientOptions{}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// The OBEX connection is the session's address (transports.md §3: the
// Connection ID identifies the exchange; envelope's connection-bound
// binding): each message reaches the engine with the token the
// connection's last fetched reply named, a reply not fetched (ABORT of
// the GET) does not move it, a session's end forgets it, and another
// connection starts without one.
func TestServer_SessionTokenIsBoundToTheConnection(t *testing.T) {
	e := &echoEngine{}
	_, addr := startServer(t, e, &obex.ServerOptions{SecureLink: true})
	p := dialPeer(t, addr)
	p.connect(obex.Target, 2048)
	exchange := func(p *peer, body string, fetch bool) {
		t.Helper()
		wantCode(t, "PUT "+body, p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte(body))}}), obex.RespOK)
		if fetch {
			wantCode(t, "GET "+body, p.do(obex.Packet{Code: obex.OpGet | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML)}}), obex.RespOK)
		} else {
			wantCode(t, "ABORT", p.do(obex.Packet{Code: obex.OpAbort, Headers: []obex.Header{p.cid()}}), obex.RespOK)
		}
	}
	exchange(p, "m1", true)   // names tok-1
	exchange(p, "m2", false)  // names tok-2, never fetched
	exchange(p, "m3", true)   // names tok-3
	exchange(p, "end4", true) // ends the session
	exchange(p, "m5", true)   // a new session on the same connection
	q := dialPeer(t, addr)
	q.connect(obex.Target, 2048)
	exchange(q, "m6", true)
	want := []string{"", "tok-1", "tok-1", "tok-3", "", ""}
	e.mu.Lock()
	defer e.mu.Unlock()
	if fmt.Sprint(e.tokens) != fmt.Sprint(want) {
		t.Fatalf("tokens handed to the engine %q, want %q", e.tokens, want)
	}
	for i, s := range e.secure {
		if !s {
			t.Fatalf("message %d: SecureSession not set on a SecureLink server", i+1)
		}
	}
}
