//go:build !linux

package obex

import (
	"errors"
	"os"
)

// OpenSerial opens a serial line for OBEX; only Linux is supported.
func OpenSerial(path string) (*os.File, error) {
	return nil, errors.New("obex: serial lines are supported on Linux only")
}
