package notification

import "strconv"

// Describer is an optional ability of a Sender: a one-line description of
// how and where it delivers package 0, for operators (the API lists the
// configured senders with it). It must not reveal secrets such as gateway
// passwords or tokens.
type Describer interface {
	Describe() string
}

var _ Describer = (*UDPSender)(nil)

// Describe says how UDPSender delivers.
func (s *UDPSender) Describe() string {
	return "WAP push (WSP over WDP/UDP), one datagram to udp://host:port (port " + strconv.Itoa(PushPort) + " when omitted)"
}
