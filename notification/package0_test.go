package notification_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
)

func TestEncode_MatchesIndependentVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			p := v.pkg
			got, err := p.Encode(v.password, v.nonce)
			if err != nil {
				t.Fatal(err)
			}
			if want := cat(v.digest, v.trigger); !bytes.Equal(got, want) {
				t.Errorf("encoded\n %x\nwant\n %x", got, want)
			}
			if !bytes.Equal(p.Trigger, v.trigger) || !bytes.Equal(p.Digest[:], v.digest) {
				t.Errorf("Encode did not fill Trigger/Digest: %x %x", p.Trigger, p.Digest)
			}
		})
	}
}

func TestDecode_ReadsEveryFieldOfIndependentVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			p, err := notification.Decode(cat(v.digest, v.trigger))
			if err != nil {
				t.Fatal(err)
			}
			w := v.pkg
			if p.Version != w.Version || p.UIMode != w.UIMode || p.Initiator != w.Initiator ||
				p.SessionID != w.SessionID || p.ServerID != w.ServerID || !bytes.Equal(p.Vendor, w.Vendor) {
				t.Errorf("decoded %+v, want %+v", p, w)
			}
			if !bytes.Equal(p.Digest[:], v.digest) || !bytes.Equal(p.Trigger, v.trigger) {
				t.Errorf("digest/trigger %x %x", p.Digest, p.Trigger)
			}
			if !p.Verify(v.password, v.nonce) {
				t.Error("Verify = false for the right password and nonce")
			}
		})
	}
}

func TestDecode_SpecVectorFieldByField(t *testing.T) {
	v := loadVectors(t)["spec"]
	p, err := notification.Decode(cat(v.digest, v.trigger))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 11 || p.UIMode != notification.UIBackground || p.Initiator != notification.InitiatorClient ||
		p.SessionID != 0x1234 || p.ServerID != "com.mgmtsrv.manage" || p.Vendor != nil {
		t.Errorf("got %+v", p)
	}
	if s := p.SessionIDString(); s != "1234" {
		t.Errorf("SessionIDString = %s", s)
	}
	if s := (&notification.Package0{SessionID: 0xAB}).SessionIDString(); s != "AB" {
		t.Errorf("SessionIDString(0xAB) = %s, want AB (upper case, no leading zeros)", s)
	}
}

func TestVerify_RejectsTamperingAndWrongSecrets(t *testing.T) {
	v := loadVectors(t)["binary-nonce"]
	good := cat(v.digest, v.trigger)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name     string
		pkg      []byte
		password string
		nonce    []byte
	}{
		{"digest bit flipped", flip(3), v.password, v.nonce},
		{"session id bit flipped", flip(22), v.password, v.nonce},
		{"server id byte flipped", flip(30), v.password, v.nonce},
		{"vendor data appended", append(bytes.Clone(good), 0), v.password, v.nonce},
		{"wrong password", good, "pa:sS", v.nonce},
		{"nonce as hex text", good, v.password, []byte("00ff3a80c328")},
		{"empty nonce", good, v.password, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := notification.Decode(tt.pkg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Verify(tt.password, tt.nonce) {
				t.Error("Verify = true")
			}
		})
	}
}

func TestVerifyAs_UsesTheStoredServerIdentity(t *testing.T) {
	v := loadVectors(t)["spec"]
	p, _ := notification.Decode(cat(v.digest, v.trigger))
	if !p.VerifyAs("com.mgmtsrv.manage", v.password, v.nonce) {
		t.Error("VerifyAs with the same id failed")
	}
	if p.VerifyAs("other", v.password, v.nonce) {
		t.Error("VerifyAs with another id succeeded")
	}
}

func TestVerifyWithReset_ReportsWhichNonceVerified(t *testing.T) {
	vs := loadVectors(t)
	stale := []byte("stale")
	tests := []struct {
		vector string
		want   []byte
	}{
		{"spec", []byte("srvnonce")},
		{"reset-text", notification.ResetNonce},
		{"reset-zeros", notification.ResetNonceZeros},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			v := vs[tt.vector]
			p, _ := notification.Decode(cat(v.digest, v.trigger))
			stored := stale
			if tt.vector == "spec" {
				stored = v.nonce
			}
			got, ok := p.VerifyWithReset(v.password, stored)
			if !ok || !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, ok, tt.want)
			}
			if _, ok := p.VerifyWithReset("wrong", stored); ok {
				t.Error("wrong password verified")
			}
		})
	}
	if string(notification.ResetNonce) != "0x00000000" || !bytes.Equal(notification.ResetNonceZeros, []byte{0, 0, 0, 0}) {
		t.Error("reset nonces changed")
	}
}

