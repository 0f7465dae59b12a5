//go:build !linux

package kannel

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
