package obex_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// openPty returns the master side of a new pseudo-terminal and the path of
// its slave side: a serial line without hardware.
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
		if perr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); perr != nil {
			return
		}
		n, perr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	}); err != nil || perr != nil {
		m.Close()
		t.Fatalf("unlocking pty: %v %v", err, perr)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// OBEX over a serial line: the server serves the master side of a pty,
// the client opens the slave path raw (obex+serial://); every byte value
// crosses unchanged, which a line left in cooked mode would not allow.
func TestSerial_ClientOverPtyToServer(t *testing.T) {
	m, path := openPty(t)
	// A slave descriptor held for the test, as a plugged cable: the
	// client's closes then never hang the line up under the server.
	keep, err := obex.OpenSerial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	e := &echoEngine{}
	s := obex.NewServer(e, &obex.ServerOptions{Logger: quietLog(), MaxPacket: 512})
	done := make(chan error, 1)
	go func() { done <- s.ServeLine(m, "pty") }()
	defer func() {
		s.Close()
		if err := <-done; !errors.Is(err, obex.ErrServerClosed) {
			t.Errorf("ServeLine: %v", err)
		}
	}()
	tp, err := obex.DialURL("obex+serial://"+path, obex.ClientOptions{MaxPacket: 400})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := make([]byte, 3000)
	for i := range body {
		body[i] = byte(i) // \r, \n, ^C, ^S, ^Q, 0x7f, 0xff…
	}
	for round := range 2 {
		resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeWBXML, Body: body})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !bytes.Equal(resp.Body, append([]byte("reply:"), body...)) {
			t.Fatalf("round %d: reply differs (%d bytes)", round, len(resp.Body))
		}
		// DISCONNECT ends the OBEX connection; the line stays served and
		// the next message CONNECTs again.
		if err := tp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.handled()); n != 2 {
		t.Fatalf("engine handled %d messages", n)
	}
}

// The other way round: the server opens the slave path (ServeSerial, as
// `omadm serve --obex-serial` does) and the client talks on the master.
func TestSerial_ServerOpensLineByPath(t *testing.T) {
	m, path := openPty(t)
	// The line is raw before the server gets to open it: bytes the client
	// writes first must not meet a cooked line (which echoes them back).
	pre, err := obex.OpenSerial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Close()
	e := &echoEngine{}
	s := obex.NewServer(e, &obex.ServerOptions{Logger: quietLog()})
	done := make(chan error, 1)
	go func() { done <- s.ServeSerial(path) }()
	defer func() {
		s.Close()
		if err := <-done; !errors.Is(err, obex.ErrServerClosed) {
			t.Errorf("ServeSerial: %v", err)
		}
	}()
	tp, err := obex.NewClientTransport(obex.ClientOptions{Dial: func(context.Context) (io.ReadWriteCloser, error) { return nopClose{m}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := tp.RoundTrip(ctx, &client.Request{ContentType: typeXML, Body: []byte("<SyncML>\r\n\x03\x11\x13</SyncML>")})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "reply:<SyncML>\r\n\x03\x11\x13</SyncML>" {
		t.Fatalf("reply %q", resp.Body)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSerial_RefusesNonTerminal(t *testing.T) {
	f := t.TempDir() + "/plain"
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := obex.OpenSerial(f); err == nil {
		t.Fatal("a regular file opened as a serial line")
	}
}

// nopClose keeps the pty master open across the client's Close, so the
// slave the server holds does not hang up.
type nopClose struct{ *os.File }

func (nopClose) Close() error { return nil }
