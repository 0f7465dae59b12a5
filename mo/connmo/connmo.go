// Package connmo is the connectivity object: network access points (OMA
// ConnMO NAP objects, urn:oma:mo:oma-connmo-nap:1.0) and proxies kept under
// one container node (for example ./ConnMO), its DDF, the device side (the
// object installed in the tree and an apply hook run when a server changed
// it) and the server side's connectivity profiles: an APN-like or Wi-Fi-like
// profile turned into the nodes that provision it.
//
//	<x>/NAP/<n>/{NAPID, Name, AddrType, Addr}                 the access point
//	<x>/NAP/<n>/Bearer/BearerType                             GSM-GPRS or WLAN
//	<x>/NAP/<n>/AuthInfo/{AuthType, AuthName, AuthSecret}     PAP/CHAP credentials
//	<x>/NAP/<n>/Ext/WLAN/{SecMode, Passphrase, Hidden}        Wi-Fi security
//	<x>/Proxy/<n>/{PXID, Name, AddrType, Addr}
//	<x>/Proxy/<n>/Ports/<p>/PortNbr, <x>/Proxy/<n>/ConRefs/<c>/ConRef
//	<x>/Ext
package connmo

import (
	_ "embed"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/mo/moframe"
)

// MOID is the container's identifier (this implementation's own).
const MOID = "org.omadm/1.0/ConnMO"

// Identifiers of the objects the container holds: the NAP one is OMA's
// ConnMO NAP object; the Proxy one follows the same naming.
const (
	NAPMOID   = "urn:oma:mo:oma-connmo-nap:1.0"
	ProxyMOID = "urn:oma:mo:oma-connmo-proxy:1.0"
)

// DefaultNode is where devices keep the container by default.
const DefaultNode = "./ConnMO"

//go:embed connmo.ddf.xml
var ddfXML []byte

// Model is the object's DDF (connmo.ddf.xml).
var Model = moframe.MustModel(ddfXML)

// Profile kinds.
const (
	KindAPN  = "apn"
	KindWiFi = "wifi"
)

// Settings each kind takes; the first ones listed are required.
var settings = map[string][]string{
	KindAPN:  {"apn", "display_name", "auth_type", "username", "password", "proxy_addr", "proxy_port"},
	KindWiFi: {"ssid", "display_name", "security", "passphrase", "hidden", "proxy_addr", "proxy_port"},
}

// SettingNames lists the settings of a kind, for messages.
func SettingNames(kind string) []string { return settings[kind] }

// Limits of a profile.
const (
	MaxNameLen    = 64
	MaxSettingLen = 256
)

// FieldError is a profile setting that breaks a rule; Field names it
// ("settings.apn").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ValidName checks a profile name: it becomes a node name, so 1 to
// MaxNameLen letters, digits, '-', '_' or '.'.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return bad("name", "want 1 to %d characters", MaxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return bad("name", "%q: use letters, digits, '-', '_' and '.' only (it names the device's node)", name)
		}
	}
	if name == "." || name == ".." {
		return bad("name", "%q is not a node name", name)
	}
	return nil
}

// Validate checks a profile's kind and settings.
func Validate(name, kind string, s map[string]string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	known, ok := settings[kind]
	if !ok {
		return bad("kind", "%q: want apn or wifi", kind)
	}
	for k, v := range s {
		if !contains(known, k) {
			return bad("settings."+k, "a %s profile takes no setting %s (it takes: %s)", kind, k, strings.Join(known, ", "))
		}
		if len(v) > MaxSettingLen || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return bad("settings."+k, "want at most %d printable characters", MaxSettingLen)
		}
	}
	req := known[0]
	if s[req] == "" {
		return bad("settings."+req, "a %s profile needs %s", kind, req)
	}
	switch kind {
	case KindAPN:
		if at := s["auth_type"]; at != "" && at != "PAP" && at != "CHAP" {
			return bad("settings.auth_type", "%q: want PAP or CHAP", at)
		}
		if (s["username"] != "" || s["password"] != "") && s["auth_type"] == "" {
			return bad("settings.auth_type", "username and password need auth_type PAP or CHAP")
		}
	case KindWiFi:
		if len(s["ssid"]) > 32 {
			return bad("settings.ssid", "an SSID has at most 32 bytes")
		}
		sec := security(s)
		switch sec {
		case "open":
			if s["passphrase"] != "" {
				return bad("settings.passphrase", "an open network takes no passphrase")
			}
		case "wpa2-psk", "wpa3-sae":
			if n := len(s["passphrase"]); n < 8 || n > 63 {
				return bad("settings.passphrase", "%s needs a passphrase of 8 to 63 characters", sec)
			}
		default:
			return bad("settings.security", "%q: want open, wpa2-psk or wpa3-sae", sec)
		}
		if h := s["hidden"]; h != "" && h != "true" && h != "false" {
			return bad("settings.hidden", "%q: want true or false", h)
		}
	}
	if pa := s["proxy_addr"]; pa != "" || s["proxy_port"] != "" {
		if pa == "" {
			return bad("settings.proxy_addr", "proxy_port needs proxy_addr")
		}
		if p := s["proxy_port"]; p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return bad("settings.proxy_port", "%q: want 1 to 65535", p)
			}
		}
	}
	return nil
}

