package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var treeTests = []test{
	{"PrefixMatchesTheNodeAndItsSubtreeButNotSiblingsSharingText", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		mustDevice(t, s, "other")
		uris := []string{"./B", "./A/B/C", "./AB", "./A", "./A-x", "./AB/C", "./A/B", "./A/Ü"}
		var nodes []storage.TreeNode
		for _, u := range uris {
			nodes = append(nodes, storage.TreeNode{DeviceID: "dev", URI: u, Format: "chr", Value: "v" + u})
		}
		nodes = append(nodes, storage.TreeNode{DeviceID: "other", URI: "./A/B", Value: "x"})
		check(t, "PutTreeNodes", s.PutTreeNodes(bg, nodes))
		list := func(prefix string) []string {
			t.Helper()
			ns, err := s.ListTreeNodes(bg, "dev", prefix)
			check(t, "ListTreeNodes", err)
			out := []string{}
			for _, n := range ns {
				if n.DeviceID != "dev" || n.Value != "v"+n.URI {
					t.Errorf("node %+v", n)
				}
				out = append(out, n.URI)
			}
			return out
		}
		cases := []struct {
			prefix string
			want   []string
		}{
			{"", []string{"./A", "./A-x", "./A/B", "./A/B/C", "./A/Ü", "./AB", "./AB/C", "./B"}},
			{"./A", []string{"./A", "./A/B", "./A/B/C", "./A/Ü"}},
			{"./A/", []string{"./A", "./A/B", "./A/B/C", "./A/Ü"}},
			{"./A/B", []string{"./A/B", "./A/B/C"}},
			{"./AB", []string{"./AB", "./AB/C"}},
			{"./A/B/C", []string{"./A/B/C"}},
			{"./Z", []string{}},
			{"./A/B/C/D", []string{}},
		}
		for _, c := range cases {
			deepEqual(t, fmt.Sprintf("prefix %q", c.prefix), list(c.prefix), c.want)
		}
	}},
	{"PutUpsertsByDeviceAndURI", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		at := time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC)
		check(t, "put", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A", Format: "int", Value: "1", UpdatedAt: at}}))
		before := time.Now()
		check(t, "put again", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A", Format: "chr", Type: "text/plain", Value: "two"}}))
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "ListTreeNodes", err)
		if len(ns) != 1 || ns[0].Format != "chr" || ns[0].Type != "text/plain" || ns[0].Value != "two" {
			t.Fatalf("after upsert: %+v", ns)
		}
		between(t, "UpdatedAt", ns[0].UpdatedAt, before, time.Now())
	}},
	{"PutIsAllOrNothing", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		err := s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A"}, {DeviceID: "nobody", URI: "./B"}})
		wantErr(t, "PutTreeNodes with an unknown device", err, storage.ErrNotFound)
		err = s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A"}, {DeviceID: "dev", URI: "./B", Value: "\x00"}})
		if err == nil {
			t.Fatal("PutTreeNodes accepted a NUL byte")
		}
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "ListTreeNodes", err)
		if len(ns) != 0 {
			t.Fatalf("failed puts stored %d nodes", len(ns))
		}
		check(t, "empty put", s.PutTreeNodes(bg, nil))
	}},
	{"DeleteUsesTheSamePrefixSemantics", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		mustDevice(t, s, "other")
		var nodes []storage.TreeNode
		for _, u := range []string{"./A", "./A/B", "./A-x", "./AB", "./B"} {
			nodes = append(nodes, storage.TreeNode{DeviceID: "dev", URI: u}, storage.TreeNode{DeviceID: "other", URI: u})
		}
		check(t, "put", s.PutTreeNodes(bg, nodes))
		check(t, "delete ./A", s.DeleteTreeNodes(bg, "dev", "./A"))
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "list", err)
		var got []string
		for _, n := range ns {
			got = append(got, n.URI)
		}
		deepEqual(t, "left after deleting ./A", got, []string{"./A-x", "./AB", "./B"})
		check(t, "delete all", s.DeleteTreeNodes(bg, "dev", ""))
		if ns, _ := s.ListTreeNodes(bg, "dev", ""); len(ns) != 0 {
			t.Errorf("%d nodes left after deleting all", len(ns))
		}
		if ns, _ := s.ListTreeNodes(bg, "other", ""); len(ns) != 5 {
			t.Errorf("other device has %d nodes, want 5", len(ns))
		}
	}},
}
