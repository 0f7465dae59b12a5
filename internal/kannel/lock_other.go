//go:build !unix

package kannel

import (
	"errors"
	"time"
)

// LockFile is unused where flock is missing.
var LockFile = ""

func lockMachine(string, time.Duration) (func(), error) {
	return nil, errors.New("the gateway lock needs flock (a Unix system)")
}
