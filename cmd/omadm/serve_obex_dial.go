package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/transport/obex"
)

// The reversed roles of the OBEX binding on the server's side: a device
// whose notify_addr is obex://host:port is an OBEX server, and notifying it
// means connecting to it, PUTting the package 0 and then running the DM
// session over that connection with the engine (transport/obex
// ConnectDevice, DeviceConn.Serve). The connection is the session's address;
// no RespURI is written.

// obexDialConfig is --obex-dial and its bounds.
type obexDialConfig struct {
	Enabled        bool
	ConnectTimeout time.Duration
	SessionTimeout time.Duration
	MaxSessions    int
}

// Defaults of the --obex-dial bounds.
const (
	defaultOBEXDialTimeout  = 10 * time.Second
	defaultOBEXDialSession  = 30 * time.Minute
	defaultOBEXDialSessions = 16
)

func obexDialFlags(cmd *cobra.Command, c *obexDialConfig) {
	f := cmd.Flags()
	f.BoolVar(&c.Enabled, "obex-dial", false, "notify devices whose notify_addr is obex://host:port by connecting to them (OBEX reversed roles): PUT package 0, then run the DM session over that connection")
	f.DurationVar(&c.ConnectTimeout, "obex-dial-timeout", defaultOBEXDialTimeout, "with --obex-dial: bound of connecting to the device and delivering package 0")
	f.DurationVar(&c.SessionTimeout, "obex-dial-session-timeout", defaultOBEXDialSession, "with --obex-dial: bound of one DM session over a connection the server opened")
	f.IntVar(&c.MaxSessions, "obex-dial-max", defaultOBEXDialSessions, "with --obex-dial: connections to devices open at once; a notification beyond it fails")
}

// addSender registers the obex sender in senders when --obex-dial is on
// (nil otherwise). Its engine is set by attach once the engine exists.
func (c obexDialConfig) addSender(senders map[string]notification.Sender, log *slog.Logger) (*obexDialSender, error) {
	changed := func(v, def int64) bool { return v != 0 && v != def }
	if !c.Enabled {
		if changed(int64(c.ConnectTimeout), int64(defaultOBEXDialTimeout)) || changed(int64(c.SessionTimeout), int64(defaultOBEXDialSession)) ||
			changed(int64(c.MaxSessions), defaultOBEXDialSessions) {
			return nil, errors.New("--obex-dial-timeout, --obex-dial-session-timeout and --obex-dial-max need --obex-dial")
		}
		return nil, nil
	}
	if c.ConnectTimeout < 0 || c.SessionTimeout < 0 || c.MaxSessions < 0 {
		return nil, errors.New("--obex-dial-timeout, --obex-dial-session-timeout and --obex-dial-max must be > 0")
	}
	// Zero (a configuration built in code) takes the defaults.
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, defaultOBEXDialTimeout)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, defaultOBEXDialSession)
	c.MaxSessions = cmp.Or(c.MaxSessions, defaultOBEXDialSessions)
	if _, taken := senders["obex"]; taken {
		return nil, errors.New("--obex-dial: another sender already serves obex: addresses")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &obexDialSender{c: c, log: log, sem: make(chan struct{}, c.MaxSessions), ctx: ctx, cancel: cancel}
	senders["obex"] = s
	log.Info("notification sender", "sender", s.Describe())
	return s, nil
}

// obexDialSender is the notification.Sender of obex:// addresses.
type obexDialSender struct {
	c      obexDialConfig
	log    *slog.Logger
	engine obex.Engine
	sem    chan struct{} // one token per open connection
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

var _ notification.Sender = (*obexDialSender)(nil)

// attach gives the sender the engine that serves its sessions.
func (s *obexDialSender) attach(e obex.Engine) {
	if s != nil {
		s.engine = e
	}
}

// Describe says what the sender does (no secrets).
func (s *obexDialSender) Describe() string {
	return fmt.Sprintf("OBEX dial to obex://host:port (reversed roles: package 0 and the DM session over the server's connection; connect timeout %s, at most %d at once)",
		s.c.ConnectTimeout, s.c.MaxSessions)
}

// Send connects to the device at addr and PUTs pkg0, within ctx and the
// connect timeout; the device's refusal (its package 0 check failed) is
// the error. The DM session then runs over the connection in the
// background, bounded by the session timeout and ended by Close.
func (s *obexDialSender) Send(ctx context.Context, addr string, pkg0 []byte) error {
	hostport, err := obexDialAddr(addr)
	if err != nil {
		return err
	}
	if s.engine == nil {
		return errors.New("obex dial: the server is not started")
	}
	select {
	case s.sem <- struct{}{}:
	default:
		return fmt.Errorf("obex dial: %d connections to devices already open (--obex-dial-max)", s.c.MaxSessions)
	}
	cctx, cancel := context.WithTimeout(ctx, s.c.ConnectTimeout)
	defer cancel()
	dc, err := obex.ConnectDevice(cctx, obex.ClientOptions{Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", hostport)
	}}, pkg0)
	if err != nil {
		<-s.sem
		var re *obex.ResponseError
		if errors.As(err, &re) && re.Op == "PUT" && re.Code == obex.RespForbidden {
			return fmt.Errorf("the device at %s refused the package 0 (its check failed: credentials, nonce or a replay): %w", addr, err)
		}
		return fmt.Errorf("obex dial %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		dc.Close()
		<-s.sem
		return errors.New("obex dial: the server is shutting down")
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		sctx, cancel := context.WithTimeout(s.ctx, s.c.SessionTimeout)
		defer cancel()
		if err := dc.Serve(sctx, s.engine, false, 0); err != nil {
			s.log.Warn("obex session with a dialled device failed", "addr", addr, "err", err)
			return
		}
		s.log.Info("obex session with a dialled device ended", "addr", addr)
	}()
	return nil
}

// Close ends the sessions in progress (their connections are cut) and
// waits for them.
func (s *obexDialSender) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}

// obexDialAddr checks an obex://host:port address (api.ValidateNotifyAddr)
// and returns host:port.
func obexDialAddr(addr string) (string, error) {
	a, err := notification.ParseAddrOf(addr, notification.SchemeOBEX)
	if err != nil {
		return "", fmt.Errorf("obex dial: %w", err)
	}
	return a.HostPort(), nil
}
