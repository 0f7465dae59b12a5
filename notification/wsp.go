package notification

import (
	"bytes"
	"errors"
	"fmt"
)

// WSP and WAP push constants for DM notifications.
const (
	// PushPort is the WDP port of connectionless, non-secure WAP push: the
	// destination of every DM notification over UDP and SMS.
	PushPort = 2948
	// WSPPort is the WSP connectionless port, a common push source port.
	WSPPort = 9200

	wspPDUPush          = 0x06
	wspContentTypeDMNot = 0x44 // application/vnd.syncml.notification
	wspFieldAppID       = 0x2F // X-Wap-Application-Id
	wspAppIDSyncMLDM    = 0x07 // x-wap-application:syncml.dm

	appIDText = "x-wap-application:syncml.dm"
)

// ErrWSP is wrapped by every WSP push decoding error.
var ErrWSP = errors.New("bad WSP push PDU")

func wspErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrWSP, fmt.Sprintf(format, args...))
}

// Push is a decoded connectionless WSP push PDU carrying a DM notification.
type Push struct {
	TID byte // transaction id (push id)
	// ContentType is the media type; "application/vnd.syncml.notification"
	// (well-known 0x44) for every Push DecodePush returns.
	ContentType string
	// AppID is the X-Wap-Application-Id; "x-wap-application:syncml.dm"
	// (code 0x07) for every Push DecodePush returns.
	AppID string
	// Headers holds the exact header bytes (content type first), as received.
	Headers []byte
	// Body is the package 0.
	Body []byte
}

// EncodePush wraps a package 0 in a connectionless WSP push PDU: TID, PDU
// type 0x06, headers length (uintvar), content type 0xC4 (0x44 as a short
// integer) and X-Wap-Application-Id 0xAF 0x87 (code 0x07), then the package.
// These are the 6 WSP header bytes the spec's example shows.
func EncodePush(tid byte, pkg0 []byte) []byte {
	out := make([]byte, 0, 6+len(pkg0))
	out = append(out, tid, wspPDUPush, 3, 0x80|wspContentTypeDMNot, 0x80|wspFieldAppID, 0x80|wspAppIDSyncMLDM)
	return append(out, pkg0...)
}

// DecodePush parses a connectionless WSP push PDU and checks that it is a DM
// notification: content type application/vnd.syncml.notification (as code
// 0x44 or as text, in short or general form) and X-Wap-Application-Id
// syncml.dm (code 0x07 as short or long integer, or its URI). Other headers
// are skipped; header code page shifts are refused.
func DecodePush(b []byte) (*Push, error) {
	if len(b) > MaxPackageSize+1024 {
		return nil, wspErr("%d bytes, too large for a notification", len(b))
	}
	if len(b) < 3 {
		return nil, wspErr("%d bytes, shorter than TID, PDU type and headers length", len(b))
	}
	p := &Push{TID: b[0]}
	if b[1] != wspPDUPush {
		return nil, wspErr("PDU type 0x%02X, want 0x06 (Push)", b[1])
	}
	hl, n, err := uintvar(b[2:])
	if err != nil {
		return nil, err
	}
	off := 2 + n
	if hl > uint64(len(b)-off) {
		return nil, wspErr("headers length %d but only %d bytes follow", hl, len(b)-off)
	}
	hdr := b[off : off+int(hl)]
	p.Headers = append([]byte(nil), hdr...)
	p.Body = append([]byte(nil), b[off+int(hl):]...)

	ct, rest, err := contentType(hdr)
	if err != nil {
		return nil, err
	}
	p.ContentType = ct
	if ct != "application/vnd.syncml.notification" {
		return nil, wspErr("content type %s is not application/vnd.syncml.notification", ct)
	}
	for len(rest) > 0 {
		var name int
		var val []byte
		name, val, rest, err = header(rest)
		if err != nil {
			return nil, err
		}
		if name == wspFieldAppID {
			if p.AppID != "" {
				return nil, wspErr("X-Wap-Application-Id repeated")
			}
			if p.AppID, err = appID(val); err != nil {
				return nil, err
			}
		}
	}
	switch p.AppID {
	case "":
		return nil, wspErr("no X-Wap-Application-Id header")
	case appIDText:
	default:
		return nil, wspErr("X-Wap-Application-Id %s is not %s", p.AppID, appIDText)
	}
	return p, nil
}

// uintvar decodes a WSP variable-length unsigned integer (at most 5 octets,
// 32 bits) and returns it with the number of octets read.
func uintvar(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, wspErr("truncated uintvar")
		}
		v = v<<7 | uint64(b[i]&0x7F)
		if b[i]&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, 0, wspErr("uintvar exceeds 32 bits")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, wspErr("uintvar longer than 5 octets")
}

