package sqlite_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
)

// inPrefix is the documented tree-cache prefix rule, written plainly.
func inPrefix(uri, prefix string) bool {
	if prefix == "" {
		return true
	}
	p := strings.TrimSuffix(prefix, "/")
	return uri == p || strings.HasPrefix(uri, p+"/")
}

// FuzzTreePrefix checks the SQL range query behind ListTreeNodes and
// DeleteTreeNodes against inPrefix for arbitrary URIs and prefixes
// (separated by newlines in the input).
func FuzzTreePrefix(f *testing.F) {
	f.Add("./A", "./A\n./A/B\n./AB\n./A-x\n./B")
	f.Add("./A/", "./A\n./A/\n./A//B\n./A0")
	f.Add("/", "/\n//\n\n0\n.")
	f.Add("./Ü", "./Ü/x\n./Üx\n./Ü")
	s := newStore(f)
	ctx := context.Background()
	if err := s.CreateDevice(ctx, &storage.Device{ID: "dev"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prefix, uriList string) {
		uris := strings.Split(uriList, "\n")
		if len(uris) > 32 || !utf8.ValidString(prefix) || strings.IndexByte(prefix, 0) >= 0 {
			return
		}
		var nodes []storage.TreeNode
		seen := map[string]bool{}
		for _, u := range uris {
			if !utf8.ValidString(u) || strings.IndexByte(u, 0) >= 0 || seen[u] {
				return
			}
			seen[u] = true
			nodes = append(nodes, storage.TreeNode{DeviceID: "dev", URI: u})
		}
		if err := s.DeleteTreeNodes(ctx, "dev", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.PutTreeNodes(ctx, nodes); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, u := range uris {
			if inPrefix(u, prefix) {
				want = append(want, u)
			}
		}
		slices.Sort(want)
		got, err := s.ListTreeNodes(ctx, "dev", prefix)
		if err != nil {
			t.Fatal(err)
		}
		var gotURIs []string
		for _, n := range got {
			gotURIs = append(gotURIs, n.URI)
		}
		if !slices.Equal(gotURIs, want) {
			t.Fatalf("ListTreeNodes(%q) = %q, want %q", prefix, gotURIs, want)
		}
		if err := s.DeleteTreeNodes(ctx, "dev", prefix); err != nil {
			t.Fatal(err)
		}
		left, err := s.ListTreeNodes(ctx, "dev", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(left)+len(want) != len(nodes) {
			t.Fatalf("DeleteTreeNodes(%q) left %d of %d nodes, want %d", prefix, len(left), len(nodes), len(nodes)-len(want))
		}
	})
}
