package dmtree_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from golden:\n%s", name, got)
	}
}

func tndsValue(b []byte) dmtree.Value {
	return dmtree.Value{Format: "xml", Type: syncml.TypeTNDSXML, Data: b}
}

func TestTNDS_AddCreatesSubtreeAndSerialisesToGolden(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./T", interior))
	must(t, tr.Add("", ".", tndsValue(readFixture(t, "add.tnds.xml"))))
	rs, err := tr.Get("", "./T/Acc/Nonce")
	must(t, err)
	if rs[0].Format != "bin" || !bytes.Equal(rs[0].Data, []byte{0, 1, 2}) {
		t.Fatalf("Nonce = %+v", rs[0])
	}
	full, err := tr.TNDS("", "./T/Acc", dmtree.PropAll)
	must(t, err)
	golden(t, "acc_all.golden.xml", full)
	rs, err = tr.Get("", "./T/Acc?list=TNDS+ACL+Value")
	must(t, err)
	if rs[0].Type != syncml.TypeTNDSXML {
		t.Fatalf("TNDS result type %q", rs[0].Type)
	}
	golden(t, "acc_acl_value.golden.xml", rs[0].Data)

	// What was serialised adds back to an identical subtree elsewhere.
	must(t, tr.Add("", "./U", interior))
	must(t, tr.Add("", "./U", tndsValue(bytes.Replace(full, []byte("<Path>./T</Path>"), nil, 1))))
	again, err := tr.TNDS("", "./U/Acc", dmtree.PropAll)
	must(t, err)
	if !bytes.Equal(bytes.Replace(again, []byte("./U"), []byte("./T"), 1), full) {
		t.Fatalf("round trip differs:\n%s", again)
	}
}

func TestTNDS_AddIsAllOrNothing(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./T", interior))
	before, _ := tr.TNDS("", ".", dmtree.PropAll)
	err := tr.Add("", ".", tndsValue(readFixture(t, "add_bad_int.tnds.xml")))
	if code(err) != 415 || dmtree.FailedURI(err) != "./T/Acc/Port" {
		t.Fatalf("bad TNDS Add = %v at %q", err, dmtree.FailedURI(err))
	}
	after, _ := tr.TNDS("", ".", dmtree.PropAll)
	if !bytes.Equal(before, after) {
		t.Fatalf("failed TNDS Add changed the tree:\n%s", after)
	}
	if err := tr.Add("", ".", tndsValue([]byte("<MgmtTree><Node>"))); code(err) != 400 {
		t.Fatalf("malformed TNDS = %v", err)
	}
}

func TestTNDS_ReplaceReplacesWholeSubtree(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./T", interior))
	must(t, tr.Add("", ".", tndsValue(readFixture(t, "add.tnds.xml"))))
	doc := []byte(`<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName></NodeName>
	<RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
	<Node><NodeName>AppID</NodeName><Value>w8</Value></Node>
	<Node><NodeName>New</NodeName><RTProperties><Format><int/></Format></RTProperties><Value>1</Value></Node>
	</Node></MgmtTree>`)
	must(t, tr.Replace("", "./T/Acc", tndsValue(doc)))
	info, err := tr.Info("./T/Acc")
	must(t, err)
	if got := len(info.Children); got != 2 || info.Children[0] != "AppID" || info.Children[1] != "New" {
		t.Fatalf("children after TNDS Replace: %v", info.Children)
	}
	rs, _ := tr.Get("", "./T/Acc/AppID")
	if string(rs[0].Data) != "w8" {
		t.Fatalf("AppID = %s", rs[0].Data)
	}
}

