// Package notification owns the OMA DM 1.2 server-initiated wake-up: the
// package 0 (General Notification Initiated Session Alert) codec and digest,
// and the bearers that carry it to a device: the connectionless WSP push PDU,
// WDP over UDP to port 2948, and SMS 8-bit user data with UDH port addressing
// and concatenation. It also provides Sender implementations for a server
// (UDP, SMS through an HTTP gateway) and a UDP Listener for a device.
//
// Every decoder is bounded (MaxPackageSize, at most 255 SMS segments) and
// returns a clear error on bad input, never panics.
package notification

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// Versions of the package 0 format. DM 1.2 text mandates 11 ("1.1"); some
// DM 1.2 servers send 12, so both are accepted and 11 is emitted by default.
const (
	Version11      = 11
	Version12      = 12
	DefaultVersion = Version11
)

// Size limits of package 0.
const (
	// DigestSize is the length of the MD5 digest that starts a package.
	DigestSize = md5.Size
	// HeaderSize is the fixed part: digest, 40 header bits, session id and
	// the server identifier's length byte.
	HeaderSize = DigestSize + 5 + 2 + 1
	// MaxServerIDLen is the longest server identifier the 8-bit length
	// prefix can describe.
	MaxServerIDLen = 255
	// MaxPackageSize bounds a package 0 (vendor data included). Real packages
	// are under 140 bytes; 255 concatenated SMs hold at most 32,640.
	MaxPackageSize = 64 * 1024
)

// UIMode is the package 0 ui-mode: the user interaction the server recommends
// before the device starts the session.
type UIMode uint8

// The four ui-modes (2 bits).
const (
	UINotSpecified UIMode = 0
	UIBackground   UIMode = 1
	UIInformative  UIMode = 2
	UIInteractive  UIMode = 3
)

// String returns the mode's name as the CLI spells it.
func (m UIMode) String() string {
	switch m {
	case UINotSpecified:
		return "not-specified"
	case UIBackground:
		return "background"
	case UIInformative:
		return "informative"
	case UIInteractive:
		return "interactive"
	}
	return fmt.Sprintf("UIMode(%d)", uint8(m))
}

// ParseUIMode is the inverse of UIMode.String.
func ParseUIMode(s string) (UIMode, error) {
	for m := UINotSpecified; m <= UIInteractive; m++ {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown ui-mode %q (want not-specified, background, informative or interactive)", s)
}

// Initiator says who initiated the management session (1 bit).
type Initiator uint8

// The two initiators.
const (
	InitiatorClient Initiator = 0 // client / user initiated
	InitiatorServer Initiator = 1 // server initiated
)

// String returns "client" or "server".
func (i Initiator) String() string {
	switch i {
	case InitiatorClient:
		return "client"
	case InitiatorServer:
		return "server"
	}
	return fmt.Sprintf("Initiator(%d)", uint8(i))
}

// ParseInitiator is the inverse of Initiator.String.
func ParseInitiator(s string) (Initiator, error) {
	switch s {
	case "client":
		return InitiatorClient, nil
	case "server":
		return InitiatorServer, nil
	}
	return 0, fmt.Errorf("unknown initiator %q (want server or client)", s)
}

// Package0 is a decoded or to-be-encoded package 0.
type Package0 struct {
	Version   int       // 11 (default, also when 0 on Encode) or 12
	UIMode    UIMode    // UINotSpecified, UIBackground, UIInformative, UIInteractive
	Initiator Initiator // InitiatorClient, InitiatorServer
	SessionID uint16    // pkg1 SessionID is its uppercase hex (SessionIDString)
	ServerID  string    // selects the DMAcc account; at most 255 bytes
	Vendor    []byte    // vendor-specific data to the end of the message
	Digest    [16]byte
	Trigger   []byte // exact bytes after the digest, as received (decode) or built (encode)
}

// Errors wrapped by Decode and Encode, so callers can tell failures apart.
var (
	ErrTruncated          = errors.New("package 0 truncated")
	ErrUnsupportedVersion = errors.New("unsupported package 0 version")
	ErrReservedBits       = errors.New("package 0 future-use bits are not zero")
	ErrTooLarge           = errors.New("package 0 too large")
	ErrInvalidField       = errors.New("invalid package 0 field")
)

// ResetNonce is the nonce a device retries the digest with when the stored
// server nonce fails (the spec's "0x00000000"). It follows the reference
// client (Intel libdmclient), which uses the ten ASCII characters "0x00000000";
// ResetNonceZeros is the other reading of the spec, four zero bytes, which
// VerifyWithReset also tries.
var ResetNonce = []byte("0x00000000")

// ResetNonceZeros is the four-zero-bytes reading of the reset nonce.
var ResetNonceZeros = []byte{0, 0, 0, 0}

// SessionIDString returns the session id as pkg1 SessionID must carry it:
// uppercase hex without leading zeros (0x00AB gives "AB").
func (p *Package0) SessionIDString() string { return fmt.Sprintf("%X", p.SessionID) }

// buildTrigger returns trigger-hdr ‖ trigger-body for the fields of p.
func (p *Package0) buildTrigger() ([]byte, error) {
	v := p.Version
	if v == 0 {
		v = DefaultVersion
	}
	switch {
	case v != Version11 && v != Version12:
		return nil, fmt.Errorf("%w %d (want 11 or 12)", ErrUnsupportedVersion, v)
	case p.UIMode > UIInteractive:
		return nil, fmt.Errorf("%w: ui-mode %d (2 bits)", ErrInvalidField, p.UIMode)
	case p.Initiator > InitiatorServer:
		return nil, fmt.Errorf("%w: initiator %d (1 bit)", ErrInvalidField, p.Initiator)
	case len(p.ServerID) > MaxServerIDLen:
		return nil, fmt.Errorf("%w: server identifier is %d bytes, at most %d", ErrInvalidField, len(p.ServerID), MaxServerIDLen)
	case HeaderSize+len(p.ServerID)+len(p.Vendor) > MaxPackageSize:
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, HeaderSize+len(p.ServerID)+len(p.Vendor), MaxPackageSize)
	}
	t := make([]byte, 0, HeaderSize-DigestSize+len(p.ServerID)+len(p.Vendor))
	t = append(t, byte(v>>2), byte(v&3)<<6|byte(p.UIMode)<<4|byte(p.Initiator)<<3, 0, 0, 0)
	t = binary.BigEndian.AppendUint16(t, p.SessionID)
	t = append(t, byte(len(p.ServerID)))
	t = append(t, p.ServerID...)
	t = append(t, p.Vendor...)
	return t, nil
}

