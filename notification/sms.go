package notification

import (
	"errors"
	"fmt"
)

// SMS limits (3GPP TS 23.040).
const (
	// SMSUserDataSize is the 8-bit user data capacity of one SM, UDH included.
	SMSUserDataSize = 140
	// MaxSMSSegments is the most segments a concatenated message can have.
	MaxSMSSegments = 255

	ieiConcat8  = 0x00
	ieiPort8    = 0x04
	ieiPort16   = 0x05
	ieiConcat16 = 0x08
)

// DCS8Bit is the data coding scheme of 8-bit data without message class,
// the usual choice for WAP push SMs.
const DCS8Bit = 0x04

// ErrUDH is wrapped by every SMS user data decoding error.
var ErrUDH = errors.New("bad SMS user data header")

func udhErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUDH, fmt.Sprintf(format, args...))
}

// SMS is one decoded SM user data (TP-UD with TP-UDHI set).
type SMS struct {
	// PortBits is 16 (IEI 0x05), 8 (IEI 0x04) or 0 when the UDH has no port
	// addressing.
	PortBits         int
	DstPort, SrcPort uint16
	// RefBits is 8 (IEI 0x00), 16 (IEI 0x08) or 0 when the SM is not part of
	// a concatenated message.
	RefBits int
	Ref     uint16
	Total   uint8 // segments in the message (1 when not concatenated)
	Seq     uint8 // this segment, from 1
	// Payload is the user data after the UDH.
	Payload []byte
}

// ParseSMS decodes 8-bit SM user data that starts with a UDH (UDHL, then
// information elements). Unknown elements are skipped; malformed lengths,
// repeated port or concatenation elements, a zero total and a sequence
// number outside 1..total are errors.
func ParseSMS(ud []byte) (*SMS, error) {
	if len(ud) > SMSUserDataSize {
		return nil, udhErr("user data is %d octets, an SM holds %d", len(ud), SMSUserDataSize)
	}
	if len(ud) == 0 {
		return nil, udhErr("empty user data")
	}
	udhl := int(ud[0])
	if udhl == 0 || udhl > len(ud)-1 {
		return nil, udhErr("UDH length %d with %d octets after it", udhl, len(ud)-1)
	}
	s := &SMS{Total: 1, Seq: 1}
	ies := ud[1 : 1+udhl]
	for len(ies) > 0 {
		if len(ies) < 2 {
			return nil, udhErr("information element cut short")
		}
		iei, l := ies[0], int(ies[1])
		if l > len(ies)-2 {
			return nil, udhErr("IEI 0x%02X length %d exceeds the UDH", iei, l)
		}
		d := ies[2 : 2+l]
		ies = ies[2+l:]
		switch iei {
		case ieiPort16, ieiPort8:
			want, bits := 4, 16
			if iei == ieiPort8 {
				want, bits = 2, 8
			}
			if l != want {
				return nil, udhErr("port IEI 0x%02X has length %d, want %d", iei, l, want)
			}
			if s.PortBits != 0 {
				return nil, udhErr("port addressing repeated")
			}
			s.PortBits = bits
			if bits == 16 {
				s.DstPort, s.SrcPort = uint16(d[0])<<8|uint16(d[1]), uint16(d[2])<<8|uint16(d[3])
			} else {
				s.DstPort, s.SrcPort = uint16(d[0]), uint16(d[1])
			}
		case ieiConcat8, ieiConcat16:
			want, bits := 3, 8
			if iei == ieiConcat16 {
				want, bits = 4, 16
			}
			if l != want {
				return nil, udhErr("concatenation IEI 0x%02X has length %d, want %d", iei, l, want)
			}
			if s.RefBits != 0 {
				return nil, udhErr("concatenation repeated")
			}
			s.RefBits = bits
			if bits == 16 {
				s.Ref, d = uint16(d[0])<<8|uint16(d[1]), d[2:]
			} else {
				s.Ref, d = uint16(d[0]), d[1:]
			}
			s.Total, s.Seq = d[0], d[1]
			if s.Total == 0 || s.Seq == 0 || s.Seq > s.Total {
				return nil, udhErr("concatenation segment %d of %d", s.Seq, s.Total)
			}
		}
	}
	s.Payload = append([]byte(nil), ud[1+udhl:]...)
	return s, nil
}

// SMSOptions tune EncodeSMS. The zero value is usable.
type SMSOptions struct {
	// SrcPort is the source port of the 16-bit port addressing element;
	// 0 means WSPPort (9200).
	SrcPort uint16
	// Ref is the concatenation reference used when the payload needs more
	// than one SM; senders should vary it between messages.
	Ref uint16
	// Ref16 selects the 16-bit reference element (IEI 0x08) instead of the
	// 8-bit one (IEI 0x00).
	Ref16 bool
}

