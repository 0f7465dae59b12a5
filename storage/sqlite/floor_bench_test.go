package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkFloor_MinimalSessionWrites is a lower bound, not a measurement
// of this package: the least a durable SQL store must write for one DM
// session of the session benchmark (authenticate, one Get, one Replace,
// Status and Results stored), on the same SQLite (modernc, WAL,
// synchronous=NORMAL), with every favour a real server cannot count on:
//
//   - a bare schema: primary keys plus the one index each table cannot do
//     without (pending jobs by device, traces by device);
//   - no reads at all, no device row (MD5 nonce rotation), no events;
//   - the job's "sent" mark folded into the session row, so each job is
//     written once, when its Status arrives;
//   - perfect group commit: the first message of 8 sessions in one
//     transaction, their second message in the next.
//
// What is left per session: the session row inserted (with the engine's
// state) and closed, 2 jobs finished with their status and result, 1 tree
// cache row, and the 4 wire traces. BENCHMARKS.md compares this floor with
// the CPU budget the sessions/s target leaves for storage (one op is one
// session, so ns/op is the time per session).
func BenchmarkFloor_MinimalSessionWrites(b *testing.B) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "floor.db")+
		"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const devices, group = 256, 8
	exec := func(q string, args ...any) {
		if _, err := db.Exec(q, args...); err != nil {
			b.Fatal(err)
		}
	}
	exec(`CREATE TABLE sessions (device_id TEXT NOT NULL, session_id TEXT NOT NULL, state BLOB NOT NULL,
		closed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (device_id, session_id)) WITHOUT ROWID`)
	exec(`CREATE TABLE jobs (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, state TEXT NOT NULL,
		status INTEGER NOT NULL DEFAULT 0, results TEXT)`)
	exec(`CREATE INDEX jobs_pending ON jobs (device_id, id) WHERE state = 'queued'`)
	exec(`CREATE TABLE tree (device_id TEXT NOT NULL, uri TEXT NOT NULL, value TEXT NOT NULL,
		PRIMARY KEY (device_id, uri)) WITHOUT ROWID`)
	exec(`CREATE TABLE traces (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, body BLOB NOT NULL)`)
	exec(`CREATE INDEX traces_device ON traces (device_id, id)`)

	prep := func(q string) *sql.Stmt {
		st, err := db.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	insJob := prep(`INSERT INTO jobs (device_id, state) VALUES (?, 'queued')`)
	insSession := prep(`INSERT INTO sessions (device_id, session_id, state) VALUES (?, ?, ?)`)
	endSession := prep(`UPDATE sessions SET state = ?, closed = 1 WHERE device_id = ? AND session_id = ?`)
	endJob := prep(`UPDATE jobs SET state = 'done', status = 200, results = ? WHERE id = ?`)
	putTree := prep(`INSERT INTO tree (device_id, uri, value) VALUES (?, './DevInfo/Mod', 'bench')
		ON CONFLICT (device_id, uri) DO UPDATE SET value = excluded.value`)
	insTrace := prep(`INSERT INTO traces (device_id, body) VALUES (?, ?)`)

	state := make([]byte, 512)
	bodies := [][]byte{make([]byte, 1300), make([]byte, 900), make([]byte, 1100), make([]byte, 600)}
	dev := make([]string, devices)
	for d := range dev {
		dev[d] = fmt.Sprintf("IMEI:%015d", d)
	}
	nextJob := 1
	queue := func(n int) { // untimed: the operator's side
		b.StopTimer()
		tx, _ := db.Begin()
		for s := range n {
			for range 2 {
				tx.Stmt(insJob).Exec(dev[s%devices])
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	message := func(first, n int, fn func(tx *sql.Tx, s int, jobs int) error) {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for s := first; s < first+n; s++ {
			if err := fn(tx, s, nextJob+2*(s-first)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += group {
		n := min(group, b.N-i)
		queue(n)
		message(i, n, func(tx *sql.Tx, s, _ int) error {
			if _, err := tx.Stmt(insSession).Exec(dev[s%devices], fmt.Sprint(s), state); err != nil {
				return err
			}
			for _, body := range bodies[:2] {
				if _, err := tx.Stmt(insTrace).Exec(dev[s%devices], body); err != nil {
					return err
				}
			}
			return nil
		})
		message(i, n, func(tx *sql.Tx, s, job int) error {
			d := dev[s%devices]
			if _, err := tx.Stmt(endSession).Exec(state, d, fmt.Sprint(s)); err != nil {
				return err
			}
			for k := range 2 {
				if _, err := tx.Stmt(endJob).Exec(`[{"uri":"./DevInfo/Mod","data":"bench"}]`, job+k); err != nil {
					return err
				}
			}
			if _, err := tx.Stmt(putTree).Exec(d); err != nil {
				return err
			}
			for _, body := range bodies[2:] {
				if _, err := tx.Stmt(insTrace).Exec(d, body); err != nil {
					return err
				}
			}
			return nil
		})
		nextJob += 2 * n
	}
}
