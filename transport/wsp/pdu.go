package wsp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/internal/wspenc"
)

// WSP PDU types of the connection-oriented session (WAP-230-WSP
// Appendix A, Table 34).
const (
	wspConnect      = 0x01
	wspConnectReply = 0x02
	wspRedirect     = 0x03
	wspReply        = 0x04
	wspDisconnect   = 0x05
	wspPost         = 0x60
)

// wspVersion is the WSP version a Connect announces: 1.0 (WAP-230-WSP
// §8.2.2.1, major in the high nibble).
const wspVersion = 0x10

// Capability identifiers (WAP-230-WSP Appendix A, Table 37).
const (
	capClientSDUSize = 0x00
	capServerSDUSize = 0x01
	capProtoOptions  = 0x02
	capMethodMOR     = 0x03
	capPushMOR       = 0x04
	capClientMsgSize = 0x08
	capServerMsgSize = 0x09
)

// Well-known header field names (WAP-230-WSP Appendix A, Table 39).
const (
	fieldAccept        = 0x00
	fieldContentLength = 0x0D
	fieldContentType   = 0x11
	fieldUserAgent     = 0x29
)

var fieldNames = map[int]string{
	0x00: "Accept", 0x01: "Accept-Charset", 0x02: "Accept-Encoding", 0x03: "Accept-Language",
	0x04: "Accept-Ranges", 0x05: "Age", 0x06: "Allow", 0x07: "Authorization", 0x08: "Cache-Control",
	0x09: "Connection", 0x0A: "Content-Base", 0x0B: "Content-Encoding", 0x0C: "Content-Language",
	0x0D: "Content-Length", 0x0E: "Content-Location", 0x0F: "Content-MD5", 0x10: "Content-Range",
	0x11: "Content-Type", 0x12: "Date", 0x13: "Etag", 0x14: "Expires", 0x15: "From", 0x16: "Host",
	0x1C: "Location", 0x1D: "Last-Modified", 0x1E: "Max-Forwards", 0x1F: "Pragma",
	0x20: "Proxy-Authenticate", 0x21: "Proxy-Authorization", 0x22: "Public", 0x23: "Range",
	0x24: "Referer", 0x25: "Retry-After", 0x26: "Server", 0x27: "Transfer-Encoding", 0x28: "Upgrade",
	0x29: "User-Agent", 0x2A: "Vary", 0x2B: "Via", 0x2C: "Warning", 0x2D: "WWW-Authenticate",
	0x2E: "Content-Disposition", 0x2F: "X-Wap-Application-Id", 0x30: "X-Wap-Content-URI",
	0x31: "X-Wap-Initiator-URI", 0x32: "Accept-Application", 0x33: "Bearer-Indication",
	0x34: "Push-Flag", 0x35: "Profile", 0x36: "Profile-Diff", 0x37: "Profile-Warning",
	0x38: "Expect", 0x39: "TE", 0x3A: "Trailer", 0x3B: "Accept-Charset", 0x3C: "Accept-Encoding",
	0x3D: "Cache-Control", 0x3E: "Content-Range", 0x3F: "X-Wap-Tod", 0x40: "Content-ID",
	0x41: "Set-Cookie", 0x42: "Cookie", 0x43: "Encoding-Version", 0x44: "Profile-Warning",
	0x45: "Content-Disposition", 0x46: "X-WAP-Security", 0x47: "Cache-Control",
}

// HMACHeader is the application header carrying the DM HMAC credentials
// (OMA-TS-DM_Security-V1_2 §5.5.2.1; sent as a WSP application header,
// WAP-230-WSP §8.4.2.6).
const HMACHeader = "x-syncml-hmac"

// Hard limits of the WSP decoders.
const (
	// MaxHeaders bounds the headers of one Reply or ConnectReply.
	MaxHeaders = 64
	// MaxCapabilities bounds the capabilities of one ConnectReply.
	MaxCapabilities = 32
)

// ErrBadWSP is wrapped by every WSP decoding error.
var ErrBadWSP = errors.New("wsp: bad WSP PDU")

func wspErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadWSP, fmt.Sprintf(format, args...))
}

func wrapEnc(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrBadWSP, err)
}

