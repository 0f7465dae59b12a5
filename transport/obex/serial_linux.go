package obex

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenSerial opens the character device at path (a serial port, a USB
// modem's ACM line, one side of a pty) for OBEX: read-write, not as the
// controlling terminal, without waiting for carrier, and in raw mode (8
// data bits, no echo, no line editing, no flow-control characters, no
// output processing), so every byte passes unchanged. The line speed is
// left as the device has it. The file supports deadlines.
func OpenSerial(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("obex: open serial line: %w", err)
	}
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = makeRaw(int(fd)) })
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("obex: serial line %s: %w", path, err)
	}
	return f, nil
}

// makeRaw is cfmakeraw(3) plus CLOCAL (ignore modem control lines) and
// CREAD, with reads returning as soon as one byte is there.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("not a terminal line: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
