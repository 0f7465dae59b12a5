package server_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/syncml"
)

func openSQLite(tb testing.TB) storage.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "omadm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// runSession plays one complete management session: MD5 authentication,
// one Get and one Replace, Status and Results stored.
func runSession(b *testing.B, h *harness, d *device, n int) {
	ctx := context.Background()
	for _, spec := range []storage.JobSpec{
		{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}},
		{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/X", Data: "1"}}},
	} {
		if err := h.store.CreateJob(ctx, &storage.Job{DeviceID: devID, Spec: spec}); err != nil {
			b.Fatal(err)
		}
	}
	d.sessionID = strconv.FormatInt(int64(n+1), 16)
	d.msgID = 0
	d.url = dmURL
	r := d.post(b, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if len(commands(r)) != 2 {
		b.Fatalf("pkg2 %v", names(commands(r)))
	}
	r = d.post(b, d.message(true, d.answer(r, nil, fwResults)...))
	if !r.Final || len(commands(r)) != 0 {
		b.Fatalf("pkg4 %v", names(commands(r)))
	}
}

func benchSessions(b *testing.B, store storage.Store, enc syncml.Encoding) {
	h := newHarness(b, store)
	h.addDevice(b, "md5")
	d := newDevice(h.e, "md5")
	d.enc = enc
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runSession(b, h, d, i)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

func BenchmarkSession_MemStoreXML(b *testing.B) { benchSessions(b, memstore.New(), syncml.EncodingXML) }
func BenchmarkSession_MemStoreWBXML(b *testing.B) {
	benchSessions(b, memstore.New(), syncml.EncodingWBXML)
}
func BenchmarkSession_SQLiteXML(b *testing.B) { benchSessions(b, openSQLite(b), syncml.EncodingXML) }
func BenchmarkSession_SQLiteWBXML(b *testing.B) {
	benchSessions(b, openSQLite(b), syncml.EncodingWBXML)
}

// BenchmarkSession_PostgresXML needs OMADM_TEST_POSTGRES; run serially, its
// time per session is mostly database round trips.
func BenchmarkSession_PostgresXML(b *testing.B) {
	benchSessions(b, openPostgres(b), syncml.EncodingXML)
}
