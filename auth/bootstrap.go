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
// bootstrap message (security.md §9). They differ only in where the key
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
