package dmtree_test

import (
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// A server bound by MaxNodes and MaxTotalBytes must not grow the tree
// through what is not a value: every node name, MIME type, Title and ACL
// counts against MaxTotalBytes too, so MaxNodes nodes with names of 60 KB
// (no MaxSegLen), types of megabytes or 64 KiB ACLs are refused with 420
// Device full (OMA-TS-SyncML_RepPro-V1_2 §10) and leave the tree as it
// was.
func TestTree_NodeMetadataCountsAgainstTheByteBudget(t *testing.T) {
	long := func(n int) string { return strings.Repeat("n", n) }
	longACL := func(n int) string {
		var ids []string
		for i := 0; len(strings.Join(ids, "+")) < n; i++ {
			ids = append(ids, "server"+strings.Repeat("x", 40)+string(rune('a'+i%26))+strings.Repeat("y", i%7))
		}
		return "Get=" + strings.Join(ids, "+")
	}
	tests := []struct {
		name string
		run  func(tr *dmtree.Tree) error
	}{
		{"Add of a node with a long name", func(tr *dmtree.Tree) error { return tr.Add("S", "./"+long(5000), chr("v")) }},
		{"Add of an interior node with a long name", func(tr *dmtree.Tree) error {
			return tr.Add("S", "./"+long(5000), dmtree.Value{Format: "node"})
		}},
		{"Add of a leaf with a long type", func(tr *dmtree.Tree) error {
			return tr.Add("S", "./L", dmtree.Value{Format: "chr", Type: "text/" + long(5000), Data: []byte("v")})
		}},
		{"Replace of a leaf giving it a long type", func(tr *dmtree.Tree) error {
			return tr.Replace("S", "./Leaf", dmtree.Value{Format: "chr", Type: "text/" + long(5000), Data: []byte("v")})
		}},
		{"Replace of an interior node's type", func(tr *dmtree.Tree) error {
			return tr.Replace("S", "./Dir", dmtree.Value{Format: "node", Type: "urn:" + long(5000)})
		}},
		{"Replace of an ACL with a long one", func(tr *dmtree.Tree) error {
			return tr.Replace("S", "./Dir/X?prop=ACL", dmtree.Value{Data: []byte(longACL(5000))})
		}},
		{"Rename to a long name", func(tr *dmtree.Tree) error {
			return tr.Replace("S", "./Leaf?prop=Name", dmtree.Value{Data: []byte(long(5000))})
		}},
		{"TNDS Add of nodes with long names", func(tr *dmtree.Tree) error {
			var b strings.Builder
			b.WriteString(`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>`)
			for i := 0; i < 3; i++ {
				b.WriteString(`<Node><NodeName>` + long(2000) + string(rune('a'+i)) + `</NodeName><Path>.</Path><RTProperties><Format><chr/></Format></RTProperties><Value>v</Value></Node>`)
			}
			b.WriteString(`</MgmtTree>`)
			return tr.Add("S", ".", tndsValue([]byte(b.String())))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := dmtree.New(&dmtree.Options{RootACL: "Add=*&Get=*&Replace=*&Delete=*", MaxTotalBytes: 4 << 10, MaxNodes: 100})
			must(t, tr.Add("", "./Leaf", chr("v")))
			must(t, tr.Add("", "./Dir/X", chr("v")))
			before := tr.Usage()
			snap, err := tr.TNDS("", ".", dmtree.PropAll)
			must(t, err)
			if got := code(tc.run(tr)); got != syncml.StatusDeviceFull {
				t.Fatalf("status %d, want 420", got)
			}
			after, err := tr.TNDS("", ".", dmtree.PropAll)
			must(t, err)
			if u := tr.Usage(); u != before || string(after) != string(snap) {
				t.Fatalf("refused change altered the tree: usage %+v -> %+v", before, u)
			}
		})
	}
}
