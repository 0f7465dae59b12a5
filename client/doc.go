// Package client owns the OMA DM 1.2 device-side engine: the session state
// machine for packages 1–4, authentication in both directions, execution of
// server commands against the device tree, multi-message packages, large
// objects, user-interaction alerts and generic alerts.
//
// The engine is transport-free: it encodes and decodes messages and hands the
// bytes to a Transport (transport/dmhttp provides the HTTP one). It never
// imports net/http, net/url, crypto/tls, a transport binding, storage or the
// server engine. What an address means is the transport's business: the
// engine sends each message to the account's AppAddr, then to the latest
// RespURI an authenticated server gave (if the transport's RespURIChecker
// allows it), and learns from Response.SecureSession whether the transport
// authenticates the session.
//
// A session is started with (*Client).Run for a client-initiated session
// (Alert 1201) or a server-initiated one after a verified package 0 (Alert
// 1200); (*Client).HandleNotification decodes and verifies package 0 and runs
// the session it asks for. Every session returns a *SessionResult describing
// what happened, for callers, logs and tests.
//
// Protocol decisions the engine makes (OMA-TS-DM_Protocol-V1_2,
// OMA-TS-DM_Security-V1_2):
//
//   - Every message starts with the Status for the server's SyncHdr; Results
//     follow their Get's Status. While the server's package is open (no
//     Final) the agent never sends Final and asks for the next message with
//     Alert 1222 only when it has nothing but statuses to send.
//   - A command, Atomic and Sequence included, must fit one message and only
//     top-level Add/Replace data is chunked (OMA-TS-DM_Protocol-V1_2 §6.1, §7): a MoreData
//     item inside an Atomic or Sequence is refused with 400 (the Atomic then
//     rolls back: 507, executed members 216; the Sequence stops).
//   - A Sequence runs its members in order and stops at the first one that
//     fails (or a cancelled/rejected UI alert): the rest are answered 215.
//   - The statuses of an Atomic travel together in one message; when they
//     cannot fit one under the server's MaxMsgSize the Atomic is rolled back
//     and answered 517 alone.
//   - UI timing is enforced by the engine with Config.Clock: a 1100 display
//     is answered only after MINDT; when MAXDT expires the default response
//     (DR) is sent as the user's answer, else 408 and, as for a cancel, the
//     rest of the package is answered 215.
//   - Alert 1223 from the server ends the session at once: nothing else in
//     that message runs and nothing is answered.
//   - Under syncml:auth-MAC every server answer must be SyncHdr Status 200
//     with a NextNonce for the next message, otherwise the session ends.
//   - A server nonce we issue (Chal in our SyncHdr Status) becomes current
//     only when a server reply to the message carrying it arrives; until
//     then it is the alternate (Account.ServerNonceAlt), and once confirmed
//     the nonce it replaced is. The alternate is accepted, for server
//     credentials and package 0 digests, in the next session only and only
//     until the server authenticates, so a lost message or a server that
//     crashed before storing the nonce does not lock the server out. Any
//     other failed server credential is answered 401 or 407 with a fresh Chal
//     (OMA-TS-DM_Security-V1_2 §5.3.3) and the session ends after auth.MaxChallenges.
//   - When the server answers our SyncHdr with 401/407 its reply carries
//     only statuses: its own missing credential is challenged but does not
//     end the session, and a final rejection fails with ErrAuthFailed.
//   - Get with ?list=Struct answers items without Data; ?list=StructData
//     gives Data for leaves only (OMA-TS-DM_TND-V1_2, tree exchange).
//   - Deleting ./DMAcc/<x> (or ./DMAcc) through DMTree also strips the
//     deleted accounts' ServerIDs from every ACL in the same transaction
//     (OMA-TS-DM_TND-V1_2, ACL), unless another account still names them.
//   - ApplyBootstrap processes a DM bootstrap message as the device, all or
//     nothing, and never answers it (OMA-TS-DM_Bootstrap-V1_2).
package client
