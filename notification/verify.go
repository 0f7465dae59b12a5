package notification

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
)

// Verifier checks package 0 digests for one server identity and password
// without allocating: the account part of the digest, B64(H(serverID ":"
// password)), is computed once, and H(trigger) once per package whatever the
// number of nonces tried. A device uses it on every datagram it receives, so
// that a flood of forged packages costs a few MD5 blocks each.
type Verifier struct {
	serverID string
	password string
	key      [24]byte // B64(H(serverID ":" password))
}

// NewVerifier returns a Verifier for the identity the device has stored for
// the server (DMAcc ServerID) and the server's password (SRVCRED
// AAuthSecret).
func NewVerifier(serverID, password string) *Verifier {
	v := &Verifier{serverID: serverID, password: password}
	h := md5.Sum([]byte(serverID + ":" + password))
	base64.StdEncoding.Encode(v.key[:], h[:])
	return v
}

// For reports whether v was built for serverID and password, so that a
// caller can keep one Verifier while the credentials do not change.
func (v *Verifier) For(serverID, password string) bool {
	return v != nil && v.serverID == serverID && v.password == password
}

// maxStackNonce is the longest nonce Match hashes without allocating; longer
// nonces (not seen in practice) cost one allocation.
const maxStackNonce = 128

// Match returns the index of the first nonce under which digest is the
// package 0 digest of trigger, or -1 when none is (OMA-TS-DM_Notification
// V1_2 §6.2.2.2: H(B64(H(server-identifier:password)):nonce:B64(H(trigger)))).
// The comparison is constant-time per nonce.
func (v *Verifier) Match(digest *[DigestSize]byte, trigger []byte, nonces ...[]byte) int {
	th := md5.Sum(trigger)
	var tb [24]byte
	base64.StdEncoding.Encode(tb[:], th[:])
	var stack [24 + 1 + maxStackNonce + 1 + 24]byte
	for i, n := range nonces {
		var buf []byte
		if len(n) <= maxStackNonce {
			buf = stack[:0]
		} else {
			buf = make([]byte, 0, 50+len(n))
		}
		buf = append(buf, v.key[:]...)
		buf = append(buf, ':')
		buf = append(buf, n...)
		buf = append(buf, ':')
		buf = append(buf, tb[:]...)
		d := md5.Sum(buf)
		if subtle.ConstantTimeCompare(d[:], digest[:]) == 1 {
			return i
		}
	}
	return -1
}

// Verify reports whether the package's digest verifies under nonce; it is
// Package0.VerifyAs with the Verifier's identity and password.
func (v *Verifier) Verify(p *Package0, nonce []byte) bool {
	t, ok := p.trigger()
	return ok && v.Match(&p.Digest, t, nonce) == 0
}