func TestTx_RollbackLeavesTreeByteIdentical(t *testing.T) {
	tr := fixture(t)
	before, err := tr.TNDS("", ".", dmtree.PropAll)
	must(t, err)
	tx := tr.Begin()
	must(t, tx.Add("S1", "./A/N1", chr("1")))
	must(t, tx.Replace("S1", "./A/L", chr("changed")))
	must(t, tx.Replace("S1", "./A/L?prop=Name", chr("L9")))
	must(t, tx.Delete("S1", "./A/I"))
	must(t, tx.Add("S1", "./A/I", interior))
	must(t, tx.Copy("S1", "./A/C", "./A/G"))
	must(t, tx.Add("S9", "./Z/Y/X", chr("deep")))
	if err := tx.Replace("S1", "./A/Missing", chr("x")); code(err) != 404 {
		t.Fatalf("last command = %v, want 404", err)
	}
	must(t, tx.Rollback())
	after, err := tr.TNDS("", ".", dmtree.PropAll)
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Fatalf("rollback is not byte-identical:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The tree stays fully usable and a committed Tx sticks.
	tx = tr.Begin()
	must(t, tx.Add("S1", "./A/N1", chr("1")))
	must(t, tx.Commit())
	if _, err := tr.Get("S1", "./A/N1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Add("S1", "./A/N2", chr("1")); code(err) != 500 {
		t.Fatalf("use after commit: %v", err)
	}
}

func TestDDF_ParseExportRoundTrip(t *testing.T) {
	d, err := dmtree.ParseDDF(readFixture(t, "perm.ddf.xml"))
	must(t, err)
	out := d.Marshal()
	d2, err := dmtree.ParseDDF(out)
	must(t, err)
	if !bytes.Equal(d2.Marshal(), out) {
		t.Fatal("DDF marshal is not stable")
	}
	tr := fixture(t)
	exp, err := tr.ExportDDF("./P")
	must(t, err)
	golden(t, "perm_export.golden.xml", exp)
	if _, err := dmtree.ParseDDF([]byte("<MgmtTree><Node><NodeName>x</NodeName></Node></MgmtTree>")); code(err) != 400 {
		t.Fatalf("DDF without DFProperties: %v", err)
	}
}

// OMA-TS-DM_TNDS-V1_2, TNDS syntax: Type is a DDFName for interior nodes
// and a MIME type for leaves. A node that only continues the path to its
// children, or an interior node written without Format (?list=TNDS-Format),
// reads back as interior; an existing interior node named on the way to new
// children in an Add stays as it is.
func TestTNDS_ContinuationNodesStayInterior(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./T/Empty", interior))
	must(t, tr.Add("", "./T/Leaf", chr("v")))
	rs, err := tr.Get("", "./T?list=TNDS-Format")
	must(t, err)
	doc := bytes.Replace(rs[0].Data, []byte("<Path>.</Path>"), []byte("<Path>./U</Path>"), 1)
	must(t, tr.Add("", "./U", interior))
	must(t, tr.Add("", ".", tndsValue(doc)))
	for uri, want := range map[string]bool{"./U/T": true, "./U/T/Empty": true, "./U/T/Leaf": false} {
		info, err := tr.Info(uri)
		must(t, err)
		if info.Interior != want {
			t.Errorf("%s interior = %v, want %v", uri, info.Interior, want)
		}
	}

	// Add naming the existing ./T on the way to a new child: ./T stays.
	must(t, tr.Replace("", "./T?prop=ACL", chr("Get=*&Add=S1")))
	before, err := tr.Info("./T")
	must(t, err)
	cont := []byte(`<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>T</NodeName><Path>.</Path>
	<Node><NodeName>New</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>n</Value></Node>
	</Node></MgmtTree>`)
	must(t, tr.Add("S1", ".", tndsValue(cont)))
	after, err := tr.Info("./T")
	must(t, err)
	if !after.Interior || after.ACL != before.ACL || after.VerNo != before.VerNo || len(after.Children) != 3 {
		t.Fatalf("continuation node changed: %+v -> %+v", before, after)
	}
	// A node named again without new children is still an Add of an existing node.
	if err := tr.Add("S1", ".", tndsValue([]byte(`<MgmtTree><Node><NodeName>T</NodeName><Path>.</Path><RTProperties><Format><node/></Format></RTProperties></Node></MgmtTree>`))); code(err) != 418 {
		t.Fatalf("Add of the existing ./T alone: %v, want 418", err)
	}
}

// OMA-TS-DM_TND-V1_2, ACL: an ACL carried inside a TNDS object is set under the rules of
// Replace ?prop=ACL: Replace on the parent, or for an interior node Replace
// in its own ACL. A server cannot grant itself rights it does not hold, and
// the refused Add leaves the tree unchanged.
func TestTNDS_ACLInsideFollowsTheRulesOfReplaceACL(t *testing.T) {
	leafWithACL := func(acl string) dmtree.Value {
		return tndsValue([]byte(`<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>L</NodeName><Path>./P</Path>
		<RTProperties><ACL>` + strings.ReplaceAll(acl, "&", "&amp;") + `</ACL><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>v</Value></Node></MgmtTree>`))
	}
	tests := []struct {
		name      string
		parentACL string
		principal string
		doc       dmtree.Value
		want      syncml.StatusCode
	}{
		{"leaf ACL without Replace on the parent", "Add=S1", "S1", leafWithACL("Get=S1&Replace=S1"), syncml.StatusPermissionDenied},
		{"leaf ACL with Replace on the parent", "Add=S1&Replace=S1", "S1", leafWithACL("Get=S1"), 200},
		{"the device sets any ACL", "Add=S1", "", leafWithACL("Get=S9"), 200},
		{"continuation node ACL without rights", "Add=S1&Get=*", "S1", tndsValue([]byte(`<MgmtTree><Node><NodeName>P</NodeName><Path>.</Path>
			<RTProperties><ACL>Add=S1&amp;Get=S1&amp;Replace=S1</ACL><Format><node/></Format></RTProperties>
			<Node><NodeName>N</NodeName><Value>x</Value></Node></Node></MgmtTree>`)), syncml.StatusPermissionDenied},
		{"new interior node: the creator rule gives Replace on it", "Add=S1", "S1", tndsValue([]byte(`<MgmtTree><Node><NodeName>I</NodeName><Path>./P</Path>
			<RTProperties><ACL>Add=S1&amp;Get=S1&amp;Replace=S1</ACL><Format><node/></Format></RTProperties></Node></MgmtTree>`)), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := dmtree.New(&dmtree.Options{Now: fixedNow, RootACL: "Add=*&Get=*"})
			must(t, tr.Add("", "./P", interior))
			must(t, tr.Replace("", "./P?prop=ACL", chr(tc.parentACL)))
			before, err := tr.TNDS("", ".", dmtree.PropAll)
			must(t, err)
			if got := code(tr.Add(tc.principal, ".", tc.doc)); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if tc.want.Success() {
				return
			}
			if after, _ := tr.TNDS("", ".", dmtree.PropAll); !bytes.Equal(before, after) {
				t.Fatalf("refused TNDS changed the tree:\n%s", after)
			}
		})
	}
}

// OMA-TS-DM_TNDS-V1_2, TNDS syntax: Type is mandatory; every leaf the
// encoder writes states its MIME type, text/plain when none was stored.
func TestTNDS_EncoderWritesTheMIMETypeOfEveryLeaf(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./T/Plain", dmtree.Value{Data: []byte("p")}))
	must(t, tr.Add("", "./T/Typed", dmtree.Value{Format: "bin", Type: "application/x-test", Data: []byte{1}}))
	for _, sel := range []string{"TNDS", "TNDS+Value", "TNDS-Type"} {
		rs, err := tr.Get("", "./T?list="+sel)
		must(t, err)
		doc, err := dmtree.ParseTNDS(rs[0].Data)
		must(t, err)
		types := map[string]string{}
		for _, n := range doc.Nodes[0].Children {
			types[n.Name] = n.Type()
		}
		if types["Plain"] != "text/plain" || types["Typed"] != "application/x-test" {
			t.Errorf("?list=%s: leaf types %v\n%s", sel, types, rs[0].Data)
		}
	}
}
