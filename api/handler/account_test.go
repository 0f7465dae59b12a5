package handler_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/auth"
)

const certHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestDevices_AccountFieldsAreStoredAndShown(t *testing.T) {
	e := newEnv(t)
	colons := strings.ToUpper(certHex[:2])
	for i := 2; i < len(certHex); i += 2 {
		colons += ":" + strings.ToUpper(certHex[i:i+2])
	}
	st, b := e.do(t, "POST", "/api/v1/devices", `{"id":"d1","username":"u","password":"p","auth":"hmac",
		"server_auth":"basic","cert_sha256":"`+colons+`","transport_auth":"cert+dm"}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	got := decodeInto[api.DeviceCreated](t, b)
	if got.ServerAuth != "basic" || got.CertSHA256 != certHex || got.TransportAuth != "cert+dm" {
		t.Fatalf("created device shows %+v", got.AccountFields)
	}
	d, err := e.store.GetDevice(context.Background(), "d1")
	if err != nil || d.ServerAuthScheme != "basic" || d.CertSHA256 != certHex || d.TransportAuth != "cert+dm" {
		t.Fatalf("stored %+v %v", d, err)
	}
	st, b = e.do(t, "PATCH", "/api/v1/devices/d1", `{"server_auth":"","transport_auth":"cert"}`)
	if st != 200 {
		t.Fatalf("patch: %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1", "")
	dev := decodeInto[api.Device](t, b)
	if st != 200 || dev.ServerAuth != "" || dev.CertSHA256 != certHex || dev.TransportAuth != "cert" {
		t.Fatalf("after patch: %d %+v", st, dev.AccountFields)
	}
}

func TestDevices_AccountFieldErrorsAre400NamingTheField(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	for _, tc := range []struct {
		name, method, path, body, want string
	}{
		{"unknown server scheme", "POST", "/api/v1/devices", `{"id":"x","username":"u","password":"p","server_auth":"plain"}`, "server_auth"},
		{"short cert hash", "POST", "/api/v1/devices", `{"id":"x","username":"u","password":"p","cert_sha256":"abcd"}`, "cert_sha256"},
		{"cert hash not hex", "POST", "/api/v1/devices", `{"id":"x","username":"u","password":"p","cert_sha256":"` + strings.Repeat("z", 64) + `"}`, "cert_sha256"},
		{"unknown transport policy", "POST", "/api/v1/devices", `{"id":"x","username":"u","password":"p","cert_sha256":"` + certHex + `","transport_auth":"tls"}`, "transport_auth"},
		{"transport policy without cert", "POST", "/api/v1/devices", `{"id":"x","username":"u","password":"p","transport_auth":"cert"}`, "cert_sha256"},
		{"patch policy without cert", "PATCH", "/api/v1/devices/d1", `{"transport_auth":"cert+dm"}`, "cert_sha256"},
		{"new username without password", "PATCH", "/api/v1/devices/d1", `{"username":"other"}`, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, tc.method, tc.path, tc.body)
			wantError(t, st, b, http.StatusBadRequest, tc.want)
		})
	}
	if _, err := e.store.GetDevice(context.Background(), "x"); err == nil {
		t.Error("a refused create stored the device")
	}
}

func TestDevices_SchemeChangeKeepsTheStoredCredentialValid(t *testing.T) {
	// The stored hash B64(H(user:password)) verifies basic, md5 and HMAC
	// (OMA-TS-DM_Security-V1_2), so --auth can change without the password.
	e := newEnv(t)
	e.addDevice(t, "d1")
	for _, scheme := range []string{"basic", "hmac", "md5"} {
		if st, b := e.do(t, "PATCH", "/api/v1/devices/d1", `{"auth":"`+scheme+`"}`); st != 200 {
			t.Fatalf("auth %s: %d %s", scheme, st, b)
		}
		d, err := e.store.GetDevice(context.Background(), "d1")
		if err != nil || d.AuthScheme != scheme || d.PasswordHash != auth.UserHash("u", "p") {
			t.Fatalf("after auth %s: %+v %v", scheme, d, err)
		}
	}
	// The same username with the password, or a new one with it, is fine.
	if st, b := e.do(t, "PATCH", "/api/v1/devices/d1", `{"username":"u"}`); st != 200 {
		t.Fatalf("unchanged username: %d %s", st, b)
	}
	if st, b := e.do(t, "PATCH", "/api/v1/devices/d1", `{"username":"v","password":"q"}`); st != 200 {
		t.Fatalf("new username with password: %d %s", st, b)
	}
	d, _ := e.store.GetDevice(context.Background(), "d1")
	if d.PasswordHash != auth.UserHash("v", "q") {
		t.Errorf("hash after new username and password: %q", d.PasswordHash)
	}
}
