package wsp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// Defaults of Options.
const (
	DefaultRetryInterval      = 3 * time.Second
	DefaultMaxRetransmissions = 4
	DefaultResultTimeout      = 2 * time.Minute
	DefaultSegmentSize        = 1400
	// DefaultGroupSize is one packet per group: every packet of a long
	// message is acknowledged before the next goes. Gateways acknowledge a
	// larger group whose packets did not all arrive (Kannel 1.4.5 then
	// forwards the message cut at the gap), so only groups of one keep
	// messages whole.
	DefaultGroupSize   = 1
	DefaultMaxResponse = 256 << 10
)

// Options configures a Transport. Zero values take the documented defaults.
type Options struct {
	// Gateway is the WAP gateway's connection-oriented WSP address,
	// "host:port" (port default 9201). Ignored when Link is set.
	Gateway string
	// Link replaces the UDP socket to the gateway (tests).
	Link Link
	// Clock drives the WTP timers (default: the system clock).
	Clock Clock
	// RetryInterval is the WTP retransmission interval R (default 3 s):
	// an invoke (or group) the gateway neither acknowledged nor answered
	// is sent again after it, at most MaxRetransmissions times (RCR,
	// default 4) before the transaction fails with ErrNoResponse
	// (WAP-224-WTP §8.2, Appendix A).
	RetryInterval      time.Duration
	MaxRetransmissions int
	// ResultTimeout bounds the wait for a result once the gateway
	// acknowledged the invoke (default 2 min); the request context bounds
	// it too.
	ResultTimeout time.Duration
	// SegmentSize is the user data of one WTP packet (default 1400);
	// larger messages are segmented (WAP-224-WTP §8.14) into groups of
	// GroupSize packets (default 1, see DefaultGroupSize), at most 256
	// packets.
	SegmentSize, GroupSize int
	// NoSAR turns segmentation off: every message must fit one packet and
	// the gateway is told the device does not reassemble results.
	NoSAR bool
	// MaxResponse bounds a reply body (default 256 KiB). The Connect
	// proposes it (plus room for headers) as the Client-SDU-Size, so give
	// at least the DM MaxMsgSize.
	MaxResponse int
	// UserAgent is the User-Agent header (default "omadm-agent").
	UserAgent string
	// Accept lists the media types sent in Accept (default both DM types).
	Accept []string
	// Trace, when set, sees every datagram sent and received.
	Trace func(sent bool, datagram []byte)
}

// StatusError is a Reply whose status is not 2xx: a transport failure (DM
// errors travel as Status commands inside a 200 reply).
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("wsp: gateway replied HTTP %d", e.Code) }

// HTTPStatus returns the HTTP status the WSP status stands for, so the
// engine can tell a refusal (4xx) from a failure (5xx) without importing
// this package.
func (e *StatusError) HTTPStatus() int { return e.Code }

// RefusedError is a Connect the gateway refused (Redirect, or a Reply with
// an error status).
type RefusedError struct {
	What     string
	Status   int
	Redirect bool
}

func (e *RefusedError) Error() string {
	if e.Redirect {
		return fmt.Sprintf("wsp: gateway redirected the %s (redirection is not supported)", e.What)
	}
	return fmt.Sprintf("wsp: gateway refused the %s with HTTP %d", e.What, e.Status)
}

// Transport carries DM messages as WSP Post requests in a connection-
// oriented session over WTP class 2 transactions through a WAP gateway.
// It implements client.Transport. Request.URL is the URI of the Post: the
// HTTP URL the gateway fetches. One request runs at a time (Method MOR 1).
type Transport struct {
	o        Options
	mu       sync.Mutex
	link     Link
	wtp      *initiator
	session  bool
	sid      uint32
	caps     Capabilities
	peerGone bool // the gateway sent Disconnect
}

var (
	_ client.Transport      = (*Transport)(nil)
	_ client.RespURIChecker = (*Transport)(nil)
)

// CheckRespURI applies the HTTP binding's rules to a RespURI
// (client.RespURIChecker): the gateway fetches it over HTTP, so it must be
// an absolute http or https URL, and a session that started on https does
// not move to plain http.
func (t *Transport) CheckRespURI(cur, next string) error { return dmhttp.CheckRespURI(cur, next) }

