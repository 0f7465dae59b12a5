package obex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
)

// Request opcodes (IrOBEX 1.2 §3.3). The high bit is the Final bit: a PUT
// or GET request spread over several packets has it set on the last one
// only; CONNECT, DISCONNECT, SETPATH and ABORT always carry it.
const (
	OpConnect    byte = 0x80 // §3.3.1
	OpDisconnect byte = 0x81 // §3.3.2
	OpPut        byte = 0x02 // §3.3.3 (0x82 with the Final bit)
	OpGet        byte = 0x03 // §3.3.4 (0x83 with the Final bit)
	OpSetPath    byte = 0x85 // §3.3.6
	OpAbort      byte = 0xFF // §3.3.5
	FinalBit     byte = 0x80
)

// Response codes (IrOBEX 1.2 §3.2.1), Final bit included: the HTTP status
// codes' families on the low seven bits.
const (
	RespContinue             byte = 0x90
	RespOK                   byte = 0xA0
	RespBadRequest           byte = 0xC0
	RespUnauthorized         byte = 0xC1
	RespForbidden            byte = 0xC3
	RespNotFound             byte = 0xC4
	RespMethodNotAllowed     byte = 0xC5
	RespNotAcceptable        byte = 0xC6
	RespRequestTimeout       byte = 0xC8
	RespLengthRequired       byte = 0xCB
	RespEntityTooLarge       byte = 0xCD
	RespUnsupportedMediaType byte = 0xCF
	RespInternalError        byte = 0xD0
	RespNotImplemented       byte = 0xD1
	RespServiceUnavailable   byte = 0xD3
)

// Header identifiers (IrOBEX 1.2 §2.2). The top two bits give the encoding
// (§2.1): 00 null-terminated UTF-16BE text and 01 a byte sequence, both
// with a two-byte length that counts the identifier and itself; 10 one byte;
// 11 a four-byte big-endian quantity.
const (
	HdrCount        byte = 0xC0 // §2.2.1
	HdrName         byte = 0x01 // §2.2.2
	HdrType         byte = 0x42 // §2.2.3, null-terminated ASCII
	HdrLength       byte = 0xC3 // §2.2.4
	HdrDescription  byte = 0x05 // §2.2.6
	HdrTarget       byte = 0x46 // §2.2.7
	HdrHTTP         byte = 0x47 // §2.2.8, HTTP/1.x header lines
	HdrBody         byte = 0x48 // §2.2.9
	HdrEndOfBody    byte = 0x49 // §2.2.9
	HdrWho          byte = 0x4A // §2.2.10
	HdrConnectionID byte = 0xCB // §2.2.11
)

// Header encodings: the top two bits of a header identifier (IrOBEX 1.2 §2.1).
const (
	encUnicode byte = 0x00
	encBytes   byte = 0x40
	encByte    byte = 0x80
	encUint32  byte = 0xC0
	encMask    byte = 0xC0
)

const (
	// Version is the OBEX protocol version sent in CONNECT: 1.0, major in
	// the high nibble (IrOBEX 1.2 §3.3.1.1).
	Version byte = 0x10
	// MinPacketSize is the smallest maximum packet length a peer may
	// announce (IrOBEX 1.2 §3.3.1.4).
	MinPacketSize = 255
	// MaxPacketSize is the largest packet the two-byte length field allows.
	MaxPacketSize = 0xFFFF
	// MaxHeaders bounds the headers of one packet. Real DM exchanges use
	// fewer than ten; the bound keeps a packet of one-byte headers from
	// costing thousands of entries.
	MaxHeaders = 64
)

// Errors of the codec. Every decoding error wraps ErrMalformed.
var (
	ErrMalformed = errors.New("obex: malformed packet")
	// ErrPacketTooLarge is a packet longer than the receiver's maximum.
	ErrPacketTooLarge = errors.New("obex: packet longer than the negotiated maximum")
)

// Header is one OBEX header. Data holds the value of text (UTF-16BE with
// its terminating null, as on the wire) and byte-sequence headers; Value
// that of one-byte and four-byte headers. Decoded Data aliases the packet
// buffer.
type Header struct {
	ID    byte
	Data  []byte
	Value uint32
}

// Form says how a packet is laid out, which its first byte alone does not
// tell for responses: the response to CONNECT carries the version, flags and
// maximum packet length fields (IrOBEX 1.2 §3.3.1).
type Form uint8

