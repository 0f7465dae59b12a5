package server_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_Security-V1_2 §5.3.4: a failed authentication never replaces
// the device's stored nonce; §5.3.3: the challenge still hands a device with
// a stale nonce the one to use, and its retry succeeds.
func TestEngine_ForgedMessageDoesNotRotateNonce(t *testing.T) {
	for _, scheme := range []string{"md5", "hmac"} {
		t.Run(scheme, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, scheme)
			attacker := newDevice(h.e, scheme)
			attacker.password = "guess"
			for range 5 {
				r := attacker.post(t, attacker.message(true, attacker.pkg1(syncml.AlertClientInitiatedMgmt)...))
				if st := hdrStatus(t, r); st.Data != syncml.StatusInvalidCredentials || st.Chal == nil {
					t.Fatalf("forged message: %+v, want 401 with a Chal", st)
				}
			}
			if dev := h.device(t); !bytes.Equal(dev.ServerNonce, []byte("first-nonce")) || !dev.LastSeen.IsZero() {
				t.Fatalf("device changed by forged messages: nonce %q, last seen %v", dev.ServerNonce, dev.LastSeen)
			}
			if _, err := h.store.GetSession(context.Background(), devID, "1"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("session stored for forged messages: %v", err)
			}
			// The real device, with a stale nonce: challenged with the
			// stored one, it retries and gets in.
			d := newDevice(h.e, scheme)
			d.sessionID = "2"
			d.nonce = []byte("stale")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if n, _ := auth.ChalNonce(hdrStatus(t, r).Chal); !bytes.Equal(n, []byte("first-nonce")) {
				t.Fatalf("challenge nonce %q, want the stored one", n)
			}
			r = d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if st := hdrStatus(t, r); st.Data != syncml.StatusOK {
				t.Fatalf("retry with the challenged nonce: %d, want 200", st.Data)
			}
		})
	}
}

// A device enrolled without a nonce is challenged with one derived from its
// account (the same on every node and after restarts) and authenticates
// with it or with none.
func TestEngine_DeviceWithoutNonceGetsAStableChallenge(t *testing.T) {
	h := newHarness(t, nil)
	dev := &storage.Device{ID: devID, AuthScheme: "md5", Username: devUser, Password: devPass}
	if err := h.store.CreateDevice(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	d := newDevice(h.e, "")
	var nonces [][]byte
	for range 2 {
		r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
		n, _ := auth.ChalNonce(hdrStatus(t, r).Chal)
		nonces = append(nonces, n)
	}
	if len(nonces[0]) != auth.NonceSize || !bytes.Equal(nonces[0], nonces[1]) {
		t.Fatalf("challenge nonces %x, %x: want one stable %d-byte nonce", nonces[0], nonces[1], auth.NonceSize)
	}
	d.scheme, d.nonce = "md5", nonces[0]
	if st := hdrStatus(t, d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))); st.Data != syncml.StatusOK {
		t.Fatalf("credentials with the challenged nonce: %d", st.Data)
	}
}

// OMA-TS-DM_Security-V1_2 §5.3: over a transport that authenticates the
// session (TLS) basic/md5 authenticate once: 212 with the next session's
// nonce, later messages proven by the RespURI token, our credentials once.
func TestEngine_TLSAuthenticatesOncePerSession(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	d := newDevice(h.e, "md5")
	d.url = "https://127.0.0.1/dm"
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusAuthAccepted || st.Chal == nil {
		t.Fatalf("package 2 header %+v, want 212 + next nonce", st)
	}
	if r.Header.Cred == nil {
		t.Fatal("first reply carries no server credentials")
	}
	d.scheme = "" // the token proves the session
	r = d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusOK || st.Chal != nil || r.Header.Cred != nil {
		t.Fatalf("second reply header %+v cred %+v, want 200 without Chal or Cred", st, r.Header.Cred)
	}
}

