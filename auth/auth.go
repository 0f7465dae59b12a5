// Package auth owns OMA DM 1.2 authentication arithmetic: the syncml:auth-basic
// and syncml:auth-md5 credentials carried in SyncHdr Cred, the transport-level
// HMAC-MD5 integrity header (x-syncml-hmac), nonce generation, challenges, and
// the decisions an authenticator makes about them (212 vs 200, 401 vs 407).
//
// Nonces are raw bytes everywhere in this package. They travel base64-encoded in
// NextNonce, but every hash is computed over the decoded bytes, never over their
// text form: many implementations get this wrong and fail with binary nonces.
//
// The "HMAC" of OMA DM is not RFC 2104. It is a nested MD5:
//
//	mac = B64( H( B64(H(user ":" password)) ":" nonce ":" B64(H(body)) ) )
//
// where H is MD5 (16 raw bytes) and B64 is padded standard base64. All
// verifications compare in constant time.
package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// HeaderHMAC is the HTTP header (and WSP header name) carrying the OMA DM
// transport-level MAC of a message body.
const HeaderHMAC = "x-syncml-hmac"

// NonceSize is the length of nonces made by NewNonce: the spec recommends at
// least 16 random octets.
const NonceSize = 16

// NewNonce returns NonceSize fresh bytes from crypto/rand, so that nonces are
// unpredictable as the spec requires. It panics only if the operating system's
// random source fails, which leaves no safe way to continue authenticating.
func NewNonce() []byte {
	b := make([]byte, NonceSize)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return b
}

var b64 = base64.StdEncoding

// h64 returns B64(H(parts...)) where the parts are concatenated byte for byte.
func h64(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	var sum [md5.Size]byte
	return b64.EncodeToString(h.Sum(sum[:0]))
}

var colon = []byte{':'}

// UserHash returns B64(H(user ":" password)), the only secret an authenticator
// needs to store to check MD5 and HMAC credentials (and basic ones, see
// VerifyBasicHash): storing it instead of the password limits the damage of a
// leaked credential store to the DM protocol.
func UserHash(user, password string) string {
	return h64([]byte(user), colon, []byte(password))
}

// BasicCredential returns the syncml:auth-basic Cred Data, B64(user ":" password).
func BasicCredential(user, password string) string {
	return b64.EncodeToString([]byte(user + ":" + password))
}

// MD5Credential returns the syncml:auth-md5 Cred Data,
// B64(H(B64(H(user ":" password)) ":" nonce)), with nonce as raw bytes.
func MD5Credential(user, password string, nonce []byte) string {
	return MD5CredentialHash(UserHash(user, password), nonce)
}

// MD5CredentialHash is MD5Credential for an authenticator that stores only
// userHash = UserHash(user, password).
func MD5CredentialHash(userHash string, nonce []byte) string {
	return h64([]byte(userHash), colon, nonce)
}

// HMACMAC returns the mac value of the x-syncml-hmac header for body, the exact
// bytes sent on the transport (XML or WBXML).
func HMACMAC(user, password string, nonce, body []byte) string {
	return HMACMACHash(UserHash(user, password), nonce, body)
}

// HMACMACHash is HMACMAC for an authenticator that stores only
// userHash = UserHash(user, password).
func HMACMACHash(userHash string, nonce, body []byte) string {
	return h64([]byte(userHash), colon, nonce, colon, []byte(h64(body)))
}

// equal compares two strings in constant time (for equal lengths; lengths are
// not secret here: every credential of a scheme has the same encoded length).
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// VerifyBasic reports whether data is the basic credential of user and
// password, in constant time.
func VerifyBasic(data, user, password string) bool {
	return equal(data, BasicCredential(user, password))
}

// VerifyBasicHash checks a basic credential against a stored
// userHash = UserHash(user, password): the credential reveals user:password,
// which is hashed and compared in constant time. The user name is checked too.
func VerifyBasicHash(data, user, userHash string) bool {
	raw, err := b64.DecodeString(data)
	if err != nil {
		return false
	}
	ok := subtle.ConstantTimeCompare([]byte(h64(raw)), []byte(userHash))
	nameOK := len(raw) > len(user) && raw[len(user)] == ':' &&
		subtle.ConstantTimeCompare(raw[:len(user)], []byte(user)) == 1
	return ok == 1 && nameOK
}

// VerifyMD5 reports whether data is the MD5 credential of user and password
// for nonce (raw bytes), in constant time.
func VerifyMD5(data, user, password string, nonce []byte) bool {
	return equal(data, MD5Credential(user, password, nonce))
}

// VerifyMD5Hash is VerifyMD5 against a stored userHash = UserHash(user, password).
func VerifyMD5Hash(data, userHash string, nonce []byte) bool {
	return equal(data, MD5CredentialHash(userHash, nonce))
}

// VerifyHMAC reports whether the parsed header h authenticates body for user
// and password with nonce: the header's user name must be user and its mac
// must match, both compared in constant time.
func VerifyHMAC(h HMACHeader, user, password string, nonce, body []byte) bool {
	return VerifyHMACHash(h, user, UserHash(user, password), nonce, body)
}

// VerifyHMACHash is VerifyHMAC against a stored userHash = UserHash(user, password).
func VerifyHMACHash(h HMACHeader, user, userHash string, nonce, body []byte) bool {
	if h.Algorithm != "" && !equalFoldASCII(h.Algorithm, "MD5") {
		return false
	}
	macOK := equal(h.MAC, HMACMACHash(userHash, nonce, body))
	userOK := equal(h.Username, user)
	return macOK && userOK
}
