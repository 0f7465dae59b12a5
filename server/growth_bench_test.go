package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/transport/dmhttp"
)

// BenchmarkStorageGrowth_SQLite measures what routine sessions leave on
// disk: b.N enrolled devices run one session each over HTTP (MD5, XML, the
// benchmark shape: one Get and one Replace, two round trips), the trace
// write-behind is flushed and the housekeeping sweep runs (as it will a
// minute later, when it deletes the ended sessions); then SQLite's
// dbstat reports the pages of each table with its indexes. Reported per
// session: traces, sessions, events and their sum ("durable-B/session":
// what the server adds by itself, without the operator's jobs).
func BenchmarkStorageGrowth_SQLite(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "omadm.db")
	store, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	h := newHarness(b, store)
	base := serve(b, dmhttp.NewHandler(h.e, nil))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpWorkers, MaxConnsPerHost: httpWorkers}}
	b.Cleanup(hc.CloseIdleConnections)
	devs := make([]*sim.ScriptedDevice, b.N)
	for i := range devs {
		id := fmt.Sprintf("IMEI:%015d", i)
		if err := store.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "md5", Username: devUser, Password: devPass,
			ServerPassword: srvPass, ServerNonce: []byte("first-nonce"), ClientNonce: []byte("client-nonce")}); err != nil {
			b.Fatal(err)
		}
		if err := queueBenchJobs(ctx, store, id); err != nil {
			b.Fatal(err)
		}
		sd, err := sim.NewScriptedDevice(sim.ScriptedOptions{ServerURL: base + "/dm", DeviceID: id, Username: devUser,
			Password: devPass, Nonce: []byte("first-nonce"), Transport: &httpTransport{c: hc}, GetValue: "1.0"})
		if err != nil {
			b.Fatal(err)
		}
		devs[i] = sd
	}
	b.ResetTimer()
	if _, _, err := runWorkers(b.N, func(i int) error {
		_, err := devs[i].Session(ctx, strconv.Itoa(i+1))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	h.e.Flush(ctx)
	if err := h.e.Sweep(ctx); err != nil {
		b.Fatal(err)
	}
	// A minute later the sweep deletes the ended sessions (they are kept
	// that long for a device that lost the last reply).
	if _, err := store.DeleteClosedSessionsBefore(ctx, time.Now().Add(time.Minute), b.N); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	size := func(tables ...string) float64 {
		var total int64
		for _, t := range tables {
			var n sql.NullInt64
			if err := db.QueryRowContext(ctx, `SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ?1)`, t).Scan(&n); err != nil {
				b.Fatal(err)
			}
			total += n.Int64
		}
		return float64(total) / float64(b.N)
	}
	tr, se, ev := size("traces"), size("sessions", "session_chunks"), size("events")
	b.ReportMetric(tr, "traces-B/session")
	b.ReportMetric(se, "sessions-B/session")
	b.ReportMetric(ev, "events-B/session")
	b.ReportMetric(tr+se+ev, "durable-B/session")
}
