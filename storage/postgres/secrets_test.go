package postgres_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
)

// oldSchema brings the schema of dsn to version 4 (before credentials were
// protected) and stores devices with plaintext passwords, as an older omadm
// left them.
func oldSchema(t *testing.T, dsn string, devices map[string][3]string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	ms, err := migrations.List(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	for _, m := range ms[:4] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	}
	for id, cr := range devices {
		exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, created_at)
			VALUES ($1, 'md5', $2, $3, $4, '', now())`, id, cr[0], cr[1], cr[2])
	}
}

func rawCredentials(t *testing.T, dsn, id string) (pw, spw string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT password, server_password FROM devices WHERE id = $1`, id).Scan(&pw, &spw); err != nil {
		t.Fatal(err)
	}
	return pw, spw
}

func TestOpen_ConvertsPlaintextCredentialsOfAnOldDatabase(t *testing.T) {
	dsn := freshSchema(t)
	oldSchema(t, dsn, map[string][3]string{
		"dev-a": {"alice", "alice-Secret-1", "server-Secret-A"},
		"dev-b": {"bob", "bob-Secret-2", ""},
	})
	ctx := context.Background()
	if _, err := postgres.Open(ctx, dsn); !errors.Is(err, secret.ErrKeyRequired) {
		t.Fatalf("open without a key with plaintext server passwords to seal: %v, want ErrKeyRequired", err)
	}
	keyFile := filepath.Join(t.TempDir(), "secret.key")
	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Converted(); n != 2 {
		t.Errorf("Converted() = %d, want 2", n)
	}
	a, err := s.GetDevice(ctx, "dev-a")
	if err != nil {
		t.Fatal(err)
	}
	if a.PasswordHash != auth.UserHash("alice", "alice-Secret-1") || a.Password != "" || a.ServerPassword != "server-Secret-A" {
		t.Errorf("dev-a after conversion: hash %q password %q server password %q", a.PasswordHash, a.Password, a.ServerPassword)
	}
	for _, id := range []string{"dev-a", "dev-b"} {
		if pw, spw := rawCredentials(t, dsn, id); pw != "" || spw != "" {
			t.Errorf("%s: plaintext columns still hold %q, %q", id, pw, spw)
		}
	}
	s.Close()
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi)
	}
	other, _, _ := secret.NewKey()
	if _, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKey: other}); !errors.Is(err, secret.ErrWrongKey) {
		t.Errorf("open with another key: %v, want ErrWrongKey", err)
	}
	if _, err := postgres.Open(ctx, dsn); !errors.Is(err, secret.ErrKeyRequired) {
		t.Errorf("open without a key: %v, want ErrKeyRequired", err)
	}
	s, err = postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Converted() != 0 {
		t.Errorf("second open converted %d devices", s.Converted())
	}
	b, err := s.GetDevice(ctx, "dev-b")
	if err != nil || b.PasswordHash != auth.UserHash("bob", "bob-Secret-2") {
		t.Errorf("dev-b after reopen: %v %+v", err, b)
	}
}

func TestStore_WithoutKeyRefusesToStoreAServerPassword(t *testing.T) {
	s, err := postgres.Open(context.Background(), freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.CreateDevice(context.Background(), &storage.Device{ID: "d", AuthScheme: "md5", Username: "u", Password: "p", ServerPassword: "sp"})
	if !errors.Is(err, secret.ErrNoKey) {
		t.Errorf("CreateDevice with a server password and no key: %v, want ErrNoKey", err)
	}
}

func TestStore_RowsHoldNoPlaintextCredentials(t *testing.T) {
	dsn := freshSchema(t)
	s, err := postgres.OpenWith(context.Background(), dsn, &postgres.Options{SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	d := &storage.Device{ID: "d", AuthScheme: "basic", Username: "u", Password: "device-Secret-9", ServerPassword: "server-Secret-9"}
	if err := s.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Password, d.ServerPassword = "device-Secret-10", "server-Secret-10"
	if err := s.UpdateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var row string
	if err := c.QueryRow(ctx, `SELECT devices::text FROM devices WHERE id = 'd'`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"device-Secret-10", "server-Secret-10", hex.EncodeToString([]byte("server-Secret-10"))} {
		if strings.Contains(row, p) {
			t.Errorf("the stored row holds %q: %s", p, row)
		}
	}
	if !strings.Contains(row, auth.UserHash("u", "device-Secret-10")) {
		t.Errorf("the stored row lacks the password hash: %s", row)
	}
}
