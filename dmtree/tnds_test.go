package dmtree_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
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
