package postgres_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/storagetest"
)

// BenchmarkSessionCycle compares the storage work of one DM session on an
// empty store with the same work on a store holding the history of a busy
// server (storagetest.BenchAged).
func BenchmarkSessionCycle(b *testing.B) {
	b.Run("fresh", func(b *testing.B) { storagetest.BenchSessionCycle(b, newStore(b)) })
	b.Run("aged", func(b *testing.B) { storagetest.BenchSessionCycle(b, agedStore(b)) })
}

// BenchmarkPruneTraces measures the periodic trace pruning on an aged store.
func BenchmarkPruneTraces(b *testing.B) { storagetest.BenchPruneTraces(b, agedStore(b)) }

// BenchmarkPruneDeviceTraces measures the per-session trim that replaces it.
func BenchmarkPruneDeviceTraces(b *testing.B) { storagetest.BenchPruneDeviceTraces(b, agedStore(b)) }

func agedStore(b *testing.B) *postgres.Store {
	s := newStore(b)
	if err := storagetest.Age(context.Background(), s, storagetest.BenchAged); err != nil {
		b.Fatal(err)
	}
	return s
}
