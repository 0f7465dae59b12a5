package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/omadm/omadm/storage/migrations"
)

// oldSchema is a database file written by the migrations alone, the way an
// earlier release left it: a test takes it to a version, fills in rows with
// plain SQL, closes it and opens it with the current store, which applies
// the migrations after that version.
type oldSchema struct {
	t  *testing.T
	db *sql.DB
	ms []migrations.Migration
	at int // the last version applied
}

// newOldSchema creates the database at path (params are the driver's query
// parameters) and applies the migrations up to version.
func newOldSchema(t *testing.T, path, params string, version int) *oldSchema {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.List(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	o := &oldSchema{t: t, db: db, ms: ms}
	o.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	o.migrateTo(version)
	return o
}

// exec runs one statement and fails the test naming it when it fails.
func (o *oldSchema) exec(q string, args ...any) {
	o.t.Helper()
	if _, err := o.db.Exec(q, args...); err != nil {
		o.t.Fatalf("%s: %v", q, err)
	}
}

// migrateTo applies the migrations after the current version up to version.
func (o *oldSchema) migrateTo(version int) {
	o.t.Helper()
	for _, m := range o.ms {
		if m.Version <= o.at || m.Version > version {
			continue
		}
		o.exec(m.SQL)
		o.exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
		o.at = m.Version
	}
}

// close closes the database so that the store can open it.
func (o *oldSchema) close() {
	o.t.Helper()
	if err := o.db.Close(); err != nil {
		o.t.Fatal(err)
	}
}
