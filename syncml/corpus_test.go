package syncml_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// The interop corpus holds documents this project did not write: libwbxml's
// SyncML/DDF test documents, Microsoft-published DM messages and captures of
// real DM clients. It lives beside the checkout (../shared/interop-corpus,
// see its README); OMADM_INTEROP_CORPUS points elsewhere.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OMADM_INTEROP_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "interop-corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("interop corpus not found at %s (set OMADM_INTEROP_CORPUS or put shared/ beside the checkout): %v", dir, err)
	}
	return dir
}

func readCorpus(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusDoc is one XML document of the corpus, completed into a whole
// message where it was published as a fragment.
type corpusDoc struct {
	name string
	xml  []byte
	// refused names the element a non-DM document is refused for ("" for a
	// DM document).
	refused string
}

// The libwbxml documents and what a DM codec must make of them (the
// corpus README's table): DM-compatible messages decode, DS/DevInf/DDF
// documents are refused naming the element.
var libwbxmlRefused = map[string]string{
	"syncml-003.xml":          "<Put>",
	"syncml-005.xml":          "<Sync>",
	"syncml-006.xml":          "<Sync>",
	"syncml-007.xml":          "<Map>",
	"syncml-009.xml":          "<Sync>",
	"syncml-010.xml":          "<Sync>",
	"syncml-011.xml":          "<DevInf>",
	"syncml-013.xml":          "<SyncHdr>", // a DS Sync without a header
	"syncml-014.xml":          "<SyncHdr>",
	"syncml_with_ddf-001.xml": "<Sync>",
	"ddf-001.ddf":             "<MgmtTree>",
}

func corpusDocs(t *testing.T) []corpusDoc {
	t.Helper()
	dir := corpusDir(t)
	var docs []corpusDoc
	paths, _ := filepath.Glob(filepath.Join(dir, "libwbxml", "*.xml"))
	ddf, _ := filepath.Glob(filepath.Join(dir, "libwbxml", "*.ddf"))
	for _, p := range append(paths, ddf...) {
		base := filepath.Base(p)
		docs = append(docs, corpusDoc{name: "libwbxml/" + base, xml: readCorpus(t, p), refused: libwbxmlRefused[base]})
	}
	ms, _ := filepath.Glob(filepath.Join(dir, "msdocs", "*.xml"))
	for _, p := range ms {
		docs = append(docs, corpusDoc{name: "msdocs/" + filepath.Base(p), xml: completeMessage(readCorpus(t, p))})
	}
	docs = append(docs, corpusDoc{name: "captures/hs20-osu-client-oma_dm_prov-pkg1.xml",
		xml: readCorpus(t, filepath.Join(dir, "captures", "hs20-osu-client-oma_dm_prov-pkg1.xml"))})
	if len(docs) < 28 {
		t.Fatalf("found %d corpus documents, want the whole corpus (28)", len(docs))
	}
	return docs
}

// completeMessage turns a published fragment or a message without SyncHdr
// into a whole message (the msdocs README asks tests to do so, leaving the
// files as they are).
func completeMessage(b []byte) []byte {
	const hdr = `<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>` +
		`<MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>https://dm.example/</LocURI></Source></SyncHdr>`
	s := string(b)
	if !strings.Contains(s, "<SyncML") {
		if !strings.Contains(s, "<SyncBody") {
			s = "<SyncBody>" + s + "</SyncBody>"
		}
		if !strings.Contains(s, "<SyncHdr") {
			s = hdr + s
		}
		return []byte(`<SyncML xmlns="SYNCML:SYNCML1.2">` + s + `</SyncML>`)
	}
	if !strings.Contains(s, "<SyncHdr") {
		i := strings.Index(s, "<SyncML")
		j := strings.IndexByte(s[i:], '>') + i + 1
		s = s[:j] + hdr + s[j:]
	}
	return []byte(s)
}

// xml2wbxmlOptions are the libwbxml 0.11 option sets every DM document goes
// through (xml2wbxml -h): keep ignorable whitespace or not, with or without
// a string table, each WBXML version DM allows (1.1-1.3; 1.0 has no
// SyncML public id and is not used by DM), and the anonymous form without a
// public id.
var xml2wbxmlOptions = [][]string{
	{}, {"-k"}, {"-n"}, {"-k", "-n"}, {"-v", "1.1"}, {"-v", "1.2"}, {"-v", "1.3"}, {"-a"}, {"-k", "-a", "-v", "1.1"},
}

func runXML2WBXML(t *testing.T, x2w, dir string, xml []byte, opts []string) ([]byte, error) {
	t.Helper()
	in := filepath.Join(dir, "in.xml")
	out := filepath.Join(dir, "out.wbxml")
	_ = os.Remove(out)
	if err := os.WriteFile(in, xml, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, opts...), "-o", out, in)
	if b, err := exec.Command(x2w, args...).CombinedOutput(); err != nil {
		return nil, errors.New(strings.TrimSpace(string(b)))
	}
	return os.ReadFile(out)
}

