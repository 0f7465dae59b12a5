package syncml_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// The -update flag rewrites golden files. It is shared with the WBXML golden
// tests of this package; whichever file is compiled defines it once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files from the current encoders")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixtures returns the XML message fixtures, name → content.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "messages", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 32 {
		t.Fatalf("found %d fixtures, want at least 32", len(paths))
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestXML_GoldenRoundTrip decodes every fixture, encodes it canonically,
// compares with testdata/golden/NAME.xml, and checks that the golden and the
// indented form decode to the same model.
func TestXML_GoldenRoundTrip(t *testing.T) {
	for name, in := range fixtures(t) {
		t.Run(strings.TrimSuffix(name, ".xml"), func(t *testing.T) {
			m, err := syncml.DecodeXML(in, nil)
			if err != nil {
				t.Fatalf("decode fixture: %v", err)
			}
			out, err := syncml.EncodeXML(m)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			golden := filepath.Join("testdata", "golden", name)
			if updating() {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -run Golden -update): %v", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("canonical encoding differs from %s\n got: %s\nwant: %s", golden, out, want)
			}
			again, err := syncml.DecodeXML(want, nil)
			if err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if !reflect.DeepEqual(m, again) {
				t.Errorf("golden decodes to a different model\nfirst:  %s\nsecond: %s", dump(t, m), dump(t, again))
			}
			pretty, err := syncml.EncodeXMLIndent(m)
			if err != nil {
				t.Fatalf("indent: %v", err)
			}
			fromPretty, err := syncml.DecodeXML(pretty, nil)
			if err != nil {
				t.Fatalf("decode indented: %v\n%s", err, pretty)
			}
			if !reflect.DeepEqual(m, fromPretty) {
				t.Errorf("indented form decodes to a different model\nfirst:  %s\nsecond: %s", dump(t, m), dump(t, fromPretty))
			}
		})
	}
}

func dump(t testing.TB, m *syncml.Message) string {
	t.Helper()
	b, err := syncml.ToJSON(m)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
