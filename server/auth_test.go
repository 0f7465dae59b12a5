package server_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_Security-V1_2 §5.3: without session authentication by the
// transport (plain HTTP) every message is authenticated, so basic is
// answered 200 (send the credentials again), not 212.
func TestEngine_BasicAuthAcceptsPackage1AndEndsEmptySession(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))

	if got := hdrStatus(t, r).Data; got != syncml.StatusOK {
		t.Fatalf("header status = %v, want 200", got)
	}
	for _, ref := range []string{"1", "2"} {
		if s := statusFor(r, ref); s == nil || s.Data != syncml.StatusOK {
			t.Errorf("status for cmd %s = %+v, want 200", ref, s)
		}
	}
	if len(commands(r)) != 0 || !r.Final {
		t.Errorf("want a status-only final reply, got %v final=%v", names(commands(r)), r.Final)
	}
	if r.Header.RespURI == "" || r.Header.Target.LocURI != devID {
		t.Errorf("header: RespURI %q Target %q", r.Header.RespURI, r.Header.Target.LocURI)
	}
	if r.Header.Cred == nil || r.Header.Cred.Data != auth.BasicCredential(serverID, srvPass) {
		t.Errorf("server credentials = %+v", r.Header.Cred)
	}
	dev := h.device(t)
	if dev.DevInfo["./DevInfo/Man"] != "Acme" || dev.LastSeen.IsZero() {
		t.Errorf("device after pkg1: %+v", dev)
	}
	s, err := h.store.GetSession(context.Background(), devID, "1")
	if err != nil || !s.Closed {
		t.Fatalf("session %+v, %v: want closed", s, err)
	}
	h.e.Flush(context.Background())
	evs, _ := h.store.ListEvents(context.Background(), devID, 0, 10)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 2 || kinds[0] != "session-start" || kinds[1] != "session-end" {
		t.Errorf("events = %v", kinds)
	}
	tr, _ := h.store.ListTraces(context.Background(), devID, "1", 10)
	if len(tr) != 2 || tr[0].Direction != "in" || tr[1].Direction != "out" || len(tr[1].Body) == 0 || api.TraceFrom(tr[1]).Decoded == "" {
		t.Errorf("traces = %d", len(tr))
	}
}

func TestEngine_MD5ChallengesThenAcceptsAndRotatesNonce(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	d := newDevice(h.e, "")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	st := hdrStatus(t, r)
	if st.Data != syncml.StatusMissingCredentials || st.Chal == nil || st.Chal.Meta.Type != syncml.AuthMD5 {
		t.Fatalf("first reply header status %+v, want 407 + md5 challenge", st)
	}
	n1, _ := auth.ChalNonce(st.Chal)
	if !bytes.Equal(n1, []byte("first-nonce")) || !bytes.Equal(h.device(t).ServerNonce, n1) {
		t.Fatalf("challenge nonce %x, want the stored nonce unchanged (%x)", n1, h.device(t).ServerNonce)
	}
	for _, c := range r.Body {
		if _, ok := c.(*syncml.Status); !ok {
			t.Fatalf("auth failure reply carries %s", c.CommandName())
		}
	}
	if s := statusFor(r, "1"); s == nil || s.Data != syncml.StatusMissingCredentials {
		t.Errorf("alert status %+v", s)
	}

	d.scheme = "md5"
	r = d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	st = hdrStatus(t, r)
	if st.Data != syncml.StatusOK || st.Chal == nil {
		t.Fatalf("second reply header %+v, want 200 + next nonce", st)
	}
	n2, _ := auth.ChalNonce(st.Chal)
	if bytes.Equal(n1, n2) || !bytes.Equal(h.device(t).ServerNonce, n2) {
		t.Errorf("nonce not rotated: %x → %x (stored %x)", n1, n2, h.device(t).ServerNonce)
	}
	if r.Header.Cred == nil || r.Header.Cred.Data != auth.MD5Credential(serverID, srvPass, []byte("client-nonce")) {
		t.Errorf("server md5 credentials = %+v", r.Header.Cred)
	}
}

