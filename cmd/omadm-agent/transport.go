package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/dmhttp"
	"github.com/omadm/omadm/transport/obex"
	"github.com/omadm/omadm/transport/wsp"
)

const transportUsage = "how messages reach the server: empty for HTTP(S) straight to --server (or OBEX when --server is an OBEX URL), wsp://HOST[:PORT] " +
	"for WSP (connection-oriented, over WTP on UDP, port default 9201) through that WAP gateway, which fetches the server URL over HTTP, " +
	"obex://HOST[:PORT] for OBEX over TCP or obex+serial:///dev/DEVICE for OBEX over a serial line"

// checkTransport validates --transport.
func checkTransport(s string) error {
	if obex.IsURL(s) {
		_, err := obex.DialURL(s, obex.ClientOptions{}) // checks the URL; dials nothing yet
		return err
	}
	_, err := wspGateway(s)
	return err
}

// wspGateway returns the gateway address of a wsp:// --transport ("" for
// HTTP).
func wspGateway(s string) (string, error) {
	if s == "" || s == "http" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "wsp" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("--transport %q: want wsp://HOST[:PORT] (the WAP gateway), obex://HOST[:PORT], obex+serial:///dev/DEVICE or nothing for HTTP", s)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "9201"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("--transport %q: bad port", s)
	}
	return net.JoinHostPort(host, port), nil
}

// agentTransport builds the transport --transport names: HTTP(S) with the
// TLS flags, or WSP through a WAP gateway. A WSP transport is given at
// least the DM MaxMsgSize as its largest reply (the Client-SDU-Size it
// proposes).
func agentTransport(o *options) (client.Transport, error) {
	if o.obexDev != nil {
		return o.obexDev, nil // --obex-listen
	}
	if tp, ok, err := obexTransport(o.transport, o); ok {
		return tp, err
	}
	gw, err := wspGateway(o.transport)
	if err != nil {
		return nil, err
	}
	if gw == "" {
		return dmhttp.NewClientTransport(dmhttp.ClientOptions{CAFile: o.ca, PinnedCAFile: o.tlsCA,
			ServerCertSHA256: serverPins(o.tlsServerSHA256), CertFile: o.cert, KeyFile: o.key, UserAgent: version})
	}
	if o.ca != "" || o.tlsCA != "" || o.tlsServerSHA256 != "" || o.cert != "" {
		return nil, errors.New("the TLS flags do not apply to --transport wsp:// (the gateway makes the HTTP request)")
	}
	return wsp.New(wsp.Options{Gateway: gw, UserAgent: version, MaxResponse: max(o.maxMsgSize, 64<<10)})
}

// closeTransport ends a WSP session (Disconnect) when the agent stops.
func closeTransport(tp client.Transport, log *slog.Logger) {
	if c, ok := tp.(io.Closer); ok {
		if err := c.Close(); err != nil {
			log.Warn("closing the transport", "err", err)
		}
	}
}
