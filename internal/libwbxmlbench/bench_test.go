//go:build libwbxml

package libwbxmlbench_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/internal/libwbxmlbench"
	"github.com/omadm/omadm/syncml"
)

var sizes = []string{"bench-2k", "bench-100k"}

// load returns a benchmark fixture as XML, as our WBXML encoding, and as the
// compact XML libwbxml would encode (the input libwbxml's encoder gets).
func load(b *testing.B, name string) (xmlDoc, ours []byte) {
	b.Helper()
	x, err := os.ReadFile(filepath.Join("..", "..", "syncml", "testdata", "messages", name+".xml"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := syncml.DecodeXML(x, nil)
	if err != nil {
		b.Fatal(err)
	}
	w, err := syncml.EncodeWBXML(m)
	if err != nil {
		b.Fatal(err)
	}
	return x, w
}

func TestLibwbxmlReadsOurEncoding(t *testing.T) {
	for _, n := range sizes {
		x, err := os.ReadFile(filepath.Join("..", "..", "syncml", "testdata", "messages", n+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := syncml.DecodeXML(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := syncml.EncodeWBXML(m)
		if _, err := libwbxmlbench.WBXMLToXML(w); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := libwbxmlbench.XMLToWBXML(x); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

// WBXML decode: ours goes bytes→model; libwbxml goes bytes→XML text (its
// only public decode path, what wbxml2xml does).
func BenchmarkDecode(b *testing.B) {
	for _, n := range sizes {
		_, w := load(b, n)
		b.Run(n+"/omadm", func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.DecodeWBXML(w, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(n+"/libwbxml", func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := libwbxmlbench.WBXMLToXML(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// WBXML encode: ours goes model→bytes; libwbxml goes XML text→bytes without a
// string table (what xml2wbxml -n does). Throughput counts WBXML bytes out.
func BenchmarkEncode(b *testing.B) {
	for _, n := range sizes {
		_, w := load(b, n)
		// libwbxml gets the compact XML of the same message (its own
		// rendering of our WBXML), so both sides encode the same content.
		x, err := libwbxmlbench.WBXMLToXML(w)
		if err != nil {
			b.Fatal(err)
		}
		m, err := syncml.DecodeWBXML(w, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(n+"/omadm", func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.EncodeWBXML(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(n+"/libwbxml", func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := libwbxmlbench.XMLToWBXML(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
