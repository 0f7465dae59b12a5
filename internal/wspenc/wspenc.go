// Package wspenc holds the WSP encoding primitives shared by the WAP push
// codec (notification) and the WSP binding (transport/wsp): uintvar, field
// values, header splitting, integers, text strings and the well-known
// content types DM uses. It has hard limits and never panics on any input.
//
// References are to WAP-230-WSP-20010705-a §8.1 (basic data types) and §8.4
// (header encoding).
package wspenc

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decoding error of this package; the
// message after it names the problem ("truncated uintvar", ...).
var ErrMalformed = errors.New("malformed WSP encoding")

type malformed string

func (m malformed) Error() string { return string(m) }
func (m malformed) Unwrap() error { return ErrMalformed }

func errf(format string, args ...any) error { return malformed(fmt.Sprintf(format, args...)) }

// Well-known content types (WAP-230-WSP Appendix A, Table 40, and the OMNA
// registry of WSP content types).
const (
	ContentTypeDMWBXML      = 0x42 // application/vnd.syncml.dm+wbxml
	ContentTypeDMXML        = 0x43 // application/vnd.syncml.dm+xml
	ContentTypeNotification = 0x44 // application/vnd.syncml.notification
)

var wellKnownMedia = map[uint32]string{
	ContentTypeNotification: "application/vnd.syncml.notification",
	ContentTypeDMWBXML:      "application/vnd.syncml.dm+wbxml",
	ContentTypeDMXML:        "application/vnd.syncml.dm+xml",
	0x2E:                    "application/vnd.wap.sic",
	0x30:                    "application/vnd.wap.slc",
	0x03:                    "text/plain",
	0x02:                    "text/html",
}

// MediaName returns the media type of a well-known content type code.
func MediaName(code uint32) (string, bool) {
	s, ok := wellKnownMedia[code]
	return s, ok
}

// MediaCode returns the well-known code of a media type (case-insensitive).
func MediaCode(media string) (uint32, bool) {
	for c, s := range wellKnownMedia {
		if len(s) == len(media) && bytes.EqualFold([]byte(s), []byte(media)) {
			return c, true
		}
	}
	return 0, false
}

// Uintvar decodes a variable-length unsigned integer (§8.1.2: at most 5
// octets, 32 bits) and returns it with the number of octets read.
func Uintvar(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errf("truncated uintvar")
		}
		v = v<<7 | uint64(b[i]&0x7F)
		if b[i]&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, 0, errf("uintvar exceeds 32 bits")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errf("uintvar longer than 5 octets")
}

// AppendUintvar appends v as a uintvar (§8.1.2).
func AppendUintvar(dst []byte, v uint32) []byte {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7F)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = 0x80 | byte(v&0x7F)
	}
	return append(dst, tmp[i:]...)
}

// SplitValue splits one field value off b (§8.4.1.2): a short-length or
// length-quoted block, a NUL-terminated text string, or a one-octet short
// integer.
func SplitValue(b []byte) (val, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, errf("missing header value")
	}
	switch c := b[0]; {
	case c <= 30:
		if int(c) > len(b)-1 {
			return nil, nil, errf("value length %d but only %d bytes follow", c, len(b)-1)
		}
		return b[:1+int(c)], b[1+int(c):], nil
	case c == 31:
		l, n, err := Uintvar(b[1:])
		if err != nil {
			return nil, nil, err
		}
		if l > uint64(len(b)-1-n) {
			return nil, nil, errf("value length %d but only %d bytes follow", l, len(b)-1-n)
		}
		end := 1 + n + int(l)
		return b[:end], b[end:], nil
	case c < 128:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, nil, errf("unterminated text value")
		}
		return b[:i+1], b[i+1:], nil
	default:
		return b[:1], b[1:], nil
	}
}

// AppHeader is the field name SplitHeader returns for an application header
// (its name is text).
const AppHeader = -1

