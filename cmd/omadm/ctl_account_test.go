package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
)

// testCert writes a self-signed certificate as PEM and as DER and returns
// the paths and the lower-case hex SHA-256 of its DER.
func testCert(t *testing.T) (pemPath, derPath, sum string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "IMEI:7"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pemPath, derPath = filepath.Join(dir, "dev.pem"), filepath.Join(dir, "dev.der")
	keyDER, _ := x509.MarshalECPrivateKey(key)
	// A key block before the certificate: the certificate is still found.
	pemText := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.WriteFile(pemPath, pemText, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(derPath, der, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(der)
	return pemPath, derPath, hex.EncodeToString(s[:])
}

func TestCtl_DeviceAccountFlags(t *testing.T) {
	url, st := ctlServer(t)
	pemPath, derPath, sum := testCert(t)
	get := func(t *testing.T) (scheme, server, cert, transport string) {
		t.Helper()
		d, err := st.GetDevice(context.Background(), "IMEI:7")
		if err != nil {
			t.Fatal(err)
		}
		return d.AuthScheme, d.ServerAuthScheme, d.CertSHA256, d.TransportAuth
	}
	if _, _, err := runCtl(t, url, "device", "add", "IMEI:7", "--username", "u", "--password", "p", "--auth", "hmac",
		"--server-auth", "basic", "--cert", pemPath, "--transport-auth", "cert"); err != nil {
		t.Fatal(err)
	}
	if _, server, cert, transport := get(t); server != "basic" || cert != sum || transport != "cert" {
		t.Fatalf("after add: server %q cert %q transport %q; want basic %s cert", server, cert, transport, sum)
	}
	out, _, err := runCtl(t, url, "-o", "json", "device", "set", "IMEI:7", "--cert", derPath, "--transport-auth", "cert+dm")
	if err != nil || !strings.Contains(out, `"cert_sha256": "`+sum+`"`) || !strings.Contains(out, `"transport_auth": "cert+dm"`) {
		t.Fatalf("set with a DER certificate: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "device", "set", "IMEI:7", "--transport-auth", "", "--cert-sha256", "", "--server-auth", ""); err != nil {
		t.Fatal(err)
	}
	if _, server, cert, transport := get(t); server != "" || cert != "" || transport != "" {
		t.Fatalf("after clearing: server %q cert %q transport %q", server, cert, transport)
	}
	// The scheme changes alone: the stored hash verifies every scheme.
	if _, _, err := runCtl(t, url, "device", "set", "IMEI:7", "--auth", "basic"); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.GetDevice(context.Background(), "IMEI:7"); d.AuthScheme != "basic" || d.PasswordHash != auth.UserHash("u", "p") {
		t.Fatalf("after --auth basic: %+v", d)
	}

	notCert := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notCert, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both cert flags", []string{"device", "set", "IMEI:7", "--cert", pemPath, "--cert-sha256", sum}, "alternatives"},
		{"unknown server scheme", []string{"device", "set", "IMEI:7", "--server-auth", "plain"}, "--server-auth"},
		{"short hash", []string{"device", "set", "IMEI:7", "--cert-sha256", "abc"}, "cert_sha256"},
		{"file without certificate", []string{"device", "set", "IMEI:7", "--cert", notCert}, "no CERTIFICATE"},
		{"missing file", []string{"device", "set", "IMEI:7", "--cert", notCert + ".nope"}, "--cert"},
		{"unknown policy", []string{"device", "set", "IMEI:7", "--transport-auth", "tls"}, "--transport-auth"},
		{"policy without certificate (server's 400)", []string{"device", "set", "IMEI:7", "--transport-auth", "cert"}, "cert_sha256"},
		{"new username without password (ctl)", []string{"device", "set", "IMEI:7", "--username", "x"}, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCtl(t, url, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
