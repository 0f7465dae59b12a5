package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/transport/obex"
)

type noEngine struct{}

func (noEngine) Handle(context.Context, *envelope.Inbound) (*envelope.Outbound, error) {
	return nil, errors.New("no engine in this test")
}

func TestOBEXDial_FlagsAreChecked(t *testing.T) {
	def := obexDialConfig{ConnectTimeout: defaultOBEXDialTimeout, SessionTimeout: defaultOBEXDialSession, MaxSessions: defaultOBEXDialSessions}
	for _, tc := range []struct {
		name string
		edit func(*obexDialConfig)
		want string // "" = no error
	}{
		{"off", func(*obexDialConfig) {}, ""},
		{"on", func(c *obexDialConfig) { c.Enabled = true }, ""},
		{"bound without --obex-dial", func(c *obexDialConfig) { c.MaxSessions = 2 }, "need --obex-dial"},
		{"negative timeout", func(c *obexDialConfig) { c.Enabled, c.ConnectTimeout = true, -time.Second }, "must be > 0"},
		{"negative max", func(c *obexDialConfig) { c.Enabled, c.MaxSessions = true, -1 }, "must be > 0"},
		{"zero values off", func(c *obexDialConfig) { *c = obexDialConfig{} }, ""},
		{"zero values on take the defaults", func(c *obexDialConfig) { *c = obexDialConfig{Enabled: true} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := def
			tc.edit(&c)
			senders := map[string]notification.Sender{}
			s, err := c.addSender(senders, slog.New(slog.DiscardHandler))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (s != nil) != c.Enabled || (senders["obex"] != nil) != c.Enabled {
				t.Fatalf("sender %v registered %v with --obex-dial=%v", s, senders, c.Enabled)
			}
			if s != nil {
				if d := s.Describe(); !strings.Contains(d, "obex://host:port") || !strings.Contains(d, "at most 16") {
					t.Fatalf("Describe() = %q", d)
				}
				s.Close()
			}
		})
	}
}

func dialSender(t *testing.T, max int) *obexDialSender {
	t.Helper()
	s, err := obexDialConfig{Enabled: true, ConnectTimeout: time.Minute, SessionTimeout: time.Hour, MaxSessions: max}.
		addSender(map[string]notification.Sender{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.attach(noEngine{})
	t.Cleanup(s.Close)
	return s
}

// A notification to a bad address, beyond --obex-dial-max, or to a device
// that accepts the connection but never answers fails with a message naming
// the problem, without waiting for any timeout (the caller's context ends the
// last one).
func TestOBEXDialSender_FailsClearlyWithoutHanging(t *testing.T) {
	s := dialSender(t, 1)
	ctx := context.Background()
	for _, addr := range []string{"obex://127.0.0.1", "obex+serial:///dev/ttyS0", "udp://127.0.0.1:9"} {
		if err := s.Send(ctx, addr, []byte("p0")); err == nil || !strings.Contains(err.Error(), "want obex://host:port") {
			t.Errorf("Send(%q) = %v, want the address refused", addr, err)
		}
	}

	// A device that takes the package 0 and then has no message: its
	// session holds the only slot until Close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dev := obex.NewDeviceServer(&obex.ServerOptions{IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	dev.CheckPackage0 = func([]byte) error { return nil }
	served := make(chan error, 1)
	go func() { served <- dev.Serve(ln) }()
	defer func() { dev.Close(); <-served }()
	if err := s.Send(ctx, "obex://"+ln.Addr().String(), []byte("p0")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Send(ctx, "obex://"+ln.Addr().String(), []byte("p0")); err == nil || !strings.Contains(err.Error(), "already open (--obex-dial-max)") {
		t.Fatalf("second Send with --obex-dial-max 1: %v", err)
	}
	s.Close() // cuts the session in progress
	if err := s.Send(ctx, "obex://"+ln.Addr().String(), []byte("p0")); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("Send after Close: %v", err)
	}

	// A peer that accepts TCP and never answers CONNECT.
	s = dialSender(t, 1)
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := mute.Accept(); err == nil {
			accepted <- c
		}
	}()
	cctx, cancel := context.WithCancel(ctx)
	sent := make(chan error, 1)
	go func() { sent <- s.Send(cctx, "obex://"+mute.Addr().String(), []byte("p0")) }()
	c := <-accepted
	defer c.Close()
	cancel()
	if err := <-sent; err == nil || !strings.Contains(err.Error(), "obex dial obex://"+mute.Addr().String()) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send to a mute peer: %v", err)
	}
}
