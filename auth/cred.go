package auth

import (
	"encoding/base64"
	"errors"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// FormatB64 is the Meta Format of credentials and nonces: base64 text.
const FormatB64 = "b64"

// CredScheme returns the authentication scheme of a received Cred: its Meta
// Type, or syncml:auth-basic when the type is absent (the SyncML default). It
// returns "" for a nil Cred or one without Data, meaning "no credential".
func CredScheme(c *syncml.Cred) string {
	if c == nil || c.Data == "" {
		return ""
	}
	if c.Meta == nil || c.Meta.Type == "" {
		return syncml.AuthBasic
	}
	return c.Meta.Type
}

// MakeCred builds the SyncHdr Cred for scheme (syncml.AuthBasic or
// syncml.AuthMD5) with Format b64. nonce is the raw nonce last received from
// the peer (ignored by basic). It returns nil for any other scheme, including
// syncml.AuthMAC, whose proof travels in the x-syncml-hmac header instead.
func MakeCred(scheme, user, password string, nonce []byte) *syncml.Cred {
	var data string
	switch scheme {
	case syncml.AuthBasic:
		data = BasicCredential(user, password)
	case syncml.AuthMD5:
		data = MD5Credential(user, password, nonce)
	default:
		return nil
	}
	return &syncml.Cred{Meta: &syncml.Meta{Type: scheme, Format: FormatB64}, Data: data}
}

// CheckCred verifies a received Cred against the scheme the authenticator
// expects. It returns nil when the credential is valid, and otherwise a
// *syncml.StatusError carrying the SyncHdr status to answer: 407 when no
// credential was sent, 401 when one was sent but is of the wrong scheme or
// does not verify. For syncml.AuthMD5 the user name comes from the caller
// (SyncHdr Source/LocName); nonce is the raw nonce the authenticator issued.
func CheckCred(c *syncml.Cred, scheme, user, password string, nonce []byte) error {
	return checkCred(c, scheme, func(data string) bool {
		switch scheme {
		case syncml.AuthBasic:
			return VerifyBasic(data, user, password)
		case syncml.AuthMD5:
			return VerifyMD5(data, user, password, nonce)
		}
		return false
	})
}

// CheckCredHash is CheckCred for an authenticator that stores only
// userHash = UserHash(user, password).
func CheckCredHash(c *syncml.Cred, scheme, user, userHash string, nonce []byte) error {
	return checkCred(c, scheme, func(data string) bool {
		switch scheme {
		case syncml.AuthBasic:
			return VerifyBasicHash(data, user, userHash)
		case syncml.AuthMD5:
			return VerifyMD5Hash(data, userHash, nonce)
		}
		return false
	})
}

func checkCred(c *syncml.Cred, scheme string, verify func(string) bool) error {
	got := CredScheme(c)
	switch {
	case scheme != syncml.AuthBasic && scheme != syncml.AuthMD5:
		return syncml.Errorf(syncml.StatusInvalidCredentials, "scheme %q is not carried in Cred", scheme)
	case got == "":
		return syncml.Errorf(syncml.StatusMissingCredentials, "no credentials; %s required", scheme)
	case got != scheme:
		return syncml.Errorf(syncml.StatusInvalidCredentials, "credentials of type %q; %s required", got, scheme)
	case c.Meta != nil && c.Meta.Format != "" && c.Meta.Format != FormatB64:
		return syncml.Errorf(syncml.StatusInvalidCredentials, "credential format %q; b64 required", c.Meta.Format)
	case !verify(c.Data):
		return syncml.Errorf(syncml.StatusInvalidCredentials, "%s credentials rejected", scheme)
	}
	return nil
}

// BasicUser returns the user name inside basic Cred Data (the text before the
// first ':' of the decoded value), so that an authenticator can find the
// account to check it against.
func BasicUser(data string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", errors.New("basic credential is not base64")
	}
	user, _, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", errors.New("basic credential has no ':' between user and password")
	}
	return user, nil
}

// MakeChal builds the Chal an authenticator sends with 401/407 (or with
// 200/212 to hand over the next nonce): Meta Type scheme, Format b64 and
// NextNonce = B64(nonce). A nil or empty nonce (as for basic) leaves NextNonce out.
func MakeChal(scheme string, nonce []byte) *syncml.Chal {
	m := &syncml.Meta{Type: scheme, Format: FormatB64}
	if len(nonce) > 0 {
		m.NextNonce = base64.StdEncoding.EncodeToString(nonce)
	}
	return &syncml.Chal{Meta: m}
}

// ChalNonce returns the raw nonce carried by a Chal. With Format b64 (the
// spec's mandatory format) NextNonce is base64 text, decoded here (white space
// and missing padding tolerated); with Format absent it is decoded as base64
// when it is valid base64 and taken as raw bytes otherwise; with any other
// Format (bin, or WBXML OPAQUE content) it is taken as raw bytes. A Chal
// without NextNonce gives a nil nonce and no error.
func ChalNonce(c *syncml.Chal) ([]byte, error) {
	if c == nil || c.Meta == nil {
		return nil, errors.New("challenge has no Meta")
	}
	nn := c.Meta.NextNonce
	if nn == "" {
		return nil, nil
	}
	switch c.Meta.Format {
	case FormatB64:
		b, err := decodeB64Lenient(nn)
		if err != nil {
			return nil, errors.New("NextNonce is not valid base64 although Format is b64")
		}
		return b, nil
	case "":
		if b, err := decodeB64Lenient(nn); err == nil {
			return b, nil
		}
		return []byte(nn), nil
	}
	return []byte(nn), nil
}

func decodeB64Lenient(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
