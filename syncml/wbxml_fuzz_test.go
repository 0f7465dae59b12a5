package syncml_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/wbxml"
)

// FuzzDecodeWBXML checks that DecodeWBXML never panics, hangs or runs away on
// any input, and that whatever it accepts re-encodes to WBXML that decodes to
// the same model.
func FuzzDecodeWBXML(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "wbxml", "*.wbxml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(hexBytes(specExample))
	// Real-world shapes: OPAQUE chr data (the libdmclient capture, when the
	// interop corpus is beside the checkout) and whitespace strings around
	// OPAQUE, as xml2wbxml -k writes them.
	if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "interop-corpus", "captures", "libdmclient-pkg1-opaque-chr.wbxml")); err == nil {
		f.Add(b)
	}
	d := newWBXDoc("\n ", nil)
	d.header()
	d.open(0, wbxml.SyncMLResults)
	d.leaf(0, wbxml.SyncMLCmdID, "2")
	d.opaqueItem("./DevInfo/Man", "chr", "text/plain", []byte("Intel"))
	d.close()
	f.Add(d.end())
	lim := &syncml.Limits{MaxMessageSize: 1 << 20, MaxDepth: 24, MaxElements: 5000, MaxStringLen: 1 << 16}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := syncml.DecodeWBXML(b, lim)
		if err != nil {
			return
		}
		enc, err := syncml.EncodeWBXML(m)
		if err != nil {
			t.Fatalf("accepted message does not encode: %v", err)
		}
		back, err := syncml.DecodeWBXML(enc, nil)
		if err != nil {
			t.Fatalf("our own encoding does not decode: %v", err)
		}
		if diff := diffModels(carried(m, syncml.EncodingWBXML), back, false); diff != "" {
			t.Fatalf("re-encoding changed the model: %s", diff)
		}
	})
}
