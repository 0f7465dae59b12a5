package server

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

// schemeType maps a storage scheme name ("basic", "md5", "hmac") to the
// SyncML Meta Type; anything else is md5, the scheme every client supports
// (OMA-TS-DM_Security-V1_2 §5.3).
func schemeType(s string) string {
	switch s {
	case "basic":
		return syncml.AuthBasic
	case "hmac":
		return syncml.AuthMAC
	}
	return syncml.AuthMD5
}

func macHeader(user, password string, nonce, body []byte) string {
	return auth.NewHMACHeader(user, password, nonce, body).String()
}

// sessionTransport reports whether the transport authenticates the session
// (Inbound.SecureSession, or a verified client certificate), so that
// DM-level credentials are checked once per session (212) and the later
// messages prove they belong to it by the session token. The binding
// decides: TLS for HTTP, a trusted link for OBEX. OMA-TS-DM_Security-V1_2
// §5.3: "If the transport layer is not able to provide session
// authentication, however, each request and response MUST be
// authenticated."
func (x *exchange) sessionTransport() bool {
	return x.in.SecureSession || x.in.ClientCertSHA256 != ""
}

// serverScheme is the Meta Type of our own credentials toward the device
// (SRVCRED): the scheme the device asked for in its last challenge, else
// Device.ServerAuthScheme, else the device's own scheme.
func (x *exchange) serverScheme() string {
	if x.st != nil && x.st.SrvScheme != "" {
		return x.st.SrvScheme
	}
	s := x.dev.ServerAuthScheme
	if s == "" {
		s = x.dev.AuthScheme
	}
	return schemeType(s)
}

// challengeNonce is the nonce a challenge hands out: the device's stored
// ServerNonce, unchanged. Only a successful authentication replaces it, so
// a forged message cannot take the device's valid nonce away
// (OMA-TS-DM_Security-V1_2 §5.3.4: a stored next nonce is never overwritten
// on behalf of an unauthenticated peer). To the device the challenge still
// brings a new nonce when its own was stale (§5.3.3). A device enrolled
// without a nonce gets one derived from its id and secret, stable across
// server nodes and restarts, and valid until its first success replaces it.
func (x *exchange) challengeNonce() []byte {
	if len(x.dev.ServerNonce) > 0 {
		return x.dev.ServerNonce
	}
	return initialNonce(x.dev.ID, x.dev.PasswordHash)
}