// Capabilities are the session capabilities a Connect proposes and a
// ConnectReply settles (WAP-230-WSP §8.3). Zero means "not sent".
type Capabilities struct {
	// ClientSDUSize is the largest transaction SDU the client accepts
	// (a Reply PDU as a whole); ServerSDUSize the largest the server
	// accepts (a Post PDU as a whole). 0 in a proposal = unlimited is not
	// sendable, so 0 means "not sent" (WAP-230-WSP §8.3.2.1: default 1400).
	ClientSDUSize, ServerSDUSize uint32
	// ClientMessageSize and ServerMessageSize bound whole messages
	// (WAP-230-WSP §8.3.2.x, WSP 1.3); same meaning of 0.
	ClientMessageSize, ServerMessageSize uint32
	// MethodMOR and PushMOR are the most outstanding requests.
	MethodMOR, PushMOR uint8
	// ProtocolOptions are the option flags octet (push, session resume, ...).
	ProtocolOptions uint8
	hasOptions      bool
}

func appendCap(dst []byte, id byte, val []byte) []byte {
	dst = wspenc.AppendUintvar(dst, uint32(1+len(val)))
	dst = append(dst, 0x80|id)
	return append(dst, val...)
}

func (c *Capabilities) append(dst []byte) []byte {
	var tmp []byte
	if c.ClientSDUSize > 0 {
		dst = appendCap(dst, capClientSDUSize, wspenc.AppendUintvar(tmp[:0], c.ClientSDUSize))
	}
	if c.ServerSDUSize > 0 {
		dst = appendCap(dst, capServerSDUSize, wspenc.AppendUintvar(tmp[:0], c.ServerSDUSize))
	}
	if c.hasOptions {
		dst = appendCap(dst, capProtoOptions, []byte{c.ProtocolOptions})
	}
	if c.MethodMOR > 0 {
		dst = appendCap(dst, capMethodMOR, []byte{c.MethodMOR})
	}
	if c.PushMOR > 0 {
		dst = appendCap(dst, capPushMOR, []byte{c.PushMOR})
	}
	if c.ClientMessageSize > 0 {
		dst = appendCap(dst, capClientMsgSize, wspenc.AppendUintvar(tmp[:0], c.ClientMessageSize))
	}
	if c.ServerMessageSize > 0 {
		dst = appendCap(dst, capServerMsgSize, wspenc.AppendUintvar(tmp[:0], c.ServerMessageSize))
	}
	return dst
}

