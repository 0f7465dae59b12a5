package notification

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"github.com/omadm/omadm/internal/wspenc"
)

// WSP codes of a pushed DM bootstrap.
const (
	wspContentTypeDMWBXML = wspenc.ContentTypeDMWBXML
	wspParamSEC           = 0x11 // SEC (WSP well-known parameter, short-integer value)
	wspParamMAC           = 0x12 // MAC (text value)
)

// BootstrapPush is a DM bootstrap message pushed over WAP
// (OMA-TS-DM_Security-V1_2 §5.1.7.2: Content-Type
// application/vnd.syncml.dm+wbxml; SEC=…; MAC=…).
type BootstrapPush struct {
	TID byte
	// SEC is the WSP SEC code (0 NETWPIN/NETWORKID, 1 USERPIN,
	// 2 USERNETWPIN/USERPIN_NETWORKID, 3 USERPINMAC); -1 when absent.
	SEC int
	// MAC is the MAC parameter (40 hex digits), "" when absent.
	MAC  string
	Body []byte
}

// EncodeBootstrapPush wraps a WBXML bootstrap message in a connectionless
// WSP push PDU: Content-Type in general form (application/vnd.syncml.dm+wbxml
// as code 0x42, SEC as the short integer sec when sec >= 0, MAC as text
// when given) and X-Wap-Application-Id syncml.dm (0x07), the application a
// DM client registers for on the push port.
func EncodeBootstrapPush(tid byte, body []byte, sec int, mac string) ([]byte, error) {
	if sec > 3 {
		return nil, fmt.Errorf("notification: SEC code %d, want 0-3", sec)
	}
	ct := []byte{0x80 | wspContentTypeDMWBXML}
	if sec >= 0 {
		ct = append(ct, 0x80|wspParamSEC, 0x80|byte(sec))
	}
	if mac != "" {
		if bytes.IndexByte([]byte(mac), 0) >= 0 || mac[0] >= 0x80 {
			return nil, fmt.Errorf("notification: MAC %q is not a WSP text value", mac)
		}
		ct = append(append(append(ct, 0x80|wspParamMAC), mac...), 0)
	}
	var hdr []byte
	if len(ct) <= 30 {
		hdr = append(hdr, byte(len(ct)))
	} else {
		hdr = appendUintvar(append(hdr, 31), uint32(len(ct)))
	}
	hdr = append(hdr, ct...)
	hdr = append(hdr, 0x80|wspFieldAppID, 0x80|wspAppIDSyncMLDM)
	out := appendUintvar([]byte{tid, wspPDUPush}, uint32(len(hdr)))
	out = append(out, hdr...)
	return append(out, body...), nil
}

// IsBootstrapPush reports whether b looks like a WSP push of a DM message
// (content type application/vnd.syncml.dm+wbxml) rather than a package 0.
func IsBootstrapPush(b []byte) bool {
	_, err := DecodeBootstrapPush(b)
	return err == nil
}

// DecodeBootstrapPush parses a WSP push PDU carrying a DM bootstrap:
// content type application/vnd.syncml.dm+wbxml with its SEC and MAC
// parameters, X-Wap-Application-Id syncml.dm. Other parameters and
// headers are skipped.
func DecodeBootstrapPush(b []byte) (*BootstrapPush, error) {
	if len(b) > MaxBootstrapSize+1024 {
		return nil, wspErr("%d bytes, too large for a bootstrap", len(b))
	}
	if len(b) < 3 || b[1] != wspPDUPush {
		return nil, wspErr("not a WSP push PDU")
	}
	p := &BootstrapPush{TID: b[0], SEC: -1}
	hl, n, err := uintvar(b[2:])
	if err != nil {
		return nil, err
	}
	off := 2 + n
	if hl > uint64(len(b)-off) {
		return nil, wspErr("headers length %d but only %d bytes follow", hl, len(b)-off)
	}
	hdr := b[off : off+int(hl)]
	p.Body = append([]byte(nil), b[off+int(hl):]...)
	val, rest, err := value(hdr)
	if err != nil {
		return nil, err
	}
	media, params := val, []byte(nil)
	if c := val[0]; c <= 31 {
		_, n, err := uintvarOrShort(val)
		if err != nil {
			return nil, err
		}
		media = val[n:]
		if len(media) == 0 {
			return nil, wspErr("empty content type")
		}
		if media[0] >= 0x80 {
			media, params = media[:1], media[1:]
		} else {
			i := bytes.IndexByte(media, 0)
			if i < 0 {
				return nil, wspErr("unterminated content type")
			}
			media, params = media[:i+1], media[i+1:]
		}
	}
	code, ok, err := integer(media)
	switch {
	case err != nil:
		return nil, err
	case ok && code != wspContentTypeDMWBXML, !ok && text(media) != "application/vnd.syncml.dm+wbxml":
		return nil, wspErr("content type is not application/vnd.syncml.dm+wbxml")
	}
	if err := p.params(params); err != nil {
		return nil, err
	}
	var app string
	for len(rest) > 0 {
		name, v, r, err := header(rest)
		if err != nil {
			return nil, err
		}
		rest = r
		if name == wspFieldAppID {
			if app, err = appID(v); err != nil {
				return nil, err
			}
		}
	}
	if app != appIDText {
		return nil, wspErr("X-Wap-Application-Id %q is not %s", app, appIDText)
	}
	return p, nil
}

// params reads the content type's parameters: well-known SEC and MAC, and
// skips others (typed or untyped).
func (p *BootstrapPush) params(b []byte) error {
	for len(b) > 0 {
		if c := b[0]; c >= 0x80 {
			tok := c & 0x7F
			v, rest, err := value(b[1:])
			if err != nil {
				return err
			}
			b = rest
			switch tok {
			case wspParamSEC:
				n, ok, err := integer(v)
				if err != nil || !ok || n > 3 {
					return wspErr("SEC parameter is not a code 0-3")
				}
				p.SEC = int(n)
			case wspParamMAC:
				if v[0] >= 0x80 || v[len(v)-1] != 0 {
					return wspErr("MAC parameter is not text")
				}
				p.MAC = text(v)
			}
			continue
		}
		// Untyped parameter: token text, then an integer or text value.
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return wspErr("unterminated parameter name")
		}
		_, rest, err := value(b[i+1:])
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// MaxBootstrapSize bounds a pushed bootstrap message.
const MaxBootstrapSize = 64 << 10

// PushUDP sends one WSP push PDU in a datagram to a "udp://host:port"
// address (ParseAddr), as UDPSender does for a package 0.
func PushUDP(ctx context.Context, addr string, pdu []byte) error {
	a, err := ParseAddrOf(addr, SchemeUDP)
	if err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	hostport := a.HostPort()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", hostport)
	if err != nil {
		return fmt.Errorf("notification: dial %s: %w", hostport, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	if _, err := conn.Write(pdu); err != nil {
		return fmt.Errorf("notification: push to %s: %w", hostport, err)
	}
	return nil
}
