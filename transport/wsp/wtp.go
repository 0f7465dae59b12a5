package wsp

import (
	"errors"
	"fmt"
)

// PDUType is a WTP PDU type (WAP-224-WTP §9.2, the 4 bits after CON).
type PDUType uint8

// WTP PDU types (WAP-224-WTP §9.2 table "PDU types").
const (
	PDUInvoke       PDUType = 0x01
	PDUResult       PDUType = 0x02
	PDUAck          PDUType = 0x03
	PDUAbort        PDUType = 0x04
	PDUSegInvoke    PDUType = 0x05
	PDUSegResult    PDUType = 0x06
	PDUNack         PDUType = 0x07
	pduConcatenated PDUType = 0x00 // concatenated PDUs (WAP-224-WTP §8.5)
)

func (t PDUType) String() string {
	switch t {
	case PDUInvoke:
		return "Invoke"
	case PDUResult:
		return "Result"
	case PDUAck:
		return "Ack"
	case PDUAbort:
		return "Abort"
	case PDUSegInvoke:
		return "Segmented Invoke"
	case PDUSegResult:
		return "Segmented Result"
	case PDUNack:
		return "Negative Ack"
	}
	return fmt.Sprintf("PDU type 0x%X", uint8(t))
}

// Transaction classes (WAP-224-WTP §8.1).
const (
	Class0 = 0 // unreliable invoke, no result
	Class1 = 1 // reliable invoke, no result
	Class2 = 2 // reliable invoke with one reliable result
)

// Abort types (WAP-224-WTP §9.2.4): who aborted.
const (
	AbortProvider = 0 // WTP itself (reason is a WTP abort reason)
	AbortUser     = 1 // the WTP user, here WSP (reason from WAP-230-WSP Table 35)
)

// WTP provider abort reasons (WAP-224-WTP §9.2.4 "Abort reason").
const (
	ReasonUnknown        = 0x00
	ReasonProtoErr       = 0x01
	ReasonInvalidTID     = 0x02
	ReasonNotImplCL2     = 0x03
	ReasonNotImplSAR     = 0x04
	ReasonNotImplUAck    = 0x05
	ReasonWTPVersionOne  = 0x06
	ReasonCapTempExceed  = 0x07
	ReasonNoResponse     = 0x08
	ReasonMessageTooLarg = 0x09
	ReasonNotImplESAR    = 0x0A
)

// tpiPSN is the Packet Sequence Number TPI (WAP-224-WTP §9.4.2).
const tpiPSN = 0x03

// MaxDatagram bounds a WTP datagram this package decodes or builds: the
// largest UDP payload.
const MaxDatagram = 65507

// maxTPIs bounds the transport information items read from one PDU.
const maxTPIs = 16

// ErrBadWTP is wrapped by every WTP decoding error.
var ErrBadWTP = errors.New("wsp: bad WTP PDU")

func wtpErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadWTP, fmt.Sprintf(format, args...))
}

// PDU is one WTP protocol data unit (WAP-224-WTP §9). Fields that do not
// belong to Type are zero and ignored by Append.
type PDU struct {
	Type PDUType
	// GTR and TTR are the group and transmission trailer flags of Invoke,
	// Result and the segmented PDUs (WAP-224-WTP §9.3.2): TTR alone marks
	// the last packet of a message, GTR alone the last of a packet group,
	// both together say the sender does not do segmentation and
	// re-assembly, neither a packet inside a group.
	GTR, TTR bool
	// RID marks a retransmission (WAP-224-WTP §9.3.3).
	RID bool
	// TID is the transaction identifier as on the wire: the initiator
	// sends its TID with the top bit clear, the responder answers with
	// it set (WAP-224-WTP §9.3.4, §8.8.1).
	TID uint16
	// Invoke: Version (0 = WTP 1.x), TIDNew, UserAck (U/P) and Class.
	Version       uint8
	TIDNew        bool
	UserAck       bool
	Class         uint8
	TIDVerifyFlag bool // Ack: Tve (responder asks) / Tok (initiator answers), WAP-224-WTP §8.8.3
	// Abort: AbortType (AbortProvider, AbortUser) and AbortReason.
	AbortType, AbortReason uint8
	// PSN is the packet sequence number of Segmented Invoke / Result, and
	// of an Ack carrying the PSN TPI (HasPSN) that acknowledges a group.
	PSN    uint8
	HasPSN bool
	// Missing lists the PSNs a Negative Ack asks for (WAP-224-WTP §9.2.7).
	Missing []uint8
	// Data is the user data of Invoke, Result and the segmented PDUs.
	Data []byte
}

// fixedLen is the fixed header length of each PDU type (WAP-224-WTP §9.2).
func fixedLen(t PDUType) int {
	switch t {
	case PDUInvoke, PDUAbort, PDUSegInvoke, PDUSegResult, PDUNack:
		return 4
	case PDUResult, PDUAck:
		return 3
	}
	return 0
}

func bit(b bool, shift uint) byte {
	if b {
		return 1 << shift
	}
	return 0
}

