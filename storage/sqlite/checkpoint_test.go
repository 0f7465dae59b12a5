package sqlite_test

import (
	"context"
	"encoding/binary"
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
	// Whether it started over is read from the WAL header, not guessed from
	// the file's size (which depends on how far the checkpointer lagged on a
	// busy machine): bytes 12-15 hold the checkpoint sequence number, which
	// SQLite increments each time a writer restarts the WAL from its
	// beginning (sqlite.org/fileformat2.html, "WAL File Format").
	wal, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if len(wal) < 32 {
		t.Fatalf("WAL of %d bytes has no header", len(wal))
	}
	restarts := binary.BigEndian.Uint32(wal[12:16])
	t.Logf("WAL file: %d bytes, restarted %d times", len(wal), restarts)
	if restarts == 0 {
		t.Errorf("the WAL never started over during %d commits (%d bytes)", workers*perWorker, len(wal))
	}
	if never := int64(workers * perWorker * 2 * 4096); int64(len(wal)) >= never {
		t.Errorf("WAL is %d bytes, as large as if it had never been recycled (%d)", len(wal), never)
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