// EncodeSMS splits a WSP push PDU into SM user data, each starting with its
// UDH and at most 140 octets. One SM carries UDH 06 05 04 0B 84 src and up to
// 133 payload octets; a longer payload becomes concatenated SMs, each
// repeating the port element and adding the concatenation element (128
// payload octets each with an 8-bit reference, 127 with a 16-bit one).
func EncodeSMS(payload []byte, o *SMSOptions) ([][]byte, error) {
	var opt SMSOptions
	if o != nil {
		opt = *o
	}
	if opt.SrcPort == 0 {
		opt.SrcPort = WSPPort
	}
	port := []byte{ieiPort16, 4, byte(PushPort >> 8), byte(PushPort & 0xFF), byte(opt.SrcPort >> 8), byte(opt.SrcPort)}
	if 1+len(port)+len(payload) <= SMSUserDataSize {
		ud := make([]byte, 0, 1+len(port)+len(payload))
		ud = append(ud, byte(len(port)))
		ud = append(ud, port...)
		return [][]byte{append(ud, payload...)}, nil
	}
	concatLen := 5
	if opt.Ref16 {
		concatLen = 6
	}
	per := SMSUserDataSize - 1 - len(port) - concatLen
	n := (len(payload) + per - 1) / per
	if n > MaxSMSSegments {
		return nil, fmt.Errorf("payload of %d octets needs %d SMs, at most %d", len(payload), n, MaxSMSSegments)
	}
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		chunk := payload[i*per : min((i+1)*per, len(payload))]
		ud := make([]byte, 0, SMSUserDataSize)
		ud = append(ud, byte(len(port)+concatLen))
		ud = append(ud, port...)
		if opt.Ref16 {
			ud = append(ud, ieiConcat16, 4, byte(opt.Ref>>8), byte(opt.Ref))
		} else {
			ud = append(ud, ieiConcat8, 3, byte(opt.Ref))
		}
		ud = append(ud, byte(n), byte(i+1))
		out = append(out, append(ud, chunk...))
	}
	return out, nil
}

// Reassemble joins the segments of one concatenated message (in any order,
// duplicates tolerated) and returns the payload. A single unconcatenated SM
// is returned as is. Segments of different messages, a missing segment or
// disagreeing totals are errors.
func Reassemble(segs []*SMS) ([]byte, error) {
	if len(segs) == 0 {
		return nil, errors.New("no SMS segments")
	}
	first := segs[0]
	if first.RefBits == 0 {
		if len(segs) != 1 {
			return nil, fmt.Errorf("%d SMs given but the first is not concatenated", len(segs))
		}
		return first.Payload, nil
	}
	bySeq := make(map[uint8]*SMS, first.Total)
	for _, s := range segs {
		if s.RefBits != first.RefBits || s.Ref != first.Ref || s.Total != first.Total ||
			s.PortBits != first.PortBits || s.DstPort != first.DstPort || s.SrcPort != first.SrcPort {
			return nil, fmt.Errorf("segment %d/%d (ref %d) does not belong to message ref %d of %d segments", s.Seq, s.Total, s.Ref, first.Ref, first.Total)
		}
		if _, dup := bySeq[s.Seq]; !dup {
			bySeq[s.Seq] = s
		}
	}
	if len(bySeq) != int(first.Total) {
		missing := make([]int, 0, int(first.Total)-len(bySeq))
		for i := 1; i <= int(first.Total); i++ {
			if _, ok := bySeq[uint8(i)]; !ok {
				missing = append(missing, i)
			}
		}
		return nil, fmt.Errorf("concatenated message ref %d incomplete: segments %v of %d missing", first.Ref, missing, first.Total)
	}
	var out []byte
	for i := 1; i <= int(first.Total); i++ {
		out = append(out, bySeq[uint8(i)].Payload...)
	}
	return out, nil
}

// Reassembler collects concatenated SMs as they arrive on a device and hands
// back each message once complete. It keeps at most MaxPending incomplete
// messages, dropping the oldest, so a flood of fragments cannot grow memory
// without bound. It is not safe for concurrent use.
type Reassembler struct {
	// MaxPending bounds incomplete messages kept; 0 means 8.
	MaxPending int

	pending map[smsKey][]*SMS
	order   []smsKey
}

type smsKey struct {
	from    string
	refBits int
	ref     uint16
	total   uint8
	src     uint16
}

// Add parses one SM user data from the originator from. It returns the
// reassembled payload and true when the message is complete (at once for an
// unconcatenated SM).
func (r *Reassembler) Add(from string, ud []byte) ([]byte, bool, error) {
	s, err := ParseSMS(ud)
	if err != nil {
		return nil, false, err
	}
	if s.RefBits == 0 || s.Total == 1 {
		return s.Payload, true, nil
	}
	if r.pending == nil {
		r.pending = map[smsKey][]*SMS{}
	}
	k := smsKey{from, s.RefBits, s.Ref, s.Total, s.SrcPort}
	segs, ok := r.pending[k]
	if !ok {
		max := r.MaxPending
		if max <= 0 {
			max = 8
		}
		for len(r.order) >= max {
			delete(r.pending, r.order[0])
			r.order = r.order[1:]
		}
		r.order = append(r.order, k)
	}
	for _, have := range segs {
		if have.Seq == s.Seq {
			return nil, false, nil // duplicate delivery
		}
	}
	segs = append(segs, s)
	if len(segs) < int(s.Total) {
		r.pending[k] = segs
		return nil, false, nil
	}
	delete(r.pending, k)
	for i, o := range r.order {
		if o == k {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	p, err := Reassemble(segs)
	return p, err == nil, err
}
