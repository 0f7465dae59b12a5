// Package envelope holds the transport-neutral request and reply of one DM
// exchange. The server engine and its transport bindings share these types
// through this leaf package, so a binding (transport/dmhttp, which the device
// agent also links for its client side) never links the engine itself.
//
// # The transport seam
//
// The engine knows nothing of URLs, HTTP, TLS or connections. A binding
// receives one DM message, fills an Inbound and calls the engine's Handle;
// it sends the Outbound back the way its transport carries a reply. What the
// engine needs from the transport it learns from Inbound:
//
//   - Addr: how the message addressed its session. Addr.Token is the session
//     token the message was sent to ("" for none: a session's first message,
//     or one sent to the server's configured address). Addr.RespURI turns the
//     token of a reply into the text the engine writes into the reply's
//     SyncHdr RespURI ("" writes none). A nil Addr means no token and no
//     RespURI.
//   - SecureSession: the transport authenticates the session as a whole (TLS,
//     or a link the binding trusts, such as OBEX over a local connection), so
//     DM-level credentials are checked once per session and later messages
//     prove they belong to it by its token (OMA-TS-DM_Security-V1_2 §5.3).
//     A verified ClientCertSHA256 counts as SecureSession too.
//   - HMAC: the transport's MAC header (x-syncml-hmac in HTTP, WSP and OBEX
//     alike, OMA-TS-DM_Security-V1_2 §5.4), ContentType, RemoteAddr and
//     ClientCertSHA256.
//
// Outbound.Token tells the binding the session token the device's next
// message is to be addressed to: the session's token while it lives (also
// in a refusal that leaves it alive, such as a MsgID out of sequence), ""
// when the reply ends the session or belongs to none (an unknown token, a
// failed authentication outside a session, an unreadable message). The
// engine has already written Addr.RespURI(token) into the reply; a binding
// whose transport keeps no addresses uses Token itself. When Handle returns
// an error there is no reply and the session's addressing is unchanged.
//
// Two shapes of binding:
//
//   - Request-addressed (HTTP, WSP): the token travels in the address each
//     message is sent to. transport/dmhttp reads it from the "s" query
//     parameter of the request URL and writes RespURI as the request URL
//     without its query plus "?s=<token>"; the device follows RespURI
//     (OMA-TS-DM_Protocol-V1_2, RespURI). Outbound.Token needs no handling.
//   - Connection-bound (OBEX over TCP or a serial line): the session is the
//     connection and there is no URL. Addr.Token returns the token the
//     connection remembered, Addr.RespURI returns "" (no RespURI goes to the
//     device), and after sending a reply the binding remembers
//     Outbound.Token for the connection's next message (forgetting it when
//     Token is "" or the connection closes). See the package example.
package envelope

// Addressing is how a binding addresses sessions: the token a message was
// sent to and the RespURI that brings the next message back to a session.
// Implementations must be safe for the engine to call more than once per
// message; RespURI must not change the Addressing (the reply it is written
// into may still fail and never be sent).
type Addressing interface {
	// Token returns the session token the message was addressed to, ""
	// when it was addressed to none.
	Token() string
	// RespURI returns the SyncHdr RespURI that addresses the session with
	// this token, or "" to write no RespURI.
	RespURI(token string) string
}

// Inbound is one DM message as received by a transport binding.
type Inbound struct {
	Body        []byte // exact bytes received
	ContentType string
	// HMAC is the transport's x-syncml-hmac header value, if any
	// (OMA-TS-DM_Security-V1_2 §5.4).
	HMAC string
	// Addr is how the message addressed its session (nil: no session token,
	// and replies carry no RespURI).
	Addr Addressing
	// SecureSession reports that the transport authenticates the session
	// as a whole (TLS; a trusted local link), so the device's DM-level
	// credentials are checked once per session rather than in every
	// message (OMA-TS-DM_Security-V1_2 §5.3).
	SecureSession bool
	RemoteAddr    string // the peer, for logs and failure limits ("" = unknown)
	// ClientCertSHA256 is the lower-case hex SHA-256 of the DER leaf
	// certificate the peer presented and the TLS layer verified ("" when the
	// message did not come over TLS with a client certificate). A binding
	// sets it only for a verified certificate; the engine then also treats
	// the session as SecureSession.
	ClientCertSHA256 string
}

// Token returns in.Addr's token, "" when in has no Addr.
func (in *Inbound) Token() string {
	if in.Addr == nil {
		return ""
	}
	return in.Addr.Token()
}

// RespURI returns in.Addr's RespURI for token, "" when in has no Addr or
// token is "".
func (in *Inbound) RespURI(token string) string {
	if in.Addr == nil || token == "" {
		return ""
	}
	return in.Addr.RespURI(token)
}

// Outbound is the engine's answer, to be sent back by the transport.
type Outbound struct {
	Body        []byte
	ContentType string
	HMAC        string // x-syncml-hmac header value for the reply ("" = none)
	// Token is the session token the device's next message is to be
	// addressed to: "" when the reply ends its session or belongs to none.
	// The reply's RespURI (if Addr wrote one) already carries it; a
	// connection-bound binding remembers it for the connection.
	Token string
}
