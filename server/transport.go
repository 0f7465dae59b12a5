package server

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// Device.TransportAuth values.
const (
	// TransportAuthCert: the TLS client certificate bound to the account
	// (Device.CertSHA256) authenticates every message; DM-level credentials
	// are not required.
	TransportAuthCert = "cert"
	// TransportAuthCertDM: the bound certificate and DM-level credentials
	// are both required.
	TransportAuthCertDM = "cert+dm"
)

// MaxMessageSize is the largest message Handle accepts (Options.MaxMsgSize
// after defaults); transport bindings read no more body than this.
func (e *Engine) MaxMessageSize() int { return e.o.MaxMsgSize }

// --- Transport-level authentication hook (called first by authenticate) ---

// transportAuth applies the account's transport-level authentication before
// DM-level credentials are looked at. OMA-TS-DM_Security-V1_2 §5.1.3: client
// and server may authenticate each other at the transport layer (TLS), and
// messages then need no DM-level credentials; the server may still ask for
// them (our "cert+dm").
//
// done reports that code is the final SyncHdr status; otherwise DM-level
// authentication decides. A missing or different certificate on a
// certificate account is refused like bad credentials: 401 (authenticate
// adds the Chal every 401 carries), and nothing of the device changes (no
// nonce is rotated, nothing is stored).
func (x *exchange) transportAuth() (code syncml.StatusCode, done bool) {
	d := x.dev
	switch d.TransportAuth {
	case "":
		return 0, false
	case TransportAuthCert, TransportAuthCertDM:
	default:
		x.e.rejects.Log(context.Background(), x.log(), slog.LevelError, "dm authentication refused: unknown transport auth mode on the device", "transport_auth", d.TransportAuth)
		return syncml.StatusInvalidCredentials, true
	}
	if !sameCert(d.CertSHA256, x.in.ClientCertSHA256) {
		x.e.rejects.Warn(x.log(), "dm authentication failed: TLS client certificate is not the one bound to the device",
			"transport_auth", d.TransportAuth, "presented", x.in.ClientCertSHA256 != "")
		return syncml.StatusInvalidCredentials, true
	}
	if d.TransportAuth == TransportAuthCertDM {
		return 0, false
	}
	if x.st.Authed {
		return syncml.StatusOK, true
	}
	x.st.Authed = true
	return syncml.StatusAuthAccepted, true
}

// sameCert compares two hex SHA-256 digests in constant time; an empty bound
// digest matches nothing.
func sameCert(bound, presented string) bool {
	if bound == "" || presented == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(bound)), []byte(strings.ToLower(presented))) == 1
}