// SplitHeader splits one header off b (§8.4.2.6). name is the well-known
// field code, or AppHeader with appName holding the text name. Header code
// page shifts are refused.
func SplitHeader(b []byte) (name int, appName string, val, rest []byte, err error) {
	if len(b) == 0 {
		return 0, "", nil, nil, errf("missing header")
	}
	c := b[0]
	switch {
	case c >= 0x80:
		val, rest, err = SplitValue(b[1:])
		return int(c & 0x7F), "", val, rest, err
	case c == 0x7F || c <= 0x1F:
		return 0, "", nil, nil, errf("header code page shift 0x%02X not supported", c)
	default:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return 0, "", nil, nil, errf("unterminated application header name")
		}
		appName = string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return 0, "", nil, nil, errf("unterminated application header value")
		}
		return AppHeader, appName, b[:j+1], b[j+1:], nil
	}
}

// Integer decodes an Integer-value (§8.4.2.3): a short integer or a long
// integer of at most 4 octets. ok is false when val is text. val must not
// be empty (SplitValue never returns an empty value).
func Integer(val []byte) (v uint32, ok bool, err error) {
	if len(val) == 0 {
		return 0, false, errf("missing integer")
	}
	switch c := val[0]; {
	case c >= 0x80:
		return uint32(c & 0x7F), true, nil
	case c <= 30:
		if c == 0 || c > 4 {
			return 0, false, errf("long integer of %d octets", c)
		}
		if int(c) > len(val)-1 {
			return 0, false, errf("truncated long integer")
		}
		for _, d := range val[1 : 1+int(c)] {
			v = v<<8 | uint32(d)
		}
		return v, true, nil
	}
	return 0, false, nil
}

// Text decodes a NUL-terminated text string (§8.4.2.1), dropping a leading
// quote or the 0x7F that guards text starting with an octet above 127.
func Text(val []byte) string {
	s := bytes.TrimSuffix(val, []byte{0})
	if len(s) > 0 && (s[0] == '"' || s[0] == 0x7F) {
		s = s[1:]
	}
	return string(s)
}

// AppendText appends s as a Text-string (§8.4.2.1): NUL-terminated, with a
// 0x7F quote when it starts with an octet above 127. s must not hold NUL.
func AppendText(dst []byte, s string) []byte {
	if len(s) > 0 && s[0] >= 0x80 {
		dst = append(dst, 0x7F)
	}
	dst = append(dst, s...)
	return append(dst, 0)
}

// LengthPrefix returns the value length of a general-form value (first
// octet 0–31) and the octets the prefix takes: 1 for a short length, 1+n
// after a length quote (§8.4.2.2).
func LengthPrefix(val []byte) (uint64, int, error) {
	if len(val) == 0 {
		return 0, 0, errf("missing value length")
	}
	if val[0] <= 30 {
		return uint64(val[0]), 1, nil
	}
	l, n, err := Uintvar(val[1:])
	return l, 1 + n, err
}

// ContentType reads a Content-type-value (§8.4.2.24): constrained (short
// integer or text) or general form (length, media type, parameters). It
// returns the media type (a well-known name, "0xNN" for an unknown code, or
// the text) and the raw parameter octets of the general form.
func ContentType(val []byte) (media string, params []byte, err error) {
	if len(val) == 0 {
		return "", nil, errf("no content type")
	}
	m := val
	if c := val[0]; c <= 31 {
		_, n, err := LengthPrefix(val)
		if err != nil {
			return "", nil, err
		}
		m = val[n:]
		if len(m) == 0 {
			return "", nil, errf("empty content type")
		}
		if m[0] >= 0x80 {
			m, params = m[:1], m[1:]
		} else if m[0] <= 30 {
			l, n, err := LengthPrefix(m)
			if err != nil {
				return "", nil, err
			}
			if l > uint64(len(m)-n) {
				return "", nil, errf("content type code length %d but only %d bytes follow", l, len(m)-n)
			}
			m, params = m[:n+int(l)], m[n+int(l):]
		} else {
			i := bytes.IndexByte(m, 0)
			if i < 0 {
				return "", nil, errf("unterminated content type")
			}
			m, params = m[:i+1], m[i+1:]
		}
	}
	code, ok, err := Integer(m)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		if m[len(m)-1] != 0 {
			return "", nil, errf("unterminated content type")
		}
		return Text(m), params, nil
	}
	if name, found := wellKnownMedia[code]; found {
		return name, params, nil
	}
	return fmt.Sprintf("0x%02X", code), params, nil
}
