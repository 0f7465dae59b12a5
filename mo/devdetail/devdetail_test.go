package devdetail_test

import (
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/devdetail"
)

func clock() func() time.Time {
	t0 := time.Date(2001, 7, 11, 16, 38, 17, 0, time.UTC)
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

var detail = devdetail.Detail{DevTyp: "phone", OEM: "acme", FwV: "1.0", SwV: "2.0", HwV: "r1", LrgObj: true}

func get(t *testing.T, tr *dmtree.Tree, uri string) string {
	t.Helper()
	rs, err := tr.Get("srv", uri)
	if err != nil {
		t.Fatalf("Get %s: %v", uri, err)
	}
	return string(rs[0].Data)
}

func TestInstall_WritesBuildAndPublishesURILimits(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: clock(), MaxDepth: 12, MaxTotLen: 300, MaxSegLen: 40})
	if err := devdetail.Install(tr, detail); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ uri, want string }{
		{"./DevDetail/DevTyp", "phone"},
		{"./DevDetail/OEM", "acme"},
		{"./DevDetail/FwV", "1.0"},
		{"./DevDetail/SwV", "2.0"},
		{"./DevDetail/HwV", "r1"},
		{"./DevDetail/LrgObj", "true"},
		{"./DevDetail/URI/MaxDepth", "12"},
		{"./DevDetail/URI/MaxTotLen", "300"},
		{"./DevDetail/URI/MaxSegLen", "40"},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			if got := get(t, tr, tc.uri); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
	if err := tr.Validate(devdetail.Root); err != nil {
		t.Fatalf("tree does not match the DDF: %v", err)
	}
}

func TestInstall_AgainWithSameValuesChangesNothing(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: clock()})
	if err := devdetail.Install(tr, detail); err != nil {
		t.Fatal(err)
	}
	before, err := tr.TNDS("", devdetail.Root, dmtree.PropAll)
	if err != nil {
		t.Fatal(err)
	}
	if err := devdetail.Install(tr, detail); err != nil {
		t.Fatal(err)
	}
	after, _ := tr.TNDS("", devdetail.Root, dmtree.PropAll)
	if string(before) != string(after) {
		t.Fatalf("second Install changed the object:\n%s\n---\n%s", before, after)
	}
	old, _ := tr.Info("./DevDetail/FwV")
	next := detail
	next.FwV = "1.1"
	if err := devdetail.Install(tr, next); err != nil {
		t.Fatal(err)
	}
	info, _ := tr.Info("./DevDetail/FwV")
	if info.VerNo != old.VerNo+1 || !info.TStamp.After(old.TStamp) {
		t.Fatalf("changed FwV: VerNo %d→%d, TStamp %v→%v", old.VerNo, info.VerNo, old.TStamp, info.TStamp)
	}
}

func TestDDF_ParsesAndDescribesTheObject(t *testing.T) {
	d, err := devdetail.DDF()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Nodes) != 1 || d.Nodes[0].Name != "DevDetail" || d.Nodes[0].Types[0] != devdetail.MOID {
		t.Fatalf("DDF top %+v", d.Nodes[0])
	}
}
