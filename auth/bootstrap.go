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
	// BootstrapUserPINNetworkID keys the MAC with both: the network secret
	// followed by the PIN (BootstrapKey).
	BootstrapUserPINNetworkID = "USERPIN_NETWORKID"
	// BootstrapUserPINMAC carries no MAC parameter: the PIN the user types
	// is a key K followed by as many decimal digits of HMAC-SHA1(K, msg)
	// (UserPINMAC). It comes from OMA provisioning bootstrap (SEC value
	// USERPINMAC).
	BootstrapUserPINMAC = "USERPINMAC"
)

// ParseBootstrapSec returns the canonical name of a bootstrap security
// method. OMA-TS-DM_Security-V1_2 §5.1.7.2 names the DM profile's methods
// NETWORKID, USERPIN and USERPIN_NETWORKID in a textual Content-Type
// parameter; OMA provisioning bootstrap (and the binary WSP SEC parameter,
// codes 0-3) names the same keys NETWPIN, USERPIN, USERNETWPIN and adds
// USERPINMAC. Both spellings, and the codes, are accepted.
func ParseBootstrapSec(s string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case BootstrapNetworkID, "NETWPIN", "0":
		return BootstrapNetworkID, nil
	case BootstrapUserPIN, "1":
		return BootstrapUserPIN, nil
	case BootstrapUserPINNetworkID, "USERNETWPIN", "2":
		return BootstrapUserPINNetworkID, nil
	case BootstrapUserPINMAC, "3":
		return BootstrapUserPINMAC, nil
	}
	return "", fmt.Errorf("auth: unknown bootstrap security %q (want NETWORKID/NETWPIN, USERPIN, USERPIN_NETWORKID/USERNETWPIN or USERPINMAC)", s)
}

// BootstrapSecCode is the WSP SEC parameter value of a canonical method
// (OMA provisioning bootstrap: NETWPIN 0, USERPIN 1, USERNETWPIN 2,
// USERPINMAC 3).
func BootstrapSecCode(sec string) (byte, bool) {
	switch sec {
	case BootstrapNetworkID:
		return 0, true
	case BootstrapUserPIN:
		return 1, true
	case BootstrapUserPINNetworkID:
		return 2, true
	case BootstrapUserPINMAC:
		return 3, true
	}
	return 0, false
}

// BootstrapKey is the HMAC key of a method: the network secret for
// NETWORKID (for GSM/UMTS, IMSIKey of the IMSI), the PIN for USERPIN and
// USERPINMAC (its key half for the latter, see UserPINMAC), and the network
// secret followed by the PIN for USERPIN_NETWORKID (OMA provisioning
// bootstrap's USERNETWPIN key).
func BootstrapKey(sec string, network []byte, pin string) ([]byte, error) {
	sec, err := ParseBootstrapSec(sec)
	if err != nil {
		return nil, err
	}
	switch sec {
	case BootstrapNetworkID:
		if len(network) == 0 {
			return nil, errors.New("auth: NETWORKID needs the network secret (e.g. the IMSI)")
		}
		return network, nil
	case BootstrapUserPIN, BootstrapUserPINMAC:
		if pin == "" {
			return nil, fmt.Errorf("auth: %s needs a PIN", sec)
		}
		return []byte(pin), nil
	default:
		if len(network) == 0 || pin == "" {
			return nil, errors.New("auth: USERPIN_NETWORKID needs the network secret and a PIN")
		}
		return append(append([]byte(nil), network...), pin...), nil
	}
}

// UserPINMAC returns the PIN a user is given for a USERPINMAC bootstrap:
// the key k (decimal digits) followed by len(k) digits of M =
// HMAC-SHA1(k, msg), digit i being M[i] mod 10 (OMA provisioning
// bootstrap, USERPINMAC). k must be 1 to 20 digits.
func UserPINMAC(k string, msg []byte) (string, error) {
	if k == "" || len(k) > sha1.Size || strings.Trim(k, "0123456789") != "" {
		return "", fmt.Errorf("auth: USERPINMAC key %q: want 1 to %d digits", k, sha1.Size)
	}
	return k + pinDigits(k, msg), nil
}

