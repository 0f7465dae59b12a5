package obex_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// startDeviceServer serves the device side of the reversed roles on
// 127.0.0.1 port 0.
func startDeviceServer(t *testing.T, o *obex.ServerOptions) (*obex.DeviceServer, string) {
	t.Helper()
	if o == nil {
		o = &obex.ServerOptions{}
	}
	o.Logger = quietLog()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := obex.NewDeviceServer(o)
	done := make(chan error, 1)
	go func() { done <- d.Serve(ln) }()
	t.Cleanup(func() {
		d.Close()
		if err := <-done; !errors.Is(err, obex.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return d, ln.Addr().String()
}

func tcpDial(addr string) func(context.Context) (io.ReadWriteCloser, error) {
	return func(ctx context.Context) (io.ReadWriteCloser, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// Reversed roles (transports.md §3: the DM client may be the OBEX server):
// the DM server CONNECTs, PUTs a package 0, GETs each device message and
// PUTs the engine's reply, and DISCONNECTs after the reply that ends the
// session.
func TestReverse_ServerDrivesSessionOnDeviceOBEXServer(t *testing.T) {
	dev, addr := startDeviceServer(t, &obex.ServerOptions{MaxPacket: 300})
	e := &echoEngine{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- obex.DialDevice(ctx, e, obex.ClientOptions{Dial: tcpDial(addr), MaxPacket: 300}, []byte("pkg0"), false, 0)
	}()
	select {
	case p := <-dev.Package0():
		if string(p) != "pkg0" {
			t.Fatalf("package 0 %q", p)
		}
	case <-ctx.Done():
		t.Fatal("no package 0")
	}
	big := make([]byte, 2000)
	for i, m := range [][]byte{[]byte("m1"), big, []byte("end3")} {
		resp, err := dev.RoundTrip(ctx, &client.Request{ContentType: typeWBXML, Body: m})
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(resp.Body) != "reply:"+string(m) || resp.ContentType != typeWBXML {
			t.Fatalf("message %d: reply %q of type %q", i, resp.Body[:min(len(resp.Body), 20)], resp.ContentType)
		}
	}
	if err := <-served; err != nil {
		t.Fatalf("DialDevice: %v", err)
	}
	want := []string{"", "tok-1", "tok-2"}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.tokens) != 3 || e.tokens[1] != want[1] || e.tokens[2] != want[2] || e.tokens[0] != "" {
		t.Fatalf("engine saw tokens %q, want %q", e.tokens, want)
	}
}

// The device's OBEX server refuses a PUT that answers nothing it sent.
func TestReverse_DeviceRefusesUnaskedReply(t *testing.T) {
	_, addr := startDeviceServer(t, nil)
	p := dialPeer(t, addr)
	wantCode(t, "CONNECT", p.connect(obex.Target, 1024), obex.RespOK)
	wantCode(t, "PUT", p.do(obex.Packet{Code: obex.OpPut | obex.FinalBit, Headers: []obex.Header{p.cid(), obex.TypeHeader(typeXML), obex.Bytes(obex.HdrEndOfBody, []byte("<SyncML/>"))}}), obex.RespForbidden)
}

// A device that judges package 0 on arrival (DeviceServer.CheckPackage0)
// answers a refused one with Forbidden: ConnectDevice fails at once with
// the PUT's response and nothing reaches Package0; an accepted one is
// answered OK (OMA-TS-DM_Notification-V1_2 §6: the device authenticates
// package 0 before it acts on it).
func TestReverse_CheckPackage0RefusesAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkg0 string
		ok   bool
	}{{"accepted", "good", true}, {"refused", "forged", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dev := obex.NewDeviceServer(&obex.ServerOptions{Logger: quietLog()})
			dev.CheckPackage0 = func(b []byte) error {
				if string(b) != "good" {
					return errors.New("digest does not verify")
				}
				return nil
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- dev.Serve(ln) }()
			defer func() { dev.Close(); <-done }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dc, err := obex.ConnectDevice(ctx, obex.ClientOptions{Dial: tcpDial(ln.Addr().String())}, []byte(tc.pkg0))
			if tc.ok {
				if err != nil {
					t.Fatalf("ConnectDevice: %v", err)
				}
				dc.Close()
				return
			}
			var re *obex.ResponseError
			if !errors.As(err, &re) || re.Op != "PUT" || re.Code != obex.RespForbidden {
				t.Fatalf("ConnectDevice error %v, want PUT Forbidden", err)
			}
			select {
			case p := <-dev.Package0():
				t.Fatalf("refused package 0 %q delivered", p)
			default:
			}
		})
	}
}
