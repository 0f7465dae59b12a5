//go:build unix

package kannel

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the machine-wide lock every gateway holds while it runs.
var LockFile = filepath.Join(os.TempDir(), "omadm-kannel.lock")

// lockMachine takes an exclusive flock on path (LockFile), waiting at most wait for
// the process holding it. The blocking flock runs in a goroutine so the wait
// is bounded; if it is given up and the lock comes later, it is released at
// once.
func lockMachine(path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	got := make(chan error) // unbuffered: a late lock sees abandon
	abandon := make(chan struct{})
	go func() {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		select {
		case got <- err:
		case <-abandon:
			f.Close() // closing releases the lock
		}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		_ = f.Truncate(0)
		_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
		return func() { f.Close() }, nil
	case <-timer.C:
		close(abandon)
		holder, _ := os.ReadFile(path)
		return nil, fmt.Errorf("another process (pid %s) has held the gateway lock %s for %v", trimNL(holder), path, wait)
	}
}

func trimNL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}
