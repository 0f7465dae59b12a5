package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
)

// TestOpen_MigratesOperationsOfA0013DatabaseKeepingRowsAndIndexes opens a
// database left at schema 13 (operations without retries, one of them in a
// campaign) and checks that the rebuilt operations table keeps every row,
// its IDs (the next one follows them), the campaign's reference and the
// indexes, and takes the new retry_wait state.
func TestOpen_MigratesOperationsOfA0013DatabaseKeepingRowsAndIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "omadm.db")
	old := newOldSchema(t, path, "_journal_mode=WAL&_foreign_keys=1", 13)
	exec := old.exec
	created := time.Now().UTC().Truncate(time.Microsecond)
	exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, created_at)
		VALUES ('d1', 'none', '', '', '', '', ?)`, created.UnixMicro())
	for i, st := range []string{"accepted", "succeeded"} {
		exec(`INSERT INTO operations (id, device_id, mo, name, node, params, correlator, job_id, state, deadline, created_at, updated_at)
			VALUES (?, 'd1', 'fumo', 'DownloadAndUpdate', './FwUpdate/Default', '{"pkg_url":"http://x/"}', ?, ?, ?, ?, ?, ?)`,
			40+i, "c"+string(rune('1'+i)), 7+i, st, created.Add(time.Hour).UnixMicro(), created.UnixMicro(), created.UnixMicro())
	}
	exec(`INSERT INTO campaigns (id, name, spec, state, version, created_at, updated_at) VALUES (1, 'c', '{}', 'running', 1, 0, 0)`)
	exec(`INSERT INTO campaign_devices (campaign_id, seq, device_id, state, operation_id, updated_at) VALUES (1, 0, 'd1', 'in_progress', 40, 0)`)
	old.close()

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	op, err := s.GetOperation(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	if op.State != storage.OpAccepted || op.Correlator != "c1" || op.JobID != 7 || op.Params["pkg_url"] != "http://x/" ||
		op.Attempt != 1 || op.MaxAttempts != 1 || !op.AttemptAt.Equal(created) || !op.Deadline.Equal(created.Add(time.Hour)) {
		t.Fatalf("migrated operation: %+v", op)
	}
	if got, err := s.OperationByCorrelator(ctx, "d1", "c2"); err != nil || got.ID != 41 || got.State != storage.OpSucceeded {
		t.Fatalf("OperationByCorrelator after the migration: %+v, %v", got, err)
	}
	ds, err := s.ListCampaignDevices(ctx, storage.CampaignDeviceFilter{CampaignID: 1})
	if err != nil || len(ds) != 1 || ds[0].OperationID != 40 {
		t.Fatalf("campaign devices after the migration: %+v, %v", ds, err)
	}
	op.State, op.Deadline = storage.OpRetryWait, created
	if err := s.ReattemptOperation(ctx, op, storage.OpAccepted); err != nil {
		t.Fatalf("the migrated table refuses retry_wait: %v", err)
	}
	if exp, err := s.ExpiredOperations(ctx, created.Add(time.Second), 0); err != nil || len(exp) != 1 || exp[0].ID != 40 {
		t.Fatalf("ExpiredOperations finds the operation in retry_wait: %+v, %v", exp, err)
	}
	if n, err := s.SyncCampaignDevices(ctx, 1, created); err != nil || n != 0 {
		t.Fatalf("sync of a device whose operation waits to retry: %d changed, %v (want it left in progress)", n, err)
	}
	next := &storage.Operation{DeviceID: "d1", MO: "exec", Name: "Exec", Node: "./X", Correlator: "c3", JobID: 9}
	if err := s.CreateOperation(ctx, next); err != nil || next.ID <= 41 {
		t.Fatalf("a new operation after the migration: id %d, %v (want above 41)", next.ID, err)
	}

	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, idx := range []string{"operations_correlator", "operations_device", "operations_job", "operations_open", "operation_attempts_correlator"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, idx).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s after the migration: %d, %v", idx, n, err)
		}
	}
	var fk string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'operations'`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports violations after the migration")
	}
	if !containsAll(fk, "REFERENCES devices", "ON DELETE CASCADE", "'retry_wait'") {
		t.Errorf("rebuilt operations table: %s", fk)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
