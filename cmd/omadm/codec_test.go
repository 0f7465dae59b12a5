package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/syncml"
)

var codecFixtures = filepath.Join("..", "..", "syncml", "testdata", "messages")

// runCodec runs a freshly built command in-process with args and stdin.
func runCodec(t *testing.T, cmd *cobra.Command, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(bytes.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.Bytes(), err
}

func TestDecodeCmd_PrintsIndentedXMLForXMLAndWBXMLInput(t *testing.T) {
	file := filepath.Join(codecFixtures, "03-pkg2-status212-nextnonce.xml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := syncml.DecodeXML(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCodec(t, newDecodeCmd(), nil, file)
	if err != nil {
		t.Fatalf("decode FILE: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("<?xml")) || !bytes.Contains(out, []byte("\n  <SyncHdr>")) {
		t.Errorf("not indented XML:\n%s", out)
	}
	got, err := syncml.DecodeXML(out, nil)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("printed XML decodes to a different message (%v)", err)
	}

	wb, err := runCodec(t, newEncodeCmd(), src, "--to", "wbxml", "-")
	if err != nil {
		t.Fatalf("encode --to wbxml: %v", err)
	}
	if len(wb) == 0 || wb[0] > 3 {
		t.Fatalf("encode --to wbxml wrote % x", wb[:min(len(wb), 8)])
	}
	fromWB, err := runCodec(t, newDecodeCmd(), wb)
	if err != nil {
		t.Fatalf("decode of WBXML from stdin: %v", err)
	}
	if !bytes.Contains(fromWB, []byte("<NextNonce xmlns=\"syncml:metinf\">AP8Q7yCxgn5/AAGtvs4N8A==</NextNonce>")) {
		t.Errorf("WBXML decoded to:\n%s", fromWB)
	}
}

func TestDecodeCmd_JSONListsCommandsInOrder(t *testing.T) {
	out, err := runCodec(t, newDecodeCmd(), nil, "--json", filepath.Join(codecFixtures, "10-atomic-nested.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	prev := -1
	for _, name := range []string{`"cmd": "Atomic"`, `"cmd": "Add"`, `"cmd": "Replace"`, `"cmd": "Delete"`, `"cmd": "Copy"`, `"cmd": "Alert"`} {
		i := strings.Index(s, name)
		if i <= prev {
			t.Fatalf("%s missing or out of order in:\n%s", name, s)
		}
		prev = i
	}
}

func TestEncodeCmd_WritesCanonicalXML(t *testing.T) {
	file := filepath.Join(codecFixtures, "31-doctype.xml")
	out, err := runCodec(t, newEncodeCmd(), nil, "--to", "xml", file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>`)) {
		t.Errorf("output: %s", out)
	}
}

func TestCodecCmds_RejectBadInputNamingOffsetAndElement(t *testing.T) {
	bad := []byte(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody><Status><CmdID>1</CmdID><Data>OK</Data></Status></SyncBody></SyncML>`)
	tests := []struct {
		name  string
		cmd   *cobra.Command
		stdin []byte
		args  []string
		want  string
	}{
		{"non-integer status", newDecodeCmd(), bad, nil, `stdin: not a valid xml DM message: offset 77 (in <Data>): status code "OK" is not an integer`},
		{"truncated", newDecodeCmd(), bad[:60], []string{"-"}, "unexpected end of input"},
		{"neither XML nor WBXML", newDecodeCmd(), []byte("hello"), nil, "neither XML nor WBXML"},
		{"missing file", newDecodeCmd(), nil, []string{"/nonexistent/msg.xml"}, "no such file"},
		{"bad target encoding", newEncodeCmd(), bad, []string{"--to", "json"}, `--to "json": want wbxml or xml`},
		{"encode of bad input", newEncodeCmd(), bad, []string{"--to", "xml"}, "offset 77 (in <Data>)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCodec(t, tc.cmd, tc.stdin, tc.args...)
			if err == nil {
				t.Fatalf("succeeded with output %q", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// corpusFile returns a file of the interop corpus beside the checkout, or
// skips when the corpus is absent.
func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("OMADM_INTEROP_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "interop-corpus")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("interop corpus file %s not found (set OMADM_INTEROP_CORPUS or put shared/ beside the checkout): %v", rel, err)
	}
	return p
}

// WBXML 1.3 §5.8.4.6: OPAQUE is a transport form. libdmclient sends every
// Data as OPAQUE with Meta Format chr; decode shows the values as text, in
// XML and in the JSON view, not as base64.
func TestDecodeCmd_ShowsOpaqueChrDataAsText(t *testing.T) {
	file := corpusFile(t, filepath.Join("captures", "libdmclient-pkg1-opaque-chr.wbxml"))
	out, err := runCodec(t, newDecodeCmd(), nil, file)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	m, err := syncml.DecodeXML(out, nil)
	if err != nil {
		t.Fatalf("printed XML: %v", err)
	}
	var man *syncml.Item
	for _, c := range m.Body {
		for i, it := range syncml.ItemsOf(c) {
			if it.Source != nil && it.Source.LocURI == "./DevInfo/Man" {
				man = &syncml.ItemsOf(c)[i]
			}
		}
	}
	if man == nil || man.Data == nil || man.Data.Kind != syncml.DataText || man.Meta == nil || man.Meta.Format != "chr" {
		t.Fatalf("./DevInfo/Man printed as %+v, want chr text", man)
	}
	js, err := runCodec(t, newDecodeCmd(), nil, file, "--json")
	if err != nil {
		t.Fatalf("decode --json: %v", err)
	}
	if bytes.Contains(js, []byte(`"kind":"opaque"`)) || bytes.Contains(js, []byte(`"kind": "opaque"`)) {
		t.Errorf("JSON view still shows opaque data:\n%s", js)
	}
	if !bytes.Contains(js, []byte(man.Data.String())) {
		t.Errorf("JSON view lacks the text %q", man.Data.String())
	}
}

// OMA-TS-DM_RepPro-V1_2 §5: a DM message is a SyncML element with VerProto
// DM/1.x. decode refuses a DS message, a bare DevInf and a bare DDF with an
// error naming the element.
func TestDecodeCmd_RefusesNonDMDocumentsNamingTheElement(t *testing.T) {
	for rel, want := range map[string]string{
		"libwbxml/syncml-005.xml": "<Sync>",
		"libwbxml/syncml-007.xml": "<Map>",
		"libwbxml/syncml-011.xml": "<DevInf>",
		"libwbxml/ddf-001.ddf":    "<MgmtTree>",
	} {
		t.Run(rel, func(t *testing.T) {
			file := corpusFile(t, rel)
			_, err := runCodec(t, newDecodeCmd(), nil, file)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), file) {
				t.Errorf("decode %s: %v; want an error naming the file and %s", rel, err, want)
			}
		})
	}
}