// New builds a Transport; the session opens on the first request.
func New(o Options) (*Transport, error) {
	if o.Link == nil && o.Gateway == "" {
		return nil, errors.New("wsp: Options.Gateway or Options.Link is required")
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.MaxRetransmissions <= 0 {
		o.MaxRetransmissions = DefaultMaxRetransmissions
	}
	if o.ResultTimeout <= 0 {
		o.ResultTimeout = DefaultResultTimeout
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize > MaxDatagram-8 {
		return nil, fmt.Errorf("wsp: segment size %d is more than a datagram carries", o.SegmentSize)
	}
	if o.GroupSize <= 0 {
		o.GroupSize = DefaultGroupSize
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.UserAgent == "" {
		o.UserAgent = "omadm-agent"
	}
	if len(o.Accept) == 0 {
		o.Accept = []string{syncml.ContentTypeWBXML, syncml.ContentTypeXML}
	}
	return &Transport{o: o}, nil
}

func (t *Transport) open() error {
	if t.wtp != nil {
		return nil
	}
	l := t.o.Link
	if l == nil {
		var err error
		if l, err = DialUDP(t.o.Gateway); err != nil {
			return err
		}
	}
	t.link = l
	t.wtp = newInitiator(l, timers{
		retry: t.o.RetryInterval, maxRCR: t.o.MaxRetransmissions, wait: t.o.ResultTimeout,
		segment: t.o.SegmentSize, group: t.o.GroupSize, noSAR: t.o.NoSAR,
		maxResult: t.o.MaxResponse + 4096, clock: t.o.Clock, trace: t.o.Trace,
		onPeerPDU: t.peerInvoke, initialTID: uint16(rand.IntN(0x8000)),
	})
	return nil
}

// peerInvoke handles a transaction the gateway starts: a Disconnect ends
// the session (WAP-230-WSP §8.2.2.4); other invokes are not served.
func (t *Transport) peerInvoke(p PDU) {
	if len(p.Data) > 0 && p.Data[0] == wspDisconnect {
		t.peerGone = true
	}
}

// clientSDU is the Client-SDU-Size proposed: the largest Reply accepted.
func (t *Transport) clientSDU() uint32 { return uint32(t.o.MaxResponse + 4096) }

// connect opens the WSP session (WAP-230-WSP §8.2.2.1): Connect in a class
// 2 transaction, ConnectReply with the session id and the capabilities the
// gateway settled.
func (t *Transport) connect(ctx context.Context) error {
	proposal := Capabilities{ClientSDUSize: t.clientSDU(), MethodMOR: 1, PushMOR: 1}
	res, err := t.wtp.transact(ctx, encodeConnect(proposal, nil), Class2)
	if err != nil {
		return fmt.Errorf("wsp: connect to %s: %w", t.gatewayName(), t.explain(err))
	}
	cr, err := DecodeConnectReply(res)
	if err != nil {
		return err
	}
	t.session, t.sid, t.caps, t.peerGone = true, cr.SessionID, cr.Capabilities, false
	return nil
}

// Session reports whether a WSP session is open and its id.
func (t *Transport) Session() (id uint32, caps Capabilities, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid, t.caps, t.session
}

// RoundTrip posts one DM message and returns the reply (client.Transport).
// A session the gateway lost (Abort, no answer, Disconnect) is opened again
// on the next call, so the engine's retries reconnect.
func (t *Transport) RoundTrip(ctx context.Context, req *client.Request) (*client.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if strings.ContainsRune(req.HMAC, 0) || strings.ContainsRune(req.URL, 0) || strings.ContainsRune(req.ContentType, 0) {
		return nil, errors.New("wsp: NUL in the request URI, content type or x-syncml-hmac (WSP text ends at NUL)")
	}
	if err := t.open(); err != nil {
		return nil, err
	}
	if t.peerGone {
		t.session = false
	}
	if !t.session {
		if err := t.connect(ctx); err != nil {
			return nil, err
		}
	}
	var hdr []byte
	hdr = appendAccept(hdr, t.o.Accept...)
	hdr = appendHeaderText(hdr, fieldUserAgent, t.o.UserAgent)
	if req.HMAC != "" {
		hdr = appendAppHeader(hdr, HMACHeader, req.HMAC)
	}
	post := encodePost(req.URL, req.ContentType, hdr, req.Body)
	if s := t.caps.ServerSDUSize; s > 0 && uint64(len(post)) > uint64(s) {
		return nil, fmt.Errorf("%w: the Post of %d octets is larger than the gateway's Server-SDU-Size %d", ErrTooLarge, len(post), s)
	}
	res, err := t.wtp.transact(ctx, post, Class2)
	if isDisconnect(err) {
		// The gateway has no session for us (it timed out or restarted):
		// the request went no further (WAP-230-WSP §8.2.2.4), so open a
		// new session and send it once more.
		t.session = false
		if err := t.connect(ctx); err != nil {
			return nil, err
		}
		res, err = t.wtp.transact(ctx, post, Class2)
	}
	if err != nil {
		// The method failed; the session may be gone with it: open a new
		// one next time.
		t.session = false
		return nil, t.explain(err)
	}
	r, err := DecodeReply(res)
	if err != nil {
		t.session = false
		return nil, err
	}
	if r.Status < 200 || r.Status > 299 {
		return nil, &StatusError{Code: r.Status}
	}
	if len(r.Body) > t.o.MaxResponse {
		return nil, fmt.Errorf("%w: reply body of %d octets, more than %d", ErrTooLarge, len(r.Body), t.o.MaxResponse)
	}
	// The server sees the session over TLS when the gateway fetches an
	// https URL, and then authenticates once per session
	// (OMA-TS-DM_Security-V1_2 §5.3); the device's checks of the server
	// follow the same rule so that both sides agree.
	secure := strings.HasPrefix(strings.ToLower(req.URL), "https:")
	return &client.Response{ContentType: r.ContentType, HMAC: r.Get(HMACHeader), Body: r.Body, SecureSession: secure}, nil
}

// Close ends the session with a Disconnect (a class 0 transaction,
// WAP-230-WSP §8.2.2.4) and releases the socket.
func (t *Transport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wtp == nil {
		return nil
	}
	if t.session && !t.peerGone {
		_, _ = t.wtp.transact(context.Background(), encodeDisconnect(t.sid), Class0)
	}
	t.session = false
	err := t.link.Close()
	t.wtp, t.link = nil, nil
	return err
}

// isDisconnect reports a method the gateway aborted because no session
// exists (WSP abort reason DISCONNECT).
func isDisconnect(err error) bool {
	var ab *AbortError
	return errors.As(err, &ab) && !ab.Local && ab.Type == AbortUser && ab.Reason == wspAbortDisconnect
}

// explain adds what the socket saw to a transaction that got no answer.
func (t *Transport) explain(err error) error {
	if r, ok := t.link.(interface{ Refused() bool }); ok && r.Refused() && errors.Is(err, ErrNoResponse) {
		return fmt.Errorf("%w (the gateway's port answered ICMP port unreachable: is the gateway running?)", err)
	}
	return err
}

func (t *Transport) gatewayName() string {
	if t.o.Gateway != "" {
		return t.o.Gateway
	}
	return "the gateway"
}
