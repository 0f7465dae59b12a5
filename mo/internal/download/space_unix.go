//go:build linux || darwin || freebsd || netbsd || openbsd

package download

import "syscall"

// FreeSpace returns the bytes an unprivileged writer may still use on the
// file system holding dir; ok is false when it cannot tell.
func FreeSpace(dir string) (free int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true //nolint:unconvert // field types differ by OS
}
