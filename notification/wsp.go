package notification

import (
	"errors"
	"fmt"

	"github.com/omadm/omadm/internal/wspenc"
)

// WSP and WAP push constants for DM notifications.
const (
	// PushPort is the WDP port of connectionless, non-secure WAP push: the
	// destination of every DM notification over UDP and SMS.
	PushPort = 2948
	// WSPPort is the WSP connectionless port, a common push source port.
	WSPPort = 9200

	wspPDUPush          = 0x06
	wspContentTypeDMNot = wspenc.ContentTypeNotification
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

// The WSP primitives live in internal/wspenc (shared with transport/wsp);
// these wrappers put ErrWSP on their errors.

func wrapWSP(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrWSP, err)
}

func uintvar(b []byte) (uint64, int, error) {
	v, n, err := wspenc.Uintvar(b)
	return v, n, wrapWSP(err)
}

func appendUintvar(dst []byte, v uint32) []byte { return wspenc.AppendUintvar(dst, v) }

func value(b []byte) (val, rest []byte, err error) {
	val, rest, err = wspenc.SplitValue(b)
	return val, rest, wrapWSP(err)
}

// header splits one header off b. name is the well-known field code, or -1
// for an application header (name as text).
func header(b []byte) (name int, val, rest []byte, err error) {
	name, _, val, rest, err = wspenc.SplitHeader(b)
	return name, val, rest, wrapWSP(err)
}

func integer(val []byte) (v uint32, ok bool, err error) {
	v, ok, err = wspenc.Integer(val)
	return v, ok, wrapWSP(err)
}

func text(val []byte) string { return wspenc.Text(val) }

func uintvarOrShort(val []byte) (uint64, int, error) {
	l, n, err := wspenc.LengthPrefix(val)
	return l, n, wrapWSP(err)
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
	media, _, err := wspenc.ContentType(val)
	return media, rest, wrapWSP(err)
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