// decodeCapabilities reads a capability list (WAP-230-WSP §8.3.1: each is
// a uintvar length, an identifier, then parameters). Unknown capabilities
// are skipped.
func decodeCapabilities(b []byte) (Capabilities, error) {
	var c Capabilities
	for i := 0; len(b) > 0; i++ {
		if i == MaxCapabilities {
			return c, wspErr("more than %d capabilities", MaxCapabilities)
		}
		l, n, err := wspenc.Uintvar(b)
		if err != nil {
			return c, wrapEnc(err)
		}
		if l == 0 || l > uint64(len(b)-n) {
			return c, wspErr("capability length %d but %d octets follow", l, len(b)-n)
		}
		capb := b[n : n+int(l)]
		b = b[n+int(l):]
		if capb[0] < 0x80 {
			continue // named by text: none DM needs
		}
		id, val := capb[0]&0x7F, capb[1:]
		uv := func() (uint32, error) {
			v, _, err := wspenc.Uintvar(val)
			return uint32(v), wrapEnc(err)
		}
		switch id {
		case capClientSDUSize:
			c.ClientSDUSize, err = uv()
		case capServerSDUSize:
			c.ServerSDUSize, err = uv()
		case capClientMsgSize:
			c.ClientMessageSize, err = uv()
		case capServerMsgSize:
			c.ServerMessageSize, err = uv()
		case capProtoOptions, capMethodMOR, capPushMOR:
			if len(val) == 0 {
				return c, wspErr("capability 0x%02X without a value", id)
			}
			switch id {
			case capProtoOptions:
				c.ProtocolOptions, c.hasOptions = val[0], true
			case capMethodMOR:
				c.MethodMOR = val[0]
			default:
				c.PushMOR = val[0]
			}
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// encodeConnect builds a Connect PDU (WAP-230-WSP §8.2.2.1): type,
// version, capabilities length, headers length, capabilities, headers.
func encodeConnect(c Capabilities, headers []byte) []byte {
	caps := c.append(nil)
	out := []byte{wspConnect, wspVersion}
	out = wspenc.AppendUintvar(out, uint32(len(caps)))
	out = wspenc.AppendUintvar(out, uint32(len(headers)))
	out = append(out, caps...)
	return append(out, headers...)
}

// ConnectReply is a decoded ConnectReply PDU (WAP-230-WSP §8.2.2.2).
type ConnectReply struct {
	SessionID    uint32
	Capabilities Capabilities
	Headers      []Header
}

// DecodeConnectReply parses the Result of a Connect: a ConnectReply, or a
// Redirect / Reply refusing the session (returned as *RefusedError).
func DecodeConnectReply(b []byte) (*ConnectReply, error) {
	if len(b) == 0 {
		return nil, wspErr("empty answer to Connect")
	}
	switch b[0] {
	case wspConnectReply:
	case wspRedirect:
		return nil, &RefusedError{What: "Connect", Redirect: true}
	case wspReply:
		r, err := DecodeReply(b)
		if err != nil {
			return nil, err
		}
		return nil, &RefusedError{What: "Connect", Status: r.Status}
	default:
		return nil, wspErr("answer to Connect has PDU type 0x%02X", b[0])
	}
	sid, n, err := wspenc.Uintvar(b[1:])
	if err != nil {
		return nil, wrapEnc(err)
	}
	off := 1 + n
	cl, n, err := wspenc.Uintvar(b[off:])
	if err != nil {
		return nil, wrapEnc(err)
	}
	off += n
	hl, n, err := wspenc.Uintvar(b[off:])
	if err != nil {
		return nil, wrapEnc(err)
	}
	off += n
	if cl > uint64(len(b)-off) || hl > uint64(len(b)-off)-cl {
		return nil, wspErr("ConnectReply capabilities %d and headers %d octets but %d follow", cl, hl, len(b)-off)
	}
	r := &ConnectReply{SessionID: uint32(sid)}
	if r.Capabilities, err = decodeCapabilities(b[off : off+int(cl)]); err != nil {
		return nil, err
	}
	off += int(cl)
	if r.Headers, err = decodeHeaders(b[off : off+int(hl)]); err != nil {
		return nil, err
	}
	return r, nil
}

// encodeDisconnect builds a Disconnect PDU (WAP-230-WSP §8.2.2.4).
func encodeDisconnect(sessionID uint32) []byte {
	return wspenc.AppendUintvar([]byte{wspDisconnect}, sessionID)
}

// Header is one decoded WSP header; Value is the text of a text value, the
// decimal of an integer value, or the hex of other encodings.
type Header struct {
	Name, Value string
}

// encodePost builds a Post PDU (WAP-230-WSP §8.2.3.2): type, URI length,
// headers length (content type included), URI, content type, headers, data.
// The content type goes as its well-known code (DM: 0x42, 0x43) when it has
// one, else as text.
func encodePost(uri, contentType string, headers, body []byte) []byte {
	var ct []byte
	if code, ok := wspenc.MediaCode(contentType); ok && code < 0x80 {
		ct = []byte{0x80 | byte(code)}
	} else {
		ct = wspenc.AppendText(nil, contentType)
	}
	out := make([]byte, 0, 12+len(uri)+len(ct)+len(headers)+len(body))
	out = append(out, wspPost)
	out = wspenc.AppendUintvar(out, uint32(len(uri)))
	out = wspenc.AppendUintvar(out, uint32(len(ct)+len(headers)))
	out = append(out, uri...)
	out = append(out, ct...)
	out = append(out, headers...)
	return append(out, body...)
}

// appendHeaderText appends a well-known header with a text value.
func appendHeaderText(dst []byte, field byte, v string) []byte {
	return wspenc.AppendText(append(dst, 0x80|field), v)
}

// appendAppHeader appends an application header (WAP-230-WSP §8.4.2.6:
// Token-text name, then Application-specific-value as Text-string).
func appendAppHeader(dst []byte, name, v string) []byte {
	return wspenc.AppendText(wspenc.AppendText(dst, name), v)
}

// appendAccept appends Accept headers for the DM content types, by code
// (WAP-230-WSP §8.4.2.7).
func appendAccept(dst []byte, media ...string) []byte {
	for _, m := range media {
		if code, ok := wspenc.MediaCode(m); ok && code < 0x80 {
			dst = append(dst, 0x80|fieldAccept, 0x80|byte(code))
		} else {
			dst = appendHeaderText(dst, fieldAccept, m)
		}
	}
	return dst
}

// Reply is a decoded Reply PDU (WAP-230-WSP §8.2.3.3).
type Reply struct {
	// Status is the HTTP status the WSP status code stands for
	// (WAP-230-WSP Appendix A, Table 36).
	Status int
	// ContentType is the media type (parameters dropped).
	ContentType string
	// Headers are the headers after the content type, in order.
	Headers []Header
	// Body aliases the decoded buffer.
	Body []byte
}

// Get returns the first value of the header name (case-insensitive).
func (r *Reply) Get(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// HTTPStatus maps a WSP status code to its HTTP status (WAP-230-WSP
// Appendix A, Table 36: the high nibble is the class, 0x10–0x11 = 1xx,
// 0x20–0x26 = 2xx, 0x30–0x37 = 3xx, 0x40–0x4F = 400–415, 0x50–0x51 =
// 416–417, 0x60–0x65 = 5xx); ok is false for an unassigned code.
func HTTPStatus(code byte) (int, bool) {
	n := int(code & 0x0F)
	switch code >> 4 {
	case 1:
		return 100 + n, n <= 1
	case 2:
		return 200 + n, n <= 6
	case 3:
		return 300 + n, n <= 7 && n != 6
	case 4:
		return 400 + n, true
	case 5:
		return 416 + n, n <= 1
	case 6:
		return 500 + n, n <= 5
	}
	return 0, false
}

// WSPStatus maps an HTTP status to its WSP code (the inverse of HTTPStatus).
func WSPStatus(http int) (byte, bool) {
	var c byte
	switch {
	case http >= 100 && http <= 101, http >= 200 && http <= 206, http >= 300 && http <= 307 && http != 306:
		c = byte(http/100)<<4 | byte(http%100)
	case http >= 400 && http <= 415:
		c = 0x40 | byte(http-400)
	case http >= 416 && http <= 417:
		c = 0x50 | byte(http-416)
	case http >= 500 && http <= 505:
		c = 0x60 | byte(http-500)
	default:
		return 0, false
	}
	return c, true
}

// DecodeReply parses a Reply PDU: type 0x04, status, headers length
// (uintvar), content type and headers, data.
func DecodeReply(b []byte) (*Reply, error) {
	if len(b) < 3 {
		return nil, wspErr("Reply of %d octets", len(b))
	}
	if b[0] != wspReply {
		return nil, wspErr("PDU type 0x%02X, want 0x04 (Reply)", b[0])
	}
	st, ok := HTTPStatus(b[1])
	if !ok {
		return nil, wspErr("unassigned status code 0x%02X", b[1])
	}
	hl, n, err := wspenc.Uintvar(b[2:])
	if err != nil {
		return nil, wrapEnc(err)
	}
	off := 2 + n
	if hl > uint64(len(b)-off) {
		return nil, wspErr("headers length %d but %d octets follow", hl, len(b)-off)
	}
	r := &Reply{Status: st, Body: b[off+int(hl):]}
	hdr := b[off : off+int(hl)]
	if len(hdr) > 0 {
		val, rest, err := wspenc.SplitValue(hdr)
		if err != nil {
			return nil, wrapEnc(err)
		}
		if r.ContentType, _, err = wspenc.ContentType(val); err != nil {
			return nil, wrapEnc(err)
		}
		if r.Headers, err = decodeHeaders(rest); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// decodeHeaders splits a header list (WAP-230-WSP §8.4.2.6) into names and
// printable values.
func decodeHeaders(b []byte) ([]Header, error) {
	var out []Header
	for len(b) > 0 {
		if len(out) == MaxHeaders {
			return nil, wspErr("more than %d headers", MaxHeaders)
		}
		code, app, val, rest, err := wspenc.SplitHeader(b)
		if err != nil {
			return nil, wrapEnc(err)
		}
		b = rest
		h := Header{Name: app}
		if code != wspenc.AppHeader {
			h.Name = fieldNames[code]
			if h.Name == "" {
				h.Name = fmt.Sprintf("0x%02X", code)
			}
		}
		h.Value = valueString(code, val)
		out = append(out, h)
	}
	return out, nil
}

// valueString renders a field value: text as text, integers in decimal,
// a Content-Type through its media name, anything else in hex.
func valueString(code int, val []byte) string {
	if code == wspenc.AppHeader {
		return wspenc.Text(val)
	}
	if code == fieldContentType {
		if m, _, err := wspenc.ContentType(val); err == nil {
			return m
		}
	}
	if c := val[0]; c >= 32 && c < 128 {
		return wspenc.Text(val)
	}
	if v, ok, err := wspenc.Integer(val); err == nil && ok {
		return strconv.FormatUint(uint64(v), 10)
	}
	return fmt.Sprintf("%X", val)
}
