package dmtree_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

func getOne(t *testing.T, tr *dmtree.Tree, principal, uri string) dmtree.Result {
	t.Helper()
	rs, err := tr.Get(principal, uri)
	if err != nil {
		t.Fatalf("Get %s: %v", uri, err)
	}
	if len(rs) != 1 {
		t.Fatalf("Get %s: %d results", uri, len(rs))
	}
	return rs[0]
}

func TestLookup_CaseInsensitiveWhereDDFSaysCIS(t *testing.T) {
	tr := fixture(t)
	d, err := dmtree.ParseDDF(readFixture(t, "cis.ddf.xml"))
	must(t, err)
	must(t, tr.Install(".", d))
	must(t, tr.Add("", "./Cis/Alpha", interior))
	must(t, tr.Add("", "./Cis/Alpha/Val", chr("v")))
	must(t, tr.Add("", "./Cis/Alpha/Exact", chr("e")))

	tests := []struct {
		name    string
		uri     string
		want    syncml.StatusCode
		wantURI string
	}{
		{"exact case", "./Cis/Alpha/Val", 200, "./Cis/Alpha/Val"},
		{"other case keeps created case", "./cIS/ALPHA/val", 200, "./Cis/Alpha/Val"},
		{"explicit CS below CIS is exact", "./cis/alpha/EXACT", 404, ""},
		{"explicit CS with exact case", "./cis/alpha/Exact", 200, "./Cis/Alpha/Exact"},
		{"subtree without CIS stays case-sensitive", "./a/l", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tr.Get("S1", tc.uri)
			if got := code(err); got != tc.want && !(tc.want == 200 && err == nil) {
				t.Fatalf("status %d, want %d (%v)", got, tc.want, err)
			}
			if tc.want == 200 && rs[0].URI != tc.wantURI {
				t.Fatalf("URI %q, want %q", rs[0].URI, tc.wantURI)
			}
		})
	}
	if err := tr.Add("S1", "./CIS/alpha", interior); code(err) != 418 {
		t.Fatalf("Add of a case variant under CIS: %v, want 418", err)
	}
	if err := tr.Replace("", "./cis/alpha/VAL", chr("w")); err != nil {
		t.Fatal(err)
	}
	if got := getOne(t, tr, "S1", "./Cis/Alpha/Val"); string(got.Data) != "w" {
		t.Fatalf("Replace through a case variant wrote %q", got.Data)
	}
	if err := tr.Replace("", "./Cis/Alpha?prop=Name", dmtree.Value{Data: []byte("ALPHA")}); err != nil {
		t.Fatalf("renaming to a case variant of itself: %v", err)
	}
	if got := getOne(t, tr, "S1", "./Cis"); string(got.Data) != "ALPHA" {
		t.Fatalf("child list after rename %q", got.Data)
	}
}

// apps is a plug-in whose children come from code.
type apps struct{ names []string }

func (*apps) Mounted(string) error { return nil }
func (a *apps) ListChildren(string) ([]string, error) {
	return a.names, nil
}
func (a *apps) GetValue(uri string) (dmtree.Value, error) {
	name := uri[strings.LastIndexByte(uri, '/')+1:]
	if !strings.HasPrefix(name, "app") || !slices.Contains(a.names, name) {
		return dmtree.Value{}, dmtree.ErrUseStored
	}
	return dmtree.Value{Format: "chr", Type: "text/plain", Data: []byte("ver-" + name)}, nil
}

