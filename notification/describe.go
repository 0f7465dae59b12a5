package notification

// Describe says what the sender does, for operators' listings.
func (s *UDPSender) Describe() string {
	return "WSP push datagrams over UDP to udp://host:port (port 2948 when omitted)"
}