// value splits one WSP field value off b: a short-length or length-quoted
// block, a NUL-terminated text string, or a one-octet short integer.
func value(b []byte) (val, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, wspErr("missing header value")
	}
	switch c := b[0]; {
	case c <= 30:
		if int(c) > len(b)-1 {
			return nil, nil, wspErr("value length %d but only %d bytes follow", c, len(b)-1)
		}
		return b[:1+int(c)], b[1+int(c):], nil
	case c == 31:
		l, n, err := uintvar(b[1:])
		if err != nil {
			return nil, nil, err
		}
		if l > uint64(len(b)-1-n) {
			return nil, nil, wspErr("value length %d but only %d bytes follow", l, len(b)-1-n)
		}
		end := 1 + n + int(l)
		return b[:end], b[end:], nil
	case c < 128:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, nil, wspErr("unterminated text value")
		}
		return b[:i+1], b[i+1:], nil
	default:
		return b[:1], b[1:], nil
	}
}

// header splits one header off b. name is the well-known field code, or -1
// for an application header (name as text).
func header(b []byte) (name int, val, rest []byte, err error) {
	c := b[0]
	switch {
	case c >= 0x80:
		val, rest, err = value(b[1:])
		return int(c & 0x7F), val, rest, err
	case c == 0x7F || c <= 0x1F:
		return 0, nil, nil, wspErr("header code page shift 0x%02X not supported", c)
	default:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return 0, nil, nil, wspErr("unterminated application header name")
		}
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return 0, nil, nil, wspErr("unterminated application header value")
		}
		return -1, b[:j+1], b[j+1:], nil
	}
}

// integer decodes a WSP Integer-value: a short integer or a long integer of
// at most 4 octets. ok is false when val is text.
func integer(val []byte) (v uint32, ok bool, err error) {
	switch c := val[0]; {
	case c >= 0x80:
		return uint32(c & 0x7F), true, nil
	case c <= 30:
		if c == 0 || c > 4 {
			return 0, false, wspErr("long integer of %d octets", c)
		}
		if int(c) > len(val)-1 {
			return 0, false, wspErr("truncated long integer")
		}
		for _, d := range val[1 : 1+int(c)] {
			v = v<<8 | uint32(d)
		}
		return v, true, nil
	}
	return 0, false, nil
}

// text decodes a NUL-terminated WSP text string (dropping a leading quote).
func text(val []byte) string {
	s := bytes.TrimSuffix(val, []byte{0})
	if len(s) > 0 && (s[0] == '"' || s[0] == 0x7F) {
		s = s[1:]
	}
	return string(s)
}

var wellKnownMedia = map[uint32]string{
	0x44: "application/vnd.syncml.notification",
	// WAP WSP assigned numbers (OMNA well-known content types).
	0x42: "application/vnd.syncml.dm+wbxml",
	0x43: "application/vnd.syncml.dm+xml",
	0x2E: "application/vnd.wap.sic",
	0x30: "application/vnd.wap.slc",
}

// contentType reads the Content-Type value that starts the WSP headers:
// constrained (short integer or text) or general form (length, media type,
// parameters, which are ignored).
func contentType(hdr []byte) (string, []byte, error) {
	if len(hdr) == 0 {
		return "", nil, wspErr("no content type")
	}
	val, rest, err := value(hdr)
	if err != nil {
		return "", nil, err
	}
	media := val
	if c := val[0]; c == 31 || (c <= 30 && c > 0) {
		// General form: skip the length to the media type.
		_, n, err := uintvarOrShort(val)
		if err != nil {
			return "", nil, err
		}
		media = val[n:]
		if len(media) == 0 {
			return "", nil, wspErr("empty content type")
		}
		if c := media[0]; c >= 32 && c < 128 {
			if bytes.IndexByte(media, 0) < 0 {
				return "", nil, wspErr("unterminated content type")
			}
		}
	}
	code, ok, err := integer(media)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return text(media[:bytes.IndexByte(media, 0)+1]), rest, nil
	}
	if name, found := wellKnownMedia[code]; found {
		return name, rest, nil
	}
	return fmt.Sprintf("0x%02X", code), rest, nil
}

// uintvarOrShort returns the length prefix of a general-form value and the
// number of octets it takes (1 for a short length, 1+n after a length quote).
func uintvarOrShort(val []byte) (uint64, int, error) {
	if val[0] <= 30 {
		return uint64(val[0]), 1, nil
	}
	l, n, err := uintvar(val[1:])
	return l, 1 + n, err
}

// appID decodes an X-Wap-Application-Id value to its URI form.
func appID(val []byte) (string, error) {
	code, ok, err := integer(val)
	if err != nil {
		return "", err
	}
	if !ok {
		return text(val), nil
	}
	if code == wspAppIDSyncMLDM {
		return appIDText, nil
	}
	return fmt.Sprintf("0x%02X", code), nil
}
