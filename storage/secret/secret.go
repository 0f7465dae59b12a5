// Package secret seals the secrets a DM server must be able to read back
// (its own credentials toward each device) with AES-256-GCM under a key kept
// outside the database, in a key file.
//
// A sealed value is version(1) || nonce(12) || ciphertext+tag. The device ID is
// the additional authenticated data, so a sealed value copied onto another
// device's row does not open. A key-check value (a known text sealed under the
// key) lets a store tell "wrong key" from "no key" when it opens, before any
// device is read.
//
// The key file holds the 32-byte key as one line of standard base64 and is
// created with mode 0600 (chmod after create, so the umask cannot widen it).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// FileName is the usual name of the key file in a data directory.
const FileName = "secret.key"

const (
	formatV1  = 1
	nonceSize = 12
	checkText = "omadm secret key check"
	checkAD   = "\x00key-check"
)

// Errors a store reports when it opens (errors.Is works on them).
var (
	// ErrKeyRequired: the database holds sealed secrets (or plaintext ones
	// waiting to be sealed) and no key was given.
	ErrKeyRequired = errors.New("secret key required")
	// ErrWrongKey: the key does not open what the database holds.
	ErrWrongKey = errors.New("secret key does not match the database")
	// ErrNoKey: a secret must be sealed but the store has no key.
	ErrNoKey = errors.New("no secret key configured to seal server credentials")
)

// Key seals and opens secrets. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// NewKey returns a fresh random key and its raw bytes (to write to a file).
func NewKey() (*Key, []byte, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, nil, fmt.Errorf("secret: random key: %w", err)
	}
	k, err := FromBytes(raw)
	return k, raw, err
}

// FromBytes makes a key from KeySize raw bytes.
func FromBytes(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secret: key is %d bytes, want %d", len(raw), KeySize)
	}
	b, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Key{aead: g}, nil
}

// Parse reads the contents of a key file: the key as standard base64 on one
// line (surrounding white space ignored).
func Parse(text []byte) (*Key, error) {
	s := strings.TrimSpace(string(text))
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != KeySize {
		return nil, fmt.Errorf("secret: key file content is not %d bytes of base64", KeySize)
	}
	return FromBytes(raw)
}

// Load reads the key file at path. A missing file gives an error that
// errors.Is(err, fs.ErrNotExist).
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// Create writes a new random key to path (mode 0600, failing with
// fs.ErrExist if the file exists) and returns it. The parent directory is
// created 0700 when missing. The file appears complete or not at all (it is
// written beside and linked into place), so a concurrent Load never reads
// half a key.
func Create(path string) (*Key, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	k, raw, err := NewKey()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".secret-key-*")
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err := errors.Join(werr, f.Chmod(0o600), f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	// The directory entry too: a key lost in a crash after data was sealed
	// with it would make that data unreadable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return k, nil
}

// Resolve finds the key of a store that keeps it in the file at path. A
// missing file is created with a new key only when the database holds no
// sealed secret yet (sealed reports that); otherwise the error names the
// missing file and wraps ErrKeyRequired. Two processes creating the file at
// once agree on the one written first.
func Resolve(path string, sealed bool) (*Key, error) {
	k, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if sealed {
		return nil, fmt.Errorf("%w: the database holds sealed server credentials but the key file %s is missing (restore it, or point --secret-key-file at it)",
			ErrKeyRequired, path)
	}
	k, err = Create(path)
	if errors.Is(err, fs.ErrExist) {
		return Load(path)
	}
	return k, err
}

// Seal encrypts plaintext bound to ad (the device ID).
func (k *Key) Seal(plaintext, ad string) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+k.aead.Overhead())
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secret: random nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:1+nonceSize], []byte(plaintext), []byte(ad)), nil
}

// Open decrypts a value made by Seal with the same ad.
func (k *Key) Open(sealed []byte, ad string) (string, error) {
	if len(sealed) < 1+nonceSize+k.aead.Overhead() || sealed[0] != formatV1 {
		return "", errors.New("secret: sealed value is malformed")
	}
	p, err := k.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], []byte(ad))
	if err != nil {
		return "", fmt.Errorf("secret: sealed value does not open (%w)", ErrWrongKey)
	}
	return string(p), nil
}

// CheckValue returns a new key-check value for a store to keep.
func (k *Key) CheckValue() ([]byte, error) { return k.Seal(checkText, checkAD) }

// Verify reports ErrWrongKey unless check is a key-check value of this key.
func (k *Key) Verify(check []byte) error {
	p, err := k.Open(check, checkAD)
	if err != nil || p != checkText {
		return fmt.Errorf("%w: the key does not open the database's key-check value (another server's key file, or a new key after the old one was lost?)", ErrWrongKey)
	}
	return nil
}

// SealFor seals a device's server password for storage, bound to the device
// ID. An empty password gives nil (nothing to protect). A nil Key can seal
// only the empty password: anything else is ErrNoKey.
func (k *Key) SealFor(deviceID, password string) ([]byte, error) {
	if password == "" {
		return nil, nil
	}
	if k == nil {
		return nil, fmt.Errorf("storage: device %q: %w", deviceID, ErrNoKey)
	}
	return k.Seal(password, deviceID)
}

// OpenFor opens what SealFor made for the device; nil or empty gives "".
func (k *Key) OpenFor(deviceID string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if k == nil {
		return "", fmt.Errorf("storage: device %q has a sealed server password: %w", deviceID, ErrKeyRequired)
	}
	p, err := k.Open(sealed, deviceID)
	if err != nil {
		return "", fmt.Errorf("storage: device %q: %w", deviceID, err)
	}
	return p, nil
}
