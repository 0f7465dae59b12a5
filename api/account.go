package api

import (
	"encoding/hex"
	"strings"

	"github.com/omadm/omadm/storage"
)

// Transport authentication policies (storage.Device.TransportAuth).
const (
	TransportAuthCert   = "cert"
	TransportAuthCertDM = "cert+dm"
)

// NormalizeCertSHA256 returns a certificate hash in its stored form: 64
// lower-case hex digits. It accepts upper case and the colon-separated form
// tools print (openssl x509 -fingerprint -sha256). "" stays "".
func NormalizeCertSHA256(s string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if h == "" {
		return "", nil
	}
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", invalid("cert_sha256", "%q is not a SHA-256: want 64 hex digits (colons allowed)", s)
	}
	return h, nil
}

// ApplyAccountCreate copies the account fields of a create request onto the
// new device, checked and normalised.
func ApplyAccountCreate(d *storage.Device, a AccountFields) error {
	return applyAccount(d, &a.ServerAuth, &a.CertSHA256, &a.TransportAuth)
}

// ApplyAccountUpdate applies the account fields present in an update to the
// stored device, checked and normalised. It also refuses a new user name
// without the password: the store keeps only a hash of username:password
// (storage.Device.PasswordHash), which a new name would make wrong. A new
// auth scheme needs nothing more, since that hash verifies every scheme.
func ApplyAccountUpdate(d *storage.Device, u *DeviceUpdate) error {
	if u.Username != nil && *u.Username != d.Username && u.Password == nil {
		return invalid("password", "required to change the username (the server keeps only a hash of username:password)")
	}
	return applyAccount(d, u.ServerAuth, u.CertSHA256, u.TransportAuth)
}

func applyAccount(d *storage.Device, serverAuth, cert, transport *string) error {
	next := *d
	if serverAuth != nil {
		if *serverAuth != "" && !ValidAuth(*serverAuth) {
			return invalid("server_auth", "unknown scheme %q (want basic, md5 or hmac; empty = same as auth)", *serverAuth)
		}
		next.ServerAuthScheme = *serverAuth
	}
	if cert != nil {
		h, err := NormalizeCertSHA256(*cert)
		if err != nil {
			return err
		}
		next.CertSHA256 = h
	}
	if transport != nil {
		switch *transport {
		case "", TransportAuthCert, TransportAuthCertDM:
		default:
			return invalid("transport_auth", "unknown policy %q (want cert, cert+dm, or empty for DM credentials only)", *transport)
		}
		next.TransportAuth = *transport
	}
	if next.TransportAuth != "" && next.CertSHA256 == "" {
		return invalid("transport_auth", "%q needs the device's certificate hash (cert_sha256)", next.TransportAuth)
	}
	d.ServerAuthScheme, d.CertSHA256, d.TransportAuth = next.ServerAuthScheme, next.CertSHA256, next.TransportAuth
	return nil
}
