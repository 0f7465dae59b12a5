package dmtree_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{".", "./", "./A/B", "A/B?prop=ACL", "./A?list=TNDS+ACL+Value", "a%2Fb", "./a//b", "./a/../b", "x?list=TNDS-Format-TStamp"} {
		f.Add(s)
	}
	lim := &dmtree.Limits{MaxDepth: 10, MaxTotLen: 200, MaxSegLen: 40}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := dmtree.ParseURI(s, lim)
		if err != nil {
			if syncml.StatusOf(err) == 500 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := dmtree.ParseURI(u.Path(), nil)
		if err != nil || again.Path() != u.Path() {
			t.Fatalf("canonical path %q does not reparse: %v", u.Path(), err)
		}
	})
}

func FuzzParseACL(f *testing.F) {
	for _, s := range []string{"", "Add=*&Get=*", "Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*", "Get", "Get=a+", "Exec=x&Exec=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := dmtree.ParseACL(s)
		if err != nil {
			return
		}
		b, err := dmtree.ParseACL(a.String())
		if err != nil || b.String() != a.String() {
			t.Fatalf("printed ACL %q does not reparse: %v", a.String(), err)
		}
	})
}

func FuzzParseDDF(f *testing.F) {
	f.Add(readFixture(f, "perm.ddf.xml"))
	f.Add(readFixture(f, "perm_export.golden.xml"))
	f.Add(readFixture(f, "cis.ddf.xml"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := dmtree.ParseDDF(b)
		if err != nil {
			return
		}
		if _, err := dmtree.ParseDDF(d.Marshal()); err != nil {
			t.Fatalf("marshalled DDF does not parse: %v", err)
		}
		tr := dmtree.New(nil)
		_ = tr.Install(".", d)
	})
}

func FuzzParseTNDS(f *testing.F) {
	f.Add(readFixture(f, "add.tnds.xml"))
	f.Add(readFixture(f, "acc_all.golden.xml"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := dmtree.ParseTNDS(b); err != nil {
			return
		}
		tr := dmtree.New(&dmtree.Options{MaxDepth: 20})
		before, _ := tr.TNDS("", ".", dmtree.PropAll)
		if err := tr.Add("", ".", dmtree.Value{Type: syncml.TypeTNDSXML, Data: b}); err != nil {
			after, _ := tr.TNDS("", ".", dmtree.PropAll)
			if string(before) != string(after) {
				t.Fatal("failed TNDS Add changed the tree")
			}
		}
	})
}

// FuzzInboxAdd places arbitrary TNDS documents through ./Inbox: never a
// panic, and a refused placement leaves the tree as it was.
func FuzzInboxAdd(f *testing.F) {
	f.Add(readFixture(f, "inbox.tnds.xml"))
	f.Add(readFixture(f, "add.tnds.xml"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := dmtree.New(&dmtree.Options{MaxDepth: 20})
		if err := tr.EnableInbox(); err != nil {
			t.Fatal(err)
		}
		_ = tr.Place("urn:test:acc", "./Acc")
		_ = tr.Place("urn:test:nap", "./Net/NAP")
		before, _ := tr.TNDS("", ".", dmtree.PropAll)
		if err := tr.Add("", "./Inbox", dmtree.Value{Type: syncml.TypeTNDSXML, Data: b}); err != nil {
			after, _ := tr.TNDS("", ".", dmtree.PropAll)
			if string(before) != string(after) {
				t.Fatal("refused Inbox Add changed the tree")
			}
		}
	})
}

func FuzzJournalLoad(f *testing.F) {
	dir := f.TempDir()
	tr, err := dmtree.Open(dir, &dmtree.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	must(f, tr.Add("", "./A/B", chr("x")))
	must(f, tr.Replace("", "./A/B?prop=Name", chr("C")))
	must(f, tr.Delete("", "./A"))
	must(f, tr.Close())
	seed, err := os.ReadFile(filepath.Join(dir, "journal.0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "journal.0"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		tr, err := dmtree.Open(d, &dmtree.Options{NoSync: true})
		if err == nil {
			tr.Close()
		}
	})
}