func security(s map[string]string) string {
	if v := s["security"]; v != "" {
		return v
	}
	return "wpa2-psk"
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Item is one node a profile writes: its URI, format and value (Format node:
// an interior node, Type its MO identifier when it has one).
type Item struct {
	URI    string
	Format string
	Type   string
	Data   string
}

// Plan is what applying a profile sends: the nodes to Delete first (the
// profile's earlier copy, when replacing) and the nodes to Add, parents
// first. Both go in one Atomic (OMA-TS-DM_Protocol-V1_2 §6.6.3: all or
// nothing).
type Plan struct {
	Delete []string
	Add    []Item
}

// Apply returns the plan that provisions the profile under the container
// node (for example ./ConnMO): the access point NAP/<name> and, when the
// profile has a proxy, Proxy/<name> referring to it. With replace the
// profile's earlier copy is deleted first (the device must have it: a
// Delete of a missing node fails the Atomic).
func Apply(node, name, kind string, s map[string]string, replace bool) (*Plan, error) {
	if err := Validate(name, kind, s); err != nil {
		return nil, err
	}
	nap := node + "/NAP/" + name
	p := &Plan{}
	hasProxy := s["proxy_addr"] != ""
	if replace {
		p.Delete = append(p.Delete, nap)
		if hasProxy {
			p.Delete = append(p.Delete, node+"/Proxy/"+name)
		}
	}
	add := func(uri, format, data string) {
		p.Add = append(p.Add, Item{URI: uri, Format: format, Type: "text/plain", Data: data})
	}
	inner := func(uri, typ string) { p.Add = append(p.Add, Item{URI: uri, Format: "node", Type: typ}) }
	display := s["display_name"]
	if display == "" {
		display = name
	}
	inner(nap, NAPMOID)
	add(nap+"/NAPID", "chr", name)
	add(nap+"/Name", "chr", display)
	inner(nap+"/Bearer", "")
	switch kind {
	case KindAPN:
		add(nap+"/AddrType", "chr", "APN")
		add(nap+"/Addr", "chr", s["apn"])
		add(nap+"/Bearer/BearerType", "chr", "GSM-GPRS")
		if at := s["auth_type"]; at != "" {
			inner(nap+"/AuthInfo", "")
			add(nap+"/AuthInfo/AuthType", "chr", at)
			add(nap+"/AuthInfo/AuthName", "chr", s["username"])
			add(nap+"/AuthInfo/AuthSecret", "chr", s["password"])
		}
	case KindWiFi:
		add(nap+"/AddrType", "chr", "SSID")
		add(nap+"/Addr", "chr", s["ssid"])
		add(nap+"/Bearer/BearerType", "chr", "WLAN")
		inner(nap+"/Ext", "")
		inner(nap+"/Ext/WLAN", "")
		add(nap+"/Ext/WLAN/SecMode", "chr", security(s))
		if s["passphrase"] != "" {
			add(nap+"/Ext/WLAN/Passphrase", "chr", s["passphrase"])
		}
		add(nap+"/Ext/WLAN/Hidden", "bool", strconv.FormatBool(s["hidden"] == "true"))
	}
	if hasProxy {
		px := node + "/Proxy/" + name
		inner(px, ProxyMOID)
		add(px+"/PXID", "chr", name)
		add(px+"/Name", "chr", display)
		add(px+"/AddrType", "chr", addrType(s["proxy_addr"]))
		add(px+"/Addr", "chr", s["proxy_addr"])
		if port := s["proxy_port"]; port != "" {
			inner(px+"/Ports", "")
			inner(px+"/Ports/1", "")
			add(px+"/Ports/1/PortNbr", "int", port)
		}
		inner(px+"/ConRefs", "")
		inner(px+"/ConRefs/1", "")
		add(px+"/ConRefs/1/ConRef", "chr", nap)
	}
	return p, nil
}

func addrType(a string) string {
	ip := net.ParseIP(a)
	switch {
	case ip == nil:
		return "FQDN"
	case ip.To4() != nil:
		return "IPV4"
	}
	return "IPV6"
}

// Redacted returns s with its secrets (password, passphrase) replaced, for
// display.
func Redacted(s map[string]string) map[string]string {
	out := make(map[string]string, len(s))
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s[k]
		if (k == "password" || k == "passphrase") && v != "" {
			v = "********"
		}
		out[k] = v
	}
	return out
}