// Encode builds the package from the fields of p (any Trigger in p is
// replaced), computes its digest with the server's password and nonce as the
// device stores them (DMAcc SRVCRED AAuthSecret and AAuthData, nonce as raw
// bytes), fills Version, Digest and Trigger, and returns digest ‖ trigger.
func (p *Package0) Encode(password string, nonce []byte) ([]byte, error) {
	t, err := p.buildTrigger()
	if err != nil {
		return nil, err
	}
	if p.Version == 0 {
		p.Version = DefaultVersion
	}
	p.Trigger = t
	p.Digest = Digest(p.ServerID, password, nonce, t)
	out := make([]byte, 0, DigestSize+len(t))
	out = append(out, p.Digest[:]...)
	return append(out, t...), nil
}

// Decode parses a raw package 0. It accepts versions 11 and 12 only and
// rejects nonzero future-use bits (ErrReservedBits): both mean a format whose
// meaning we cannot know, and a device must then ignore the notification.
// The result does not alias b.
func Decode(b []byte) (*Package0, error) {
	if len(b) > MaxPackageSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxPackageSize)
	}
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, the fixed header needs %d", ErrTruncated, len(b), HeaderSize)
	}
	p := &Package0{}
	copy(p.Digest[:], b)
	h := b[DigestSize:]
	p.Version = int(h[0])<<2 | int(h[1]>>6)
	if p.Version != Version11 && p.Version != Version12 {
		return nil, fmt.Errorf("%w %d (want 11 or 12)", ErrUnsupportedVersion, p.Version)
	}
	p.UIMode = UIMode(h[1] >> 4 & 3)
	p.Initiator = Initiator(h[1] >> 3 & 1)
	if h[1]&7 != 0 || h[2] != 0 || h[3] != 0 || h[4] != 0 {
		return nil, fmt.Errorf("%w: %02x%02x%02x%02x after the initiator bit", ErrReservedBits, h[1]&7, h[2], h[3], h[4])
	}
	p.SessionID = binary.BigEndian.Uint16(h[5:7])
	n := int(h[7])
	if len(b) < HeaderSize+n {
		return nil, fmt.Errorf("%w: server identifier length %d but only %d bytes follow", ErrTruncated, n, len(b)-HeaderSize)
	}
	p.ServerID = string(b[HeaderSize : HeaderSize+n])
	if rest := b[HeaderSize+n:]; len(rest) > 0 {
		p.Vendor = append([]byte(nil), rest...)
	}
	p.Trigger = append([]byte(nil), h...)
	return p, nil
}

// Digest computes the package 0 digest
//
//	H( B64(H(serverID ":" password)) ":" nonce ":" B64(H(trigger)) )
//
// with H = MD5 and nonce as raw bytes.
func Digest(serverID, password string, nonce, trigger []byte) [16]byte {
	b64 := base64.StdEncoding
	a := md5.Sum([]byte(serverID + ":" + password))
	t := md5.Sum(trigger)
	h := md5.New()
	h.Write([]byte(b64.EncodeToString(a[:])))
	h.Write([]byte{':'})
	h.Write(nonce)
	h.Write([]byte{':'})
	h.Write([]byte(b64.EncodeToString(t[:])))
	var d [16]byte
	h.Sum(d[:0])
	return d
}

// trigger returns the bytes the digest covers: Trigger as received, or the
// fields re-encoded when p was built by hand.
func (p *Package0) trigger() ([]byte, bool) {
	if p.Trigger != nil {
		return p.Trigger, true
	}
	t, err := p.buildTrigger()
	return t, err == nil
}

// Verify reports, in constant time, whether the digest is valid for the
// package's own server identifier and the given password and nonce.
func (p *Package0) Verify(password string, nonce []byte) bool {
	return p.VerifyAs(p.ServerID, password, nonce)
}

// VerifyAs is Verify with the identity the device has stored for the server
// (DMAcc ServerID, or the SRVCRED AAuthName some clients use) in place of the
// identifier carried in the package.
func (p *Package0) VerifyAs(serverID, password string, nonce []byte) bool {
	t, ok := p.trigger()
	if !ok {
		return false
	}
	d := Digest(serverID, password, nonce, t)
	return subtle.ConstantTimeCompare(d[:], p.Digest[:]) == 1
}

// VerifyWithReset verifies with the stored nonce and, failing that, with the
// reset nonce (ResetNonce, then ResetNonceZeros), as a device should before
// silently ignoring a notification. It returns the nonce that verified, so
// the caller can build pkg1 credentials with it and know a resync happened.
func (p *Package0) VerifyWithReset(password string, nonce []byte) ([]byte, bool) {
	for _, n := range [][]byte{nonce, ResetNonce, ResetNonceZeros} {
		if p.Verify(password, n) {
			return n, true
		}
	}
	return nil, false
}
