// Package envelope holds the transport-neutral request and reply of one DM
// exchange. The server engine and its transport bindings share these types
// through this leaf package, so a binding (transport/dmhttp, which the device
// agent also links for its client side) never links the engine itself.
package envelope

// Inbound is one DM message as received by a transport binding.
type Inbound struct {
	Body        []byte // exact bytes received
	ContentType string
	HMAC        string // x-syncml-hmac header value, if any
	// RequestURL is the absolute URL the message was posted to, query included
	// (the session token of a RespURI travels in its "s" parameter).
	RequestURL string
	RemoteAddr string
	// ClientCertSHA256 is the lower-case hex SHA-256 of the DER leaf
	// certificate the peer presented and the TLS layer verified ("" when the
	// message did not come over TLS with a client certificate).
	ClientCertSHA256 string
}

// Outbound is the engine's answer, to be sent back by the transport.
type Outbound struct {
	Body        []byte
	ContentType string
	HMAC        string // x-syncml-hmac header value for the reply ("" = none)
}
