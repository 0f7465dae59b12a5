package memstore_test

import (
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/storage/storagetest"
)

// The in-memory store follows the same contract as the SQL backends, so the
// engine tests that use it prove behaviour that holds on real storage.
func TestStore_Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return memstore.New() })
}

func BenchmarkReportLookup(b *testing.B) { storagetest.BenchReportLookup(b, memstore.New()) }
