package wbxml_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/omadm/omadm/wbxml"
)

func TestMbUint32_RoundTripsSpecValues(t *testing.T) {
	tests := []struct {
		name string
		v    uint32
		enc  []byte
	}{
		{name: "zero", v: 0, enc: []byte{0x00}},
		{name: "one byte max", v: 0x7F, enc: []byte{0x7F}},
		{name: "two bytes min", v: 0x80, enc: []byte{0x81, 0x00}},
		{name: "SyncML 1.2 public id", v: 0x1201, enc: []byte{0xA4, 0x01}},
		{name: "SyncML 1.1 public id", v: 0x0FD3, enc: []byte{0x9F, 0x53}},
		{name: "300", v: 300, enc: []byte{0x82, 0x2C}},
		{name: "max uint32", v: 0xFFFFFFFF, enc: []byte{0x8F, 0xFF, 0xFF, 0xFF, 0x7F}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wbxml.AppendMbUint32(nil, tt.v); !bytes.Equal(got, tt.enc) {
				t.Errorf("AppendMbUint32(%#x) = % x, want % x", tt.v, got, tt.enc)
			}
			v, n, err := wbxml.ReadMbUint32(append(tt.enc, 0xEE))
			if err != nil || v != tt.v || n != len(tt.enc) {
				t.Errorf("ReadMbUint32 = %#x, %d, %v; want %#x, %d", v, n, err, tt.v, len(tt.enc))
			}
		})
	}
}

func TestMbUint32_RejectsOverflowAndTruncation(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{name: "six bytes", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, want: wbxml.ErrMalformed},
		{name: "over 32 bits", in: []byte{0x90, 0x80, 0x80, 0x80, 0x00}, want: wbxml.ErrMalformed},
		{name: "truncated", in: []byte{0x81}, want: wbxml.ErrTruncated},
		{name: "empty", in: nil, want: wbxml.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := wbxml.ReadMbUint32(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
