package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// BenchmarkStorageGrowth_SQLite measures what routine sessions leave on
// disk: b.N enrolled devices run one session each over HTTP (MD5, XML or
// WBXML, the benchmark shape: one Get and one Replace, two round trips),
// the trace write-behind is flushed and the housekeeping sweep runs (as it will a
// minute later, when it deletes the ended sessions); then SQLite's
// dbstat reports the pages of each table with its indexes. Reported per
// session: traces, sessions, events and their sum ("durable-B/session":
// what the server adds by itself, without the operator's jobs).
func BenchmarkStorageGrowth_SQLite(b *testing.B) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		b.Run(map[syncml.Encoding]string{syncml.EncodingXML: "xml", syncml.EncodingWBXML: "wbxml"}[enc], func(b *testing.B) {
			benchGrowth(b, enc)
		})
	}
}

func benchGrowth(b *testing.B, enc syncml.Encoding) {
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
			Password: devPass, Nonce: []byte("first-nonce"), Transport: &httpTransport{c: hc}, GetValue: "1.0", Encoding: enc})
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

// BenchmarkTraceSweep_* time the hourly trace retention pass over a store
// of sweepDevices devices with four traces each (one in a hundred over
// the retention of 4 traces): "per-device" is the pass as it was (every
// device listed, then one PruneDeviceTraces write per device), "ranges"
// the engine's pass now (storage.Housekeeper: trace ID ranges read, one
// write per range that has devices over the retention). One op is one
// whole pass. OMADM_SWEEP_DEVICES sets the number of devices (default
// 100,000).
func BenchmarkTraceSweep_SQLite(b *testing.B) { benchTraceSweep(b, openSQLite(b)) }

// BenchmarkTraceSweep_Postgres needs OMADM_TEST_POSTGRES.
func BenchmarkTraceSweep_Postgres(b *testing.B) { benchTraceSweep(b, openPostgres(b)) }

func benchTraceSweep(b *testing.B, store storage.Store) {
	ctx := context.Background()
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("OMADM_SWEEP_DEVICES")); err == nil && v > 0 {
		n = v
	}
	const keep, per = 4, 4
	for lo := 0; lo < n; lo += 1000 {
		if err := storage.InBatch(ctx, store, func(s storage.Store) error {
			for i := lo; i < min(n, lo+1000); i++ {
				if err := s.CreateDevice(ctx, &storage.Device{ID: fmt.Sprintf("IMEI:%015d", i), AuthScheme: "md5",
					Username: devUser, Password: devPass}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	// fill gives every device its traces afresh.
	fill := func() {
		if err := store.PruneTraces(ctx, 0); err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < n; lo += 1000 {
			var traces []*storage.TraceEntry
			err := func() error {
				for i := lo; i < min(n, lo+1000); i++ {
					id := fmt.Sprintf("IMEI:%015d", i)
					k := per
					if i%100 == 0 {
						k = per + 2 // a session that never ended: over the retention
					}
					for m := range k {
						traces = append(traces, &storage.TraceEntry{DeviceID: id, SessionID: "1", Direction: "in",
							MsgID: strconv.Itoa(m + 1), ContentType: "application/vnd.syncml.dm+xml", Body: []byte("<SyncML/>")})
					}
				}
				return nil
			}()
			if err == nil {
				err = storage.WriteEffects(ctx, store, &storage.Effects{Traces: traces})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, mode := range []string{"per-device", "ranges"} {
		b.Run(mode, func(b *testing.B) {
			var writes int
			for b.Loop() {
				b.StopTimer()
				fill()
				b.StartTimer()
				writes = 0
				switch mode {
				case "per-device":
					after := ""
					for {
						devs, err := store.ListDevices(ctx, after, 500)
						if err != nil {
							b.Fatal(err)
						}
						for _, d := range devs {
							if _, err := storage.PruneDeviceTraces(ctx, store, d.ID, keep); err != nil {
								b.Fatal(err)
							}
							writes++
						}
						if len(devs) < 500 {
							break
						}
						after = devs[len(devs)-1].ID
					}
				case "ranges":
					var cursor int64
					for {
						cuts, last, err := store.TraceCuts(ctx, cursor, 2000, keep)
						if err != nil {
							b.Fatal(err)
						}
						if last == 0 {
							break
						}
						if len(cuts) > 0 {
							if _, err := store.DeleteTraceCuts(ctx, cuts); err != nil {
								b.Fatal(err)
							}
							writes++
						}
						cursor = last
					}
				}
			}
			b.ReportMetric(float64(writes), "writes/pass")
			b.ReportMetric(float64(n), "devices")
		})
	}
}
