package main

import (
	"flag"
	"fmt"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// transportFlags registers the carrier choice.
func transportFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.transport, "transport", "", "carrier of DM messages: obex://HOST:PORT (OBEX over TCP) or obex+serial:///dev/DEVICE (OBEX over a serial line) for the OBEX binding; empty = the account's server address: OBEX when it is such a URL, else HTTP(S)")
}

// transportSpec is the carrier to use: --transport, else the account's
// server address when it is an OBEX URL (a DMAcc AppAddr of obex://… or
// obex+serial://…), else "" (HTTP).
func transportSpec(flag, accountAddr string) string {
	if flag != "" {
		return flag
	}
	if obex.IsURL(accountAddr) {
		return accountAddr
	}
	return ""
}

// agentTransport returns the transport --transport names: the HTTP one
// given when it is empty, else the OBEX binding over the carrier of the URL.
// closeFn ends the OBEX connection (DISCONNECT) when the agent exits.
func agentTransport(spec string, httpTP client.Transport, maxResponse int) (tp client.Transport, closeFn func(), err error) {
	if spec == "" {
		return httpTP, func() {}, nil
	}
	if !obex.IsURL(spec) {
		return nil, nil, fmt.Errorf("--transport %q: want obex://HOST:PORT or obex+serial:///dev/DEVICE", spec)
	}
	ot, err := obex.DialURL(spec, obex.ClientOptions{MaxResponse: maxResponse})
	if err != nil {
		return nil, nil, fmt.Errorf("--transport: %w", err)
	}
	return ot, func() { _ = ot.Close() }, nil
}
