package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage/postgres"
)

func TestTempSchema_IsolatesTablesAndDropRemovesThem(t *testing.T) {
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skipf("%s is not set: no PostgreSQL to test against (scripts/pg-throwaway.sh starts one)", envDSN)
	}
	ctx := context.Background()
	scoped, drop, err := postgres.TempSchema(ctx, dsn, "omadm_tempschema")
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.OpenWith(ctx, scoped, &postgres.Options{SecretKey: testKey})
	if err != nil {
		drop()
		t.Fatal(err)
	}
	s.Close()
	c, err := pgx.Connect(ctx, scoped)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var schema string
	var tables int
	if err := c.QueryRow(ctx, "SELECT current_schema(), (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema())").Scan(&schema, &tables); err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		t.Fatalf("the store created no tables in %s", schema)
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("schema %s still there after drop", schema)
	}
}
