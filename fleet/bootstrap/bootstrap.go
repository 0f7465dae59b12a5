// Package bootstrap makes the server's bootstrap profiles: the DM account
// (./DMAcc/<x>) a device needs to reach this server, as a TNDS document or a
// DM bootstrap message, protected for delivery over the air by one of the
// transport-neutral methods of OMA-TS-DM_Security-V1_2 §5.1.7.2 (an
// HMAC-SHA1 MAC keyed by a network secret such as the IMSI, a user PIN or
// both) or left plain for factory provisioning.
//
// The server keeps only a hash of a device's client password, so a profile
// carries a new one: Generate sets it on the device record (the old one
// stops working) unless the request gives the password to use.
package bootstrap

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// Formats of a profile.
const (
	// FormatTNDSXML is the TNDS document alone (XML): a file for factory
	// provisioning (omadm-agent --bootstrap takes it).
	FormatTNDSXML = "tnds-xml"
	// FormatTNDSWBXML is a DM bootstrap message (SyncML DM, WBXML) whose one
	// Add carries the account as an embedded WBXML TNDS object
	// (OMA-TS-DM_Bootstrap-V1_2 DM profile: WBXML, clients must take
	// embedded TNDS).
	FormatTNDSWBXML = "tnds-wbxml"
	// FormatAdd is a DM bootstrap message (WBXML) of plain Add commands, one
	// per node, then a Replace of the account's ACL.
	FormatAdd = "add"
)

// Formats lists the formats.
var Formats = []string{FormatTNDSWBXML, FormatTNDSXML, FormatAdd}

// Request asks for one device's profile.
type Request struct {
	DeviceID  string
	ServerID  string // our ServerID (DMAcc ServerID, SRVCRED AAuthName)
	ServerURL string // where the device reaches us (DMAcc AppAddr)
	Format    string // "" = FormatTNDSWBXML
	// Password is the client password to put in the profile; "" makes a new
	// one and stores it on the device.
	Password string
	// Security protects the profile (see Protect); "" leaves it plain.
	Security string
	// Network is the network secret (auth.IMSIKey of the IMSI) and PIN the
	// user PIN, as the method needs them.
	Network []byte
	PIN     string
}

// Profile is a generated profile.
type Profile struct {
	DeviceID    string
	Format      string
	ContentType string
	Body        []byte
	// Security is the canonical method, MAC the hex MAC of Body (none for
	// USERPINMAC) and UserPIN, for USERPINMAC, the PIN the user must type.
	Security, MAC, UserPIN string
	// PasswordChanged is set when Generate stored a new client password.
	PasswordChanged bool
}

// ErrUnsupported is a request no profile can be made for.
var ErrUnsupported = errors.New("bootstrap: unsupported request")

// Generate makes the profile r asks for; a new client password is stored
// on the device first. Errors name the bad field; storage.ErrNotFound
// means an unknown device.
func Generate(ctx context.Context, st storage.Store, r Request) (*Profile, error) {
	if r.Format == "" {
		r.Format = FormatTNDSWBXML
	}
	if !validFormat(r.Format) {
		return nil, fmt.Errorf("%w: format %q (want %s)", ErrUnsupported, r.Format, strings.Join(Formats, ", "))
	}
	if r.ServerID == "" || r.ServerURL == "" {
		return nil, fmt.Errorf("%w: the server ID and URL are required", ErrUnsupported)
	}
	if r.Security != "" && r.Format == FormatTNDSXML {
		return nil, fmt.Errorf("%w: security (MAC) applies to WBXML bootstrap messages only (OMA-TS-DM_Security-V1_2 §5.1.7.2.1), not to %s", ErrUnsupported, FormatTNDSXML)
	}
	dev, err := st.GetDevice(ctx, r.DeviceID)
	if err != nil {
		return nil, err
	}
	p := &Profile{DeviceID: dev.ID, Format: r.Format}
	if r.Password == "" {
		r.Password = newSecret()
		dev.Password = r.Password
		if err := st.UpdateDevice(ctx, dev); err != nil {
			return nil, err
		}
		p.PasswordChanged = true
	}
	a := Account(dev, r.ServerID, r.ServerURL, r.Password)
	p.Body, p.ContentType, err = Document(a, dev.ID, r.ServerID, r.Format)
	if err != nil {
		return nil, err
	}
	if r.Security != "" {
		if p.Security, p.MAC, p.UserPIN, err = Protect(r.Security, r.Network, r.PIN, p.Body); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
	}
	return p, nil
}

