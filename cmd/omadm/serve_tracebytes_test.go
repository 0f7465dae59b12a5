package main

import "testing"

func TestByteSizeFlag_ParsesSizesWithBinaryUnits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1073741824", want: 1 << 30},
		{in: "512MiB", want: 512 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "3 KiB", want: 3 << 10},
		{in: "2TiB", want: 2 << 40},
		{in: "100B", want: 100},
		{in: "-1", bad: true},
		{in: "1GB", bad: true},
		{in: "lots", bad: true},
		{in: "9999999TiB", bad: true},
	} {
		var n int64 = 7
		err := byteSizeFlag{&n}.Set(tc.in)
		switch {
		case tc.bad && err == nil:
			t.Errorf("Set(%q) accepted: %d", tc.in, n)
		case !tc.bad && err != nil:
			t.Errorf("Set(%q): %v", tc.in, err)
		case !tc.bad && n != tc.want:
			t.Errorf("Set(%q) = %d, want %d", tc.in, n, tc.want)
		}
	}
	n := int64(defaultTraceMaxBytes)
	if got := (byteSizeFlag{&n}).String(); got != "1GiB" {
		t.Errorf("default shown as %q, want 1GiB", got)
	}
}
