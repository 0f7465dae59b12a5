//go:build unix

package dmtree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrLocked is returned (wrapped) by Open when another Tree, in this or
// another process, has the state directory open.
var ErrLocked = errors.New("dmtree: state directory is in use")

// lockDir takes an exclusive advisory lock (flock) on dir/LOCK without
// waiting. The lock belongs to the open file, so it is released by Close or
// when the process dies, kill -9 included.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another process or Tree", ErrLocked, dir)
		}
		return nil, fmt.Errorf("dmtree: locking %s: %w", dir, err)
	}
	return f, nil
}
