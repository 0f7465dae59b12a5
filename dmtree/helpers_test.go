package dmtree_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

var fixedNow = func() time.Time { return time.Date(2001, 7, 11, 16, 38, 17, 0, time.UTC) }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func code(err error) syncml.StatusCode { return syncml.StatusOf(err) }

func chr(s string) dmtree.Value { return dmtree.Value{Format: "chr", Data: []byte(s)} }

var interior = dmtree.Value{Format: "node"}

// fixture builds the tree most table tests run against:
//
//	. (Add=*&Get=*)
//	A (Add=S1&Delete=S1&Get=S1&Replace=S1)
//	  L  leaf "v"
//	  I  interior
//	  G  leaf (Get=*)
//	B  leaf "b" (inherits root: Get by anyone, no Replace)
//	P  permanent DDF object (P/Q int, P/RO read-only, P/<x>/Flag)
func fixture(t testing.TB) *dmtree.Tree {
	t.Helper()
	tr := dmtree.New(&dmtree.Options{Now: fixedNow, MaxDepth: 8, MaxTotLen: 127, MaxSegLen: 32})
	must(t, tr.Add("", "./A", interior))
	must(t, tr.Replace("", "./A?prop=ACL", dmtree.Value{Data: []byte("Add=S1&Delete=S1&Get=S1&Replace=S1")}))
	must(t, tr.Add("", "./A/L", chr("v")))
	must(t, tr.Add("", "./A/I", interior))
	must(t, tr.Add("", "./A/G", chr("g")))
	must(t, tr.Replace("", "./A/G?prop=ACL", dmtree.Value{Data: []byte("Get=*")}))
	must(t, tr.Add("", "./B", chr("b")))
	d, err := dmtree.ParseDDF(readFixture(t, "perm.ddf.xml"))
	must(t, err)
	must(t, tr.Install(".", d))
	return tr
}
