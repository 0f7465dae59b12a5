//go:build linux

package server_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// dbServerCPU is the CPU time used so far by the PostgreSQL server that
// scripts/pg-throwaway.sh started (PG_THROWAWAY_DIR): its postmaster, the
// children it waited for and the live ones (backends, WAL writer,
// checkpointer). ok is false when there is no such server to measure.
func dbServerCPU() (cpu time.Duration, ok bool) {
	dir := os.Getenv("PG_THROWAWAY_DIR")
	if dir == "" {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	master, _, _ := strings.Cut(string(b), "\n")
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command name, which ends at the last ')':
		// state ppid … utime(14) stime(15) cutime(16) cstime(17).
		i := bytes.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 15 {
			continue
		}
		pid := filepath.Base(filepath.Dir(p))
		n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
		switch {
		case pid == master:
			ticks += n(14) + n(15) + n(16) + n(17)
		case f[1] == master:
			ticks += n(14) + n(15)
		}
	}
	// USER_HZ is 100 on every Linux the project runs on.
	return time.Duration(ticks) * 10 * time.Millisecond, true
}
