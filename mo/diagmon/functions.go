package diagmon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Function is one diagnostics function: a node under <x>/Functions and the
// code that reads the machine for it.
type Function struct {
	// Name is the node name (Memory, Storage, Load, Battery, LogTail).
	Name string
	// Title says what it reads (the Name leaf).
	Title string
	// Run reads the machine. It must not block for long and must not touch
	// the management tree (it runs under the tree's read lock when the
	// Report node is read).
	Run func(ctx context.Context) (Readings, error)
	// Metric names the reading a trap threshold applies to ("": the
	// function has no trap).
	Metric string
	// Above is true when values above the threshold make the trap active,
	// false when values below it do.
	Above bool
}

// ErrNotPresent is returned by a function whose source the machine lacks.
var ErrNotPresent = errors.New("diagmon: not present on this machine")

// Machine locates what the real functions read; empty fields mean the
// running system's (/proc, /sys).
type Machine struct {
	Proc string // default /proc
	Sys  string // default /sys
}

func (m Machine) proc() string { return cmp(m.Proc, "/proc") }
func (m Machine) sys() string  { return cmp(m.Sys, "/sys") }

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Memory reads /proc/meminfo: total, available and free memory, and the
// available share in percent (the trap metric, active below the threshold).
func (m Machine) Memory() Function {
	return Function{Name: "Memory", Title: "memory from /proc/meminfo", Metric: "available_percent", Run: func(context.Context) (Readings, error) {
		f, err := os.Open(filepath.Join(m.proc(), "meminfo"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		vals := map[string]int64{}
		sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
		for sc.Scan() {
			k, rest, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				continue
			}
			if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
				vals[k] = n
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		total, okT := vals["MemTotal"]
		avail, okA := vals["MemAvailable"]
		if !okT || total <= 0 {
			return nil, errors.New("diagmon: meminfo has no MemTotal")
		}
		if !okA {
			avail = vals["MemFree"] + vals["Buffers"] + vals["Cached"]
		}
		return Readings{
			{"total_kb", strconv.FormatInt(total, 10)},
			{"available_kb", strconv.FormatInt(avail, 10)},
			{"free_kb", strconv.FormatInt(vals["MemFree"], 10)},
			{"available_percent", percent(avail, total)},
		}, nil
	}}
}

// Storage reads the file system holding path with statfs: total, free
// (available to unprivileged users) and the free share in percent (the trap
// metric, active below the threshold).
func Storage(path string) Function {
	return Function{Name: "Storage", Title: "storage of " + path, Metric: "free_percent", Run: func(context.Context) (Readings, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(path, &st); err != nil {
			return nil, &os.PathError{Op: "statfs", Path: path, Err: err}
		}
		bs := int64(st.Bsize) //nolint:unconvert // Bsize's type differs between platforms
		total, free := int64(st.Blocks)*bs, int64(st.Bavail)*bs
		return Readings{
			{"path", path},
			{"total_bytes", strconv.FormatInt(total, 10)},
			{"free_bytes", strconv.FormatInt(free, 10)},
			{"free_percent", percent(free, total)},
		}, nil
	}}
}

// Load reads /proc/loadavg: the 1, 5 and 15 minute load averages (the
// 1-minute one is the trap metric, active above the threshold) and the
// running and total process counts.
func (m Machine) Load() Function {
	return Function{Name: "Load", Title: "load average and processes from /proc/loadavg", Metric: "load1", Above: true, Run: func(context.Context) (Readings, error) {
		b, err := readSmall(filepath.Join(m.proc(), "loadavg"))
		if err != nil {
			return nil, err
		}
		fs := strings.Fields(string(b))
		if len(fs) < 4 {
			return nil, fmt.Errorf("diagmon: loadavg %q has fewer than 4 fields", b)
		}
		for _, f := range fs[:3] {
			if _, err := strconv.ParseFloat(f, 64); err != nil {
				return nil, fmt.Errorf("diagmon: loadavg field %q is not a number", f)
			}
		}
		running, total, _ := strings.Cut(fs[3], "/")
		return Readings{{"load1", fs[0]}, {"load5", fs[1]}, {"load15", fs[2]},
			{"processes_running", running}, {"processes_total", total}}, nil
	}}
}

// Battery reads the first battery under /sys/class/power_supply: its
// capacity in percent (the trap metric, active below the threshold) and
// status. ok is false when the machine has no battery.
func (m Machine) Battery() (f Function, ok bool) {
	dir := filepath.Join(m.sys(), "class", "power_supply")
	find := func() (string, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			t, err := readSmall(filepath.Join(dir, e.Name(), "type"))
			if err == nil && strings.TrimSpace(string(t)) == "Battery" {
				return filepath.Join(dir, e.Name()), nil
			}
		}
		return "", ErrNotPresent
	}
	if _, err := find(); err != nil {
		return Function{}, false
	}
	return Function{Name: "Battery", Title: "battery from " + dir, Metric: "capacity_percent", Run: func(context.Context) (Readings, error) {
		bat, err := find()
		if err != nil {
			return nil, err
		}
		c, err := readSmall(filepath.Join(bat, "capacity"))
		if err != nil {
			return nil, err
		}
		capacity := strings.TrimSpace(string(c))
		if _, err := strconv.Atoi(capacity); err != nil {
			return nil, fmt.Errorf("diagmon: battery capacity %q is not a number", capacity)
		}
		st, _ := readSmall(filepath.Join(bat, "status"))
		return Readings{{"supply", filepath.Base(bat)}, {"capacity_percent", capacity},
			{"status", strings.TrimSpace(string(st))}}, nil
	}}, true
}

// MaxLogTail bounds what LogTail uploads.
const MaxLogTail = 64 << 10

// LogTail uploads the last max bytes (at most MaxLogTail) of the file at
// path, starting at a line boundary when it can.
func LogTail(path string, max int) Function {
	if max <= 0 || max > MaxLogTail {
		max = MaxLogTail
	}
	return Function{Name: "LogTail", Title: "the end of " + path, Run: func(context.Context) (Readings, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("diagmon: %s is not a regular file", path)
		}
		off := max64(fi.Size()-int64(max), 0)
		buf := make([]byte, fi.Size()-off)
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		buf = buf[:n]
		if off > 0 {
			if i := bytes.IndexByte(buf, '\n'); i >= 0 && i < len(buf)-1 {
				buf = buf[i+1:]
			}
		}
		return Readings{{"path", path}, {"size_bytes", strconv.FormatInt(fi.Size(), 10)},
			{"tail", strings.ToValidUTF8(string(buf), "\uFFFD")}}, nil
	}}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func percent(part, whole int64) string {
	if whole <= 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64)
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 4096))
}
