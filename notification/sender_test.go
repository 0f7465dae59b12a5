package notification_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/omadm/omadm/notification"
)

func TestUDPSender_DeliversToListenerOnLoopback(t *testing.T) {
	l, err := notification.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan *notification.Package0, 1)
	bad := make(chan error, 1)
	l.OnError = func(_ net.Addr, err error) { bad <- err }
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(ctx, func(p *notification.Package0, dgram []byte) {
			if dgram[1] != 0x06 {
				t.Errorf("datagram is not a WSP push: %x", dgram)
			}
			got <- p
		})
	}()

	// A garbage datagram is reported and skipped.
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-bad:
		if err == nil {
			t.Error("nil error for garbage")
		}
	case <-ctx.Done():
		t.Fatal("garbage datagram not reported")
	}

	p := notification.Package0{ServerID: "omadm", SessionID: 42, Initiator: notification.InitiatorServer}
	pkg, err := p.Encode("secret", []byte{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var s notification.UDPSender
	if err := s.Send(ctx, "udp://"+l.Addr().String(), pkg); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-got:
		if q.ServerID != "omadm" || q.SessionID != 42 || !q.Verify("secret", []byte{0, 1, 2}) {
			t.Errorf("received %+v", q)
		}
	case <-ctx.Done():
		t.Fatal("notification not received")
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// The sender reads the address as the API stored it (notification.ParseAddr):
// a udp address without a port is refused here as it is there.
func TestUDPSender_RejectsBadAddresses(t *testing.T) {
	var s notification.UDPSender
	for _, addr := range []string{"sms:+1555", "udp://", "udp://127.0.0.1", "udp://host:0", "udp://host:99999", "http://x"} {
		if err := s.Send(context.Background(), addr, []byte{1}); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
}
