package wspenc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/omadm/omadm/internal/wspenc"
)

// WAP-230-WSP §8.1.2: uintvar is 7 bits per octet, high bit = more.
func TestUintvar_RoundTripsAndKnownEncodings(t *testing.T) {
	tests := []struct {
		v   uint32
		enc []byte
	}{
		{0, []byte{0x00}}, {0x7F, []byte{0x7F}}, {0x80, []byte{0x81, 0x00}},
		{6096, []byte{0xAF, 0x50}}, {266240, []byte{0x90, 0xA0, 0x00}}, {0xFFFFFFFF, []byte{0x8F, 0xFF, 0xFF, 0xFF, 0x7F}},
	}
	for _, tt := range tests {
		if got := wspenc.AppendUintvar(nil, tt.v); !bytes.Equal(got, tt.enc) {
			t.Errorf("AppendUintvar(%d) = % X, want % X", tt.v, got, tt.enc)
		}
		v, n, err := wspenc.Uintvar(append(tt.enc, 0xAA))
		if err != nil || uint32(v) != tt.v || n != len(tt.enc) {
			t.Errorf("Uintvar(% X) = %d %d %v", tt.enc, v, n, err)
		}
	}
	for _, bad := range [][]byte{{}, {0x81}, {0x9F, 0xFF, 0xFF, 0xFF, 0x7F}, {0x81, 0x81, 0x81, 0x81, 0x81, 0x00}} {
		if _, _, err := wspenc.Uintvar(bad); !errors.Is(err, wspenc.ErrMalformed) {
			t.Errorf("Uintvar(% X): %v", bad, err)
		}
	}
}

// WAP-230-WSP §8.4.2.24: constrained (code or text) and general forms.
func TestContentType_AllForms(t *testing.T) {
	tests := []struct {
		name string
		val  []byte
		want string
	}{
		{"short integer", []byte{0xC3}, "application/vnd.syncml.dm+xml"},
		{"text", []byte("application/vnd.syncml.dm+wbxml\x00"), "application/vnd.syncml.dm+wbxml"},
		{"general form with charset", []byte{0x03, 0xC3, 0x81, 0xEA}, "application/vnd.syncml.dm+xml"},
		{"general form, text media", append([]byte{0x05}, "a/b\x00\x00"...), "a/b"},
		{"unknown code", []byte{0xFF}, "0x7F"},
	}
	for _, tt := range tests {
		got, _, err := wspenc.ContentType(tt.val)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.name, got, err, tt.want)
		}
	}
	if c, ok := wspenc.MediaCode("Application/Vnd.SyncML.DM+WBXML"); !ok || c != 0x42 {
		t.Errorf("MediaCode: 0x%02X %v", c, ok)
	}
	if got := wspenc.AppendText(nil, "\xE9t\xE9"); !bytes.Equal(got, []byte{0x7F, 0xE9, 't', 0xE9, 0}) {
		t.Errorf("AppendText quotes a high first octet: % X", got)
	}
}