func TestChildLister_AddsCodeProvidedChildren(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("", "./A/I/Stored", chr("s")))
	must(t, tr.Mount("./A/I", &apps{names: []string{"app1", "Stored", "app2"}}))

	if got := getOne(t, tr, "S1", "./A/I"); string(got.Data) != "Stored/app1/app2" {
		t.Fatalf("child list %q", got.Data)
	}
	if got := getOne(t, tr, "S1", "./A/I/app2"); string(got.Data) != "ver-app2" || got.URI != "./A/I/app2" {
		t.Fatalf("virtual leaf %+v", got)
	}
	rs, err := tr.Get("S1", "./A/I?list=StructData")
	must(t, err)
	var uris []string
	for _, r := range rs {
		uris = append(uris, r.URI+"="+string(r.Data))
	}
	want := []string{"./A/I=", "./A/I/Stored=s", "./A/I/app1=ver-app1", "./A/I/app2=ver-app2"}
	if !slices.Equal(uris, want) {
		t.Fatalf("StructData %q, want %q", uris, want)
	}
	doc, err := tr.TNDS("S1", "./A/I", dmtree.PropValue|dmtree.PropFormat)
	must(t, err)
	if !strings.Contains(string(doc), "<NodeName>app1</NodeName>") || !strings.Contains(string(doc), "<Value>ver-app1</Value>") {
		t.Fatalf("TNDS lacks the virtual leaf:\n%s", doc)
	}

	tests := []struct {
		name, principal, uri string
		want                 syncml.StatusCode
	}{
		{"server without Get on the parent", "S2", "./A/I/app1", 425},
		{"name the plug-in does not list", "S1", "./A/I/app3", 404},
		{"property of a virtual leaf", "S1", "./A/I/app1?prop=ACL", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tr.Get(tc.principal, tc.uri); code(err) != tc.want {
				t.Fatalf("status %d, want %d (%v)", code(err), tc.want, err)
			}
		})
	}
	if err := tr.Replace("S1", "./A/I/app1", chr("x")); code(err) != 404 {
		t.Fatalf("Replace of a virtual leaf: %v, want 404", err)
	}
}

func TestInbox_RelocatesManagementObjectsAndRefusesGet(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow, RootACL: "Add=*&Delete=*&Get=*"})
	must(t, tr.EnableInbox())
	must(t, tr.EnableInbox()) // idempotent, as at every start
	must(t, tr.Place("urn:test:acc", "./Acc"))
	must(t, tr.Place("urn:test:nap", "./Net/NAP"))

	must(t, tr.Add("S1", "./Inbox/m1", dmtree.Value{Format: "node", Type: "urn:test:acc"}))
	if info, err := tr.Info("./Acc/m1"); err != nil || info.Type != "urn:test:acc" {
		t.Fatalf("placed node: %+v %v", info, err)
	}
	must(t, tr.Add("S1", "./Inbox", dmtree.Value{Type: syncml.TypeTNDSXML, Format: "xml", Data: readFixture(t, "inbox.tnds.xml")}))
	if got := getOne(t, tr, "", "./Acc/acc1/Conn"); string(got.Data) != "./Net/NAP/nap1/Addr" {
		t.Fatalf("sibling reference not rewritten: %q", got.Data)
	}
	if got := getOne(t, tr, "", "./Net/NAP/nap1/Addr"); string(got.Data) != "internet" {
		t.Fatalf("second object: %q", got.Data)
	}

	tests := []struct {
		name string
		op   func() error
		want syncml.StatusCode
	}{
		{"Get of the Inbox", func() error { _, err := tr.Get("S1", "./Inbox"); return err }, 405},
		{"Get of a property of the Inbox", func() error { _, err := tr.Get("S1", "./Inbox?prop=ACL"); return err }, 405},
		{"Get below the Inbox", func() error { _, err := tr.Get("S1", "./Inbox/m1"); return err }, 405},
		{"TNDS of the Inbox", func() error { _, err := tr.TNDS("S1", "./Inbox", dmtree.PropAll); return err }, 405},
		{"leaf added to the Inbox", func() error { return tr.Add("S1", "./Inbox/x", chr("v")) }, 405},
		{"unregistered MO id", func() error {
			return tr.Add("S1", "./Inbox/x", dmtree.Value{Format: "node", Type: "urn:test:unknown"})
		}, 405},
		{"deeper target", func() error { return tr.Add("S1", "./Inbox/x/y", chr("v")) }, 405},
		{"placement clash", func() error {
			return tr.Add("S1", "./Inbox/m1", dmtree.Value{Format: "node", Type: "urn:test:acc"})
		}, 418},
		{"Inbox is permanent", func() error { return tr.Delete("S1", "./Inbox") }, 405},
		{"Copy into the Inbox", func() error { return tr.Copy("S1", "./Inbox/c", "./Acc/acc1/Conn") }, 405},
		{"Replace of the Inbox", func() error { return tr.Replace("S1", "./Inbox", dmtree.Value{Format: "node", Type: "x"}) }, 425},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); code(err) != tc.want {
				t.Fatalf("status %d, want %d (%v)", code(err), tc.want, err)
			}
		})
	}
	rs, err := tr.Get("S1", ".?list=Struct")
	must(t, err)
	for _, r := range rs {
		if strings.HasPrefix(r.URI, "./Inbox") {
			t.Fatalf("?list=Struct of the root shows %s", r.URI)
		}
	}
	// The device may remove the Inbox; a new node in its slot is ordinary.
	must(t, tr.Delete("", "./Inbox"))
	must(t, tr.Add("", "./Other", chr("o")))
	if r := getOne(t, tr, "S1", "./Other"); string(r.Data) != "o" {
		t.Fatalf("node after the Inbox: %+v", r)
	}
}

