package notification

import (
	"bytes"
	"errors"
	"fmt"
)

// Bearer names how a package 0 was (or is to be) carried.
type Bearer int

// Bearers. BearerAuto asks Unwrap to detect the bearer.
const (
	BearerAuto Bearer = iota
	BearerRaw         // the package bytes alone (e.g. OBEX PUT body)
	BearerWSP         // a connectionless WSP push PDU (a WDP/UDP datagram to port 2948)
	BearerSMS         // SM user data with UDH (one or more segments)
)

// String returns the CLI's name of the bearer.
func (b Bearer) String() string {
	switch b {
	case BearerAuto:
		return "auto"
	case BearerRaw:
		return "raw"
	case BearerWSP:
		return "wap-push"
	case BearerSMS:
		return "sms"
	}
	return fmt.Sprintf("Bearer(%d)", int(b))
}

// ParseBearer is the inverse of Bearer.String.
func ParseBearer(s string) (Bearer, error) {
	for b := BearerAuto; b <= BearerSMS; b++ {
		if s == b.String() {
			return b, nil
		}
	}
	return 0, fmt.Errorf("unknown bearer %q (want auto, raw, wap-push or sms)", s)
}

// Envelope is a package 0 together with what carried it.
type Envelope struct {
	Bearer  Bearer
	SMS     []*SMS // the segments, for BearerSMS
	Push    *Push  // the WSP push PDU, for BearerWSP and BearerSMS
	Package *Package0
}

// Unwrap decodes a package 0 carried by bearer. Several data are accepted
// only for SMS: the segments of one concatenated message, in any order. With
// BearerAuto a single datum is tried as SMS user data (a UDH addressed to port
// 2948), then as a WSP push PDU, then as a raw package; the first reading
// that decodes completely wins, and when none does the error names why each
// failed.
func Unwrap(bearer Bearer, data ...[]byte) (*Envelope, error) {
	if len(data) == 0 {
		return nil, errors.New("no input")
	}
	if len(data) > 1 && bearer != BearerSMS && bearer != BearerAuto {
		return nil, fmt.Errorf("%d inputs given; only SMS segments come in several parts", len(data))
	}
	switch bearer {
	case BearerRaw:
		p, err := Decode(data[0])
		if err != nil {
			return nil, err
		}
		return &Envelope{Bearer: BearerRaw, Package: p}, nil
	case BearerWSP:
		return unwrapWSP(data[0])
	case BearerSMS:
		return unwrapSMS(data)
	case BearerAuto:
	default:
		return nil, fmt.Errorf("unknown bearer %d", bearer)
	}
	if len(data) > 1 {
		return unwrapSMS(data)
	}
	b := data[0]
	// The SMS and WSP readings are tried in full only when their cheap
	// necessary conditions hold; otherwise their errors are worked out
	// only if no reading succeeds. A raw package (and a forged one) then
	// costs no error formatting.
	var errSMS, errWSP error
	smsTried, wspTried := maybeSMS(b), maybeWSP(b)
	if smsTried {
		if e, err := trySMS(data); err == nil {
			return e, nil
		} else {
			errSMS = err
		}
	}
	if wspTried {
		if e, err := unwrapWSP(b); err == nil {
			return e, nil
		} else {
			errWSP = err
		}
	}
	p, errRaw := Decode(b)
	if errRaw == nil {
		return &Envelope{Bearer: BearerRaw, Package: p}, nil
	}
	if !smsTried {
		_, errSMS = trySMS(data)
	}
	if !wspTried {
		_, errWSP = unwrapWSP(b)
	}
	return nil, fmt.Errorf("not a package 0 as raw bytes (%v), as a WSP push PDU (%v) or as SMS user data (%v)", errRaw, errWSP, errSMS)
}

// trySMS reads one datum as SM user data addressed to the push port.
func trySMS(data [][]byte) (*Envelope, error) {
	s, err := ParseSMS(data[0])
	switch {
	case err != nil:
		return nil, err
	case s.PortBits != 16 || s.DstPort != PushPort:
		return nil, fmt.Errorf("not addressed to port %d", PushPort)
	}
	return unwrapSMS(data)
}

// maybeSMS is a necessary condition for trySMS to succeed: SM-sized user
// data whose UDH holds the 16-bit port element for destination 2948.
func maybeSMS(b []byte) bool {
	if len(b) == 0 || len(b) > SMSUserDataSize {
		return false
	}
	udhl := int(b[0])
	return udhl > 0 && udhl < len(b) &&
		bytes.Contains(b[1:1+udhl], []byte{ieiPort16, 4, byte(PushPort >> 8), byte(PushPort & 0xFF)})
}

// maybeWSP is a necessary condition for DecodePush to succeed: a TID and
// the Push PDU type.
func maybeWSP(b []byte) bool { return len(b) >= 3 && b[1] == wspPDUPush }

func unwrapWSP(b []byte) (*Envelope, error) {
	push, err := DecodePush(b)
	if err != nil {
		return nil, err
	}
	p, err := Decode(push.Body)
	if err != nil {
		return nil, fmt.Errorf("WSP push body: %w", err)
	}
	return &Envelope{Bearer: BearerWSP, Push: push, Package: p}, nil
}

func unwrapSMS(data [][]byte) (*Envelope, error) {
	if len(data) > MaxSMSSegments {
		return nil, fmt.Errorf("%d SMs given, a message has at most %d", len(data), MaxSMSSegments)
	}
	segs := make([]*SMS, 0, len(data))
	for i, ud := range data {
		s, err := ParseSMS(ud)
		if err != nil {
			return nil, fmt.Errorf("SM %d: %w", i+1, err)
		}
		if s.PortBits == 0 {
			return nil, fmt.Errorf("SM %d: %w: no port addressing element", i+1, ErrUDH)
		}
		if s.DstPort != PushPort {
			return nil, fmt.Errorf("SM %d: %w: destination port %d is not the WAP push port %d", i+1, ErrUDH, s.DstPort, PushPort)
		}
		segs = append(segs, s)
	}
	payload, err := Reassemble(segs)
	if err != nil {
		return nil, err
	}
	e, err := unwrapWSP(payload)
	if err != nil {
		return nil, err
	}
	e.Bearer, e.SMS = BearerSMS, segs
	return e, nil
}

// DecodeAny decodes a package 0 arriving as raw bytes, as a WSP push PDU (a
// WDP datagram on port 2948) or as one SM's user data; see Unwrap.
func DecodeAny(b []byte) (*Package0, error) {
	e, err := Unwrap(BearerAuto, b)
	if err != nil {
		return nil, err
	}
	return e.Package, nil
}

// Wrap encodes a package 0 for bearer: itself for BearerRaw, a WSP push PDU
// with transaction id tid for BearerWSP, and SM user data (one or more) for
// BearerSMS. It always returns at least one datum.
func Wrap(bearer Bearer, pkg0 []byte, tid byte, sms *SMSOptions) ([][]byte, error) {
	switch bearer {
	case BearerRaw:
		return [][]byte{pkg0}, nil
	case BearerWSP:
		return [][]byte{EncodePush(tid, pkg0)}, nil
	case BearerSMS:
		return EncodeSMS(EncodePush(tid, pkg0), sms)
	}
	return nil, fmt.Errorf("cannot encode for bearer %s", bearer)
}