// Append encodes p after dst.
func (p *PDU) Append(dst []byte) []byte {
	con := p.Type == PDUAck && p.HasPSN
	first := bit(con, 7) | byte(p.Type&0x0F)<<3
	switch p.Type {
	case PDUInvoke, PDUResult, PDUSegInvoke, PDUSegResult:
		first |= bit(p.GTR, 2) | bit(p.TTR, 1) | bit(p.RID, 0)
	case PDUAck:
		first |= bit(p.TIDVerifyFlag, 2) | bit(p.RID, 0)
	case PDUAbort:
		first |= p.AbortType & 0x07
	case PDUNack:
		first |= bit(p.RID, 0)
	}
	dst = append(dst, first, byte(p.TID>>8), byte(p.TID))
	switch p.Type {
	case PDUInvoke:
		dst = append(dst, (p.Version&0x03)<<6|bit(p.TIDNew, 5)|bit(p.UserAck, 4)|p.Class&0x03)
	case PDUAbort:
		dst = append(dst, p.AbortReason)
	case PDUSegInvoke, PDUSegResult:
		dst = append(dst, p.PSN)
	case PDUNack:
		dst = append(dst, byte(len(p.Missing)))
		dst = append(dst, p.Missing...)
	}
	if con {
		// A short PSN TPI: identity 3, length 1 (WAP-224-WTP §9.4.2).
		dst = append(dst, tpiPSN<<3|1, p.PSN)
	}
	switch p.Type {
	case PDUInvoke, PDUResult, PDUSegInvoke, PDUSegResult:
		dst = append(dst, p.Data...)
	}
	return dst
}

// DecodeWTP decodes one WDP datagram into its WTP PDUs: one, or several
// when the datagram concatenates them (first octet 0x00, WAP-224-WTP §8.5).
// Data of the returned PDUs aliases b.
func DecodeWTP(b []byte) ([]PDU, error) {
	if len(b) > MaxDatagram {
		return nil, wtpErr("datagram of %d octets, more than %d", len(b), MaxDatagram)
	}
	if len(b) == 0 {
		return nil, wtpErr("empty datagram")
	}
	if b[0] != byte(pduConcatenated) {
		p, err := decodePDU(b)
		if err != nil {
			return nil, err
		}
		return []PDU{p}, nil
	}
	var out []PDU
	for rest := b[1:]; len(rest) > 0; {
		// Each PDU is preceded by its length: one octet (top bit 0) or two
		// octets (top bit 1, 15 bits).
		n := int(rest[0])
		hdr := 1
		if n&0x80 != 0 {
			if len(rest) < 2 {
				return nil, wtpErr("truncated concatenated PDU length")
			}
			n = (n&0x7F)<<8 | int(rest[1])
			hdr = 2
		}
		if n == 0 || n > len(rest)-hdr {
			return nil, wtpErr("concatenated PDU length %d but %d octets follow", n, len(rest)-hdr)
		}
		if rest[hdr] == byte(pduConcatenated) {
			return nil, wtpErr("nested concatenation")
		}
		p, err := decodePDU(rest[hdr : hdr+n])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		rest = rest[hdr+n:]
	}
	if len(out) == 0 {
		return nil, wtpErr("concatenation of no PDUs")
	}
	return out, nil
}

func decodePDU(b []byte) (PDU, error) {
	first := b[0]
	p := PDU{Type: PDUType(first >> 3 & 0x0F)}
	fl := fixedLen(p.Type)
	if fl == 0 {
		return PDU{}, wtpErr("unknown PDU type 0x%X", uint8(p.Type))
	}
	if len(b) < fl {
		return PDU{}, wtpErr("%s of %d octets, shorter than its %d-octet header", p.Type, len(b), fl)
	}
	p.TID = uint16(b[1])<<8 | uint16(b[2])
	switch p.Type {
	case PDUInvoke, PDUResult, PDUSegInvoke, PDUSegResult:
		p.GTR, p.TTR, p.RID = first&0x04 != 0, first&0x02 != 0, first&0x01 != 0
	case PDUAck:
		p.TIDVerifyFlag, p.RID = first&0x04 != 0, first&0x01 != 0
	case PDUAbort:
		p.AbortType = first & 0x07
		p.AbortReason = b[3]
	case PDUNack:
		p.RID = first&0x01 != 0
	}
	off := fl
	switch p.Type {
	case PDUInvoke:
		o := b[3]
		p.Version, p.TIDNew, p.UserAck, p.Class = o>>6, o&0x20 != 0, o&0x10 != 0, o&0x03
		if p.Class == 3 {
			return PDU{}, wtpErr("Invoke of transaction class 3")
		}
	case PDUSegInvoke, PDUSegResult:
		p.PSN = b[3]
	case PDUNack:
		n := int(b[3])
		if n > len(b)-off {
			return PDU{}, wtpErr("Negative Ack lists %d packets but %d octets follow", n, len(b)-off)
		}
		p.Missing = b[off : off+n]
		off += n
	}
	// Transport information items follow while CON is set (WAP-224-WTP §9.4).
	con := first&0x80 != 0
	for i := 0; con; i++ {
		if i == maxTPIs {
			return PDU{}, wtpErr("more than %d TPIs", maxTPIs)
		}
		if off >= len(b) {
			return PDU{}, wtpErr("TPI announced but missing")
		}
		t := b[off]
		con = t&0x80 != 0
		id := t >> 3 & 0x0F
		var l int
		if t&0x04 != 0 { // long TPI: the length is the next octet
			if off+1 >= len(b) {
				return PDU{}, wtpErr("truncated long TPI")
			}
			l = int(b[off+1])
			off += 2
		} else {
			l = int(t & 0x03)
			off++
		}
		if l > len(b)-off {
			return PDU{}, wtpErr("TPI length %d but %d octets follow", l, len(b)-off)
		}
		if id == tpiPSN {
			if l != 1 {
				return PDU{}, wtpErr("PSN TPI of %d octets", l)
			}
			// Only an Ack uses it (a group acknowledgement); segmented
			// PDUs carry their PSN in the fixed header.
			if p.Type == PDUAck {
				p.PSN, p.HasPSN = b[off], true
			}
		}
		off += l
	}
	switch p.Type {
	case PDUInvoke, PDUResult, PDUSegInvoke, PDUSegResult:
		p.Data = b[off:]
	default:
		if off != len(b) {
			return PDU{}, wtpErr("%d octets after %s", len(b)-off, p.Type)
		}
	}
	return p, nil
}
