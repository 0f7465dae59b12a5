package kannel

import "syscall"

// procAttr makes the kernel stop a box when the test binary dies without
// running its cleanups (killed by a timeout or by hand), so that no orphan
// keeps the fixed WSP ports.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
