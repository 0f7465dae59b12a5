package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Bootstrap security mechanisms: the SEC parameter that travels with a DM
// bootstrap message (OMA-TS-DM_Bootstrap-V1_2, bootstrap security). They differ only in where the key
// comes from, so callers pass the key bytes the mechanism defines.
const (
	// BootstrapNetworkID keys the MAC with a secret the network and device
	// share (for example the IMSI or ESN).
	BootstrapNetworkID = "NETWORKID"
	// BootstrapUserPIN keys the MAC with a PIN the user is given.
	BootstrapUserPIN = "USERPIN"
	// BootstrapUserPINNetworkID keys the MAC with both ("PIN:secret").
	BootstrapUserPINNetworkID = "USERPIN_NETWORKID"
)

// ErrBootstrapMAC is returned when a bootstrap message does not carry the
// MAC its key gives: it was tampered with or is meant for another device.
var ErrBootstrapMAC = errors.New("auth: bootstrap MAC does not verify")

// BootstrapMAC returns the MAC of a DM bootstrap message as it travels in the
// MAC parameter: 40 lower-case hex digits of HMAC-SHA1(key, msg) (RFC 2104),
// computed over the exact WBXML bytes.
func BootstrapMAC(key, msg []byte) string {
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyBootstrap checks a bootstrap message against its SEC and MAC
// parameters before the device applies it. sec must be one of the Bootstrap*
// mechanisms (case-insensitive), mac 40 hex digits in either case; the
// comparison is constant-time.
func VerifyBootstrap(sec string, key, msg []byte, mac string) error {
	switch strings.ToUpper(sec) {
	case BootstrapNetworkID, BootstrapUserPIN, BootstrapUserPINNetworkID:
	default:
		return fmt.Errorf("auth: unknown bootstrap security %q (want NETWORKID, USERPIN or USERPIN_NETWORKID)", sec)
	}
	if len(key) == 0 {
		return errors.New("auth: bootstrap security needs a key")
	}
	want, err := hex.DecodeString(strings.TrimSpace(mac))
	if err != nil || len(want) != sha1.Size {
		return fmt.Errorf("auth: bootstrap MAC %q is not %d hex digits", mac, 2*sha1.Size)
	}
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil), want) {
		return ErrBootstrapMAC
	}
	return nil
}

// IMSIKey returns the NETWORKID bootstrap key of a GSM/UMTS device: its
// IMSI in the semi-octet form of the 3GPP mobile identity (TS 24.008), the
// form OMA provisioning bootstrap keys its network PIN with. The first
// octet's low nibble is the type and parity (9: odd number of digits, 1:
// even), each octet holds two digits low nibble first, and an even IMSI is
// padded with 0xF; a 15-digit IMSI gives 8 bytes.
func IMSIKey(imsi string) ([]byte, error) {
	imsi = strings.TrimSpace(imsi)
	if len(imsi) < 6 || len(imsi) > 15 {
		return nil, fmt.Errorf("auth: IMSI %q: want 6 to 15 digits", imsi)
	}
	for _, c := range imsi {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("auth: IMSI %q: want digits only", imsi)
		}
	}
	nibbles := make([]byte, 0, 16)
	if len(imsi)%2 == 1 {
		nibbles = append(nibbles, 9)
	} else {
		nibbles = append(nibbles, 1)
	}
	for i := 0; i < len(imsi); i++ {
		nibbles = append(nibbles, imsi[i]-'0')
	}
	if len(nibbles)%2 == 1 {
		nibbles = append(nibbles, 0xF)
	}
	key := make([]byte, len(nibbles)/2)
	for i := range key {
		key[i] = nibbles[2*i] | nibbles[2*i+1]<<4
	}
	return key, nil
}