func validFormat(f string) bool {
	for _, x := range Formats {
		if f == x {
			return true
		}
	}
	return false
}

// newSecret is 16 random octets as base64 (auth.md §1: at least 16).
func newSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Account is the DMAcc account of dev for this server, with password as
// its client secret: CLCRED of the device's scheme and user name, SRVCRED
// with the server password the device checks us with.
func Account(dev *storage.Device, serverID, serverURL, password string) dmacc.Account {
	typ := aauthType(dev.AuthScheme)
	srv := aauthType(dev.ServerAuthScheme)
	if srv == "" {
		srv = typ
	}
	return dmacc.Account{
		ID: nodeName(serverID), ServerID: serverID, Name: serverID, Addr: serverURL, AuthPref: typ,
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: typ, Name: dev.Username, Secret: password},
		Server: dmacc.Credential{Level: dmacc.LevelServer, Type: srv, Name: serverID, Secret: dev.ServerPassword},
	}
}

// aauthType is the DMAcc AAuthType of a device's scheme.
func aauthType(scheme string) string {
	switch scheme {
	case "basic":
		return "BASIC"
	case "hmac":
		return "HMAC"
	case "md5", "":
		return "DIGEST"
	}
	return strings.ToUpper(scheme)
}

// nodeName makes a ServerID a node name (the <x> of ./DMAcc/<x>).
func nodeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Document writes account a in format, for the device deviceID.
func Document(a dmacc.Account, deviceID, serverID, format string) (body []byte, contentType string, err error) {
	if format == FormatTNDSXML {
		return a.TNDS(), syncml.TypeTNDSXML, nil
	}
	m := &syncml.Message{
		Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "0", MsgID: "1",
			Target: syncml.Location{LocURI: deviceID}, Source: syncml.Location{LocURI: serverID}},
		Final: true,
	}
	switch format {
	case FormatTNDSWBXML:
		// The WBXML encoder embeds a TNDS XML item as a WBXML TNDS object.
		m.Body = append(m.Body, &syncml.Add{CmdID: "1", Meta: &syncml.Meta{Type: syncml.TypeTNDSXML, Format: "xml"},
			Items: []syncml.Item{{Target: &syncml.Location{LocURI: "."}, Data: &syncml.Data{Kind: syncml.DataXML, Value: a.TNDS()}}}})
	case FormatAdd:
		for i, n := range a.Nodes() {
			it := syncml.Item{Target: &syncml.Location{LocURI: n.URI}}
			meta := &syncml.Meta{Format: n.Format, Type: n.Type}
			if n.Format != "node" {
				it.Data = syncml.TextData(n.Value)
			}
			m.Body = append(m.Body, &syncml.Add{CmdID: fmt.Sprint(i + 1), Meta: meta, Items: []syncml.Item{it}})
		}
		// The account's ACL: a Replace of its ACL property.
		m.Body = append(m.Body, &syncml.Replace{CmdID: fmt.Sprint(len(m.Body) + 1), Items: []syncml.Item{{
			Target: &syncml.Location{LocURI: dmacc.Root + "/" + a.ID + "?prop=ACL"}, Data: syncml.TextData(a.ACL())}}})
	}
	b, err := syncml.Encode(m, syncml.EncodingWBXML)
	if err != nil {
		return nil, "", fmt.Errorf("bootstrap: encoding: %w", err)
	}
	return b, syncml.EncodingWBXML.ContentType(), nil
}

// Protect computes the security parameters of body under method sec
// (OMA-TS-DM_Security-V1_2 §5.1.7.2.1: MAC = hex(HMAC-SHA1(key, WBXML
// body)); keys per auth.BootstrapKey). For USERPINMAC there is no MAC: the
// user is given userPIN (pin followed by MAC digits, auth.UserPINMAC).
func Protect(sec string, network []byte, pin string, body []byte) (method, mac, userPIN string, err error) {
	method, err = auth.ParseBootstrapSec(sec)
	if err != nil {
		return "", "", "", err
	}
	if method == auth.BootstrapUserPINMAC {
		userPIN, err = auth.UserPINMAC(pin, body)
		return method, "", userPIN, err
	}
	key, err := auth.BootstrapKey(method, network, pin)
	if err != nil {
		return "", "", "", err
	}
	return method, auth.BootstrapMAC(key, body), "", nil
}
