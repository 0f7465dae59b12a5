package notification

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
)

// Sender delivers a package 0 to a device address. The server picks a Sender
// by the address scheme (a Scheme constant); the Sender reads the address
// with ParseAddr or ParseAddrOf.
type Sender interface {
	Send(ctx context.Context, addr string, pkg0 []byte) error
}

var (
	_ Sender = (*UDPSender)(nil)
)

// UDPSender sends a package 0 as one UDP datagram holding the WSP push PDU
// (WDP over IP), for devices that listen on a UDP port. Addresses are
// "udp://host:port" (ParseAddr). The zero value is ready to use and safe
// for concurrent use.
type UDPSender struct {
	// Dialer is used to reach the device; nil means a zero net.Dialer.
	Dialer *net.Dialer

	tid atomic.Uint32
}

// Send wraps pkg0 in a WSP push PDU and sends it in one datagram.
func (s *UDPSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	a, err := ParseAddrOf(addr, SchemeUDP)
	if err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	hostport := a.HostPort()
	d := s.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, "udp", hostport)
	if err != nil {
		return fmt.Errorf("notification: dial %s: %w", hostport, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	pdu := EncodePush(byte(s.tid.Add(1)), pkg0)
	n, err := conn.Write(pdu)
	if err != nil {
		return fmt.Errorf("notification: send to %s: %w", hostport, err)
	}
	if n != len(pdu) {
		return fmt.Errorf("notification: sent %d of %d bytes to %s", n, len(pdu), hostport)
	}
	return nil
}
