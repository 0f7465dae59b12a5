package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/obex"
)

// `omadm serve --obex-serial PATH` serves DM over OBEX on a serial line:
// here the slave side of a pty, the device talking on the master side.
func TestServeOBEX_SerialLine(t *testing.T) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer m.Close()
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
		t.Fatalf("unlocking pty: %v %v", err, perr)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	// Raw before the server opens it, held like a plugged cable.
	keep, err := obex.OpenSerial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	rs, err := startServer(context.Background(), serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		Logger: slog.New(slog.DiscardHandler), OBEX: serveOBEXConfig{Serial: []string{path}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rs.Shutdown(context.Background()) }()
	tp, err := obex.NewClientTransport(obex.ClientOptions{MaxPacket: 512,
		Dial: func(context.Context) (io.ReadWriteCloser, error) { return masterSide{m}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	dev := obexDevice(t, rs, tp, syncml.EncodingXML)
	runOBEXSession(t, rs, dev)
}

// masterSide keeps the pty master open across the transport's Close.
type masterSide struct{ *os.File }

func (masterSide) Close() error { return nil }
