package postgres_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
)

// TestOpen_MigratesOperationsOfA0013Schema opens a schema left at version
// 13 holding operations (one in a campaign) and checks that migration 14
// keeps them, reads them as first attempts of one, and takes retry_wait.
func TestOpen_MigratesOperationsOfA0013Schema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	c, exec := schemaAt(t, dsn, 13)
	created := time.Now().UTC().Truncate(time.Microsecond)
	exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, created_at)
		VALUES ('d1', 'none', '', '', '', '', now())`)
	exec(`INSERT INTO operations (device_id, mo, name, node, params, correlator, job_id, state, deadline, created_at, updated_at)
		VALUES ('d1', 'fumo', 'DownloadAndUpdate', './FwUpdate/Default', '{"pkg_url":"http://x/"}', 'c1', 7, 'accepted', $1, $2, $2)`,
		created.Add(time.Hour), created)
	var id int64
	if err := c.QueryRow(ctx, `SELECT id FROM operations`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var camp int64
	if err := c.QueryRow(ctx, `INSERT INTO campaigns (name, spec, state, version, created_at, updated_at)
		VALUES ('c', '{}', 'running', 1, now(), now()) RETURNING id`).Scan(&camp); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO campaign_devices (campaign_id, seq, device_id, state, operation_id, updated_at) VALUES ($1, 0, 'd1', 'in_progress', $2, now())`, camp, id)
	c.Close(ctx)

	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKeyFile: filepath.Join(t.TempDir(), "secret.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	op, err := s.GetOperation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if op.State != storage.OpAccepted || op.Correlator != "c1" || op.Params["pkg_url"] != "http://x/" ||
		op.Attempt != 1 || op.MaxAttempts != 1 || !op.AttemptAt.Equal(created) {
		t.Fatalf("migrated operation: %+v", op)
	}
	op.State, op.Deadline = storage.OpRetryWait, created
	if err := s.ReattemptOperation(ctx, op, storage.OpAccepted); err != nil {
		t.Fatalf("the migrated table refuses retry_wait: %v", err)
	}
	if exp, err := s.ExpiredOperations(ctx, created.Add(time.Second), 0); err != nil || len(exp) != 1 || exp[0].ID != id {
		t.Fatalf("ExpiredOperations finds the operation in retry_wait: %+v, %v", exp, err)
	}
	if n, err := s.SyncCampaignDevices(ctx, camp, created); err != nil || n != 0 {
		t.Fatalf("sync of a device whose operation waits to retry: %d changed, %v (want it left in progress)", n, err)
	}
}
