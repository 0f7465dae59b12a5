package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedTablesAreUpToDate fails when codepages.txt was edited without
// running `go generate ./wbxml`.
func TestGeneratedTablesAreUpToDate(t *testing.T) {
	pages, langs, err := parse("../../codepages.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(pages, langs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../zcodepages.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("wbxml/zcodepages.go is stale: run go generate ./wbxml")
	}
}

func TestParse_RejectsBadData(t *testing.T) {
	for _, body := range []string{
		"05 Add\n",                        // token outside a page
		"page P 0 ns\n05 Add\n05 Alert\n", // duplicate token
		"page P 0 ns\n04 Add\n",           // reserved token
		"lang L zz Root F\n",              // bad public id
		"lang L 1 Root F\nuses Nope\n",    // unknown page
	} {
		f := t.TempDir() + "/cp.txt"
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := parse(f); err == nil {
			t.Errorf("parse accepted %q", body)
		}
	}
}