// Packet forms.
const (
	FormRequest         Form = iota // opcode decides: CONNECT and SETPATH have extra fields
	FormResponse                    // a response to anything but CONNECT
	FormConnectResponse             // the response to CONNECT
)

// Packet is one OBEX request or response.
type Packet struct {
	// Code is the opcode or the response code, Final bit included.
	Code byte
	// Version, Flags and MaxPacket are the fields of CONNECT and of its
	// response (IrOBEX 1.2 §3.3.1); Flags and Constants those of SETPATH
	// (§3.3.6).
	Version, Flags, Constants byte
	MaxPacket                 uint16
	Headers                   []Header
}

// Final reports whether the Final bit is set.
func (p *Packet) Final() bool { return p.Code&FinalBit != 0 }

// Header returns the first header with the identifier id, or nil.
func (p *Packet) Header(id byte) *Header {
	for i := range p.Headers {
		if p.Headers[i].ID == id {
			return &p.Headers[i]
		}
	}
	return nil
}

func (p *Packet) fixed(f Form) int {
	switch {
	case f == FormConnectResponse, f == FormRequest && p.Code == OpConnect:
		return 4
	case f == FormRequest && p.Code == OpSetPath:
		return 2
	}
	return 0
}

// DecodePacket decodes exactly one packet from b (as returned by
// ReadPacket). Header data aliases b.
func DecodePacket(b []byte, f Form) (*Packet, error) {
	p := new(Packet)
	if err := p.Decode(b, f); err != nil {
		return nil, err
	}
	return p, nil
}

// Decode decodes exactly one packet from b into p, reusing p.Headers. Header
// data aliases b. The packet length field must equal len(b), every header
// must fit inside the packet, text headers must hold whole UTF-16 units and
// at most MaxHeaders headers are taken.
func (p *Packet) Decode(b []byte, f Form) error {
	hs := p.Headers[:0]
	*p = Packet{Headers: hs}
	if len(b) < 3 {
		return fmt.Errorf("%w: %d bytes, a packet has at least 3", ErrMalformed, len(b))
	}
	p.Code = b[0]
	if n := int(binary.BigEndian.Uint16(b[1:3])); n != len(b) {
		return fmt.Errorf("%w: length field %d, packet of %d bytes", ErrMalformed, n, len(b))
	}
	off := 3
	switch p.fixed(f) {
	case 4:
		if len(b) < 7 {
			return fmt.Errorf("%w: CONNECT packet of %d bytes lacks version, flags and maximum length", ErrMalformed, len(b))
		}
		p.Version, p.Flags = b[3], b[4]
		p.MaxPacket = binary.BigEndian.Uint16(b[5:7])
		off = 7
		if p.MaxPacket < MinPacketSize && (f == FormRequest || p.Code == RespOK) {
			// IrOBEX 1.2 §3.3.1.4: 255 is the least a peer may announce.
			return fmt.Errorf("%w: maximum packet length %d below %d", ErrMalformed, p.MaxPacket, MinPacketSize)
		}
	case 2:
		if len(b) < 5 {
			return fmt.Errorf("%w: SETPATH packet of %d bytes lacks flags and constants", ErrMalformed, len(b))
		}
		p.Flags, p.Constants = b[3], b[4]
		off = 5
	}
	for off < len(b) {
		if len(hs) == MaxHeaders {
			return fmt.Errorf("%w: more than %d headers", ErrMalformed, MaxHeaders)
		}
		id := b[off]
		var h Header
		h.ID = id
		switch id & encMask {
		case encByte:
			if len(b)-off < 2 {
				return fmt.Errorf("%w: header 0x%02X truncated", ErrMalformed, id)
			}
			h.Value = uint32(b[off+1])
			off += 2
		case encUint32:
			if len(b)-off < 5 {
				return fmt.Errorf("%w: header 0x%02X truncated", ErrMalformed, id)
			}
			h.Value = binary.BigEndian.Uint32(b[off+1 : off+5])
			off += 5
		default:
			if len(b)-off < 3 {
				return fmt.Errorf("%w: header 0x%02X truncated", ErrMalformed, id)
			}
			n := int(binary.BigEndian.Uint16(b[off+1 : off+3]))
			if n < 3 || n > len(b)-off {
				return fmt.Errorf("%w: header 0x%02X length %d does not fit the packet", ErrMalformed, id, n)
			}
			h.Data = b[off+3 : off+n : off+n]
			if id&encMask == encUnicode && len(h.Data)%2 != 0 {
				return fmt.Errorf("%w: text header 0x%02X has an odd length", ErrMalformed, id)
			}
			off += n
		}
		hs = append(hs, h)
	}
	p.Headers = hs
	return nil
}

