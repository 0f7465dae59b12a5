package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
)

type recordingSender struct {
	addr string
	pkg  []byte
}

func (s *recordingSender) Send(_ context.Context, addr string, pkg0 []byte) error {
	s.addr, s.pkg = addr, pkg0
	return nil
}

func TestEngine_NotifySendsVerifiablePackage0ByAddressScheme(t *testing.T) {
	udp := &recordingSender{}
	h := newHarness(t, nil, func(o *server.Options) { o.Senders = map[string]notification.Sender{"udp": udp} })
	d := h.addDevice(t, "md5")
	d.NotifyAddr = "udp://127.0.0.1:2948"
	if err := h.store.UpdateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	sid, err := h.e.NotifyWith(context.Background(), devID, server.NotifyOptions{UIMode: notification.UIBackground})
	if err != nil {
		t.Fatal(err)
	}
	if udp.addr != d.NotifyAddr {
		t.Fatalf("sent to %q", udp.addr)
	}
	p, err := notification.Decode(udp.pkg)
	if err != nil {
		t.Fatal(err)
	}
	if p.ServerID != serverID || p.Initiator != notification.InitiatorServer || p.SessionIDString() != sid || p.UIMode != notification.UIBackground {
		t.Errorf("package 0 %+v (session %s)", p, sid)
	}
	if !p.Verify(srvPass, []byte("client-nonce")) {
		t.Error("digest does not verify with the server password and the device's nonce")
	}
}

func TestEngine_NotifyErrorsWithoutAddressOrSender(t *testing.T) {
	h := newHarness(t, nil)
	d := h.addDevice(t, "md5")
	if err := h.e.Notify(context.Background(), devID); !errors.Is(err, server.ErrNoNotifyAddr) {
		t.Errorf("no address: %v", err)
	}
	d.NotifyAddr = "sms:+15551234"
	_ = h.store.UpdateDevice(context.Background(), d)
	if err := h.e.Notify(context.Background(), devID); err == nil || !strings.Contains(err.Error(), "no sender") {
		t.Errorf("no sender: %v", err)
	}
	if err := h.e.Notify(context.Background(), "nobody"); err == nil {
		t.Error("unknown device: no error")
	}
}