func pinDigits(k string, msg []byte) string {
	m := hmac.New(sha1.New, []byte(k))
	m.Write(msg)
	sum := m.Sum(nil)
	d := make([]byte, len(k))
	for i := range d {
		d[i] = '0' + sum[i]%10
	}
	return string(d)
}

// VerifyUserPINMAC checks a USERPINMAC bootstrap against the PIN the user
// typed: its first half is the key, its second the digits of the MAC.
func VerifyUserPINMAC(userPIN string, msg []byte) error {
	if len(userPIN) < 2 || len(userPIN)%2 != 0 || len(userPIN) > 2*sha1.Size {
		return fmt.Errorf("auth: USERPINMAC PIN: want an even number of digits (key and MAC halves), got %d", len(userPIN))
	}
	k, digits := userPIN[:len(userPIN)/2], userPIN[len(userPIN)/2:]
	if !hmac.Equal([]byte(pinDigits(k, msg)), []byte(digits)) {
		return ErrBootstrapMAC
	}
	return nil
}

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
// parameters before the device applies it. sec is a method ParseBootstrapSec
// accepts other than USERPINMAC, mac 40 hex digits in either case; the
// comparison is constant-time.
func VerifyBootstrap(sec string, key, msg []byte, mac string) error {
	canon, err := ParseBootstrapSec(sec)
	if err != nil {
		return err
	}
	if canon == BootstrapUserPINMAC {
		return errors.New("auth: USERPINMAC carries no MAC parameter: check it with VerifyUserPINMAC")
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

// BootstrapPolicy is what a device accepts of a bootstrap message that
// arrives over the air (OMA-TS-DM_Security-V1_2 §5.1.7: a client accepts
// bootstrap commands only from an authorised server; which methods it
// takes is its own policy).
type BootstrapPolicy struct {
	// Accept lists the methods taken (any spelling ParseBootstrapSec
	// knows); a message without security, or with another method, is
	// refused.
	Accept []string
	// Network is the network shared secret (IMSIKey of the IMSI for
	// GSM/UMTS), for NETWORKID and USERPIN_NETWORKID.
	Network []byte
	// PIN is the user PIN: for USERPIN and USERPIN_NETWORKID the key, for
	// USERPINMAC the whole PIN the user was given (key and MAC digits).
	PIN string
}

// Check verifies a message's SEC and MAC parameters under the policy; the
// error says why a message is refused.
func (p *BootstrapPolicy) Check(sec, mac string, msg []byte) error {
	if sec == "" {
		return errors.New("auth: bootstrap refused: it carries no security (SEC) parameter")
	}
	canon, err := ParseBootstrapSec(sec)
	if err != nil {
		return fmt.Errorf("auth: bootstrap refused: %w", err)
	}
	ok := false
	for _, a := range p.Accept {
		if c, err := ParseBootstrapSec(a); err == nil && c == canon {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("auth: bootstrap refused: security %s is not accepted (accepting %s)", canon, strings.Join(p.Accept, ", "))
	}
	if canon == BootstrapUserPINMAC {
		if p.PIN == "" {
			return errors.New("auth: bootstrap refused: USERPINMAC needs the user's PIN")
		}
		if err := VerifyUserPINMAC(p.PIN, msg); err != nil {
			return fmt.Errorf("auth: bootstrap refused: %s: %w", canon, err)
		}
		return nil
	}
	key, err := BootstrapKey(canon, p.Network, p.PIN)
	if err != nil {
		return fmt.Errorf("auth: bootstrap refused: %w", err)
	}
	if err := VerifyBootstrap(canon, key, msg, mac); err != nil {
		return fmt.Errorf("auth: bootstrap refused: %s: %w", canon, err)
	}
	return nil
}
