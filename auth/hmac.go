package auth

import (
	"errors"
	"fmt"
	"strings"
)

// MaxHMACHeaderLen bounds the x-syncml-hmac value ParseHMACHeader accepts; real
// headers are under 200 bytes.
const MaxHMACHeaderLen = 2048

// HMACHeader is the parsed value of the x-syncml-hmac header:
//
//	x-syncml-hmac: algorithm=MD5, username="<Source/LocName>", mac=<b64>
//
// Algorithm is "" when the sender omitted it (it then means MD5).
type HMACHeader struct{ Algorithm, Username, MAC string }

// NewHMACHeader builds the header authenticating body (the exact transport
// bytes) for user and password with nonce.
func NewHMACHeader(user, password string, nonce, body []byte) HMACHeader {
	return HMACHeader{Algorithm: "MD5", Username: user, MAC: HMACMAC(user, password, nonce, body)}
}

// String formats the header value the way the spec's example does, with the
// user name quoted (and '"' and '\' escaped) and algorithm MD5 when unset.
func (h HMACHeader) String() string {
	alg := h.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	var b strings.Builder
	b.WriteString("algorithm=")
	b.WriteString(alg)
	b.WriteString(`, username="`)
	for i := 0; i < len(h.Username); i++ {
		if c := h.Username[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(h.Username[i])
	}
	b.WriteString(`", mac=`)
	b.WriteString(h.MAC)
	return b.String()
}

// ErrHMACHeader is wrapped by every error ParseHMACHeader returns.
var ErrHMACHeader = errors.New("bad x-syncml-hmac header")

func hmacErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrHMACHeader, fmt.Sprintf(format, args...))
}

// ParseHMACHeader parses an x-syncml-hmac value. It is tolerant of what real
// peers send: parameters in any order, separated by commas and/or white space,
// names in any case, values quoted (with backslash escapes) or not, and an
// absent algorithm. Unknown parameters are ignored. It fails, with an error
// wrapping ErrHMACHeader, on a missing username or mac, a repeated parameter,
// an algorithm other than MD5, an unterminated quote or an over-long value.
func ParseHMACHeader(v string) (HMACHeader, error) {
	var h HMACHeader
	if len(v) > MaxHMACHeaderLen {
		return h, hmacErr("value is %d bytes, limit %d", len(v), MaxHMACHeaderLen)
	}
	var seenAlg, seenUser, seenMAC bool
	i := 0
	for {
		for i < len(v) && (v[i] == ',' || isSpace(v[i])) {
			i++
		}
		if i == len(v) {
			break
		}
		start := i
		for i < len(v) && v[i] != '=' && v[i] != ',' && !isSpace(v[i]) {
			i++
		}
		name := v[start:i]
		for i < len(v) && isSpace(v[i]) {
			i++
		}
		if i == len(v) || v[i] != '=' {
			return HMACHeader{}, hmacErr("parameter %q has no value", name)
		}
		i++ // '='
		for i < len(v) && isSpace(v[i]) {
			i++
		}
		var val string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(v) {
				c := v[i]
				i++
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i < len(v) {
					c = v[i]
					i++
				}
				b.WriteByte(c)
			}
			if !closed {
				return HMACHeader{}, hmacErr("unterminated quoted value of %q", name)
			}
			val = b.String()
		} else {
			vs := i
			for i < len(v) && v[i] != ',' && !isSpace(v[i]) {
				i++
			}
			val = v[vs:i]
		}
		var seen *bool
		var dst *string
		switch {
		case equalFoldASCII(name, "algorithm"):
			seen, dst = &seenAlg, &h.Algorithm
		case equalFoldASCII(name, "username"):
			seen, dst = &seenUser, &h.Username
		case equalFoldASCII(name, "mac"):
			seen, dst = &seenMAC, &h.MAC
		default:
			continue
		}
		if *seen {
			return HMACHeader{}, hmacErr("parameter %q repeated", strings.ToLower(name))
		}
		*seen, *dst = true, val
	}
	switch {
	case !seenUser:
		return HMACHeader{}, hmacErr("missing username")
	case !seenMAC || h.MAC == "":
		return HMACHeader{}, hmacErr("missing mac")
	case seenAlg && !equalFoldASCII(h.Algorithm, "MD5"):
		return HMACHeader{}, hmacErr("unsupported algorithm %q (only MD5)", h.Algorithm)
	}
	return h, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// equalFoldASCII is strings.EqualFold restricted to ASCII, so that no Unicode
// case folding can make a hostile name match.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