// TestCorpus_DMDocumentsRoundTripThroughLibwbxml: every DM document of the
// corpus decodes, keeps its tree through our encoders, and libwbxml agrees
// both ways: xml2wbxml (each option set) → DecodeWBXML, and EncodeWBXML →
// wbxml2xml → DecodeXML give the tree DecodeXML gives (parsed trees are
// compared, not text; CDATA and text are one thing, as WBXML has no CDATA).
// OMA-TS-DM_RepPro-V1_2 (WBXML binding): a DM message is the same in XML and
// in WBXML 1.1-1.3.
func TestCorpus_DMDocumentsRoundTripThroughLibwbxml(t *testing.T) {
	docs := corpusDocs(t)
	x2w, w2x := libwbxmlTools(t)
	tmp := t.TempDir()
	for _, doc := range docs {
		if doc.refused != "" {
			continue
		}
		t.Run(doc.name, func(t *testing.T) {
			want, err := syncml.DecodeXML(doc.xml, nil)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			// Our own round trips.
			for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
				b, err := syncml.Encode(want, enc)
				if err != nil {
					t.Fatalf("Encode %s: %v", enc, err)
				}
				got, _, err := syncml.Decode(b, enc.ContentType(), nil)
				if err != nil {
					t.Fatalf("Decode of our %s: %v", enc, err)
				}
				if diff := diffModels(want, got, enc == syncml.EncodingWBXML); diff != "" {
					t.Errorf("%s round trip: %s", enc, diff)
				}
			}
			// libwbxml's encoding → our decoder.
			for _, opts := range xml2wbxmlOptions {
				b, err := runXML2WBXML(t, x2w, tmp, doc.xml, opts)
				if err != nil {
					t.Logf("xml2wbxml %v cannot encode this document (a libwbxml limitation, not ours): %v", opts, err)
					continue
				}
				got, err := syncml.DecodeWBXML(b, nil)
				if err != nil {
					t.Errorf("DecodeWBXML(xml2wbxml %v): %v", opts, err)
					continue
				}
				w := want
				if !slices.Contains(opts, "-k") {
					// Without -k libwbxml drops the whitespace at both ends
					// of every text: compare with it trimmed on both sides.
					w = trimmedCopy(t, doc.xml)
					trimSpace(reflect.ValueOf(got))
				}
				if diff := diffModels(w, got, true); diff != "" {
					t.Errorf("xml2wbxml %v decodes to another tree: %s", opts, diff)
				}
			}
			// Our encoding → libwbxml's decoder.
			b, err := syncml.EncodeWBXML(want)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(tmp, "ours.wbxml")
			out := filepath.Join(tmp, "ours.xml")
			if err := os.WriteFile(in, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.Command(w2x, "-m", "0", "-k", "-o", out, in).CombinedOutput(); err != nil {
				t.Fatalf("wbxml2xml rejected our encoding: %v\n%s", err, msg)
			}
			x := readCorpus(t, out)
			got, err := syncml.DecodeXML(x, nil)
			if err != nil {
				t.Fatalf("DecodeXML(wbxml2xml of ours): %v\n%s", err, x)
			}
			if diff := diffModels(want, got, true); diff != "" {
				t.Errorf("wbxml2xml reads our encoding as another tree: %s", diff)
			}
		})
	}
}

// TestCorpus_NonDMDocumentsAreRefusedNamingTheElement: DS messages (Sync,
// Map, Put), a bare DevInf and a bare DDF MgmtTree are refused with an error
// that names the element, in XML and in libwbxml's WBXML, never half-decoded.
// OMA-TS-DM_RepPro-V1_2 §5: a DM message is a SyncML element whose VerProto
// is DM/1.x.
func TestCorpus_NonDMDocumentsAreRefusedNamingTheElement(t *testing.T) {
	docs := corpusDocs(t)
	x2w, err := exec.LookPath("xml2wbxml")
	tmp := t.TempDir()
	for _, doc := range docs {
		if doc.refused == "" {
			continue
		}
		t.Run(doc.name, func(t *testing.T) {
			m, err := syncml.DecodeXML(doc.xml, nil)
			checkRefused(t, "XML", m, err, doc.refused)
			if x2w == "" {
				return
			}
			b, xerr := runXML2WBXML(t, x2w, tmp, doc.xml, nil)
			if xerr != nil {
				t.Logf("xml2wbxml cannot encode this document (%v); WBXML side not checked", xerr)
				return
			}
			m, err = syncml.DecodeWBXML(b, nil)
			name := strings.Trim(doc.refused, "<>")
			if errors.As(err, new(*syncml.DecodeError)) && !strings.Contains(err.Error(), name) {
				t.Errorf("WBXML: error %q does not name %s", err, name)
			}
			if err == nil {
				t.Errorf("WBXML: decoded %+v, want it refused", m.Header)
			}
		})
	}
	if err != nil {
		t.Log("xml2wbxml not found: the WBXML side of the refusals is not checked")
	}
}

