// Package obex is the OBEX binding of OMA DM for both sides: an OBEX packet
// codec (packet.go), the DM server as OBEX server (Server) and the DM
// client as OBEX client (ClientTransport, a client.Transport), over TCP
// ("OBEX over IP", obex://host:port) or a serial line
// (obex+serial:///dev/ttyUSB0).
//
// The exchange follows the SyncML OBEX binding as DM implementations use it
// (the binding text itself was not available; see transports.md §3): the
// client CONNECTs with Target "SYNCML-DM" and gets Who and a Connection ID
// back; each DM message is one PUT (Type application/vnd.syncml.dm+xml or
// +wbxml, Length, Body spread over as many packets as the negotiated
// maximum packet length needs) and the server's message is fetched by a GET
// of the same Type. The HMAC proof travels as an x-syncml-hmac line of the
// OBEX HTTP header.
//
// The OBEX connection is the session's address (the connection-bound shape
// of package envelope): the server hands the engine the session token the
// connection's previous reply named and writes no RespURI; a new OBEX
// connection (or a new CONNECT on a serial line) starts without one. With
// ServerOptions.SecureLink the carrier counts as authenticating the session
// (OMA-TS-DM_Security-V1_2 §5.3), for links the operator trusts.
//
// The reversed roles (the device is the OBEX server and the DM server
// connects to it) are DeviceServer and DialDevice (reverse.go): the DM
// server PUTs an optional package 0, then GETs each device message and PUTs
// the reply.
//
// Not implemented: OBEX authentication (Authenticate Challenge/Response
// headers), SETPATH, and Bluetooth/IrDA carriers (a Bluetooth RFCOMM or
// IrCOMM tty device can be given as a serial line).
package obex
