//go:build !linux

package server_test

import "time"

// dbServerCPU is not measured on this platform.
func dbServerCPU() (time.Duration, bool) { return 0, false }
