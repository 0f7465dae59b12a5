package memstore_test

import (
	"context"
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

// plain hides the store's batches: its writes are the individual methods',
// as they were before memstore had batches (the yardstick of the one below).
type plain struct{ storage.Store }

// BenchmarkWriteEffects stores the effects of one DM message: through the
// store's batch (EffectsWriter) and, for comparison, write by write.
func BenchmarkWriteEffects(b *testing.B) {
	for _, bc := range []struct {
		name string
		wrap func(*memstore.Store) storage.Store
	}{
		{"batch", func(s *memstore.Store) storage.Store { return s }},
		{"each", func(s *memstore.Store) storage.Store { return plain{s} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ms := memstore.New()
			s := bc.wrap(ms)
			ctx := context.Background()
			if err := s.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "md5", Username: "u", Password: "p"}); err != nil {
				b.Fatal(err)
			}
			sess := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok", State: make([]byte, 512)}
			jobs := make([]*storage.Job, 2)
			for i := range jobs {
				jobs[i] = &storage.Job{DeviceID: "dev", Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}}}
				if err := s.CreateJob(ctx, jobs[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				e := &storage.Effects{
					Session: sess, Jobs: jobs,
					Nodes:     []storage.TreeNode{{DeviceID: "dev", URI: "./DevInfo/Mod", Value: "x"}, {DeviceID: "dev", URI: "./DevInfo/Man", Value: "y"}},
					Events:    []*storage.Event{{DeviceID: "dev", Kind: "session-start"}},
					Traces:    []*storage.TraceEntry{{DeviceID: "dev", Direction: "in", Body: make([]byte, 300)}, {DeviceID: "dev", Direction: "out", Body: make([]byte, 300)}},
					TraceKeep: 20,
				}
				if err := storage.WriteEffects(ctx, s, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
