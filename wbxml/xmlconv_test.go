package wbxml_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/omadm/omadm/wbxml"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixture pair was produced by libwbxml 0.11.8 (xml2wbxml -k) for a TNDS
// MgmtTree nested in SyncML Data: FromXML must write the same bytes.
func TestFromXML_EncodesTNDSLikeLibwbxml(t *testing.T) {
	got, err := wbxml.FromXML(nil, readFixture(t, "tnds.xml"), wbxml.DMDDF12)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFixture(t, "tnds-libwbxml.wbxml"); !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestToXML_DecodesLibwbxmlTNDS(t *testing.T) {
	got, err := wbxml.ToXML(nil, readFixture(t, "tnds-libwbxml.wbxml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFixture(t, "tnds.xml"); !bytes.Equal(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFromXML_HandlesNamesAndConstructs(t *testing.T) {
	tests := []struct {
		name string
		lang *wbxml.Language
		in   string
		back string // ToXML of the result
		err  error
	}{
		{name: "DevInf numeric id", lang: wbxml.DevInf12, in: `<DevInf xmlns="syncml:devinf"><Man>ACME</Man><SupportLargeObjs/></DevInf>`,
			back: `<DevInf xmlns="syncml:devinf"><Man>ACME</Man><SupportLargeObjs/></DevInf>`},
		{name: "unknown names become literals", lang: wbxml.DMDDF12, in: `<MgmtTree><Vendor><X>1</X></Vendor><Vendor/></MgmtTree>`,
			back: `<MgmtTree xmlns="syncml:dmddf1.2"><Vendor><X>1</X></Vendor><Vendor/></MgmtTree>`},
		{name: "whitespace between elements dropped", lang: wbxml.DMDDF12, in: "<MgmtTree>\n  <VerDTD> 1.2 </VerDTD>\n</MgmtTree>",
			back: `<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD> 1.2 </VerDTD></MgmtTree>`},
		{name: "prolog and comments skipped", lang: wbxml.DMDDF12, in: `<?xml version="1.0"?><!-- c --><MgmtTree><Value>a&lt;b</Value></MgmtTree>`,
			back: `<MgmtTree xmlns="syncml:dmddf1.2"><Value>a&lt;b</Value></MgmtTree>`},
		{name: "attributes have no token", lang: wbxml.DMDDF12, in: `<MgmtTree a="1"/>`, err: wbxml.ErrNoToken},
		{name: "not XML", lang: wbxml.DMDDF12, in: `<MgmtTree>`, err: errors.New("any")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := wbxml.FromXML(nil, []byte(tt.in), tt.lang)
			if tt.err != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if errors.Is(tt.err, wbxml.ErrNoToken) && !errors.Is(err, wbxml.ErrNoToken) {
					t.Fatalf("err = %v, want ErrNoToken", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := wbxml.ToXML(nil, doc, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != tt.back {
				t.Errorf("round trip gives %s, want %s", back, tt.back)
			}
		})
	}
}

func TestWriter_WritesHeaderForms(t *testing.T) {
	tests := []struct {
		name string
		h    wbxml.Header
		want []byte
	}{
		{name: "numeric id", h: wbxml.Header{PublicID: 0x1201}, want: []byte{0x03, 0xA4, 0x01, 0x6A, 0x00}},
		{name: "unknown id default", h: wbxml.Header{}, want: []byte{0x03, 0x01, 0x6A, 0x00}},
		{name: "FPI prepended", h: wbxml.Header{FPI: "F", StringTable: []byte("x\x00")}, want: []byte{0x03, 0x00, 0x00, 0x6A, 0x04, 'F', 0, 'x', 0}},
		{name: "FPI found in table", h: wbxml.Header{FPI: "F", StringTable: []byte("x\x00F\x00")}, want: []byte{0x03, 0x00, 0x02, 0x6A, 0x04, 'x', 0, 'F', 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := wbxml.NewWriter(nil)
			w.WriteHeader(&tt.h)
			if !bytes.Equal(w.Bytes(), tt.want) {
				t.Fatalf("got % x, want % x", w.Bytes(), tt.want)
			}
		})
	}
}

func TestWriter_OutputReadsBackToTheSameTokens(t *testing.T) {
	w := wbxml.NewWriter(nil)
	w.WriteHeader(&wbxml.Header{PublicID: 0x1201})
	w.StartElement(0, wbxml.SyncMLSyncML, true)
	w.StartElement(1, wbxml.MetInfNextNonce, true)
	w.Opaque([]byte{0, 1, 0xFF})
	w.EndElement()
	w.StartElement(0, wbxml.SyncMLData, true)
	w.String("a\x00b")
	w.Entity('é')
	w.EndElement()
	w.StartElement(0, wbxml.SyncMLFinal, false)
	w.EndElement()
	got, err := dump(t, w.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "<002d><0110>#0001ff</><000f>'a'&\x00;'b'&é;</><0012/></></>"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestCodePages_MatchTheSpecDigest(t *testing.T) {
	tests := []struct {
		page *wbxml.CodePage
		tag  byte
		name string
	}{
		{wbxml.SyncML12Page, 0x05, "Add"}, {wbxml.SyncML12Page, 0x2D, "SyncML"}, {wbxml.SyncML12Page, 0x3C, "Correlator"},
		{wbxml.SyncML11Page, 0x34, "MoreData"}, {wbxml.SyncML11Page, 0x3C, ""},
		{wbxml.MetInf12Page, 0x10, "NextNonce"}, {wbxml.MetInf12Page, 0x16, "FieldLevel"}, {wbxml.MetInf11Page, 0x16, ""},
		{wbxml.DMDDF12Page, 0x20, "MgmtTree"}, {wbxml.DMDDF12Page, 0x24, "Node"}, {wbxml.DMDDF12Page, 0x25, "node"},
		{wbxml.DMDDF12Page, 0x3C, "ZeroOrOne"}, {wbxml.DevInf12Page, 0x1C, "MaxSize"}, {wbxml.DevInf11Page, 0x1C, "Size"},
	}
	for _, tt := range tests {
		if got := tt.page.Name(tt.tag); got != tt.name {
			t.Errorf("page %s tag %#x = %q, want %q", tt.page.Namespace, tt.tag, got, tt.name)
		}
		if tt.name != "" {
			if tok, ok := tt.page.Token(tt.name); !ok || tok != tt.tag {
				t.Errorf("Token(%q) = %#x, %v", tt.name, tok, ok)
			}
		}
	}
}
