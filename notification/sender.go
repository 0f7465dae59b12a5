package notification

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
)

// Sender delivers a package 0 to a device address. The server picks a Sender
// by the address scheme ("udp", "sms").
type Sender interface {
	Send(ctx context.Context, addr string, pkg0 []byte) error
}

var (
	_ Sender = (*UDPSender)(nil)
)

// UDPSender sends a package 0 as one UDP datagram holding the WSP push PDU
// (WDP over IP), for devices that listen on a UDP port. Addresses are
// "udp://host:port"; the port defaults to PushPort (2948). The zero value is
// ready to use and safe for concurrent use.
type UDPSender struct {
	// Dialer is used to reach the device; nil means a zero net.Dialer.
	Dialer *net.Dialer

	tid atomic.Uint32
}

// Send wraps pkg0 in a WSP push PDU and sends it in one datagram.
func (s *UDPSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	hostport, err := udpAddr(addr, false)
	if err != nil {
		return err
	}
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

// udpAddr turns "udp://host[:port]" (or a bare "host:port") into host:port;
// port 0 is allowed only for listening.
func udpAddr(addr string, listen bool) (string, error) {
	rest, ok := strings.CutPrefix(addr, "udp://")
	if !ok && strings.Contains(addr, "://") {
		return "", fmt.Errorf("notification: address %q is not udp://host:port", addr)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return "", fmt.Errorf("notification: address %q has no host", addr)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		// No port: the whole thing is the host (brackets of IPv6 removed).
		host, port = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), strconv.Itoa(PushPort)
	}
	if host == "" {
		return "", fmt.Errorf("notification: address %q has no host", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || (p == 0 && !listen) {
		return "", fmt.Errorf("notification: address %q has a bad port", addr)
	}
	return net.JoinHostPort(host, port), nil
}
