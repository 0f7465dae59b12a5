package notification_test

import (
	"bytes"
	"testing"

	"github.com/omadm/omadm/notification"
)

// OMA-TS-DM_Notification-V1_2 §6.2.2.2: the Verifier computes the same
// digest as the reference formula, for every nonce it is given.
func TestVerifier_MatchesTheDigestFormula(t *testing.T) {
	long := bytes.Repeat([]byte("n"), 300) // past the stack buffer
	for _, nonce := range [][]byte{nil, []byte("srvnonce"), notification.ResetNonce, notification.ResetNonceZeros, long} {
		p := &notification.Package0{SessionID: 0x1234, ServerID: "com.mgmtsrv.manage", UIMode: notification.UIBackground}
		if _, err := p.Encode("srvpwd", nonce); err != nil {
			t.Fatal(err)
		}
		v := notification.NewVerifier("com.mgmtsrv.manage", "srvpwd")
		if i := v.Match(&p.Digest, p.Trigger, []byte("other"), nonce); i != 1 {
			t.Fatalf("nonce %q: Match = %d, want 1", nonce, i)
		}
		if !v.Verify(p, nonce) {
			t.Fatalf("nonce %q: Verify = false", nonce)
		}
		if notification.NewVerifier("com.mgmtsrv.manage", "guess").Verify(p, nonce) {
			t.Fatalf("nonce %q: wrong password verifies", nonce)
		}
	}
}

func TestVerifier_MatchDoesNotAllocate(t *testing.T) {
	p := &notification.Package0{SessionID: 7, ServerID: "srv"}
	if _, err := p.Encode("pw", []byte("n1")); err != nil {
		t.Fatal(err)
	}
	v := notification.NewVerifier("srv", "pw")
	n1, n2 := []byte("n0"), []byte("n1")
	if a := testing.AllocsPerRun(100, func() { v.Match(&p.Digest, p.Trigger, n1, notification.ResetNonce, n2) }); a != 0 {
		t.Fatalf("Match allocates %v times per call", a)
	}
}

func FuzzVerifier(f *testing.F) {
	seedAll(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := notification.Decode(b)
		if err != nil {
			return
		}
		v := notification.NewVerifier(p.ServerID, "pw")
		if got, want := v.Verify(p, []byte("n")), p.Verify("pw", []byte("n")); got != want {
			t.Fatalf("Verifier says %v, Package0.Verify %v", got, want)
		}
	})
}