func checkRefused(t *testing.T, enc string, m *syncml.Message, err error, element string) {
	t.Helper()
	var de *syncml.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%s: decoded %+v (err %v), want a *DecodeError naming %s", enc, m, err, element)
	}
	if !strings.Contains(err.Error(), element) {
		t.Errorf("%s: error %q does not name %s", enc, err, element)
	}
}

// The libdmclient capture sends every Data as OPAQUE although its Meta
// Format is chr: the values are text (WBXML 1.3 §5.8.4.6: OPAQUE is a
// transport form; OMA-TS-DM_RepPro-V1_2, WBXML binding).
func TestCorpus_LibdmclientOpaqueChrDecodesAsText(t *testing.T) {
	dir := corpusDir(t)
	b := readCorpus(t, filepath.Join(dir, "captures", "libdmclient-pkg1-opaque-chr.wbxml"))
	if !bytes.Contains(b, []byte{0xC3}) {
		t.Fatal("capture holds no OPAQUE: not the document this test is about")
	}
	m, enc, err := syncml.Decode(b, "application/vnd.syncml+wbxml", nil)
	if err != nil || enc != syncml.EncodingWBXML {
		t.Fatalf("Decode: %v (%s)", err, enc)
	}
	var found bool
	for _, c := range m.Body {
		for _, it := range syncml.ItemsOf(c) {
			if it.Data == nil {
				continue
			}
			if it.Data.Kind == syncml.DataOpaque {
				t.Errorf("%s item %v: Data still binary: % x", c.CommandName(), it.Source, it.Data.Value)
			}
			if it.Source != nil && it.Source.LocURI == "./DevInfo/Man" {
				found = true
				if it.Data.Kind != syncml.DataText || it.Data.String() == "" || !strings.ContainsFunc(it.Data.String(), func(r rune) bool { return r >= 'A' && r <= 'z' }) {
					t.Errorf("./DevInfo/Man = kind %d %q, want readable text", it.Data.Kind, it.Data.Value)
				}
			}
		}
	}
	if !found {
		t.Fatal("no ./DevInfo/Man item in the capture")
	}
	// libwbxml reads the capture as the same tree.
	if _, w2x := libwbxmlTools(t); w2x != "" {
		tmp := t.TempDir()
		in, out := filepath.Join(tmp, "c.wbxml"), filepath.Join(tmp, "c.xml")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(w2x, "-m", "0", "-k", "-o", out, in).CombinedOutput(); err != nil {
			t.Fatalf("wbxml2xml: %v\n%s", err, msg)
		}
		x, err := syncml.DecodeXML(readCorpus(t, out), nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := diffModels(x, m, true); diff != "" {
			t.Errorf("libwbxml reads the capture as another tree: %s", diff)
		}
	}
}

// trimmedCopy decodes x afresh with every text trimmed of surrounding
// whitespace.
func trimmedCopy(t *testing.T, x []byte) *syncml.Message {
	t.Helper()
	m, err := syncml.DecodeXML(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	trimSpace(reflect.ValueOf(m))
	return m
}

// trimSpace trims surrounding whitespace from every string and text Data
// value reachable from v, in place.
func trimSpace(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			trimSpace(v.Elem())
		}
	case reflect.Struct:
		if d, ok := v.Addr().Interface().(*syncml.Data); ok {
			switch d.Kind {
			case syncml.DataXML:
				d.Value = trimXMLText(d.Value)
			case syncml.DataOpaque:
			default:
				d.Value = bytes.TrimSpace(d.Value)
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			trimSpace(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			trimSpace(v.Index(i))
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(strings.TrimSpace(v.String()))
		}
	}
}

// trimXMLText re-serialises nested XML with the text of every element
// trimmed of surrounding whitespace (what libwbxml does without -k).
func trimXMLText(b []byte) []byte {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			tok = xml.CharData(bytes.TrimSpace(cd))
		}
		if err := enc.EncodeToken(tok); err != nil {
			return b
		}
	}
	if err := enc.Flush(); err != nil {
		return b
	}
	return out.Bytes()
}
