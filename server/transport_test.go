package server_test

import (
	"bytes"
	"context"
	"github.com/omadm/omadm/auth"
	"strings"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

var (
	boundCert = strings.Repeat("ab", 32)
	otherCert = strings.Repeat("cd", 32)
)

// postCert sends m as the device would over TLS presenting a client
// certificate with digest cert ("" = none).
func (d *device) postCert(t *testing.T, m *syncml.Message, cert string) *syncml.Message {
	t.Helper()
	body, err := syncml.Encode(m, d.enc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.e.Handle(context.Background(), &server.Inbound{Body: body, ContentType: d.enc.ContentType(),
		Addr: dmhttp.RequestAddressing(d.url), SecureSession: dmhttp.SecureURL(d.url), RemoteAddr: "127.0.0.1:1", ClientCertSHA256: cert})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	r, _, err := syncml.Decode(out.Body, out.ContentType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.RespURI != "" {
		d.url = r.Header.RespURI
	}
	return r
}

// OMA-TS-DM_Security-V1_2 §5.1.3: a client authenticated at the transport
// layer (TLS client certificate) needs no DM-level credentials; the server
// may still require them. Our accounts say which: TransportAuth "cert" or
// "cert+dm", with the certificate bound by its SHA-256.
func TestServer_CertificateAccountsAuthenticateByTheBoundCertificate(t *testing.T) {
	tests := []struct {
		name          string
		transportAuth string
		scheme        string // DM credentials the device sends ("" none)
		cert          string // digest presented
		want          syncml.StatusCode
	}{
		{"cert: bound certificate, no credentials", server.TransportAuthCert, "", boundCert, syncml.StatusAuthAccepted},
		{"cert: bound certificate in upper case", server.TransportAuthCert, "", strings.ToUpper(boundCert), syncml.StatusAuthAccepted},
		{"cert: bound certificate and credentials", server.TransportAuthCert, "md5", boundCert, syncml.StatusAuthAccepted},
		{"cert: another certificate", server.TransportAuthCert, "md5", otherCert, syncml.StatusInvalidCredentials},
		{"cert: no certificate, right credentials", server.TransportAuthCert, "md5", "", syncml.StatusInvalidCredentials},
		{"cert+dm: both", server.TransportAuthCertDM, "md5", boundCert, syncml.StatusAuthAccepted},
		{"cert+dm: certificate, no credentials", server.TransportAuthCertDM, "", boundCert, syncml.StatusMissingCredentials},
		{"cert+dm: credentials, another certificate", server.TransportAuthCertDM, "md5", otherCert, syncml.StatusInvalidCredentials},
		{"cert+dm: credentials, no certificate", server.TransportAuthCertDM, "md5", "", syncml.StatusInvalidCredentials},
		{"DM credentials only: a certificate does not replace them", "", "", boundCert, syncml.StatusMissingCredentials},
		{"DM credentials only: certificate and credentials", "", "md5", boundCert, syncml.StatusAuthAccepted},
		{"unknown mode fails closed", "cert-or-whatever", "md5", boundCert, syncml.StatusInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			dev := h.addDevice(t, "md5")
			dev.CertSHA256, dev.TransportAuth = boundCert, tc.transportAuth
			if err := h.store.UpdateDevice(context.Background(), dev); err != nil {
				t.Fatal(err)
			}
			job := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
			d := newDevice(h.e, tc.scheme)
			r := d.postCert(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), tc.cert)
			st := hdrStatus(t, r)
			if st.Data != tc.want {
				t.Fatalf("SyncHdr status %d, want %d", st.Data, tc.want)
			}
			sent := len(commands(r)) > 0
			if tc.want.Success() != sent {
				t.Errorf("authenticated %v but the reply carries commands %v", tc.want.Success(), names(commands(r)))
			}
			if tc.want == syncml.StatusInvalidCredentials && (tc.transportAuth != "" || tc.scheme == "") {
				// Refused at the transport check: nothing of the device
				// changed (the nonce is not rotated), the job waits. The 401
				// carries a Chal as every 401 does (OMA-TS-DM_Protocol-V1_2
				// §9.1), with the device's current nonce.
				if n, _ := auth.ChalNonce(st.Chal); st.Chal == nil || !bytes.Equal(n, []byte("first-nonce")) {
					t.Errorf("certificate refusal's challenge %+v, want one with the current nonce", st.Chal)
				}
				if got := h.device(t); !bytes.Equal(got.ServerNonce, []byte("first-nonce")) {
					t.Errorf("server nonce rotated to %q by a refused message", got.ServerNonce)
				}
				if j := h.job(t, job); j.State != storage.JobQueued {
					t.Errorf("job %s after a refused message", j.State)
				}
			}
		})
	}
}

// With the certificate, every message of the session is authenticated
// (transport-level session authentication, OMA-TS-DM_Security-V1_2 §5.1.3);
// a message of the same session without it is refused.
func TestServer_CertificateAccountChecksEveryMessage(t *testing.T) {
	h := newHarness(t, nil)
	dev := h.addDevice(t, "md5")
	dev.CertSHA256, dev.TransportAuth = boundCert, server.TransportAuthCert
	if err := h.store.UpdateDevice(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
	d := newDevice(h.e, "")
	r := d.postCert(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), boundCert)
	if st := hdrStatus(t, r); st.Data != syncml.StatusAuthAccepted {
		t.Fatalf("first message: %d", st.Data)
	}
	answer := d.answer(r, nil, func(*syncml.Get) []syncml.Item {
		return []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/Mod"}, Data: syncml.TextData("m")}}
	})
	forged := d.postCert(t, d.message(true, answer...), otherCert)
	if st := hdrStatus(t, forged); st.Data != syncml.StatusInvalidCredentials {
		t.Fatalf("message with another certificate: %d, want 401", st.Data)
	}
}