func TestRemoveServerID_StripsEveryACLAndRevertsRootCommands(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow, RootACL: "Add=*&Get=*&Replace=S1"})
	must(t, tr.Add("", "./A", interior))
	must(t, tr.Add("", "./A/B", chr("b")))
	must(t, tr.Add("", "./C", chr("c")))
	must(t, tr.Replace("", "./A?prop=ACL", dmtree.Value{Data: []byte("Get=S1+S2&Replace=S1")}))
	must(t, tr.Replace("", "./A/B?prop=ACL", dmtree.Value{Data: []byte("Delete=S1")}))
	must(t, tr.Replace("", "./C?prop=ACL", dmtree.Value{Data: []byte("Get=S2")}))

	n, err := tr.RemoveServerID("S1")
	must(t, err)
	if n != 3 {
		t.Fatalf("changed %d nodes, want 3", n)
	}
	for uri, want := range map[string]string{".": "Add=*&Get=*&Replace=*", "./A": "Get=S2", "./A/B": "", "./C": "Get=S2"} {
		info, err := tr.Info(uri)
		must(t, err)
		if info.ACL != want {
			t.Errorf("%s ACL %q, want %q", uri, info.ACL, want)
		}
	}
	if _, err := tr.RemoveServerID("*"); code(err) != 400 {
		t.Fatalf("removing '*': %v", err)
	}
}

func TestList_StructOmitsDefaultFormatAndType(t *testing.T) {
	tr := fixture(t)
	must(t, tr.Add("", "./D", interior))
	must(t, tr.Add("", "./D/T", dmtree.Value{Format: "chr", Type: "text/plain", Data: []byte("t")}))
	must(t, tr.Add("", "./D/N", dmtree.Value{Format: "int", Type: "text/plain", Data: []byte("3")}))
	must(t, tr.Add("", "./D/X", dmtree.Value{Format: "xml", Type: "application/xml", Data: []byte("<a/>")}))
	for _, list := range []string{"Struct", "StructData"} {
		rs, err := tr.Get("S1", "./D?list="+list)
		must(t, err)
		var got []string
		for _, r := range rs {
			got = append(got, r.URI+"|"+r.Format+"|"+r.Type)
		}
		want := []string{"./D|node|", "./D/T||", "./D/N|int|", "./D/X|xml|application/xml"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", list, got, want)
		}
	}
	// A plain Get keeps Format and Type for the engine to put in Meta.
	if r := getOne(t, tr, "S1", "./D/T"); r.Format != "chr" || r.Type != "text/plain" {
		t.Fatalf("plain Get %+v", r)
	}
}

