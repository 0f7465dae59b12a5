package secret_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage/secret"
)

func newKey(t *testing.T) *secret.Key {
	t.Helper()
	k, _, err := secret.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKey_SealOpenRoundTripsAndBindsTheDevice(t *testing.T) {
	k := newKey(t)
	for _, p := range []string{"x", "pässword with ∑", strings.Repeat("long", 100)} {
		s, err := k.SealFor("dev-1", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) >= 8 && bytes.Contains(s, []byte(p)) { // shorter ones may occur by chance
			t.Fatalf("sealed value contains the plaintext %q", p)
		}
		got, err := k.OpenFor("dev-1", s)
		if err != nil || got != p {
			t.Fatalf("OpenFor = %q, %v; want %q", got, err, p)
		}
		if _, err := k.OpenFor("dev-2", s); !errors.Is(err, secret.ErrWrongKey) {
			t.Errorf("a value sealed for dev-1 opened for dev-2: %v", err)
		}
		s2, _ := k.SealFor("dev-1", p)
		if bytes.Equal(s, s2) {
			t.Error("two seals of the same value are equal (nonce reuse)")
		}
	}
}

func TestKey_EmptyAndNilKeyCases(t *testing.T) {
	var none *secret.Key
	if s, err := none.SealFor("d", ""); s != nil || err != nil {
		t.Errorf("nil key sealing nothing: %v %v", s, err)
	}
	if _, err := none.SealFor("d", "p"); !errors.Is(err, secret.ErrNoKey) {
		t.Errorf("nil key sealing a password: %v, want ErrNoKey", err)
	}
	if p, err := none.OpenFor("d", nil); p != "" || err != nil {
		t.Errorf("nil key opening nothing: %q %v", p, err)
	}
	s, _ := newKey(t).SealFor("d", "p")
	if _, err := none.OpenFor("d", s); !errors.Is(err, secret.ErrKeyRequired) {
		t.Errorf("nil key opening a sealed value: %v, want ErrKeyRequired", err)
	}
}

func TestKey_RejectsTamperedAndForeignValues(t *testing.T) {
	k, other := newKey(t), newKey(t)
	s, _ := k.SealFor("d", "secret")
	for name, v := range map[string][]byte{
		"other key": func() []byte { x, _ := other.SealFor("d", "secret"); return x }(),
		"flipped":   func() []byte { x := bytes.Clone(s); x[len(x)-1] ^= 1; return x }(),
		"truncated": s[:10],
		"version":   func() []byte { x := bytes.Clone(s); x[0] = 9; return x }(),
	} {
		if _, err := k.OpenFor("d", v); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	check, _ := k.CheckValue()
	if err := k.Verify(check); err != nil {
		t.Errorf("own check value: %v", err)
	}
	if err := other.Verify(check); !errors.Is(err, secret.ErrWrongKey) {
		t.Errorf("another key's check value: %v, want ErrWrongKey", err)
	}
}

func TestResolve_CreatesOnlyWhenNothingIsSealedAndLoadsAfterwards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, secret.FileName)
	if _, err := secret.Resolve(path, true); !errors.Is(err, secret.ErrKeyRequired) || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing file with sealed data: %v, want ErrKeyRequired naming the file", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a key file was created although data is sealed with another key")
	}
	k, err := secret.Resolve(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode: %v %v, want 0600", fi, err)
		}
	}
	s, _ := k.SealFor("d", "p")
	again, err := secret.Resolve(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := again.OpenFor("d", s); err != nil || p != "p" {
		t.Fatalf("the reloaded key does not open: %q %v", p, err)
	}
}

func TestResolve_ConcurrentFirstStartsAgreeOnOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), secret.FileName)
	keys := make([]*secret.Key, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); keys[i], errs[i] = secret.Resolve(path, false) }()
	}
	wg.Wait()
	s, _ := keys[0].SealFor("d", "p")
	for i, k := range keys {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if _, err := k.OpenFor("d", s); err != nil {
			t.Errorf("start %d got another key", i)
		}
	}
}

func TestLoad_RejectsMalformedKeyFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty": "", "not base64": "!!!!\n", "short": "AAAA\n", "long": strings.Repeat("A", 64) + "\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := secret.Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}

// BenchmarkSealOpen is what a DM message adds to storage: one Open when the
// device is read and one Seal when it is written back.
func BenchmarkSealOpen(b *testing.B) {
	k, _, _ := secret.NewKey()
	b.ReportAllocs()
	for b.Loop() {
		s, err := k.SealFor("IMEI:493005100592800", "a server password of 24c")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.OpenFor("IMEI:493005100592800", s); err != nil {
			b.Fatal(err)
		}
	}
}
