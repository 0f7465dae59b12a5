// Package migrations holds the versioned schema of the SQL storage backends.
//
// Every backend has its own dialect directory (sqlite/, postgres/) with files
// named NNNN_name.sql. The numbering is shared: migration 3 means the same
// schema change in every dialect, so a database can be described by one
// number whatever engine holds it. Backends apply the migrations they have not
// recorded yet in their schema_migrations table, in order, each inside the
// same transaction as its bookkeeping row.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialects for which migrations exist.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Migration is one numbered schema change in one SQL dialect.
type Migration struct {
	Version int    // shared across dialects, starting at 1, no gaps
	Name    string // the part of the file name after the number, e.g. "init"
	SQL     string // statements separated by semicolons
}

// List returns the migrations of a dialect ordered by version. It fails when
// a file name is not NNNN_name.sql or when the numbering has a gap or a
// duplicate, so a broken migration set is found at start-up, not half-way.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || rest == "" {
			return nil, fmt.Errorf("migrations: %s/%s: want NNNN_name.sql", dialect, name)
		}
		b, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s: expected version %d, found %d (%s)", dialect, i+1, m.Version, m.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrations: %s: none found", dialect)
	}
	return out, nil
}

// Latest returns the highest migration version of a dialect (0 if unknown).
func Latest(dialect string) int {
	ms, err := List(dialect)
	if err != nil {
		return 0
	}
	return ms[len(ms)-1].Version
}