func TestEngine_RejectsBadCredentials(t *testing.T) {
	tests := []struct {
		name     string
		scheme   string // device's configured scheme
		send     string // what the scripted device sends
		password string
		want     syncml.StatusCode
		chalType string
	}{
		{"basic wrong password", "basic", "basic", "nope", syncml.StatusInvalidCredentials, syncml.AuthBasic},
		{"md5 wrong password", "md5", "md5", "nope", syncml.StatusInvalidCredentials, syncml.AuthMD5},
		{"md5 expected, basic sent", "md5", "basic", devPass, syncml.StatusInvalidCredentials, syncml.AuthMD5},
		{"hmac without header", "hmac", "", devPass, syncml.StatusMissingCredentials, syncml.AuthMAC},
		{"hmac wrong password", "hmac", "hmac", "nope", syncml.StatusInvalidCredentials, syncml.AuthMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, tc.scheme)
			d := newDevice(h.e, tc.send)
			d.password = tc.password
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			st := hdrStatus(t, r)
			if st.Data != tc.want || st.Chal == nil || st.Chal.Meta.Type != tc.chalType {
				t.Fatalf("header status %+v chal %+v, want %d + %s", st.Data, st.Chal, tc.want, tc.chalType)
			}
			if len(commands(r)) != 0 {
				t.Errorf("failure reply has commands %v", names(commands(r)))
			}
		})
	}
}

// OMA-TS-DM_Protocol-V1_2 §9.1: a 401 always carries a Chal; the failures
// store nothing, so the device's next good attempt still works.
func TestEngine_RepeatedAuthFailuresKeepChallengingAndStoreNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	d := newDevice(h.e, "md5")
	d.password = "nope"
	for i := range 3 {
		st := hdrStatus(t, d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)))
		if st.Data != syncml.StatusInvalidCredentials || st.Chal == nil {
			t.Fatalf("failure %d: %+v, want 401 with a challenge", i+1, st)
		}
	}
	if _, err := h.store.GetSession(context.Background(), devID, "1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session stored for failed attempts: %v", err)
	}
	d.password = devPass
	if st := hdrStatus(t, d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))); st.Data != syncml.StatusOK {
		t.Fatalf("good attempt after failures: %+v, want 200", st)
	}
}

// OMA-TS-DM_Protocol-V1_2 §9.1: an unknown id gets the answer a known one
// with wrong credentials gets (401 + md5 Chal), so ids cannot be probed.
func TestEngine_RejectsUnknownDeviceWithoutStoringAnything(t *testing.T) {
	h := newHarness(t, nil)
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusInvalidCredentials || st.Chal == nil || st.Chal.Meta.Type != syncml.AuthMD5 {
		t.Fatalf("header %+v, want 401 with an md5 challenge", st)
	}
	if _, err := h.store.GetSession(context.Background(), devID, "1"); err != storage.ErrNotFound {
		t.Errorf("session stored for unknown device: %v", err)
	}
}

func TestEngine_HMACEveryMessageWithNonceRotation(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "hmac")
	id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
	d := newDevice(h.e, "hmac")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	st := hdrStatus(t, r)
	if st.Data != syncml.StatusOK || st.Chal == nil || st.Chal.Meta.Type != syncml.AuthMAC {
		t.Fatalf("header %+v, want 200 + MAC challenge", st)
	}
	n1, _ := auth.ChalNonce(st.Chal)
	hh, err := auth.ParseHMACHeader(d.lastHMAC)
	if err != nil || !auth.VerifyHMAC(hh, serverID, srvPass, []byte("client-nonce"), d.lastBody) {
		t.Fatalf("reply HMAC %q does not verify: %v", d.lastHMAC, err)
	}
	r = d.post(t, d.message(true, d.answer(r, nil, func(*syncml.Get) []syncml.Item {
		return []syncml.Item{{Source: &syncml.Location{LocURI: "./DevDetail/FwV"}, Data: syncml.TextData("1.0")}}
	})...))
	st = hdrStatus(t, r)
	n2, _ := auth.ChalNonce(st.Chal)
	if st.Data != syncml.StatusOK || bytes.Equal(n1, n2) {
		t.Fatalf("second message header %+v, nonce %x → %x", st, n1, n2)
	}
	if j := h.job(t, id); j.State != storage.JobDone {
		t.Errorf("job %+v", j)
	}
}

func TestEngine_SessionContinuedWithoutTokenNeedsCredentialsAgain(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	d.url = dmURL // ignores RespURI
	d.scheme = ""
	r2 := d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
	if st := hdrStatus(t, r2); st.Data != syncml.StatusMissingCredentials {
		t.Fatalf("without token or credentials: %v, want 407", st.Data)
	}
	d.scheme = "basic"
	d.url = dmURL
	r3 := d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
	if st := hdrStatus(t, r3); st.Data != syncml.StatusOK || !r3.Final {
		t.Fatalf("with credentials: %v, want 200", st.Data)
	}
}
