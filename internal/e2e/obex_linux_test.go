//go:build linux

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/obex"
)

// obexCarrier starts an OBEX server for e and returns the URL a device
// dials: OBEX over TCP on 127.0.0.1, or a pty whose master the server
// serves and whose slave the device opens as a serial line.
type obexCarrier struct {
	name  string
	start func(t *testing.T, e obex.Engine, o *obex.ServerOptions) string
}

var obexCarriers = []obexCarrier{
	{"tcp", func(t *testing.T, e obex.Engine, o *obex.ServerOptions) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := obex.NewServer(e, o)
		done := make(chan error, 1)
		go func() { done <- s.Serve(ln) }()
		t.Cleanup(func() { s.Close(); <-done })
		return "obex://" + ln.Addr().String()
	}},
	{"pty", func(t *testing.T, e obex.Engine, o *obex.ServerOptions) string {
		m, path := openPty(t)
		// One slave descriptor stays open for the test, as a cable stays
		// plugged in: the device's own opens and closes then never hang
		// the line up under the server (and the line is raw from the start).
		keep, err := obex.OpenSerial(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { keep.Close() })
		// A serial cable is a link the operator may trust to authenticate
		// the session (OMA-TS-DM_Security-V1_2 §5.3): DM credentials are
		// then checked once per session.
		o.SecureLink = true
		s := obex.NewServer(e, o)
		done := make(chan error, 1)
		go func() { done <- s.ServeLine(m, "pty") }()
		t.Cleanup(func() { s.Close(); <-done })
		return "obex+serial://" + path
	}},
}

func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var perr error
	if err := rc.Control(func(fd uintptr) {
		if perr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); perr == nil {
			n, perr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	}); err != nil || perr != nil {
		m.Close()
		t.Fatalf("unlocking pty: %v %v", err, perr)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// newOBEXAgent builds a device whose messages travel over the OBEX binding
// at url, and enrols it in st.
func newOBEXAgent(t *testing.T, st storage.Store, url string, enc syncml.Encoding, maxPacket int, authScheme ...string) (*sim.Device, *obex.ClientTransport) {
	t.Helper()
	tp, err := obex.DialURL(url, obex.ClientOptions{MaxPacket: maxPacket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Close() })
	id := sim.NewIdentity(rand.IntN(1000000))
	scheme := sim.AuthMD5
	if len(authScheme) > 0 {
		scheme = authScheme[0]
	}
	d, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("e2e", id.DevID), ServerURL: url,
		ServerID: serverID, Auth: scheme, Encoding: enc, Transport: tp,
		Retry: client.RetryPolicy{Attempts: 2, Backoff: 10 * time.Millisecond, Timeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Credentials()
	if err := st.CreateDevice(context.Background(), &storage.Device{ID: d.ID(), AuthScheme: d.Auth(), Username: c.Username,
		Password: c.Password, ServerPassword: c.ServerPassword}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.DeleteDevice(context.Background(), d.ID()) })
	return d, tp
}

// DM over the OBEX binding end to end: the real engine behind the OBEX
// server, a real device over OBEX/TCP and over a serial line (pty), XML and
// WBXML. Packets are held to 255 bytes (IrOBEX 1.2 §3.3.1.4, the least a
// peer may announce), so every DM message spans many PUT and GET packets.
// Over TCP every message carries DM credentials; the pty is declared a
// secure link, so they are checked once and the connection's token proves
// the later messages. The commands reach the device and their statuses and
// results come back;
// a second session on the same OBEX connection, and a third after a
// DISCONNECT, complete too (transports.md §3; the SyncML OBEX binding
// text was not available).
func TestE2E_OBEXSessionsOverTCPAndSerial(t *testing.T) {
	for _, car := range obexCarriers {
		t.Run(car.name, func(t *testing.T) {
			matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
				st := b.open(t)
				n := startNode(t, st)
				url := car.start(t, n.engine, &obex.ServerOptions{MaxPacket: 255, Logger: slog.New(slog.DiscardHandler)})
				d, tp := newOBEXAgent(t, st, url, enc, 255)
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()

				get := queue(t, st, d.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/HwV")})
				rep := queue(t, st, d.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}})
				runOBEX(t, ctx, d)
				if j := job(t, st, get); j.State != storage.JobDone || j.Status != 200 || len(j.Results) != 1 || j.Results[0].Data != d.Value("./DevDetail/HwV") {
					t.Fatalf("Get job: %s %d %+v", j.State, j.Status, j.Results)
				}
				if j := job(t, st, rep); j.State != storage.JobDone || j.Status != 200 || d.Value(sim.TelemetryURI) != "false" {
					t.Fatalf("Replace job: %s %d, value %q", j.State, j.Status, d.Value(sim.TelemetryURI))
				}
				// Same OBEX connection, new DM session.
				rep2 := queue(t, st, d.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "true"}}})
				runOBEX(t, ctx, d)
				if j := job(t, st, rep2); j.State != storage.JobDone || d.Value(sim.TelemetryURI) != "true" {
					t.Fatalf("second session's Replace: %s %d", j.State, j.Status)
				}
				// After DISCONNECT the transport connects again.
				if err := tp.Close(); err != nil {
					t.Fatal(err)
				}
				runOBEX(t, ctx, d)
			})
		})
	}
}

