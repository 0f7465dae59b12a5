package notification

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Notification address schemes: where a server sends a device's package 0.
const (
	// SchemeUDP is "udp://host:port": the WSP push PDU in one UDP datagram
	// (WDP over IP), sent by UDPSender.
	SchemeUDP = "udp"
	// SchemeSMS is "sms:+number": the WSP push PDU in binary SMs addressed
	// to WDP port 2948, sent through an SMS gateway.
	SchemeSMS = "sms"
	// SchemeWAPPush is "wappush:+number": a push through a WAP Push Proxy
	// Gateway, which delivers it over the SMS bearer.
	SchemeWAPPush = "wappush"
	// SchemeWAPPushIP is "wappush-ip:address": a push through a WAP Push
	// Proxy Gateway to an IPv4 or IPv6 address (a WDP datagram to UDP port
	// 2948).
	SchemeWAPPushIP = "wappush-ip"
	// SchemeOBEX is "obex://host:port": a device that is an OBEX server over
	// TCP; the DM server connects to it, PUTs package 0 and runs the session
	// over that connection (the reversed roles, `omadm serve --obex-dial`).
	SchemeOBEX = "obex"
)

// Phone numbers in sms: and wappush: addresses: an optional "+" and this
// many digits (the shortest real subscriber number has three; E.164 allows
// fifteen, a national format with prefixes a few more).
const (
	MinNumberDigits = 3
	MaxNumberDigits = 20
)

// Addr is a notification address read by ParseAddr: its scheme and the
// parts a sender needs. Only the parts of its scheme are set.
type Addr struct {
	// Scheme is one of the Scheme constants, in lower case.
	Scheme string
	// Host and Port are where a udp:// or obex:// address points (Host
	// without the brackets of an IPv6 literal; Port 1..65535).
	Host string
	Port int
	// Number is the phone number of an sms: or wappush: address, percent
	// decoded: an optional "+" and MinNumberDigits..MaxNumberDigits digits.
	Number string
	// IP is the address of a wappush-ip: address.
	IP net.IP
}

// HostPort is Host and Port joined for net.Dial ("[::1]:2948").
func (a Addr) HostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// AddrError is an address ParseAddr refuses, with what is wrong and the
// form its scheme wants.
type AddrError struct {
	Addr string
	Msg  string
}

func (e *AddrError) Error() string { return fmt.Sprintf("address %q: %s", e.Addr, e.Msg) }

// addrScheme is one row of the grammar: a scheme, the form an operator
// writes, and the reading of what follows "scheme:". A new kind of address
// is one more row in addrSchemes and a Sender registered for its name.
type addrScheme struct {
	name  string
	form  string
	parse func(rest string, a *Addr) error
}

var addrSchemes = []addrScheme{
	{SchemeUDP, "udp://host:port", parseHostPort},
	{SchemeSMS, "sms:+number", parseNumber},
	{SchemeWAPPush, "wappush:+number", parseNumber},
	{SchemeWAPPushIP, "wappush-ip:address", parseIP},
	{SchemeOBEX, "obex://host:port", parseHostPort},
}

