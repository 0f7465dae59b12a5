package notification

// Describer is an optional ability of a Sender: a one-line description of
// how and where it delivers package 0, for operators (GET
// /api/v1/notification-senders lists the configured senders with it). It
// must not reveal secrets such as gateway passwords or keys.
type Describer interface {
	Describe() string
}

var _ Describer = (*UDPSender)(nil)

// Describe says what the sender does, for operators' listings.
func (s *UDPSender) Describe() string {
	return "WSP push datagrams over UDP to udp://host:port (port 2948 when omitted)"
}