func initialNonce(id, secret string) []byte {
	h := sha256.New()
	h.Write([]byte("omadm initial nonce\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return h.Sum(nil)[:auth.NonceSize]
}

// probeNonce is the nonce of the challenge an unknown device id gets: keyed
// by the engine's secret, so that it looks like, and is as stable as, a
// known device's.
func (e *Engine) probeNonce(id string) []byte {
	m := hmac.New(sha256.New, e.probeKey)
	m.Write([]byte(id))
	return m.Sum(nil)[:auth.NonceSize]
}

// challenge is the Chal of a failed authentication: it always comes with a
// 401 or 407 (OMA-TS-DM_Protocol-V1_2 §9.1).
func (x *exchange) challenge(typ string) *syncml.Chal {
	if typ == syncml.AuthBasic {
		return auth.MakeChal(typ, nil)
	}
	return auth.MakeChal(typ, x.challengeNonce())
}

// verifyNonce reports whether check succeeds with the device's current
// nonce (or, for a device enrolled without one, with none or the derived one).
func (x *exchange) verifyNonce(check func(nonce []byte) bool) bool {
	d := x.dev
	if len(d.ServerNonce) > 0 {
		return check(d.ServerNonce)
	}
	return check(nil) || check(initialNonce(d.ID, d.PasswordHash))
}

// authenticate checks the device's credentials for this message and returns
// the SyncHdr status and challenge. It changes the device (a new nonce) only
// on success; a failure changes nothing and the caller stores nothing.
//
//   - hmac: every message (OMA-TS-DM_Security-V1_2 §5.4); 200 + Chal with
//     the nonce for the next message. A missing x-syncml-hmac header is
//     missing credentials: 407.
//   - basic/md5 when the transport does not authenticate the session
//     (plain HTTP): every message (§5.3), answered 200; md5
//     gets a Chal with the nonce for the next message
//     (OMA-TS-DM_Protocol-V1_2 §9.1: after a 200 the same credentials come
//     again, with the next nonce).
//   - basic/md5 when it does (Inbound.SecureSession: TLS): once per
//     session, 212 (md5 with a Chal for the next session); later messages
//     must be addressed to the session's token
//     or carry valid credentials again.
//
// Failures: no credentials → 407, wrong ones → 401, both with a Chal
// carrying the device's current nonce (challengeNonce).
//
// Stores keep only d.PasswordHash = B64(H(user:password)) (storage.Device),
// which every scheme verifies against.
func (x *exchange) authenticate() (syncml.StatusCode, *syncml.Chal) {
	d := x.dev
	h := &x.msg.Header
	typ := schemeType(d.AuthScheme)
	// Transport-level (TLS client certificate) authentication: see
	// transport.go. A refusal still carries a Chal (OMA-TS-DM_Protocol-V1_2
	// §9.1: a 401 always does), in the account's DM scheme with its current
	// nonce, so that it looks like any other failure.
	if code, done := x.transportAuth(); done {
		if !code.Success() {
			return code, x.challenge(typ)
		}
		return code, nil
	}
	if typ == syncml.AuthMAC {
		if x.in.HMAC == "" {
			return syncml.StatusMissingCredentials, x.challenge(typ)
		}
		hh, err := auth.ParseHMACHeader(x.in.HMAC)
		if err != nil || !x.verifyNonce(func(n []byte) bool { return auth.VerifyHMACHash(hh, d.Username, d.PasswordHash, n, x.in.Body) }) {
			return syncml.StatusInvalidCredentials, x.challenge(typ)
		}
		x.st.Authed = true
		return syncml.StatusOK, x.nextNonce(typ)
	}
	session := x.sessionTransport()
	if session && x.st.Authed && x.viaToken {
		// Authenticated for the session over TLS, and the message proves it
		// belongs to it by the unguessable session token.
		return syncml.StatusOK, nil
	}
	if h.Source.LocName != "" && h.Source.LocName != d.Username {
		if auth.CredScheme(h.Cred) == "" {
			return syncml.StatusMissingCredentials, x.challenge(typ)
		}
		return syncml.StatusInvalidCredentials, x.challenge(typ)
	}
	var cerr error
	if !x.verifyNonce(func(n []byte) bool {
		cerr = auth.CheckCredHash(h.Cred, typ, d.Username, d.PasswordHash, n)
		return cerr == nil
	}) {
		return syncml.StatusOf(cerr), x.challenge(typ)
	}
	first := !x.st.Authed
	x.st.Authed = true
	switch {
	case session && !first:
		// A message of a TLS session without its token: valid credentials
		// again, with the nonce of the session's start.
		return syncml.StatusOK, nil
	case session:
		return syncml.StatusAuthAccepted, x.nextNonce(typ)
	}
	return syncml.StatusOK, x.nextNonce(typ)
}

// nextNonce issues the nonce the device's next credentials use (stored on
// the device with the message) and its Chal; basic has none.
func (x *exchange) nextNonce(typ string) *syncml.Chal {
	if typ == syncml.AuthBasic {
		return nil
	}
	x.dev.ServerNonce = auth.NewNonce()
	x.devDirty = true
	return auth.MakeChal(typ, x.dev.ServerNonce)
}

// serverCred is our Cred for the reply header: in every reply over plain
// HTTP (OMA-TS-DM_Security-V1_2 §5.3: each response is authenticated), and
// over TLS in the first reply of a session and after the device challenged
// us. It is built in the scheme the device asked for, else the account's
// SRVCRED scheme; HMAC travels in the transport header instead (seal).
func (x *exchange) serverCred() *syncml.Cred {
	d := x.dev
	typ := x.serverScheme()
	if d.ServerPassword == "" || typ == syncml.AuthMAC {
		return nil
	}
	if !x.st.SendCred && x.sessionTransport() {
		return nil
	}
	x.st.SendCred = false
	return auth.MakeCred(typ, x.e.o.ServerID, d.ServerPassword, d.ClientNonce)
}

// presentedScheme names the credentials the message carried, for the
// auth_failures_total label: hmac (the transport header), basic, md5,
// other or none.
func (x *exchange) presentedScheme() string {
	if x.in.HMAC != "" {
		return "hmac"
	}
	switch auth.CredScheme(x.msg.Header.Cred) {
	case "":
		return "none"
	case syncml.AuthBasic:
		return "basic"
	case syncml.AuthMD5:
		return "md5"
	}
	return "other"
}

// authFailed answers a message whose credentials failed (or whose device id
// is unknown: dev is nil) and stores nothing at all: no session, no event of
// its own, no nonce, no MsgID, no device change. A failure that finds its
// device's or address's failure bucket empty is answered 503 without a
// challenge (see AuthLimits); every failure is counted, logged at a bounded
// rate and, for an enrolled device, summed up in an auth-failure event at
// most every AuthLimits.EventEvery.
func (x *exchange) authFailed(code syncml.StatusCode, chal *syncml.Chal) (*Outbound, error) {
	e := x.e
	h := &x.msg.Header
	e.m.authFailures.WithLabelValues(x.presentedScheme()).Inc()
	by := e.fails.limited(h.Source.LocURI, x.in.RemoteAddr, x.now)
	if by != "" {
		e.m.authLimited.WithLabelValues(by).Inc()
		// SyncML status 503: the server will not handle this now; no Chal,
		// so nothing is computed or revealed for it.
		code, chal = syncml.StatusServiceUnavailable, nil
	}
	e.fails.log(e.log, h.Source.LocURI, x.in.RemoteAddr, h.SessionID, int(code), by, x.now)
	if x.dev != nil {
		if ev := e.fails.event(x.dev.ID, x.in.RemoteAddr, int(code), x.now); ev != nil {
			ev.SessionID = h.SessionID
			e.storeEvent(ev)
		}
	}
	out := 0
	resp := ""
	if x.st != nil && x.viaToken {
		// A message of a live session: it may retry at the same RespURI.
		out, resp = x.st.OutMsgID, x.in.RespURI(x.sess.Token)
	}
	o, err := e.rejectWith(x.msg, x.enc, out, code, chal, resp)
	if err == nil && x.st != nil && x.viaToken {
		o.Token = x.sess.Token
	}
	return o, err
}

// unknownDevice answers a message from an id that is not enrolled exactly
// like a known device whose credentials failed (status, challenge type and
// nonce shape), so that ids cannot be told apart from outside.
func (x *exchange) unknownDevice() (*Outbound, error) {
	h := &x.msg.Header
	code := syncml.StatusInvalidCredentials
	if auth.CredScheme(h.Cred) == "" && x.in.HMAC == "" {
		code = syncml.StatusMissingCredentials
	}
	x.e.m.rejected.WithLabelValues("unknown-device").Inc()
	return x.authFailed(code, auth.MakeChal(syncml.AuthMD5, x.e.probeNonce(h.Source.LocURI)))
}
