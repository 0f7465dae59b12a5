package postgres_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/storage/storagetest"
)

const envDSN = "OMADM_TEST_POSTGRES"

// freshSchema creates an empty schema for one test, drops it afterwards and
// returns a DSN whose search_path points at it, so runs never see each other.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skipf("%s is not set: no PostgreSQL to test against (scripts/pg-throwaway.sh starts one)", envDSN)
	}
	scoped, drop, err := postgres.TempSchema(context.Background(), dsn, "omadm_test")
	if err != nil {
		t.Fatalf("%s: %v", envDSN, err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return scoped
}

// testKey seals the server passwords of the test stores.
var testKey = func() *secret.Key {
	k, _, err := secret.NewKey()
	if err != nil {
		panic(err)
	}
	return k
}()

func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.OpenWith(context.Background(), freshSchema(t), &postgres.Options{SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore_Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t) })
}

func TestOpen_NodesStartingTogetherMigrateOnce(t *testing.T) {
	dsn := freshSchema(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			v, err := s.SchemaVersion(context.Background())
			if err == nil && v != migrations.Latest(migrations.Postgres) {
				t.Errorf("node %d sees schema version %d", i, v)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
}

func TestOpen_RejectsBadDSN(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://%zz"); err == nil {
		t.Fatal("Open accepted a malformed DSN")
	}
}

func BenchmarkCreateJob(b *testing.B)           { storagetest.BenchCreateJob(b, newStore(b)) }
func BenchmarkSaveSession(b *testing.B)         { storagetest.BenchSaveSession(b, newStore(b)) }
func BenchmarkSaveSessionParallel(b *testing.B) { storagetest.BenchSaveSessionParallel(b, newStore(b)) }
func BenchmarkPendingJobs(b *testing.B)         { storagetest.BenchPendingJobs(b, newStore(b)) }
func BenchmarkReportLookup(b *testing.B)        { storagetest.BenchReportLookup(b, newStore(b)) }

// BenchmarkImportDevices: go test ./storage/postgres -run XXX -bench ImportDevices -benchtime 200000x
func BenchmarkImportDevices(b *testing.B) { storagetest.BenchImportDevices(b, newStore(b), 16384) }
