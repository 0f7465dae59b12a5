package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage/migrations"
)

// schemaAt connects to dsn (an empty schema) and applies the migrations up
// to version, the way an earlier release left a database: the test fills
// in rows with plain SQL through exec and closes the connection before the
// current store opens the schema and applies the later migrations.
func schemaAt(t *testing.T, dsn string, version int) (c *pgx.Conn, exec func(q string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.List(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	for _, m := range ms {
		if m.Version > version {
			break
		}
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	}
	return c, exec
}