// OMA-TS-DM_Security-V1_2 §5.1: each direction has its own scheme; the
// server's credentials follow Device.ServerAuthScheme.
func TestEngine_ServerCredentialsFollowServerAuthScheme(t *testing.T) {
	tests := []struct {
		client, server string
		wantCred       string // Meta Type of our Cred ("" = none)
		wantHMAC       bool
	}{
		{"md5", "basic", syncml.AuthBasic, false},
		{"basic", "md5", syncml.AuthMD5, false},
		{"md5", "hmac", "", true},
		{"hmac", "md5", syncml.AuthMD5, false},
		{"md5", "", syncml.AuthMD5, false},
	}
	for _, tc := range tests {
		t.Run(tc.client+"-"+tc.server, func(t *testing.T) {
			h := newHarness(t, nil)
			dev := h.addDevice(t, tc.client)
			dev.ServerAuthScheme = tc.server
			if err := h.store.UpdateDevice(context.Background(), dev); err != nil {
				t.Fatal(err)
			}
			d := newDevice(h.e, tc.client)
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if st := hdrStatus(t, r); !st.Data.Success() {
				t.Fatalf("header %d", st.Data)
			}
			switch c := r.Header.Cred; {
			case tc.wantCred == "" && c != nil:
				t.Errorf("Cred %+v, want none", c)
			case tc.wantCred != "" && (c == nil || c.Meta == nil || c.Meta.Type != tc.wantCred):
				t.Errorf("Cred %+v, want %s", c, tc.wantCred)
			}
			if (d.lastHMAC != "") != tc.wantHMAC {
				t.Errorf("reply HMAC header %q, want one: %v", d.lastHMAC, tc.wantHMAC)
			}
		})
	}
}

// Failures beyond the device's bucket get 503 without a challenge, valid
// credentials still get in.
func TestEngine_RateLimitedFailureGets503AndValidCredentialsPass(t *testing.T) {
	h := newHarness(t, nil, func(o *server.Options) {
		o.AuthLimits = server.AuthLimits{DeviceRate: 1e-9, DeviceBurst: 2, AddrRate: -1}
	})
	h.addDevice(t, "md5")
	bad := newDevice(h.e, "md5")
	bad.password = "guess"
	var codes []syncml.StatusCode
	for range 4 {
		st := hdrStatus(t, bad.post(t, bad.message(true, bad.pkg1(syncml.AlertClientInitiatedMgmt)...)))
		codes = append(codes, st.Data)
		if st.Data == syncml.StatusServiceUnavailable && st.Chal != nil {
			t.Errorf("503 carries a Chal")
		}
	}
	if want := []syncml.StatusCode{401, 401, 503, 503}; !slices.Equal(codes, want) {
		t.Fatalf("answers %v, want %v", codes, want)
	}
	d := newDevice(h.e, "md5")
	d.sessionID = "9"
	if st := hdrStatus(t, d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))); st.Data != syncml.StatusOK {
		t.Fatalf("valid credentials while limited: %d, want 200", st.Data)
	}
}

// The failures an open event window counted are not lost at shutdown:
// Close writes them in a last auth-failure event.
func TestEngine_CloseWritesTheFailuresStillCounted(t *testing.T) {
	store := memstore.New()
	h := newHarness(t, store, func(o *server.Options) {
		o.AuthLimits = server.AuthLimits{EventEvery: time.Hour, LogEvery: time.Hour}
	})
	h.addDevice(t, "md5")
	bad := newDevice(h.e, "md5")
	bad.password = "guess"
	for range 5 {
		bad.post(t, bad.message(true, bad.pkg1(syncml.AlertClientInitiatedMgmt)...))
	}
	h.e.Close(context.Background())
	evs, err := store.ListEvents(context.Background(), devID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, ev := range evs {
		if ev.Kind == "auth-failure" {
			data = append(data, ev.Data)
		}
	}
	if len(data) != 2 || !strings.HasPrefix(data[1], "4 more failed authentications") {
		t.Fatalf("auth-failure events %q, want the first failure and a summary of 4 more", data)
	}
}
