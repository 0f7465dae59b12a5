package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/transport/obex"
)

// serveOBEXConfig is the OBEX binding of `omadm serve`: DM over OBEX on a
// TCP address ("OBEX over IP") and on serial lines, fed to the same engine
// as HTTP.
type serveOBEXConfig struct {
	Listen      string   // --obex host:port; "" = no OBEX over TCP
	Serial      []string // --obex-serial character devices
	MaxPacket   int      // --obex-max-packet
	IdleTimeout time.Duration
	MaxConns    int
	SecureLink  bool // --obex-secure-link
}

func serveOBEXFlags(cmd *cobra.Command, c *serveOBEXConfig) {
	f := cmd.Flags()
	f.StringVar(&c.Listen, "obex", "", "also serve DM over OBEX/TCP on this address (e.g. 127.0.0.1:650); devices use obex://host:port")
	f.StringArrayVar(&c.Serial, "obex-serial", nil, "also serve DM over OBEX on this serial line (character device, opened raw; repeatable)")
	f.IntVar(&c.MaxPacket, "obex-max-packet", obex.MaxPacketSize, "largest OBEX packet we receive, announced in the CONNECT response (255–65535)")
	f.DurationVar(&c.IdleTimeout, "obex-idle-timeout", obex.DefaultIdleTimeout, "how long an OBEX peer may stay silent before its connection is dropped")
	f.IntVar(&c.MaxConns, "obex-max-conns", obex.DefaultMaxConns, "OBEX/TCP connections served at once (-1 = no limit)")
	f.BoolVar(&c.SecureLink, "obex-secure-link", false, "trust the OBEX carriers to authenticate the device (a serial cable, a paired local link): DM credentials are then checked once per session, not in every message")
}

// serveOBEX is the running OBEX side of the server.
type serveOBEX struct {
	srv  *obex.Server
	Addr net.Addr // the TCP listener's address (nil without --obex)
	wg   sync.WaitGroup
}

// startServeOBEX starts the OBEX listeners configured in c (nil, nil when
// none is).
func startServeOBEX(c serveOBEXConfig, e *server.Engine, log *slog.Logger) (*serveOBEX, error) {
	if c.Listen == "" && len(c.Serial) == 0 {
		return nil, nil
	}
	if c.MaxPacket != 0 && (c.MaxPacket < obex.MinPacketSize || c.MaxPacket > obex.MaxPacketSize) {
		return nil, fmt.Errorf("--obex-max-packet %d: must be %d to %d", c.MaxPacket, obex.MinPacketSize, obex.MaxPacketSize)
	}
	o := &serveOBEX{srv: obex.NewServer(e, &obex.ServerOptions{MaxPacket: c.MaxPacket, IdleTimeout: c.IdleTimeout,
		MaxConns: c.MaxConns, SecureLink: c.SecureLink, Logger: log})}
	if c.Listen != "" {
		ln, err := net.Listen("tcp", c.Listen)
		if err != nil {
			return nil, fmt.Errorf("--obex: listen on %s: %w", c.Listen, err)
		}
		o.Addr = ln.Addr()
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			if err := o.srv.Serve(ln); !errors.Is(err, obex.ErrServerClosed) {
				log.Error("obex listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
		log.Info("obex ready", "dm", "obex://"+serveDisplayAddr(ln.Addr()), "max_packet", c.MaxPacket)
	}
	for _, path := range c.Serial {
		o.wg.Add(1)
		go func() {
			defer o.wg.Done()
			_ = o.srv.ServeSerial(path) // reopens the line until Close; failures are logged
		}()
		log.Info("obex ready", "dm", "obex+serial://"+path)
	}
	return o, nil
}

// Close stops the listeners and lines; a DM message in the engine finishes
// first.
func (o *serveOBEX) Close() {
	if o == nil {
		return
	}
	o.srv.Close()
	o.wg.Wait()
}
