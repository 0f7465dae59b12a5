package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
)

// versionedStore is a store whose schema is at a given version.
type versionedStore struct {
	storage.Store
	version int
	err     error
}

func (s versionedStore) SchemaVersion(context.Context) (int, error) { return s.version, s.err }

func TestServe_ReadinessNeedsEveryMigrationOfThisBuild(t *testing.T) {
	for _, dialect := range []string{migrations.SQLite, migrations.Postgres} {
		ms, err := migrations.List(dialect)
		if err != nil {
			t.Fatal(err)
		}
		latest := ms[len(ms)-1].Version
		for _, tc := range []struct {
			name    string
			store   versionedStore
			wantErr string
		}{
			{"current", versionedStore{version: latest}, ""},
			{"newer than this build", versionedStore{version: latest + 1}, ""},
			{"behind", versionedStore{version: latest - 1}, "schema migrations pending"},
			{"empty", versionedStore{version: 0}, "schema migrations pending"},
			{"unreadable", versionedStore{err: errors.New("dial tcp 10.0.0.1: refused")}, "schema version unreadable"},
		} {
			t.Run(dialect+"/"+tc.name, func(t *testing.T) {
				check, err := serveSchemaCheck(tc.store, dialect)
				if err != nil || check == nil {
					t.Fatalf("serveSchemaCheck: check %t, err %v", check != nil, err)
				}
				err = check(context.Background())
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("not ready: %v", err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				case err != nil && strings.Contains(err.Error(), "10.0.0.1"):
					t.Fatalf("public reason tells the storage error: %v", err)
				}
			})
		}
	}
}

func TestServe_ReadinessOfAStoreWithoutSchemaIsThePing(t *testing.T) {
	type plain struct{ storage.Store }
	if check, err := serveSchemaCheck(plain{}, migrations.SQLite); check != nil || err != nil {
		t.Fatalf("serveSchemaCheck: check %t, err %v; want none", check != nil, err)
	}
}
