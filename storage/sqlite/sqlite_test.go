package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/storage/storagetest"
)

func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "omadm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore_Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return newStore(t) })
}

func TestOpen_CreatesParentDirectoryAndAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "omadm.db")
	for range 2 { // the second open finds every migration applied
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := migrations.Latest(migrations.SQLite); v != want {
			t.Fatalf("schema version %d, want %d", v, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_KeepsDataAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omadm.db")
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "basic"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetDevice(ctx, "dev"); err != nil {
		t.Fatalf("device lost across reopen: %v", err)
	}
}

func TestOpen_RejectsUnusablePaths(t *testing.T) {
	for _, p := range []string{"", "a?b.db", "file:x.db", ":memory:", "x#y"} {
		if s, err := sqlite.Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func BenchmarkCreateJob(b *testing.B)           { storagetest.BenchCreateJob(b, newStore(b)) }
func BenchmarkSaveSession(b *testing.B)         { storagetest.BenchSaveSession(b, newStore(b)) }
func BenchmarkSaveSessionParallel(b *testing.B) { storagetest.BenchSaveSessionParallel(b, newStore(b)) }
func BenchmarkPendingJobs(b *testing.B)         { storagetest.BenchPendingJobs(b, newStore(b)) }
func BenchmarkReportLookup(b *testing.B)        { storagetest.BenchReportLookup(b, newStore(b)) }

func TestOpenWith_SynchronousSetting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    *sqlite.Options
		want    string
		wantErr bool
	}{
		{name: "nil options default to NORMAL", opts: nil, want: "NORMAL"},
		{name: "empty setting defaults to NORMAL", opts: &sqlite.Options{}, want: "NORMAL"},
		{name: "FULL for power-loss durability", opts: &sqlite.Options{Synchronous: "FULL"}, want: "FULL"},
		{name: "case does not matter", opts: &sqlite.Options{Synchronous: "full"}, want: "FULL"},
		{name: "OFF is refused", opts: &sqlite.Options{Synchronous: "OFF"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.OpenWith(filepath.Join(t.TempDir(), "omadm.db"), tc.opts)
			if tc.wantErr {
				if err == nil {
					s.Close()
					t.Fatal("OpenWith succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Synchronous(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("synchronous = %s, want %s", got, tc.want)
			}
		})
	}
}

// Close waits for the batches already queued and refuses new ones with an
// error (never a panic), as a background writer still flushing meets it.
func TestClose_DrainsQueuedBatchesAndRefusesLaterOnes(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "omadm.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "basic"}); err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Batch(ctx, func(st storage.Store) error {
			close(started)
			<-release
			return st.AddTrace(ctx, &storage.TraceEntry{DeviceID: "dev", SessionID: "s", Direction: "in", MsgID: "1"})
		})
	}()
	<-started
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a batch was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the running batch: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	err = s.AddTraces(ctx, []*storage.TraceEntry{{DeviceID: "dev", SessionID: "s", Direction: "in", MsgID: "2"}})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("AddTraces after Close = %v, want a store-closed error", err)
	}
}
