// Package dmhttp is the HTTP binding of OMA DM for both sides: the server
// handler that feeds the server engine (server*.go) and the client transport
// the device agent posts its messages with (client*.go).
//
// Every DM message is one POST; the server's message is the response body.
// Content types are application/vnd.syncml.dm+xml and +wbxml (the DS types
// application/vnd.syncml+xml and +wbxml, which several device libraries
// send, are accepted too and answered in kind), the HMAC proof travels in the
// x-syncml-hmac header, and session continuity comes from the SyncHdr
// (SessionID, MsgID, RespURI), never from HTTP cookies.
//
// Every HTTP rule the engines must not know lives here. Server side: the
// session token is the "s" query parameter of the URL a message is posted
// to, and a reply's RespURI is that URL without its query plus
// "?s=<token>" (RequestAddressing, handed to the engine as
// envelope.Inbound.Addr); an https request URL (directly, or behind a proxy
// named by HandlerOptions.ExternalURL) makes the session
// transport-authenticated (SecureURL, envelope.Inbound.SecureSession).
// Client side: a response over TLS is client.Response.SecureSession, and
// ClientTransport.CheckRespURI keeps a session on absolute http(s) URLs and
// on TLS once it started there.
//
// Both sides bound what a peer can make them hold: the server reads a body
// only as it arrives and no further than the engine's message limit, and
// cuts slow or idle connections (ServerLimits, Listen); the client reads
// answers up to ClientOptions.MaxResponse. TLS (ServerTLSConfig) requests or
// requires device certificates and hands the engine the SHA-256 of the one
// presented, which a device account can be bound to.
package dmhttp
