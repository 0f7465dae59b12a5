package api_test

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTraceFrom_DecodesTheRawBodyWhenNoViewIsStored(t *testing.T) {
	xml := readFixture(t, "pkg1-basic.xml")
	wb := readFixture(t, "pkg1-basic.wbxml")
	tests := []struct {
		name    string
		entry   storage.TraceEntry
		want    []string // substrings of the decoded view
		exactly string   // when set, the decoded view must equal it
	}{
		{name: "XML body is indented", entry: storage.TraceEntry{ContentType: syncml.EncodingXML.ContentType(), Body: xml},
			want: []string{"<SyncHdr>", "\n  <SyncBody>", "<Final/>"}},
		{name: "WBXML body becomes XML", entry: storage.TraceEntry{ContentType: syncml.EncodingWBXML.ContentType(), Body: wb},
			want: []string{"<SyncHdr>", "<SyncBody>"}},
		{name: "a stored view is kept as is", entry: storage.TraceEntry{Body: xml, Decoded: "<SyncML>stored</SyncML>"},
			exactly: "<SyncML>stored</SyncML>"},
		{name: "undecodable text is shown raw", entry: storage.TraceEntry{ContentType: "text/plain", Body: []byte("not syncml")},
			exactly: "not syncml"},
		{name: "undecodable binary is not shown", entry: storage.TraceEntry{ContentType: syncml.EncodingWBXML.ContentType(), Body: []byte{0x03, 0xff, 0xfe}},
			exactly: ""},
		{name: "empty body", entry: storage.TraceEntry{}, exactly: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := api.TraceFrom(&tt.entry)
			if string(got.Body) != string(tt.entry.Body) {
				t.Errorf("body changed")
			}
			if tt.want == nil && got.Decoded != tt.exactly {
				t.Errorf("decoded = %q, want %q", got.Decoded, tt.exactly)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Decoded, w) {
					t.Errorf("decoded view lacks %q:\n%s", w, got.Decoded)
				}
			}
		})
	}
}

func TestDecodeTrace_XMLAndWBXMLOfTheSameMessageReadTheSame(t *testing.T) {
	m, err := syncml.DecodeXML(readFixture(t, "pkg1-basic.xml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := syncml.EncodeXML(m)
	a := api.DecodeTrace(x, syncml.EncodingXML.ContentType())
	b := api.DecodeTrace(wb, syncml.EncodingWBXML.ContentType())
	if a == "" || a != b {
		t.Errorf("XML view:\n%s\nWBXML view:\n%s", a, b)
	}
}

func FuzzDecodeTrace(f *testing.F) {
	f.Add(readFixture(f, "pkg1-basic.xml"), syncml.EncodingXML.ContentType())
	f.Add(readFixture(f, "pkg1-basic.wbxml"), syncml.EncodingWBXML.ContentType())
	f.Add([]byte{0x03, 0xa4, 0x01, 0x6a, 0x00}, "")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		out := api.DecodeTrace(body, ct)
		if !utf8.ValidString(out) {
			t.Fatalf("decoded view is not UTF-8")
		}
	})
}
