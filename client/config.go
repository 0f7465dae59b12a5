package client

import (
	"context"
	"log/slog"
	"time"

	"github.com/omadm/omadm/syncml"
)

// Value is a node value handed to the tree: Data holds decoded bytes (base64
// input is decoded by the engine and stored with Format "bin").
type Value struct {
	Format, Type string
	Data         []byte
}

// Result is one node read from the tree by Get.
type Result struct {
	URI, Format, Type string
	Data              []byte
}

// Tree is what the engine needs from the device tree. principal is the
// ServerID of the authenticated server, so the tree enforces ACLs; errors carry
// their status as *syncml.StatusError. DMTree adapts a *dmtree.Tree.
type Tree interface {
	Add(principal, uri string, v Value) error
	Replace(principal, uri string, v Value) error
	Delete(principal, uri string) error
	Get(principal, uri string) ([]Result, error)
	Copy(principal, target, source string) error
	Exec(ctx context.Context, principal, uri string, data []byte, correlator string) (syncml.StatusCode, error)
	// Begin starts an all-or-nothing transaction for Atomic.
	Begin() Tx
}

// TreeRoom is an optional ability of a Tree: the room it has for values.
// With it the engine refuses a large object on its first chunk when the
// declared size can never be stored (413 above MaxValue, 420 above Free),
// instead of buffering chunks the tree will refuse. DMTree implements it.
type TreeRoom interface {
	// Room returns the largest value the tree stores (0 = no bound) and
	// the bytes left for values (negative = no bound).
	Room() (maxValue int, free int64)
}

// Tx is an Atomic transaction on the tree.
type Tx interface {
	Add(principal, uri string, v Value) error
	Replace(principal, uri string, v Value) error
	Delete(principal, uri string) error
	Copy(principal, target, source string) error
	Commit() error
	Rollback() error
}

// Account is the DM account (DMAcc) the session runs against.
type Account struct {
	// ServerID is the server identifier: the ACL principal and the package 0 id.
	ServerID string
	// ServerURL is the first request address (AppAddr); RespURI overrides it.
	ServerURL string
	// AuthScheme is the client credential scheme: syncml.AuthBasic,
	// syncml.AuthMD5, syncml.AuthMAC, or "" when only the transport authenticates.
	AuthScheme string
	// ClientName and ClientSecret are the CLCRED name and password.
	ClientName, ClientSecret string
	// ClientNonce is the last nonce the server issued to us (CLCRED AAuthData).
	ClientNonce []byte
	// ServerName and ServerSecret are the SRVCRED name and password; an empty
	// secret means the server is not authenticated at DM level.
	ServerName, ServerSecret string
	// ServerAuthScheme is the scheme the server's credentials must use
	// (SRVCRED AAuthType): syncml.AuthBasic, syncml.AuthMD5 or
	// syncml.AuthMAC; "" means AuthScheme, or md5 when that is empty too.
	// Each direction has its own (OMA-TS-DM_Security-V1_2 §5.1).
	ServerAuthScheme string
	// ServerNonce is the nonce we issued to the server (SRVCRED AAuthData); it
	// is also the package 0 digest nonce. A nonce we issue becomes current only
	// once a server reply to the message carrying it arrived.
	ServerNonce []byte
	// ServerNonceAlt is the one other server nonce still accepted, in the next
	// session only and only until the server authenticates: the nonce we
	// issued last when its delivery was not confirmed (the server may have
	// stored it before the connection broke), or else the nonce the current
	// one replaced (the server may have crashed before storing the new one).
	// It is device-private: persist it through AltNonceStore, never in a node
	// servers can read.
	ServerNonceAlt []byte
}

// NonceLevel says which credential a nonce belongs to.
type NonceLevel string

// Nonce levels, named as DMAcc AAuthLevel values.
const (
	LevelClient NonceLevel = "CLCRED"
	LevelServer NonceLevel = "SRVCRED"
)

// NonceStore persists nonces so the next session starts with the right one
// (DMAcc AppAuth AAuthData). Errors are logged and do not end the session.
type NonceStore interface {
	SaveNonce(serverID string, level NonceLevel, nonce []byte) error
}

// AltNonceStore is an optional ability of a NonceStore: persisting
// Account.ServerNonceAlt (nil clears it) so the safety net survives a restart
// of the agent. Without it the alternate nonce lives in memory only.
type AltNonceStore interface {
	SaveAltServerNonce(serverID string, nonce []byte) error
}

// NonceStoreFunc adapts a function to NonceStore.
type NonceStoreFunc func(serverID string, level NonceLevel, nonce []byte) error

// SaveNonce calls f.
func (f NonceStoreFunc) SaveNonce(serverID string, level NonceLevel, nonce []byte) error {
	return f(serverID, level, nonce)
}

// Request is one DM message on its way to the server.
type Request struct {
	URL         string // the message's address: AppAddr, then the latest RespURI
	ContentType string // syncml.ContentTypeXML or syncml.ContentTypeWBXML
	HMAC        string // x-syncml-hmac header value, "" when not used
	Body        []byte
}

