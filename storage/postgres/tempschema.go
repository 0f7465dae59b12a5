package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TempSchema creates an empty schema, named prefix and a random suffix, on
// the database of dsn (a postgres:// URL or key=value settings) and returns
// a DSN whose search_path is that schema, so a Store opened with it creates
// its tables there; drop removes the schema with everything in it. It is for
// benchmarks and tests that must neither see each other's rows nor leave any
// behind. The role needs CREATE on the database.
func TempSchema(ctx context.Context, dsn, prefix string) (string, func() error, error) {
	rb := make([]byte, 6)
	if _, err := rand.Read(rb); err != nil {
		return "", nil, err
	}
	schema := prefix + "_" + hex.EncodeToString(rb)
	scoped, err := withSearchPath(dsn, schema)
	if err != nil {
		return "", nil, err
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return scoped, drop, nil
}

// withSearchPath sets search_path in dsn, a URL or key=value settings.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("postgres DSN: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}
