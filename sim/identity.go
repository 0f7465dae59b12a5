package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Identity is what a simulated device reports about itself in ./DevInfo and
// ./DevDetail. Values follow the shapes real handsets and gateways use
// (IMEI with a valid Luhn check digit, build strings, hardware revisions) so
// server-side parsing, storage and display see realistic data.
type Identity struct {
	DevID  string // DevInfo/DevId, "IMEI:" + 15 digits
	Man    string // DevInfo/Man
	Mod    string // DevInfo/Mod
	DmV    string // DevInfo/DmV
	Lang   string // DevInfo/Lang
	DevTyp string // DevDetail/DevTyp
	OEM    string // DevDetail/OEM
	FwV    string // DevDetail/FwV
	SwV    string // DevDetail/SwV
	HwV    string // DevDetail/HwV
}

// model is one product line of the simulated population. The names are
// invented; the type allocation codes sit in a range no real TAC uses, so
// simulated IMEIs never collide with real devices.
type model struct {
	man, mod, typ, oem, tac string
	fw                      string // firmware prefix
	sw                      []string
	hw                      []string
}

var models = []model{
	{"Acme Mobile", "AM-X200", "smartphone", "Acme Devices Ltd", "99001012", "AMX200", []string{"AcmeOS 12.1", "AcmeOS 12.2", "AcmeOS 13.0"}, []string{"rev B", "rev C"}},
	{"Acme Mobile", "AM-T10", "tablet", "Acme Devices Ltd", "99001027", "AMT10", []string{"AcmeOS 12.2", "AcmeOS 13.0"}, []string{"rev A"}},
	{"Northwind Telecom", "NW-Router 5G", "router", "Northwind Manufacturing", "99001034", "NWR5G", []string{"nwOS 4.2.1", "nwOS 4.3.0"}, []string{"HW1.0", "HW1.1"}},
	{"Contoso", "Meter M3", "smart-meter", "Contoso Energy Systems", "99001049", "CM3", []string{"metering 2.8", "metering 2.9"}, []string{"PCB-7", "PCB-8"}},
	{"Fabrikam", "FK-Phone Lite", "feature-phone", "Fabrikam Shenzhen", "99001056", "FKLITE", []string{"FK-RTOS 3.1"}, []string{"V2"}},
}

var langs = []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR"}

// luhn returns the check digit that makes digits+check pass the Luhn test.
func luhn(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// NewIdentity returns the identity of device number n (0 ≤ n < 1,000,000):
// deterministic, so a rerun with the same numbers finds the same devices on
// the server, and unique per n.
func NewIdentity(n int) Identity {
	m := models[n%len(models)]
	serial := fmt.Sprintf("%06d", n%1000000)
	body := m.tac + serial
	// Spread builds and languages with a cheap hash of n so neighbours differ.
	h := uint32(n)*2654435761 + 12345
	return Identity{
		DevID:  "IMEI:" + body + string(luhn(body)),
		Man:    m.man,
		Mod:    m.mod,
		DmV:    "1.2",
		Lang:   langs[int(h>>8)%len(langs)],
		DevTyp: m.typ,
		OEM:    m.oem,
		FwV:    fmt.Sprintf("%s_%d.%d.%d_R%02d", m.fw, 2+int(h>>4)%2, int(h>>12)%10, int(h>>16)%30, 1+int(h>>20)%12),
		SwV:    m.sw[int(h>>24)%len(m.sw)],
		HwV:    m.hw[int(h>>28)%len(m.hw)],
	}
}

// Credentials are a device's DM credentials in both directions.
type Credentials struct {
	Username       string // client → server name
	Password       string // client → server secret
	ServerPassword string // server → client secret (also the package 0 key)
}

// DeriveCredentials derives a device's credentials from a fleet secret and
// its device id, so a simulator run can be repeated against devices enrolled
// earlier (by `omadm ctl` or a previous --enroll) without storing anything.
func DeriveCredentials(secret, devID string) Credentials {
	derive := func(label string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(label))
		m.Write([]byte{0})
		m.Write([]byte(devID))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
	}
	user := devID
	if i := strings.LastIndexByte(devID, ':'); i >= 0 {
		user = devID[i+1:]
	}
	return Credentials{Username: "dm-" + user, Password: derive("client"), ServerPassword: derive("server")}
}
