package dmtree_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-SyncML_RepPro-V1_2 §10 status codes: a value larger
// than the device takes is 413 Request entity too large; a change the device
// has no room for is 420 Device full. Every mutating command obeys the same
// budget, and a refused change leaves the tree as it was.
func TestTree_BudgetsRefuseWhatDoesNotFit(t *testing.T) {
	kb := func(n int) dmtree.Value { return dmtree.Value{Format: "bin", Data: bytes.Repeat([]byte{7}, n<<10)} }
	tnds := func(leaves ...string) dmtree.Value {
		var b strings.Builder
		b.WriteString(`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>T</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>`)
		for _, l := range leaves {
			b.WriteString(`<Node><NodeName>` + l + `</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>` + strings.Repeat("v", 1<<10) + `</Value></Node>`)
		}
		b.WriteString(`</Node></MgmtTree>`)
		return tndsValue([]byte(b.String()))
	}
	tests := []struct {
		name string
		run  func(tr *dmtree.Tree) error
		want syncml.StatusCode
	}{
		{"Add within budget", func(tr *dmtree.Tree) error { return tr.Add("S", "./New", kb(1)) }, 200},
		{"Add of a value over MaxValueSize", func(tr *dmtree.Tree) error { return tr.Add("S", "./New", kb(5)) }, syncml.StatusEntityTooLarge},
		{"Add over MaxTotalBytes", func(tr *dmtree.Tree) error { return tr.Add("S", "./New", kb(3)) }, syncml.StatusDeviceFull},
		{"Add over MaxNodes", func(tr *dmtree.Tree) error { return tr.Add("S", "./A/B/C/D", dmtree.Value{Format: "node"}) }, syncml.StatusDeviceFull},
		{"Replace growing over MaxTotalBytes", func(tr *dmtree.Tree) error { return tr.Replace("S", "./L1", kb(4)) }, syncml.StatusDeviceFull},
		{"Replace shrinking", func(tr *dmtree.Tree) error { return tr.Replace("S", "./L1", kb(1)) }, 200},
		{"Copy over MaxTotalBytes", func(tr *dmtree.Tree) error { return tr.Copy("S", "./L3", "./L1") }, syncml.StatusDeviceFull},
		{"Copy over an existing leaf of the same size", func(tr *dmtree.Tree) error { return tr.Copy("S", "./L2", "./L1") }, 200},
		{"TNDS Add over MaxTotalBytes", func(tr *dmtree.Tree) error { return tr.Add("S", ".", tnds("a", "b", "c")) }, syncml.StatusDeviceFull},
		{"Delete makes room", func(tr *dmtree.Tree) error {
			if err := tr.Delete("S", "./L2"); err != nil {
				return err
			}
			return tr.Copy("S", "./L3", "./L1")
		}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// 5 KiB of values at most (and 64 bytes for node names, types
			// and ACLs, which count too), 4 KiB per value, 6 nodes.
			tr := dmtree.New(&dmtree.Options{RootACL: "Add=*&Get=*&Replace=*&Delete=*", MaxValueSize: 4 << 10, MaxTotalBytes: 5<<10 + 64, MaxNodes: 6})
			must(t, tr.Add("", "./L1", kb(2)))
			must(t, tr.Add("", "./L2", kb(2)))
			before := tr.Usage()
			snap, err := tr.TNDS("", ".", dmtree.PropAll)
			must(t, err)
			if got := code(tc.run(tr)); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if tc.want.Success() {
				return
			}
			after, err := tr.TNDS("", ".", dmtree.PropAll)
			must(t, err)
			if u := tr.Usage(); u != before || !bytes.Equal(after, snap) {
				t.Fatalf("refused change altered the tree: usage %+v -> %+v", before, u)
			}
		})
	}
}

// The byte count a persisted tree reloads matches what it held, so a budget
// survives restarts (journal replay and snapshot alike).
func TestOpen_KeepsTheBudgetAccountAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	opts := &dmtree.Options{NoSync: true, CompactMin: 1024, CompactRatio: 1, MaxTotalBytes: 64 << 10}
	tr, err := dmtree.Open(dir, opts)
	must(t, err)
	for i := 0; i < 20; i++ {
		must(t, tr.Add("", "./N"+strings.Repeat("x", i), dmtree.Value{Format: "bin", Data: bytes.Repeat([]byte{1}, 1000+i)}))
	}
	must(t, tr.Delete("", "./Nxxx"))
	must(t, tr.Replace("", "./N", dmtree.Value{Format: "bin", Data: []byte{1}}))
	want := tr.Usage()
	must(t, tr.Close())
	tr2, err := dmtree.Open(dir, opts)
	must(t, err)
	defer tr2.Close()
	if got := tr2.Usage(); got != want {
		t.Fatalf("usage after reopen %+v, want %+v", got, want)
	}
	// A smaller budget on reopen never refuses what is already stored.
	tr2.Close()
	small := *opts
	small.MaxTotalBytes, small.MaxNodes = 1, 1
	tr3, err := dmtree.Open(dir, &small)
	must(t, err)
	defer tr3.Close()
	if got := code(tr3.Add("", "./More", chr("x"))); got != syncml.StatusDeviceFull {
		t.Fatalf("Add over budget: %d", got)
	}
}
