package dmtree_test

import (
	"errors"
	"testing"

	"github.com/omadm/omadm/dmtree"
)

// build makes the same small tree every time, as a simulator's devices are.
func buildChangesTree(t *testing.T) *dmtree.Tree {
	t.Helper()
	tr := dmtree.New(nil)
	for _, s := range []struct{ uri, format, data string }{
		{"./A", "node", ""}, {"./A/x", "chr", "1"}, {"./A/y", "int", "2"}, {"./B", "node", ""},
	} {
		if err := tr.Add("", s.uri, dmtree.Value{Format: s.format, Data: []byte(s.data)}); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func leaf(t *testing.T, tr *dmtree.Tree, uri string) string {
	t.Helper()
	rs, err := tr.Get("", uri)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(rs[0].Data)
}

func TestTree_ChangesReplayOntoATreeBuiltTheSameWay(t *testing.T) {
	tests := []struct {
		name   string
		change func(*dmtree.Tree) error
		want   map[string]string
	}{
		{"replace twice keeps the last value", func(tr *dmtree.Tree) error {
			if err := tr.Replace("", "./A/x", dmtree.Value{Data: []byte("a")}); err != nil {
				return err
			}
			return tr.Replace("", "./A/x", dmtree.Value{Data: []byte("b")})
		}, map[string]string{"./A/x": "b", "./A/y": "2"}},
		{"added subtree then its parent changed", func(tr *dmtree.Tree) error {
			for _, u := range []string{"./B/C", "./B/C/D"} {
				if err := tr.Add("", u, dmtree.Value{Format: "node"}); err != nil {
					return err
				}
			}
			if err := tr.Add("", "./B/C/D/v", dmtree.Value{Data: []byte("deep")}); err != nil {
				return err
			}
			return tr.Replace("", "./B/C?prop=Title", dmtree.Value{Data: []byte("t")})
		}, map[string]string{"./B/C/D/v": "deep", "./B/C?prop=Title": "t"}},
		{"deleted then added again", func(tr *dmtree.Tree) error {
			if err := tr.Delete("", "./A/x"); err != nil {
				return err
			}
			return tr.Add("", "./A/x", dmtree.Value{Data: []byte("new")})
		}, map[string]string{"./A/x": "new"}},
		{"failed operation records nothing", func(tr *dmtree.Tree) error {
			if err := tr.Replace("", "./Missing/x", dmtree.Value{Data: []byte("z")}); err == nil {
				return errors.New("replace of a missing leaf succeeded")
			}
			return nil
		}, map[string]string{"./A/x": "1", "./Missing/x": "<"}},
		{"rolled back transaction records nothing", func(tr *dmtree.Tree) error {
			tx := tr.Begin()
			_ = tx.Replace("", "./A/y", dmtree.Value{Format: "int", Data: []byte("9")})
			return tx.Rollback()
		}, map[string]string{"./A/y": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := buildChangesTree(t)
			src.RecordChanges()
			if err := tc.change(src); err != nil {
				t.Fatal(err)
			}
			b := src.Changes()
			dst := buildChangesTree(t)
			dst.RecordChanges()
			if err := dst.ApplyChanges(b); err != nil {
				t.Fatal(err)
			}
			for uri, want := range tc.want {
				got := leaf(t, dst, uri)
				if want == "<" {
					if got[0] != '<' {
						t.Errorf("%s = %q, want absent", uri, got)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", uri, got, want)
				}
			}
			// The replayed tree records them again: a third generation
			// gets the same state.
			if string(dst.Changes()) != string(b) {
				t.Errorf("changes after replay differ: %q vs %q", dst.Changes(), b)
			}
		})
	}
}

func TestTree_ChangesFoldRepeatedUpdates(t *testing.T) {
	tr := buildChangesTree(t)
	tr.RecordChanges()
	if err := tr.Replace("", "./A/x", dmtree.Value{Data: []byte("v0")}); err != nil {
		t.Fatal(err)
	}
	one := len(tr.Changes())
	for i := range 100 {
		if err := tr.Replace("", "./A/x", dmtree.Value{Data: []byte{'v', byte('0' + i%10)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(tr.Changes()); got > one+4 {
		t.Errorf("100 updates of one leaf recorded %d bytes, one update %d", got, one)
	}
}

func TestTree_ApplyChangesRejectsForeignTreeUnchanged(t *testing.T) {
	src := buildChangesTree(t)
	src.RecordChanges()
	if err := src.Add("", "./B/n", dmtree.Value{Data: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := src.Replace("", "./A/x", dmtree.Value{Data: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	dst := dmtree.New(nil) // built differently: no ./B
	if err := dst.Add("", "./A", dmtree.Value{Format: "node"}); err != nil {
		t.Fatal(err)
	}
	if err := dst.ApplyChanges(src.Changes()); err == nil {
		t.Fatal("applied changes to a tree without their parents")
	}
	if got := leaf(t, dst, "./A/x"); got[0] != '<' {
		t.Errorf("./A/x = %q after a failed apply", got)
	}
}
