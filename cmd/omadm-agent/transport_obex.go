package main

import (
	"fmt"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// The OBEX carriers of --transport: obex://HOST[:PORT] (OBEX over TCP) and
// obex+serial:///dev/DEVICE (OBEX over a serial line).

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

// obexTransport returns the OBEX binding's transport when spec is an OBEX
// URL (ok false otherwise). The OBEX connection is ended (DISCONNECT) by
// closeTransport.
func obexTransport(spec string, o *options) (tp client.Transport, ok bool, err error) {
	if !obex.IsURL(spec) {
		return nil, false, nil
	}
	if o.ca != "" || o.tlsCA != "" || o.tlsServerSHA256 != "" || o.cert != "" {
		return nil, true, fmt.Errorf("the TLS flags do not apply to --transport %s (OBEX carries no TLS)", spec)
	}
	ot, err := obex.DialURL(spec, obex.ClientOptions{MaxResponse: max(o.maxMsgSize, 64<<10) * 2})
	if err != nil {
		return nil, true, fmt.Errorf("--transport: %w", err)
	}
	return ot, true, nil
}
