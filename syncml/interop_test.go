package syncml_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// libwbxmlTools returns the paths of xml2wbxml and wbxml2xml, or skips the
// test when libwbxml2-utils is not installed.
func libwbxmlTools(t *testing.T) (string, string) {
	t.Helper()
	x2w, err1 := exec.LookPath("xml2wbxml")
	w2x, err2 := exec.LookPath("wbxml2xml")
	if err1 != nil || err2 != nil {
		t.Skip("libwbxml interop skipped: xml2wbxml/wbxml2xml not found (apt-get install -y libwbxml2-utils)")
	}
	return x2w, w2x
}

// TestInterop_LibwbxmlDecodesOurWBXMLToTheSameModel encodes every fixture with
// EncodeWBXML, converts it to XML with libwbxml's wbxml2xml and checks that
// the XML decodes to the same model as the fixture (representation-only
// differences such as OPAQUE vs CDATA are normalised).
func TestInterop_LibwbxmlDecodesOurWBXMLToTheSameModel(t *testing.T) {
	_, w2x := libwbxmlTools(t)
	dir := t.TempDir()
	for _, f := range xmlFixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := decodeXMLFile(t, f)
			enc, err := syncml.EncodeWBXML(want)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, filepath.Base(f)+".wbxml")
			out := filepath.Join(dir, filepath.Base(f)+".out.xml")
			if err := os.WriteFile(in, enc, 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(w2x, "-m", "0", "-k", "-o", out, in).CombinedOutput(); err != nil {
				t.Fatalf("wbxml2xml rejected our encoding: %v\n%s", err, b)
			}
			x, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := syncml.DecodeXML(x, nil)
			if err != nil {
				t.Fatalf("decoding wbxml2xml output: %v\n%s", err, x)
			}
			if diff := diffModels(want, got, true); diff != "" {
				t.Errorf("libwbxml reads a different message: %s", diff)
			}
		})
	}
}

// TestInterop_OurDecoderReadsLibwbxmlOutput converts every fixture with
// libwbxml's xml2wbxml (string table on for small messages, so STR_T is
// exercised) and checks DecodeWBXML gives the model DecodeXML gives.
func TestInterop_OurDecoderReadsLibwbxmlOutput(t *testing.T) {
	x2w, _ := libwbxmlTools(t)
	dir := t.TempDir()
	for _, f := range xmlFixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := decodeXMLFile(t, f)
			out := filepath.Join(dir, filepath.Base(f)+".wbxml")
			args := []string{"-k", "-o", out, f}
			if st, err := os.Stat(f); err == nil && st.Size() > 20<<10 {
				args = append([]string{"-n"}, args...) // libwbxml's string table is quadratic
			}
			if b, err := exec.Command(x2w, args...).CombinedOutput(); err != nil {
				t.Skipf("xml2wbxml cannot encode this fixture (libwbxml limitation): %v: %s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := syncml.DecodeWBXML(b, nil)
			if err != nil {
				t.Fatalf("DecodeWBXML(libwbxml output): %v", err)
			}
			if diff := diffModels(want, got, true); diff != "" {
				t.Errorf("libwbxml's encoding decodes to a different model: %s", diff)
			}
		})
	}
}

func decodeXMLFile(t *testing.T, f string) *syncml.Message {
	t.Helper()
	src, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m, err := syncml.DecodeXML(src, nil)
	if err != nil {
		t.Fatalf("DecodeXML(%s): %v", f, err)
	}
	return m
}
