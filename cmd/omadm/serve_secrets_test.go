//go:build unix

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/storage/secret"
)

func TestServe_FirstStartCreatesPrivateFilesAndKeepsOnlyTheTokenHash(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	old := syscall.Umask(0) // the modes must not depend on the umask
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	rs := startTestServer(t, dir, io.Discard)
	ctx := context.Background()
	if !rs.TokenGenerated || rs.Token == "" {
		t.Fatalf("first start: token %q generated %v", rs.Token, rs.TokenGenerated)
	}
	if _, err := apiclient.New(rs.URL, rs.Token).CreateDevice(ctx, api.DeviceCreate{ID: "d1", Auth: "md5", Username: "u",
		Password: "device-Secret-1", ServerPassword: "server-Secret-1"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, tokenFileName): 0o600, filepath.Join(dir, tokenHashFileName): 0o600,
		filepath.Join(dir, secret.FileName): 0o600, filepath.Join(dir, "omadm.db"): 0o600,
		filepath.Join(dir, "omadm.db-wal"): 0o600, filepath.Join(dir, "omadm.db-shm"): 0o600,
	}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %04o, want %04o", filepath.Base(p), fi.Mode().Perm(), mode)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, tokenHashFileName))
	sum := sha256.Sum256([]byte(rs.Token))
	if err != nil || strings.TrimSpace(string(b)) != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash file %q (%v), want the token's SHA-256", b, err)
	}
	token := rs.Token
	if err := rs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"omadm.db", "omadm.db-wal"} {
		raw, _ := os.ReadFile(filepath.Join(dir, f))
		for _, p := range []string{"device-Secret-1", "server-Secret-1", token} {
			if strings.Contains(string(raw), p) {
				t.Errorf("%s holds the plaintext %q", f, p)
			}
		}
	}
	// The operator deletes the plaintext copy: the server keeps working
	// with the hash, and the token is not shown again.
	if err := os.Remove(filepath.Join(dir, tokenFileName)); err != nil {
		t.Fatal(err)
	}
	rs = startTestServer(t, dir, io.Discard)
	defer rs.Shutdown(ctx)
	if rs.Token != "" || rs.TokenGenerated {
		t.Errorf("restart without the plaintext copy: token %q generated %v", rs.Token, rs.TokenGenerated)
	}
	d, err := apiclient.New(rs.URL, token).GetDevice(ctx, "d1")
	if err != nil {
		t.Fatalf("the original token after restart: %v", err)
	}
	if d.Username != "u" {
		t.Errorf("device after restart: %+v", d)
	}
	if _, err := apiclient.New(rs.URL, "wrong").GetDevice(ctx, "d1"); err == nil {
		t.Error("a wrong token was accepted")
	}
}

func TestServe_OlderDataDirectoryKeepsItsToken(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tokenFileName), []byte("older-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := startTestServer(t, dir, io.Discard)
	defer rs.Shutdown(context.Background())
	if rs.Token != "older-token" || rs.TokenGenerated {
		t.Fatalf("token %q generated %v, want the older one kept", rs.Token, rs.TokenGenerated)
	}
	if _, err := os.Stat(filepath.Join(dir, tokenHashFileName)); err != nil {
		t.Fatalf("hash file not written: %v", err)
	}
	if _, err := apiclient.New(rs.URL, "older-token").ListDevices(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
}

func TestServe_MissingSecretKeyForExistingDataIsAClearError(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "tok")
	dir := t.TempDir()
	rs := startTestServer(t, dir, io.Discard)
	if _, err := apiclient.New(rs.URL, "tok").CreateDevice(context.Background(), api.DeviceCreate{ID: "d1", Auth: "md5",
		Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, secret.FileName)
	moved := filepath.Join(t.TempDir(), "kept.key")
	if err := os.Rename(keyFile, moved); err != nil {
		t.Fatal(err)
	}
	cfg := serveConfig{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler)}
	_, err := startServer(context.Background(), cfg)
	if !errors.Is(err, secret.ErrKeyRequired) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("start without the key file: %v; want ErrKeyRequired naming %s", err, keyFile)
	}
	cfg.SecretKeyFile = moved
	rs, err = startServer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start with --secret-key-file: %v", err)
	}
	rs.Shutdown(context.Background())
}