func TestDecode_RejectsBadPackagesWithClearErrors(t *testing.T) {
	v := loadVectors(t)["spec"]
	good := cat(v.digest, v.trigger)
	with := func(i int, b byte) []byte {
		c := bytes.Clone(good)
		c[i] = b
		return c
	}
	tests := []struct {
		name string
		in   []byte
		is   error
		msg  string
	}{
		{"empty", nil, notification.ErrTruncated, "0 bytes"},
		{"digest only", good[:16], notification.ErrTruncated, "fixed header"},
		{"header cut", good[:23], notification.ErrTruncated, "fixed header"},
		{"server id cut", good[:len(good)-1], notification.ErrTruncated, "length 18"},
		{"version 10", with(17, 0x90), notification.ErrUnsupportedVersion, "10"},
		{"version 13", func() []byte { b := with(16, 0x03); b[17] = 0x50; return b }(), notification.ErrUnsupportedVersion, "13"},
		{"version 0", with(16, 0), notification.ErrUnsupportedVersion, "want 11 or 12"},
		{"future bit in byte 1", with(17, 0xD1), notification.ErrReservedBits, "future-use"},
		{"future bit in byte 4", with(20, 0x80), notification.ErrReservedBits, "future-use"},
		{"too large", make([]byte, notification.MaxPackageSize+1), notification.ErrTooLarge, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := notification.Decode(tt.in)
			if err == nil {
				t.Fatalf("decoded %+v", p)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want %v mentioning %q", err, tt.is, tt.msg)
			}
		})
	}
	// Every prefix of a valid package fails cleanly.
	for i := range good {
		if _, err := notification.Decode(good[:i]); err == nil {
			t.Errorf("prefix of %d bytes decoded", i)
		}
	}
}

func TestEncode_RejectsFieldsThatDoNotFit(t *testing.T) {
	tests := []struct {
		name string
		p    notification.Package0
		is   error
	}{
		{"256-byte server id", notification.Package0{ServerID: strings.Repeat("x", 256)}, notification.ErrInvalidField},
		{"version 13", notification.Package0{Version: 13}, notification.ErrUnsupportedVersion},
		{"ui-mode 4", notification.Package0{UIMode: 4}, notification.ErrInvalidField},
		{"initiator 2", notification.Package0{Initiator: 2}, notification.ErrInvalidField},
		{"vendor too large", notification.Package0{Vendor: make([]byte, notification.MaxPackageSize)}, notification.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.Encode("pw", nil); !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
		})
	}
}

func TestEncode_DefaultsToVersion11AndRoundTrips(t *testing.T) {
	p := notification.Package0{ServerID: "s", SessionID: 7, Initiator: notification.InitiatorServer, UIMode: notification.UIInteractive}
	b, err := p.Encode("pw", []byte{0xff})
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 11 || b[16] != 0x02 || b[17] != 0xF8 {
		t.Errorf("version %d, header %x", p.Version, b[16:18])
	}
	q, err := notification.Decode(b)
	if err != nil || !q.Verify("pw", []byte{0xff}) || q.ServerID != "s" || q.SessionID != 7 {
		t.Errorf("round trip: %+v, %v", q, err)
	}
	// A hand-built package (no Trigger) verifies from its fields.
	h := p
	h.Trigger = nil
	if !h.Verify("pw", []byte{0xff}) {
		t.Error("Verify without Trigger failed")
	}
}

func TestParseNames_AreInversesOfString(t *testing.T) {
	for m := notification.UINotSpecified; m <= notification.UIInteractive; m++ {
		if got, err := notification.ParseUIMode(m.String()); err != nil || got != m {
			t.Errorf("ui-mode %v: %v %v", m, got, err)
		}
	}
	for _, i := range []notification.Initiator{notification.InitiatorClient, notification.InitiatorServer} {
		if got, err := notification.ParseInitiator(i.String()); err != nil || got != i {
			t.Errorf("initiator %v: %v %v", i, got, err)
		}
	}
	for b := notification.BearerAuto; b <= notification.BearerSMS; b++ {
		if got, err := notification.ParseBearer(b.String()); err != nil || got != b {
			t.Errorf("bearer %v: %v %v", b, got, err)
		}
	}
	for _, bad := range []func() error{
		func() error { _, err := notification.ParseUIMode("loud"); return err },
		func() error { _, err := notification.ParseInitiator("user"); return err },
		func() error { _, err := notification.ParseBearer("obex"); return err },
	} {
		if bad() == nil {
			t.Error("unknown name accepted")
		}
	}
}