func runOBEX(t *testing.T, ctx context.Context, d *sim.Device) {
	t.Helper()
	res, err := d.Run(ctx)
	if err != nil {
		t.Fatalf("session: %v (%v)", err, res)
	}
	if res.State != client.StateCompleted {
		t.Fatalf("session state %s", res.State)
	}
}

// A DM message larger than the engine's MaxMsgSize is refused by the OBEX
// server as it arrives (Request Entity Too Large), and the device learns it
// as a transport error naming the OBEX response.
func TestE2E_OBEXOversizeMessageRefused(t *testing.T) {
	st := backends(t)[0].open(t)
	n := startNode(t, st)
	url := obexCarriers[0].start(t, n.engine, &obex.ServerOptions{MaxMessage: 2000, Logger: slog.New(slog.DiscardHandler)})
	tp, err := obex.DialURL(url, obex.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	_, err = tp.RoundTrip(context.Background(), &client.Request{ContentType: syncml.ContentTypeXML, Body: make([]byte, 5000)})
	var re *obex.ResponseError
	if !errors.As(err, &re) || re.Code != obex.RespEntityTooLarge {
		t.Fatalf("err = %v", err)
	}
}

// HMAC authentication over OBEX: the x-syncml-hmac proof of every message
// travels as a line of the OBEX HTTP header both ways
// (OMA-TS-DM_Security-V1_2 §5.5.1.2; transports.md §3), so a device using
// HMAC completes its session and the server's commands carry through.
func TestE2E_OBEXSessionWithHMAC(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			st := backends(t)[0].open(t)
			n := startNode(t, st)
			url := obexCarriers[0].start(t, n.engine, &obex.ServerOptions{MaxPacket: 300, Logger: slog.New(slog.DiscardHandler)})
			d, _ := newOBEXAgent(t, st, url, enc, 300, sim.AuthHMAC)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rep := queue(t, st, d.ID(), storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}})
			runOBEX(t, ctx, d)
			runOBEX(t, ctx, d)
			if j := job(t, st, rep); j.State != storage.JobDone || j.Status != 200 {
				t.Fatalf("Replace job: %s %d", j.State, j.Status)
			}
		})
	}
}

// Reversed roles (transports.md §3: the DM client may be the OBEX server):
// the device listens, the DM server connects to it, fetches each device
// message with GET and PUTs the engine's reply, until the session ends.
// The real engine and a real device, XML and WBXML, over TCP.
func TestE2E_OBEXReversedRolesSession(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		devSrv := obex.NewDeviceServer(&obex.ServerOptions{MaxPacket: 512, Logger: slog.New(slog.DiscardHandler)})
		served := make(chan error, 1)
		go func() { served <- devSrv.Serve(ln) }()
		t.Cleanup(func() { devSrv.Close(); <-served })

		id := sim.NewIdentity(rand.IntN(1000000))
		d, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("e2e", id.DevID),
			ServerURL: "obex://" + ln.Addr().String(), ServerID: serverID, Auth: sim.AuthMD5, Encoding: enc, Transport: devSrv,
			Retry: client.RetryPolicy{Attempts: 1, Timeout: 20 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Credentials()
		if err := st.CreateDevice(context.Background(), &storage.Device{ID: d.ID(), AuthScheme: d.Auth(), Username: c.Username,
			Password: c.Password, ServerPassword: c.ServerPassword}); err != nil {
			t.Fatal(err)
		}
		get := queue(t, st, d.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/HwV")})

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		session := make(chan error, 1)
		go func() {
			res, err := d.Run(ctx)
			if err == nil && res.State != client.StateCompleted {
				err = fmt.Errorf("session state %s", res.State)
			}
			session <- err
		}()
		addr := ln.Addr().String()
		err = obex.DialDevice(ctx, n.engine, obex.ClientOptions{MaxPacket: 512, Dial: func(ctx context.Context) (io.ReadWriteCloser, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "tcp", addr)
		}}, nil, false, 0)
		if err != nil {
			t.Fatalf("DialDevice: %v", err)
		}
		if err := <-session; err != nil {
			t.Fatalf("device session: %v", err)
		}
		if j := job(t, st, get); j.State != storage.JobDone || j.Status != 200 || len(j.Results) != 1 {
			t.Fatalf("Get job: %s %d %+v", j.State, j.Status, j.Results)
		}
	})
}
