package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// --obex-listen: the reversed roles of the OBEX binding. The device is the
// OBEX server (obex://HOST:PORT over TCP, obex+serial:///dev/DEVICE on a
// serial line) and the DM server connects to it: it PUTs a package 0,
// verified on arrival like a UDP one (same checks, same replay memory), then
// GETs the device's messages and PUTs its replies over the same connection
// (transport/obex DeviceServer). Every session of the agent runs that way,
// so the mode excludes the others.

const obexListenUsage = "daemon as OBEX server (reversed roles): obex://HOST:PORT (TCP) or obex+serial:///dev/DEVICE; " +
	"a DM server connecting there PUTs package 0 (verified like --notify-listen ones) and runs the DM session over the same connection"

// checkOBEXListen validates --obex-listen and the flags it excludes.
func checkOBEXListen(o *options) error {
	if o.obexListen == "" {
		return nil
	}
	if _, _, err := obexListenAddr(o.obexListen); err != nil {
		return err
	}
	switch {
	case o.once, o.poll != 0:
		return errors.New("--obex-listen excludes --once and --poll: the DM server opens every session by connecting")
	case o.notifyListen != "":
		return errors.New("--obex-listen excludes --notify-listen: a session it notified would have no connection to run over")
	case o.transport != "":
		return errors.New("--obex-listen excludes --transport: the DM server's connection carries the session")
	}
	return nil
}

// obexListenAddr splits --obex-listen into a TCP address or a serial path.
func obexListenAddr(s string) (tcp, serial string, err error) {
	u, err := url.Parse(s)
	bad := fmt.Errorf("--obex-listen %q: want obex://HOST:PORT or obex+serial:///dev/DEVICE", s)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", bad
	}
	switch u.Scheme {
	case "obex":
		if u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return "", "", bad
		}
		return u.Host, "", nil
	case "obex+serial":
		if u.Host != "" || u.Path == "" {
			return "", "", bad
		}
		return "", u.Path, nil
	}
	return "", "", bad
}

// obexDevice returns the DeviceServer that is the client's transport.
func obexDevice(o *options, log *slog.Logger) *obex.DeviceServer {
	return obex.NewDeviceServer(&obex.ServerOptions{MaxMessage: max(o.maxMsgSize, 64<<10) * 2, MaxConns: 4, Logger: log})
}

// serveOBEXListen serves d on --obex-listen. Each package 0 PUT is offered
// to an Inbox synchronously: refused ones (forged, foreign, replayed,
// malformed) are answered Forbidden and start nothing; the sessions of
// accepted ones run on c, whose transport is d. Serving failures go to
// errc. stop ends it all.
func serveOBEXListen(ctx context.Context, o *options, d *obex.DeviceServer, c *client.Client, errc chan<- error, log *slog.Logger) (stop func(), err error) {
	tcp, serial, _ := obexListenAddr(o.obexListen) // validated by parseFlags
	in := c.NewInbox(client.InboxOptions{Served: loadServed(o.state, log), Save: saveServed(o.state, log)})
	d.CheckPackage0 = func(b []byte) error {
		switch v := in.Offer(b); v {
		case client.VerdictQueued, client.VerdictCoalesced:
			return nil
		default:
			return fmt.Errorf("package 0 %s", v)
		}
	}
	served := make(chan error, 1)
	if tcp != "" {
		ln, err := net.Listen("tcp", tcp)
		if err != nil {
			return nil, fmt.Errorf("--obex-listen: %w", err)
		}
		log.Info("listening for OBEX connections of the DM server", "addr", "obex://"+ln.Addr().String())
		go func() { served <- d.Serve(ln) }()
	} else {
		log.Info("listening for OBEX connections of the DM server", "addr", "obex+serial://"+serial)
		go func() { served <- d.ServeSerial(serial) }()
	}
	go func() {
		if err := <-served; err != nil && !errors.Is(err, obex.ErrServerClosed) {
			errc <- fmt.Errorf("--obex-listen: %w", err)
		}
	}()
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { in.Run(runCtx); close(ran) }()
	return func() {
		_ = d.Close()
		cancel()
		<-ran
	}, nil
}
