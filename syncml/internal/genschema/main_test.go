package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedMappersAreUpToDate fails when schema.txt (or this generator)
// was edited without running `go generate ./syncml`.
func TestGeneratedMappersAreUpToDate(t *testing.T) {
	elems, structs, err := parse("../../schema.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(elems, structs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../zschema.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("syncml/zschema.go is stale: run go generate ./syncml")
	}
}

func TestParse_RejectsBadTable(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"unknown page", "elem A wsp dm\n"},
		{"unknown class", "elem A syncml maybe\n"},
		{"element twice", "elem A syncml dm\nelem A syncml dm\n"},
		{"child outside a struct", "elem A syncml dm\nA F text opt opt\n"},
		{"unknown kind", "elem A syncml dm\nstruct S S\nA F blob opt opt\n"},
		{"unknown policy", "elem A syncml dm\nstruct S S\nA F text maybe opt\n"},
		{"unknown child", "elem A syncml dm\nstruct S S\nB F text opt opt\n"},
		{"read twice by XML", "elem A syncml dm\nstruct S S\nA F text opt -\nA F text opt opt\n"},
		{"command without element", "struct S S command\n"},
		{"commands not as *", "elem A syncml dm\nstruct S S\nA F cmds opt opt\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := t.TempDir() + "/schema.txt"
			if err := os.WriteFile(f, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, _, err := parse(f); err == nil {
				t.Errorf("parse accepted %q", tc.body)
			}
		})
	}
}