func TestEnsure_ChangesOnlyDifferentValues(t *testing.T) {
	tr := fixture(t)
	before, err := tr.Info("./B")
	must(t, err)
	changed, err := tr.Ensure("./B", chr("b"))
	must(t, err)
	after, _ := tr.Info("./B")
	if changed || after.VerNo != before.VerNo {
		t.Fatalf("same value changed the node: %v, VerNo %d→%d", changed, before.VerNo, after.VerNo)
	}
	changed, err = tr.Ensure("./B", chr("new"))
	must(t, err)
	after, _ = tr.Info("./B")
	if !changed || after.VerNo != before.VerNo+1 {
		t.Fatalf("new value: changed=%v VerNo %d→%d", changed, before.VerNo, after.VerNo)
	}
	must(t, tr.Add("", "./N", dmtree.Value{Format: "int", Data: []byte("5")}))
	if changed, err := tr.Ensure("./N", dmtree.Value{Data: []byte("5")}); err != nil || changed {
		t.Fatalf("same int without Meta Format: changed=%v %v", changed, err)
	}
	if _, err := tr.Ensure("./Missing", chr("x")); code(err) != 404 {
		t.Fatalf("missing leaf: %v", err)
	}
}

func TestOpen_SecondOpenOfSameDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
	must(t, err)
	if _, err := dmtree.Open(dir, &dmtree.Options{NoSync: true}); !errors.Is(err, dmtree.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	must(t, tr.Close())
	tr2, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	must(t, tr2.Close())
}

func TestTNDS_SelectionStillWritesTypeAndReadsBackBinary(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: fixedNow})
	must(t, tr.Add("", "./S/Bin", dmtree.Value{Format: "bin", Type: "application/octet-stream", Data: []byte{0, 0xff, 7}}))
	must(t, tr.Add("", "./S/Txt", chr("t")))
	rs, err := tr.Get("", "./S?list=TNDS+Value")
	must(t, err)
	doc, err := dmtree.ParseTNDS(rs[0].Data)
	must(t, err)
	if got := doc.Nodes[0].Children[0]; got.Name != "Bin" || !strings.Contains(string(rs[0].Data), "<MIME>application/octet-stream</MIME>") {
		t.Fatalf("TNDS lacks the mandatory Type:\n%s", rs[0].Data)
	}
	// Added elsewhere, the binary value comes back byte for byte.
	must(t, tr.Add("", "./Copy", interior))
	must(t, tr.Add("", "./Copy", dmtree.Value{Type: syncml.TypeTNDSXML, Data: []byte(strings.Replace(string(rs[0].Data), "<Path>.</Path>", "", 1))}))
	r := getOne(t, tr, "", "./Copy/S/Bin")
	if r.Format != "bin" || string(r.Data) != "\x00\xff\x07" {
		t.Fatalf("binary value after round trip: %+v", r)
	}
}

func TestInbox_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *dmtree.Tree {
		tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
		must(t, err)
		must(t, tr.EnableInbox())
		must(t, tr.Place("urn:test:acc", "./Acc"))
		return tr
	}
	tr := open()
	must(t, tr.Add("", "./Inbox/a1", dmtree.Value{Format: "node", Type: "urn:test:acc"}))
	must(t, tr.Close())
	tr = open()
	defer tr.Close()
	if _, err := tr.Info("./Acc/a1"); err != nil {
		t.Fatalf("placed node lost: %v", err)
	}
	if info, err := tr.Info("./Inbox"); err != nil || !info.Permanent || len(info.Children) != 0 {
		t.Fatalf("Inbox after reopen: %+v %v", info, err)
	}
	if _, err := tr.Get("S1", "./Inbox"); code(err) != 405 {
		t.Fatalf("Get of the Inbox after reopen: %v", err)
	}
}
