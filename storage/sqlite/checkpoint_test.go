package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
)

// The writer runs with automatic checkpoints off and a checkpointer beside
// it (checkpoint.go). Under a steady stream of concurrent batches the WAL
// must still start over regularly instead of growing with every commit, and
// everything written must be readable after a reopen.
func TestCheckpoint_WALStaysBoundedUnderSteadyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omadm.db")
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const devices, workers, perWorker = 64, 8, 1500
	for i := range devices {
		if err := s.CreateDevice(ctx, &storage.Device{ID: fmt.Sprintf("dev-%02d", i), AuthScheme: "basic"}); err != nil {
			t.Fatal(err)
		}
	}
	body := make([]byte, 3000) // about a page per trace
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				id := fmt.Sprintf("dev-%02d", (w*perWorker+i)%devices)
				err := s.Batch(ctx, func(st storage.Store) error {
					return st.AddTrace(ctx, &storage.TraceEntry{DeviceID: id, SessionID: "s", Direction: "in", MsgID: "1", Body: body})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// 12,000 commits of at least two 4 KiB pages each (the trace and its
	// index entry) would leave over 95 MB of WAL had it never started over.
	// Recycled, it stays near walCycle pages plus what the writer appends
	// while the checkpointer lags behind: 5-14 MB here, depending on how
	// much CPU the other tests leave it.
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WAL file: %d bytes", fi.Size())
	if limit := int64(32 << 20); fi.Size() > limit {
		t.Errorf("WAL is %d bytes after steady writes, want it recycled (≤ %d)", fi.Size(), limit)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for i := range devices {
		ts, err := s.ListTraces(ctx, fmt.Sprintf("dev-%02d", i), "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(ts)
	}
	if n != workers*perWorker {
		t.Fatalf("%d traces after reopen, want %d", n, workers*perWorker)
	}
}
