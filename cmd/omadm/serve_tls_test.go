package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/testpki"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func startConfiguredServer(t *testing.T, cfg serveConfig) *runningServer {
	t.Helper()
	t.Setenv("OMADM_API_TOKEN", "x")
	cfg.Listen, cfg.DataDir, cfg.Logger = "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler)
	rs, err := startServer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Shutdown(context.Background()) })
	return rs
}

// OMA-TS-DM_Security-V1_2 §5.1.3: the server supports TLS client
// authentication; `omadm serve` requests or requires device certificates.
func TestServe_TLSRequestsOrRequiresClientCertificates(t *testing.T) {
	serverCA, deviceCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "device CA")
	srv, dev := serverCA.Server(t), deviceCA.Client(t, "IMEI:1")
	tests := []struct {
		name       string
		clientAuth string
		withCert   bool
		reached    bool // the request reached the DM endpoint
	}{
		{"default request, with certificate", "", true, true},
		{"default request, without certificate", "", false, true},
		{"require, with certificate", "require", true, true},
		{"require, without certificate", "require", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := startConfiguredServer(t, serveConfig{TLSCert: srv.CertFile, TLSKey: srv.KeyFile, TLSClientCA: deviceCA.CertFile, TLSClientAuth: tc.clientAuth})
			if !strings.HasPrefix(rs.URL, "https://") {
				t.Fatalf("URL %s", rs.URL)
			}
			o := dmhttp.ClientOptions{PinnedCAFile: serverCA.CertFile}
			if tc.withCert {
				o.CertFile, o.KeyFile = dev.CertFile, dev.KeyFile
			}
			tp, err := dmhttp.NewClientTransport(o)
			if err != nil {
				t.Fatal(err)
			}
			// Not a DM message: an endpoint that is reached answers 400.
			_, err = tp.RoundTrip(context.Background(), &client.Request{URL: rs.URL + "/dm", Body: []byte("x"), ContentType: syncml.ContentTypeXML})
			var se *dmhttp.HTTPStatusError
			reached := errors.As(err, &se) && se.Code == 400
			if reached != tc.reached {
				t.Fatalf("reached the endpoint %v, want %v (err %v)", reached, tc.reached, err)
			}
		})
	}
}

// The HTTP limits of the configuration reach the server: a client that
// never finishes its headers is cut after ReadHeaderTimeout.
func TestServe_HTTPTimeoutsComeFromTheConfiguration(t *testing.T) {
	rs := startConfiguredServer(t, serveConfig{HTTP: dmhttp.ServerLimits{ReadHeaderTimeout: 50 * time.Millisecond}})
	c, err := net.Dial("tcp", rs.Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /dm HTTP/1.1\r\nHost: dm\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a hang only
	_, err = io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection open that never sent its headers")
	}
}

func TestServe_RejectsBadTLSClientSettings(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "x")
	ca := testpki.NewCA(t, "ca")
	srv := ca.Server(t)
	for _, tc := range []struct {
		name string
		cfg  serveConfig
		msg  string
	}{
		{"client CA without TLS", serveConfig{TLSClientCA: ca.CertFile}, "need TLS"},
		{"client auth without TLS", serveConfig{TLSClientAuth: "require"}, "need TLS"},
		{"unknown client auth", serveConfig{TLSCert: srv.CertFile, TLSKey: srv.KeyFile, TLSClientAuth: "sometimes"}, "want none, request or require"},
		{"client CA not PEM", serveConfig{TLSCert: srv.CertFile, TLSKey: srv.KeyFile, TLSClientCA: srv.KeyFile}, "no PEM certificates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.DataDir, tc.cfg.Listen, tc.cfg.Logger = t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler)
			rs, err := startServer(context.Background(), tc.cfg)
			if err == nil {
				rs.Shutdown(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}
