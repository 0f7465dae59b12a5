package wsp_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture reads a hex datagram captured from Kannel 1.4.5 (testdata/kannel).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "kannel", name))
	if err != nil {
		t.Fatal(err)
	}
	return unhex(t, string(b))
}
