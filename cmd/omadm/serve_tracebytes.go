package main

import (
	"fmt"
	"strconv"
	"strings"
)

// defaultTraceMaxBytes is --trace-max-bytes when not given.
const defaultTraceMaxBytes = 1 << 30

// byteSizeFlag is a size in bytes: a plain number or one with a binary
// unit (KiB, MiB, GiB, TiB); 0 means no bound.
type byteSizeFlag struct{ n *int64 }

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

func (f byteSizeFlag) String() string {
	if f.n == nil {
		return "0"
	}
	for _, u := range byteUnits[:4] {
		if *f.n != 0 && *f.n%(1<<u.shift) == 0 {
			return strconv.FormatInt(*f.n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f byteSizeFlag) Set(s string) error {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return fmt.Errorf("want a size in bytes such as 1073741824, 512MiB or 1GiB (0: no bound)")
	}
	if v < 0 {
		return fmt.Errorf("negative size %s (0: no bound)", s)
	}
	if v > (1<<63-1)>>shift {
		return fmt.Errorf("size %s is too large", s)
	}
	*f.n = v << shift
	return nil
}

func (byteSizeFlag) Type() string { return "bytes" }
