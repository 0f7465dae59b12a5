package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
)

// serveSchemaCheck is /readyz's check beyond a Ping: every schema migration
// this build carries is applied to the database (another node, or this one
// still starting, may not have got there yet). It is nil for a store
// without a versioned schema. A database newer than this build is ready: the
// migrations only add.
func serveSchemaCheck(store storage.Store, dialect string) (func(context.Context) error, error) {
	sv, ok := store.(interface {
		SchemaVersion(context.Context) (int, error)
	})
	if !ok {
		return nil, nil
	}
	want := migrations.Latest(dialect)
	if want == 0 {
		return nil, fmt.Errorf("readiness: no schema migrations for %q", dialect)
	}
	return func(ctx context.Context) error {
		v, err := sv.SchemaVersion(ctx)
		if err != nil {
			// The reason is public: the query's error stays out of it.
			return errors.New("schema version unreadable")
		}
		if v < want {
			return fmt.Errorf("schema migrations pending: database at version %d, this build needs %d", v, want)
		}
		return nil
	}, nil
}
