package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/secret"
	"github.com/omadm/omadm/storage/sqlite"
)

// oldDatabase writes a database at schema version 4 (before credentials were
// protected) holding devices with plaintext passwords, as an older omadm left
// it.
func oldDatabase(t *testing.T, path string, devices map[string][3]string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations.List(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	for _, m := range ms[:4] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
	}
	for id, c := range devices {
		exec(`INSERT INTO devices (id, auth_scheme, username, password, server_password, notify_addr, created_at)
			VALUES (?, 'md5', ?, ?, ?, '', ?)`, id, c[0], c[1], c[2], time.Now().UnixMicro())
	}
}

func fileContains(t *testing.T, path string, needle []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			return true
		}
	}
	return false
}

func TestOpen_ConvertsPlaintextCredentialsOfAnOldDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "omadm.db")
	oldDatabase(t, path, map[string][3]string{
		"dev-a": {"alice", "alice-Secret-1", "server-Secret-A"},
		"dev-b": {"bob", "bob-Secret-2", ""},
	})
	if !fileContains(t, path, []byte("alice-Secret-1")) {
		t.Fatal("test setup: the old database does not hold the plaintext")
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Converted(); n != 2 {
		t.Errorf("Converted() = %d, want 2", n)
	}
	ctx := context.Background()
	a, err := s.GetDevice(ctx, "dev-a")
	if err != nil {
		t.Fatal(err)
	}
	if a.PasswordHash != auth.UserHash("alice", "alice-Secret-1") || a.Password != "" || a.ServerPassword != "server-Secret-A" {
		t.Errorf("dev-a after conversion: hash %q password %q server password %q", a.PasswordHash, a.Password, a.ServerPassword)
	}
	b, err := s.GetDevice(ctx, "dev-b")
	if err != nil {
		t.Fatal(err)
	}
	if b.PasswordHash != auth.UserHash("bob", "bob-Secret-2") || b.ServerPassword != "" {
		t.Errorf("dev-b after conversion: hash %q server password %q", b.PasswordHash, b.ServerPassword)
	}
	for _, p := range []string{"alice-Secret-1", "server-Secret-A", "bob-Secret-2"} {
		if fileContains(t, path, []byte(p)) {
			t.Errorf("the database files still hold the plaintext %q", p)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.Converted(); n != 0 {
		t.Errorf("second open converted %d devices, want 0", n)
	}
	if a, err = s.GetDevice(ctx, "dev-a"); err != nil || a.ServerPassword != "server-Secret-A" {
		t.Errorf("dev-a after reopen: %v, server password %q", err, a.ServerPassword)
	}
}

func TestOpen_KeyFileIsCreatedPrivateAndFilesAre0600(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	// umask 0: the modes must come from the code, not from the umask.
	old := umask(0)
	defer umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "omadm.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(context.Background(), &storage.Device{ID: "d", AuthScheme: "md5", Username: "u",
		Password: "p", ServerPassword: "sp"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600,
		filepath.Join(dir, secret.FileName): 0o600}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s has mode %o, want %o", filepath.Base(p), got, mode)
		}
	}
	s.Close()
}

func TestOpen_MissingOrWrongKeyIsAClearError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "omadm.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(context.Background(), &storage.Device{ID: "d", AuthScheme: "md5", Username: "u",
		Password: "p", ServerPassword: "sp"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	other, _, err := secret.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.OpenWith(path, &sqlite.Options{SecretKey: other}); !errors.Is(err, secret.ErrWrongKey) {
		t.Errorf("open with another key: %v, want ErrWrongKey", err)
	}
	keyFile := filepath.Join(dir, secret.FileName)
	if err := os.Rename(keyFile, keyFile+".bak"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(path); !errors.Is(err, secret.ErrKeyRequired) {
		t.Errorf("open without the key file: %v, want ErrKeyRequired", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed open left a new key file behind (%v)", err)
	}
	s, err = sqlite.OpenWith(path, &sqlite.Options{SecretKeyFile: keyFile + ".bak"})
	if err != nil {
		t.Fatalf("open with the moved key file: %v", err)
	}
	defer s.Close()
	if d, err := s.GetDevice(context.Background(), "d"); err != nil || d.ServerPassword != "sp" {
		t.Errorf("GetDevice with the right key: %v, %+v", err, d)
	}
}
