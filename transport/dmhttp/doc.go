// Package dmhttp is the HTTP binding of OMA DM for both sides: the server
// handler that feeds the server engine (server*.go) and the client transport
// the device agent posts its messages with (client*.go).
//
// Every DM message is one POST; the server's message is the response body.
// Content types are application/vnd.syncml.dm+xml and +wbxml, the HMAC proof
// travels in the x-syncml-hmac header, and session continuity comes from the
// SyncHdr (SessionID, MsgID, RespURI), never from HTTP cookies.
package dmhttp