// AddrForms lists the address forms ParseAddr accepts, for messages:
// "udp://host:port, sms:+number, wappush:+number, wappush-ip:address or
// obex://host:port".
func AddrForms() string {
	var b strings.Builder
	for i, s := range addrSchemes {
		switch {
		case i == len(addrSchemes)-1 && i > 0:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(s.form)
	}
	return b.String()
}

// ParseAddr reads a notification address, the one grammar the API checks a
// stored address with and every Sender reads it with:
//
//	udp://host:port       host a name or IP (IPv6 in brackets), port 1..65535
//	sms:+number           optional "+", 3..20 digits, percent-encoding allowed
//	wappush:+number       as sms:
//	wappush-ip:address    an IPv4 or IPv6 address (brackets allowed)
//	obex://host:port      as udp://
//
// The scheme is case-insensitive. Nothing may follow the port (no path, no
// user). A udp:// address must name its port: the
// port a device listens on is part of its address, and 2948 (PushPort, the
// WDP port of connectionless WSP push, WAP-259-WDP) is written out like any
// other.
func ParseAddr(s string) (Addr, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Addr{}, &AddrError{s, "no scheme (want " + AddrForms() + ")"}
	}
	name = strings.ToLower(name)
	for _, sc := range addrSchemes {
		if sc.name != name {
			continue
		}
		a := Addr{Scheme: name}
		if err := sc.parse(rest, &a); err != nil {
			return Addr{}, &AddrError{s, err.Error() + " (want " + sc.form + ")"}
		}
		return a, nil
	}
	return Addr{}, &AddrError{s, fmt.Sprintf("unsupported scheme %q (want %s)", name, AddrForms())}
}

// ParseAddrOf is ParseAddr for a sender that serves only the schemes named:
// an address of another scheme is an error naming the forms it takes.
func ParseAddrOf(s string, schemes ...string) (Addr, error) {
	name, _, _ := strings.Cut(s, ":")
	name = strings.ToLower(name)
	for _, served := range schemes {
		if name == served {
			return ParseAddr(s)
		}
	}
	var forms []string
	for _, sc := range addrSchemes {
		for _, name := range schemes {
			if sc.name == name {
				forms = append(forms, sc.form)
			}
		}
	}
	return Addr{}, &AddrError{s, "not served here (want " + strings.Join(forms, " or ") + ")"}
}

func parseHostPort(rest string, a *Addr) error {
	hp, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return fmt.Errorf("no //")
	}
	host, port, err := splitHostPort(hp, false)
	if err != nil {
		return err
	}
	if strings.ContainsAny(host, "/?#@ ") {
		return fmt.Errorf("host %q is not a name or IP address", host)
	}
	a.Host, a.Port = host, port
	return nil
}

// splitHostPort reads "host:port"; port 0 is allowed only for listening.
func splitHostPort(hp string, listen bool) (string, int, error) {
	host, port, err := net.SplitHostPort(hp)
	switch {
	case err != nil:
		return "", 0, fmt.Errorf("no host:port")
	case host == "":
		return "", 0, fmt.Errorf("no host")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !listen) {
		return "", 0, fmt.Errorf("port %q is not 1..65535", port)
	}
	return host, p, nil
}

func parseNumber(rest string, a *Addr) error {
	num := rest
	if u, err := url.PathUnescape(num); err == nil {
		num = u
	}
	digits := strings.TrimPrefix(num, "+")
	if len(digits) < MinNumberDigits || len(digits) > MaxNumberDigits || strings.Trim(digits, "0123456789") != "" {
		return fmt.Errorf("the number is not an optional + and %d..%d digits", MinNumberDigits, MaxNumberDigits)
	}
	a.Number = num
	return nil
}

func parseIP(rest string, a *Addr) error {
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"))
	if ip == nil {
		return fmt.Errorf("not an IPv4 or IPv6 address")
	}
	a.IP = ip
	return nil
}

// SMSTo is what an SMS gateway sender does before it submits: it reads an
// "sms:+number" address (ParseAddrOf) and wraps pkg0 as SM user data for
// WDP port 2948 (Wrap with BearerSMS; seq is the WSP transaction id and the
// concatenation reference, which a sender varies per message). It returns
// the number to send to and the SMs in order, each with its UDH.
func SMSTo(addr string, pkg0 []byte, seq uint32, srcPort uint16) (number string, sms [][]byte, err error) {
	a, err := ParseAddrOf(addr, SchemeSMS)
	if err != nil {
		return "", nil, err
	}
	sms, err = Wrap(BearerSMS, pkg0, byte(seq), &SMSOptions{SrcPort: srcPort, Ref: uint16(seq)})
	if err != nil {
		return "", nil, err
	}
	return a.Number, sms, nil
}
