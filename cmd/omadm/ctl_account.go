package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
)

// ctlAccountFlags are the device account flags `device add` and `device
// set` share: the server's own scheme and the TLS client certificate bound
// to the device.
type ctlAccountFlags struct {
	serverAuth, certSHA256, certFile, transportAuth string
}

func (a *ctlAccountFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&a.serverAuth, "server-auth", "", "scheme of the server's credentials toward the device: basic, md5 or hmac (empty = same as --auth)")
	f.StringVar(&a.certSHA256, "cert-sha256", "", "SHA-256 of the device's TLS client certificate (64 hex digits, colons allowed; empty unbinds)")
	f.StringVar(&a.certFile, "cert", "", "the device's TLS client certificate (PEM or DER): binds its SHA-256, as --cert-sha256")
	f.StringVar(&a.transportAuth, "transport-auth", "", "TLS client certificate policy: cert (certificate alone suffices), cert+dm (both), or empty (DM credentials only)")
}

// fields returns the account fields given on the command line; set reports
// which were given, so an update sends only those.
func (a *ctlAccountFlags) fields(cmd *cobra.Command) (fields api.AccountFields, set map[string]bool, err error) {
	f := cmd.Flags()
	set = map[string]bool{}
	if f.Changed("cert") && f.Changed("cert-sha256") {
		return fields, nil, errors.New("--cert and --cert-sha256 are alternatives: give one")
	}
	if f.Changed("server-auth") {
		switch a.serverAuth {
		case "", "basic", "md5", "hmac":
		default:
			return fields, nil, fmt.Errorf("--server-auth %q: want basic, md5 or hmac", a.serverAuth)
		}
		fields.ServerAuth, set["server_auth"] = a.serverAuth, true
	}
	switch {
	case f.Changed("cert"):
		h, err := ctlCertFileSHA256(a.certFile)
		if err != nil {
			return fields, nil, err
		}
		fields.CertSHA256, set["cert_sha256"] = h, true
	case f.Changed("cert-sha256"):
		h, err := api.NormalizeCertSHA256(a.certSHA256)
		if err != nil {
			return fields, nil, fmt.Errorf("--cert-sha256: %w", err)
		}
		fields.CertSHA256, set["cert_sha256"] = h, true
	}
	if f.Changed("transport-auth") {
		switch a.transportAuth {
		case "", api.TransportAuthCert, api.TransportAuthCertDM:
		default:
			return fields, nil, fmt.Errorf("--transport-auth %q: want cert, cert+dm or empty", a.transportAuth)
		}
		fields.TransportAuth, set["transport_auth"] = a.transportAuth, true
	}
	return fields, set, nil
}

// ctlCertFileSHA256 returns the lower-case hex SHA-256 of the DER
// certificate in path: the first CERTIFICATE block of a PEM file, or the
// whole file when it is DER. The certificate must parse.
func ctlCertFileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--cert: %w", err)
	}
	der := b
	if bytes.Contains(b, []byte("-----BEGIN")) {
		der = nil
		for rest := b; der == nil; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				return "", fmt.Errorf("--cert %s: no CERTIFICATE block in the PEM file", path)
			}
			if blk.Type == "CERTIFICATE" {
				der = blk.Bytes
			}
		}
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return "", fmt.Errorf("--cert %s: not an X.509 certificate (PEM or DER): %v", path, err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}
