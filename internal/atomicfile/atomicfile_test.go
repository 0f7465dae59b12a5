package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/internal/atomicfile"
)

func TestWrite_ReplacesTheFileAndLeavesNoTemporary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(string, []byte) error
	}{
		{"Write", atomicfile.Write},
		{"WriteDurable", atomicfile.WriteDurable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "state")
			for _, content := range []string{"old", "new"} {
				if err := tc.write(name, []byte(content)); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(name)
			if err != nil || string(b) != "new" {
				t.Fatalf("content %q, %v; want new", b, err)
			}
			if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			if es, _ := os.ReadDir(dir); len(es) != 1 {
				t.Errorf("directory holds %d entries, want only the file", len(es))
			}
		})
	}
}

func TestWrite_FailsInAMissingDirectory(t *testing.T) {
	if err := atomicfile.Write(filepath.Join(t.TempDir(), "missing", "state"), []byte("x")); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
}

func TestRemoveDurable_AbsentFileIsFine(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state")
	if err := atomicfile.RemoveDurable(name); err != nil {
		t.Fatalf("absent: %v", err)
	}
	if err := atomicfile.Write(name, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.RemoveDurable(name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
}
