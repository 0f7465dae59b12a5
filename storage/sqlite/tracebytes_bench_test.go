package sqlite_test

import (
	"fmt"
	"testing"

	"github.com/omadm/omadm/storage/storagetest"
)

// BenchmarkTraceBytesStep shows the size bound's step costs the same on a
// small and a ten times larger table (bounded work per step).
func BenchmarkTraceBytesStep(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("stored=", n), func(b *testing.B) { storagetest.BenchTraceBytesStep(b, newStore(b), n) })
	}
}
