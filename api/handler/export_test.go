package handler

import "testing"

// SetImportBatch sets the records per storage unit of an import for the
// length of a test (tests of this package do not run in parallel).
func SetImportBatch(t testing.TB, n int) {
	old := importBatch
	importBatch = n
	t.Cleanup(func() { importBatch = old })
}

// ScanRecord and DecodeRecord are the import record decoders (the plain
// shape's scanner, and the whole decoder) for the differential fuzz target.
var (
	ScanRecord   = scanRecord
	DecodeRecord = decodeRecord
)
