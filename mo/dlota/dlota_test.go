package dlota_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/mo/dlota"
)

const base = "http://dl.example.com/fw/pkg.dd"

func dd(body string) []byte {
	return []byte(`<?xml version="1.0"?><media xmlns="http://www.openmobilealliance.org/xmlns/dd">` + body + `</media>`)
}

// OMA-Download-OTA-V1_0, download descriptor: type, size and objectURI are
// mandatory; a bad descriptor is reported as 906, an unknown major
// DDVersion as 951; the notify URI is kept so that the report can be sent.
func TestParseDescriptor_ValidatesAttributes(t *testing.T) {
	tests := []struct {
		name   string
		doc    []byte
		status dlota.Status // 0 = valid
		notify string       // InstallNotifyURI of the error
	}{
		{"valid", dd(`<type>application/octet-stream</type><size>10</size><objectURI>http://x/p</objectURI>`), 0, ""},
		{"relative URIs resolve against the descriptor", dd(`<type>a/b</type><size>10</size><objectURI>p.bin</objectURI><installNotifyURI>/n</installNotifyURI>`), 0, ""},
		{"no type", dd(`<size>10</size><objectURI>http://x/p</objectURI><installNotifyURI>http://x/n</installNotifyURI>`), dlota.StatusInvalidDescriptor, "http://x/n"},
		{"no size", dd(`<type>a/b</type><objectURI>http://x/p</objectURI>`), dlota.StatusInvalidDescriptor, ""},
		{"negative size", dd(`<type>a/b</type><size>-1</size><objectURI>http://x/p</objectURI>`), dlota.StatusInvalidDescriptor, ""},
		{"size twice", dd(`<type>a/b</type><size>1</size><size>2</size><objectURI>http://x/p</objectURI>`), dlota.StatusInvalidDescriptor, ""},
		{"no objectURI", dd(`<type>a/b</type><size>10</size>`), dlota.StatusInvalidDescriptor, ""},
		{"ftp objectURI", dd(`<type>a/b</type><size>10</size><objectURI>ftp://x/p</objectURI>`), dlota.StatusInvalidDescriptor, ""},
		{"bad nextURL", dd(`<type>a/b</type><size>10</size><objectURI>http://x/p</objectURI><nextURL>mailto:x</nextURL>`), dlota.StatusInvalidDescriptor, ""},
		{"DDVersion 2.0", dd(`<DDVersion>2.0</DDVersion><type>a/b</type><size>10</size><objectURI>http://x/p</objectURI><installNotifyURI>http://x/n</installNotifyURI>`), dlota.StatusInvalidDDVersion, "http://x/n"},
		{"DDVersion 1.1", dd(`<DDVersion>1.1</DDVersion><type>a/b</type><size>10</size><objectURI>http://x/p</objectURI>`), 0, ""},
		{"bad sha256", dd(`<type>a/b</type><size>10</size><objectURI>http://x/p</objectURI><sha256 xmlns="urn:omadm:dd-ext:1.0">zz</sha256>`), dlota.StatusInvalidDescriptor, ""},
		{"not XML", []byte("<media"), dlota.StatusInvalidDescriptor, ""},
		{"other root", []byte(`<jad/>`), dlota.StatusInvalidDescriptor, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := dlota.ParseDescriptor(tc.doc, base)
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(d.ObjectURI, "http://") {
					t.Errorf("objectURI %q not absolute", d.ObjectURI)
				}
				return
			}
			var de *dlota.DDError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DDError", err)
			}
			if de.Status != tc.status || de.InstallNotifyURI != tc.notify {
				t.Errorf("status %v notify %q, want %v %q", de.Status, de.InstallNotifyURI, tc.status, tc.notify)
			}
		})
	}
}

// What Generate writes, ParseDescriptor reads back.
func TestGenerate_RoundTrips(t *testing.T) {
	in := &dlota.Descriptor{DDVersion: "1.0", Types: []string{"application/x-fw"}, Size: 42, ObjectURI: "http://x/p?a=1&b=2",
		InstallNotifyURI: "http://x/n", Name: "fw <1>", SHA256: strings.Repeat("ab", 32)}
	out, err := dlota.ParseDescriptor(dlota.Generate(in), base)
	if err != nil {
		t.Fatal(err)
	}
	if out.ObjectURI != in.ObjectURI || out.Name != in.Name || out.SHA256 != in.SHA256 || out.Size != 42 || out.Types[0] != in.Types[0] {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
}

// OMA-Download-OTA-V1_0 status codes and their report lines.
func TestStatus_ReportLines(t *testing.T) {
	for _, tc := range []struct {
		s    dlota.Status
		want string
	}{
		{dlota.StatusSuccess, "900 Success"}, {dlota.StatusInsufficientMemory, "901 Insufficient memory"},
		{dlota.StatusUserCancelled, "902 User Cancelled"}, {dlota.StatusLossOfService, "903 Loss of Service"},
		{dlota.StatusAttributeMismatch, "905 Attribute mismatch"}, {dlota.StatusInvalidDescriptor, "906 Invalid descriptor"},
		{dlota.StatusInvalidDDVersion, "951 Invalid DDVersion"}, {dlota.StatusDeviceAborted, "952 Device Aborted"},
		{dlota.StatusNonAcceptableContent, "953 Non-Acceptable Content"}, {dlota.StatusLoaderError, "954 Loader Error"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", int(tc.s), got, tc.want)
		}
		if st, err := dlota.ParseStatus(tc.want + "\r\n"); err != nil || st != tc.s {
			t.Errorf("ParseStatus(%q) = %v, %v", tc.want, st, err)
		}
	}
	if _, err := dlota.ParseStatus("200 OK"); err == nil {
		t.Error("ParseStatus accepted 200")
	}
}

// A descriptor's type must match what the object takes.
func TestDescriptor_Accepts(t *testing.T) {
	d := &dlota.Descriptor{Types: []string{"application/vnd.fw; v=1"}}
	for _, tc := range []struct {
		accept []string
		want   bool
	}{{nil, true}, {[]string{"application/vnd.fw"}, true}, {[]string{"application/*"}, true}, {[]string{"*/*"}, true}, {[]string{"text/plain"}, false}} {
		if got := d.Accepts(tc.accept); got != tc.want {
			t.Errorf("Accepts(%v) = %v", tc.accept, got)
		}
	}
}
