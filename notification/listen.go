package notification

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Listener receives package 0 datagrams on a device: raw packages and WSP
// push PDUs (WDP over UDP), as sent by UDPSender.
type Listener struct {
	// OnError, when set, is told about datagrams that are not a package 0;
	// they are otherwise dropped silently, as the spec asks of a device.
	OnError func(from net.Addr, err error)

	conn *net.UDPConn
}

// Listen opens a UDP socket on addr ("host:port" or "udp://host:port"; port 0
// picks a free port, see Addr).
func Listen(addr string) (*Listener, error) {
	hp, err := listenAddr(addr)
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp", hp)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	// A larger socket buffer absorbs bursts (floods included) while the
	// reader is busy; the kernel may cap it, which is not an error.
	_ = c.SetReadBuffer(readBuffer)
	return &Listener{conn: c}, nil
}

// Addr is the local address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.conn.LocalAddr() }

// Close closes the socket; Serve then returns nil.
func (l *Listener) Close() error { return l.conn.Close() }

// Serve reads datagrams until ctx is done or the listener is closed, calling
// handle with each decoded package and the datagram it came in (handle must
// not keep the slice). Checking the digest is the handler's job: only it knows
// the server's credentials. Serve returns nil on cancellation or Close.
func (l *Listener) Serve(ctx context.Context, handle func(*Package0, []byte)) error {
	stop := context.AfterFunc(ctx, func() { _ = l.conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := l.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		p, err := DecodeAny(buf[:n])
		if err != nil {
			if l.OnError != nil {
				l.OnError(from, err)
			}
			continue
		}
		handle(p, buf[:n])
	}
}

// readBuffer is the socket receive buffer Listen asks for.
const readBuffer = 1 << 20

// ServeRaw reads datagrams until ctx is done or the listener is closed and
// calls handle with each one, undecoded (handle must not keep the slice).
// It allocates nothing per datagram and logs nothing: the handler decides,
// and a device handler must authenticate a package before it queues or logs
// anything about it, so that forged datagrams cost no more than a read and a
// digest. The one read buffer holds the largest UDP payload, so the handler
// sees every datagram whole and its size check can refuse long ones.
// ServeRaw returns nil on cancellation or Close.
func (l *Listener) ServeRaw(ctx context.Context, handle func(datagram []byte)) error {
	stop := context.AfterFunc(ctx, func() { _ = l.conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, MaxPackageSize+1024)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		handle(buf[:n])
	}
}

// listenAddr reads Listen's address: "host:port" or "udp://host:port", port
// 0..65535; without a port a device listens on PushPort (2948), the WDP
// port of connectionless WSP push (WAP-259-WDP).
func listenAddr(addr string) (string, error) {
	hp, ok := strings.CutPrefix(addr, "udp://")
	if !ok && strings.Contains(addr, "://") {
		return "", fmt.Errorf("notification: listen address %q is not udp://host:port", addr)
	}
	hp = strings.TrimSuffix(hp, "/")
	if _, _, err := net.SplitHostPort(hp); err != nil && hp != "" {
		hp = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]"), strconv.Itoa(PushPort))
	}
	host, port, err := splitHostPort(hp, true)
	if err != nil {
		return "", fmt.Errorf("notification: listen address %q: %v", addr, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}
