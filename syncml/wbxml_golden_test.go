package syncml_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// The -update flag (shared with the XML golden tests: whichever file runs
// first defines it) rewrites testdata/wbxml from the XML fixtures.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files from the current encoders")
	}
}

func updatingWBXML() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// xmlFixtures lists the XML message fixtures (bench files included).
func xmlFixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "messages", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no XML fixtures in testdata/messages: %v", err)
	}
	return files
}

func goldenPath(xmlFile string) string {
	base := strings.TrimSuffix(filepath.Base(xmlFile), ".xml")
	return filepath.Join("testdata", "wbxml", base+".wbxml")
}

// TestWBXMLGolden_XMLFixtureEncodesToGoldenBytes checks that every XML fixture
// decodes to a model whose WBXML encoding is byte-identical to the committed
// golden file, that the golden file decodes back to the same model, and that
// re-encoding that model gives the same bytes again (WBXML→model→WBXML).
func TestWBXMLGolden_XMLFixtureEncodesToGoldenBytes(t *testing.T) {
	for _, f := range xmlFixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fromXML, err := syncml.DecodeXML(src, nil)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			enc, err := syncml.EncodeWBXML(fromXML)
			if err != nil {
				t.Fatalf("EncodeWBXML: %v", err)
			}
			gp := goldenPath(f)
			if updatingWBXML() {
				if err := os.WriteFile(gp, enc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("golden file missing (run go test ./syncml -run WBXMLGolden -update): %v", err)
			}
			if !bytes.Equal(enc, golden) {
				t.Errorf("encoding differs from %s (len %d vs %d)", gp, len(enc), len(golden))
			}
			fromWBXML, err := syncml.DecodeWBXML(golden, nil)
			if err != nil {
				t.Fatalf("DecodeWBXML(golden): %v", err)
			}
			if diff := diffModels(fromXML, fromWBXML, false); diff != "" {
				t.Errorf("XML and WBXML give different models: %s", diff)
			}
			again, err := syncml.EncodeWBXML(fromWBXML)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, golden) {
				t.Errorf("WBXML→model→WBXML is not byte-exact")
			}
		})
	}
}

// TestDecodeWBXML_IsSafeForConcurrentUse decodes every golden file from
// several goroutines at once (decoders are pooled) and checks each result.
func TestDecodeWBXML_IsSafeForConcurrentUse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "wbxml", "*.wbxml"))
	type doc struct {
		b    []byte
		want *syncml.Message
	}
	var docs []doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := syncml.DecodeWBXML(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{b, m})
	}
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		go func() {
			msg := ""
			for i := 0; i < 3 && msg == ""; i++ {
				for _, d := range docs {
					m, err := syncml.DecodeWBXML(d.b, nil)
					if err != nil {
						msg = err.Error()
						break
					}
					if diff := diffModels(d.want, m, false); diff != "" {
						msg = diff
						break
					}
				}
			}
			errs <- msg
		}()
	}
	for g := 0; g < 4; g++ {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}
