package syncml_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// FuzzDecodeXML checks that DecodeXML never panics or hangs, and that a
// message it accepts survives encode→decode unchanged (canonical form, and
// the indented form too). Seeds: every fixture under testdata/messages plus
// the corpus under testdata/fuzz/FuzzDecodeXML.
func FuzzDecodeXML(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "messages", "*.xml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	lim := &syncml.Limits{MaxMessageSize: 64 << 10, MaxElements: 4096, MaxStringLen: 16 << 10}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := syncml.DecodeXML(in, lim)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		out, err := syncml.EncodeXML(m)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		again, err := syncml.DecodeXML(out, nil)
		if err != nil {
			t.Fatalf("canonical form does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(carried(m, syncml.EncodingXML), again) {
			t.Fatalf("encode→decode changed the message\nin:  %q\nout: %q", in, out)
		}
		out2, err := syncml.EncodeXML(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("canonical form is not stable: %v", err)
		}
		pretty, err := syncml.EncodeXMLIndent(m)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := syncml.DecodeXML(pretty, nil); err != nil || !reflect.DeepEqual(carried(m, syncml.EncodingXML), p) {
			t.Fatalf("indented form decodes differently: %v\n%s", err, pretty)
		}
	})
}