// Response is the server's DM message.
type Response struct {
	ContentType string
	HMAC        string // x-syncml-hmac header of the response, if any
	Body        []byte
	// SecureSession reports that the exchange went over a transport that
	// authenticates the session as a whole (TLS; a trusted local link):
	// the server's credentials are then checked once per session, not in
	// every message (OMA-TS-DM_Security-V1_2 §5.3). The transport decides.
	SecureSession bool
}

// Transport carries one request and its response. Implementations must honour
// ctx and bound the response size. The engine knows no addresses: what
// Request.URL means (an HTTP URL, nothing for a connection-bound binding)
// is the transport's business; see RespURIChecker.
type Transport interface {
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}

// RespURIChecker is an optional ability of a Transport: its rules for the
// addresses a session may move to. Before the session follows a RespURI
// that an authenticated server sent, the engine asks CheckRespURI; an error
// ends the session with ErrProtocol. The HTTP binding refuses anything but
// an absolute http or https URL, and a move from https to plain http.
// Without the ability the session follows any RespURI (a transport that
// wraps another should forward it).
type RespURIChecker interface {
	// CheckRespURI returns an error when the session, whose messages go to
	// cur, must not continue at next.
	CheckRespURI(cur, next string) error
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(ctx context.Context, req *Request) (*Response, error)

// RoundTrip calls f.
func (f TransportFunc) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}

// RetryPolicy says how often a message is re-sent when the transport fails.
type RetryPolicy struct {
	// Attempts is the total number of tries per message (default 3).
	Attempts int
	// Backoff is the wait before the first retry (default 1 s); it doubles per
	// retry up to MaxBackoff (default 30 s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one round trip (default 60 s).
	Timeout time.Duration
}

// Clock is the engine's source of time, replaceable in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Direction says whether a traced message was sent or received.
type Direction int

// Directions of traced messages.
const (
	Sent Direction = iota
	Received
)

func (d Direction) String() string {
	if d == Received {
		return "received"
	}
	return "sent"
}

// TraceEvent is one message as it crossed the wire.
type TraceEvent struct {
	Time        time.Time
	Direction   Direction
	SessionID   string
	MsgID       string
	ContentType string
	Body        []byte
	// Message is the decoded message (nil when a received body did not decode).
	Message *syncml.Message
}

// Config configures a Client. Zero fields take the documented defaults.
type Config struct {
	// Tree is the device tree (required). Use DMTree to adapt a *dmtree.Tree.
	Tree Tree
	// Account is the DM account to talk to (ServerURL and ServerID required).
	Account Account
	// Nonces persists nonces received or issued (optional).
	Nonces NonceStore
	// DeviceID is the SyncHdr Source LocURI (DevInfo/DevId), required.
	DeviceID string
	// Transport carries messages (required).
	Transport Transport
	// Encoding of outgoing messages (default XML).
	Encoding syncml.Encoding
	// UI answers user-interaction alerts 1100–1104; nil answers them with 406.
	UI UI
	// MaxMsgSize is the largest message we accept, advertised in every SyncHdr
	// (default 64 KiB).
	MaxMsgSize int
	// MaxObjSize is the largest object we accept, advertised in SyncHdr
	// (default 4 MiB); larger objects are refused with 413.
	MaxObjSize int
	// Logger receives one line per session and per problem (default: discard).
	Logger *slog.Logger
	// Trace is called for every message sent and received.
	Trace func(TraceEvent)
	// Retry is the policy for transport failures.
	Retry RetryPolicy
	// Clock drives backoff waits (default: the system clock).
	Clock Clock
	// MaxMessages bounds the messages of one session (default 1000), so a
	// looping server cannot keep the device busy forever.
	MaxMessages int
	// MaxSessionTime bounds one session from its first message to its end
	// (default 30 minutes; negative = no bound), so a server that holds
	// the device (slow answers, UI alerts with long MINDT/MAXDT, endless
	// packages) cannot keep it from its next session or notification. A
	// session that runs out sends Alert 1223 and ends with
	// ErrSessionTimeout.
	MaxSessionTime time.Duration
	// MaxPendingResults bounds the bytes of Get results waiting to be sent
	// (default 2 × MaxObjSize). A Get item whose value would go beyond it,
	// while other results still wait, is answered 417 Retry later instead
	// of being copied into memory: a server cannot make the device hold
	// many copies of a large value by getting it many times in one
	// package. A value larger than the bound is still sent when it is the
	// only one waiting.
	MaxPendingResults int64
	// MaxCommands bounds the commands and statuses one session takes from
	// the server (default 100000; members of Atomic and Sequence count),
	// so that what the engine records of a session (SessionResult) stays
	// bounded. Past it the agent sends Alert 1223 and the session ends with
	// ErrTooManyCommands.
	MaxCommands int
}

const (
	defaultMaxMsgSize  = 64 << 10
	defaultMaxObjSize  = 4 << 20
	defaultMaxMessages = 1000
	defaultMaxSession  = 30 * time.Minute
	defaultMaxCommands = 100000
)