// Size is the encoded length of p in the given form.
func (p *Packet) Size(f Form) int {
	n := 3 + p.fixed(f)
	for i := range p.Headers {
		n += headerSize(&p.Headers[i])
	}
	return n
}

func headerSize(h *Header) int {
	switch h.ID & encMask {
	case encByte:
		return 2
	case encUint32:
		return 5
	}
	return 3 + len(h.Data)
}

// Append appends the encoding of p in the given form to dst. It fails when
// the packet would exceed MaxPacketSize or a header does not suit its
// encoding (odd-length text).
func (p *Packet) Append(dst []byte, f Form) ([]byte, error) {
	n := p.Size(f)
	if n > MaxPacketSize {
		return dst, fmt.Errorf("obex: packet of %d bytes exceeds %d", n, MaxPacketSize)
	}
	dst = append(dst, p.Code, byte(n>>8), byte(n))
	switch p.fixed(f) {
	case 4:
		dst = append(dst, p.Version, p.Flags, byte(p.MaxPacket>>8), byte(p.MaxPacket))
	case 2:
		dst = append(dst, p.Flags, p.Constants)
	}
	for i := range p.Headers {
		h := &p.Headers[i]
		switch h.ID & encMask {
		case encByte:
			dst = append(dst, h.ID, byte(h.Value))
		case encUint32:
			dst = binary.BigEndian.AppendUint32(append(dst, h.ID), h.Value)
		default:
			if h.ID&encMask == encUnicode && len(h.Data)%2 != 0 {
				return dst, fmt.Errorf("obex: text header 0x%02X has an odd length", h.ID)
			}
			l := 3 + len(h.Data)
			dst = append(append(dst, h.ID, byte(l>>8), byte(l)), h.Data...)
		}
	}
	return dst, nil
}

// ReadPacket reads one whole packet from r into buf (grown when too short)
// and returns it. A length field below 3 is ErrMalformed; one above max is
// ErrPacketTooLarge, reported before the rest of the packet is read.
func ReadPacket(r io.Reader, buf []byte, max int) ([]byte, error) {
	if cap(buf) < 3 {
		buf = make([]byte, 0, 512)
	}
	buf = buf[:3]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(buf[1:3]))
	switch {
	case n < 3:
		return nil, fmt.Errorf("%w: length field %d", ErrMalformed, n)
	case n > max:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrPacketTooLarge, n, max)
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf[:3])
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[3:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// Uint32 returns a four-byte header (Length, Connection ID, Count).
func Uint32(id byte, v uint32) Header { return Header{ID: id, Value: v} }

// Bytes returns a byte-sequence header (Target, Who, Body, HTTP).
func Bytes(id byte, b []byte) Header { return Header{ID: id, Data: b} }

// TypeHeader returns a Type header: ASCII with a terminating null
// (IrOBEX 1.2 §2.2.3).
func TypeHeader(mediaType string) Header {
	b := make([]byte, len(mediaType)+1)
	copy(b, mediaType)
	return Header{ID: HdrType, Data: b}
}

// Text returns a text header (Name, Description): UTF-16BE with a
// terminating null (IrOBEX 1.2 §2.1); "" gives an empty header.
func Text(id byte, s string) Header {
	if s == "" {
		return Header{ID: id}
	}
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return Header{ID: id, Data: append(b, 0, 0)}
}

// TypeString is the media type of a Type header without its terminating
// null (some senders omit the null; both are read).
func (h *Header) TypeString() string {
	b := h.Data
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

// TextString decodes a text header.
func (h *Header) TextString() string {
	u := make([]uint16, 0, len(h.Data)/2)
	for i := 0; i+1 < len(h.Data); i += 2 {
		u = append(u, uint16(h.Data[i])<<8|uint16(h.Data[i+1]))
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}
