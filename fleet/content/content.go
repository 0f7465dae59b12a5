// Package content is the server's package catalogue: update packages
// (firmware images, software components) uploaded by the operator, kept on
// disk with their SHA-256, served to devices over HTTP with Range support,
// described to them by generated OMA download descriptors
// (OMA-Download-OTA-V1_0), and the operator's release policy that maps a
// device model and firmware version to the package it should get.
//
// A catalogue is a directory:
//
//	<dir>/<id>/meta.json   the package's attributes
//	<dir>/<id>/data        its bytes
//	<dir>/policy.json      the release policy
//	<dir>/notify.key       key of the device-bound install-notify links
//
// Several server processes may share one directory: every write is a new
// file renamed into place.
package content

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/omadm/omadm/internal/atomicfile"
)

// Errors.
var (
	ErrNotFound = errors.New("content: no such package")
	ErrTooLarge = errors.New("content: package too large")
	ErrInUse    = errors.New("content: package is named by the release policy")
)

// DefaultMaxSize bounds an uploaded package.
const DefaultMaxSize = 2 << 30

// Package is one stored package.
type Package struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Type      string    `json:"type"` // media type the descriptor announces
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

// Release is one rule of the release policy: devices of Model running
// FromVersion ("" = any version) get Package.
type Release struct {
	Model       string `json:"model"`
	FromVersion string `json:"from_version,omitempty"`
	Package     string `json:"package"`
}

// Catalogue is a package directory.
type Catalogue struct {
	dir     string
	maxSize int64
	key     []byte
	now     func() time.Time
	mu      sync.Mutex // serialises this process's writers of policy.json
}

// Options of Open; zero values take defaults.
type Options struct {
	MaxSize int64            // DefaultMaxSize
	Now     func() time.Time // time.Now
}

// Open opens (creating) the catalogue in dir.
func Open(dir string, o Options) (*Catalogue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Catalogue{dir: dir, maxSize: o.MaxSize, now: o.Now}
	key, err := os.ReadFile(filepath.Join(dir, "notify.key"))
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err = atomicfile.Write(filepath.Join(dir, "notify.key"), key); err == nil {
			// Another process may have won the race: use what is there.
			key, err = os.ReadFile(filepath.Join(dir, "notify.key"))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("content: %s is damaged (%d bytes)", filepath.Join(dir, "notify.key"), len(key))
	}
	c.key = key
	return c, nil
}

var idPattern = regexp.MustCompile(`^pkg-[0-9a-f]{16}$`)

// ValidID reports whether id has the form of a package ID.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// checkText bounds a name or version.
func checkText(field, v string, required bool) error {
	if v == "" && required {
		return fmt.Errorf("%s is required", field)
	}
	if len(v) > 256 || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s must be at most 256 printable characters", field)
	}
	return nil
}

// Add stores a package read from r. typ "" is application/octet-stream.
// Errors other than storage failures name the bad field; ErrTooLarge wraps
// a body over the limit.
func (c *Catalogue) Add(name, version, typ string, r io.Reader) (*Package, error) {
	if err := checkText("name", name, true); err != nil {
		return nil, err
	}
	if err := checkText("version", version, true); err != nil {
		return nil, err
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	if mt, _, err := mime.ParseMediaType(typ); err != nil || len(typ) > 128 || !strings.Contains(mt, "/") {
		return nil, fmt.Errorf("type %q is not a media type", typ)
	}
	idb := make([]byte, 8)
	rand.Read(idb)
	p := &Package{ID: "pkg-" + hex.EncodeToString(idb), Name: name, Version: version, Type: typ, CreatedAt: c.now().UTC().Truncate(time.Second)}
	tmp, err := os.MkdirTemp(c.dir, ".upload-")
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.OpenFile(filepath.Join(tmp, "data"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, c.maxSize+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("content: storing the package: %w", err)
	}
	if n > c.maxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.maxSize)
	}
	if n == 0 {
		return nil, errors.New("the package is empty")
	}
	p.Size, p.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	meta, _ := json.MarshalIndent(p, "", "  ")
	if err := atomicfile.Write(filepath.Join(tmp, "meta.json"), meta); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, p.ID)); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	return p, nil
}

// Get returns a package's attributes.
func (c *Catalogue) Get(id string) (*Package, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	b, err := os.ReadFile(filepath.Join(c.dir, id, "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var p Package
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("content: %s/meta.json is damaged: %v", id, err)
	}
	return &p, nil
}

// Open returns a package's bytes (the caller closes the file).
func (c *Catalogue) Open(id string) (*os.File, *Package, error) {
	p, err := c.Get(id)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(c.dir, id, "data"))
	if err != nil {
		return nil, nil, fmt.Errorf("content: %w", err)
	}
	return f, p, nil
}

// List returns every package, newest first.
func (c *Catalogue) List() ([]*Package, error) {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var out []*Package
	for _, e := range ents {
		if !e.IsDir() || !ValidID(e.Name()) {
			continue
		}
		p, err := c.Get(e.Name())
		if errors.Is(err, ErrNotFound) {
			continue // being deleted
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Package) int {
		if d := b.CreatedAt.Compare(a.CreatedAt); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Delete removes a package; ErrInUse when the release policy names it.
func (c *Catalogue) Delete(id string) error {
	if _, err := c.Get(id); err != nil {
		return err
	}
	pol, err := c.Policy()
	if err != nil {
		return err
	}
	for _, r := range pol {
		if r.Package == id {
			return fmt.Errorf("%w (model %q): change the policy first", ErrInUse, r.Model)
		}
	}
	// Rename first so that readers never see half a package.
	gone := filepath.Join(c.dir, ".deleted-"+id)
	if err := os.Rename(filepath.Join(c.dir, id), gone); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return os.RemoveAll(gone)
}

// Policy returns the release policy.
func (c *Catalogue) Policy() ([]Release, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "policy.json"))
	if errors.Is(err, os.ErrNotExist) {
		return []Release{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var p []Release
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("content: policy.json is damaged: %v", err)
	}
	return p, nil
}

// SetPolicy replaces the release policy. Every rule needs a model and an
// existing package; two rules may not match the same model and version.
func (c *Catalogue) SetPolicy(rules []Release) error {
	seen := map[[2]string]bool{}
	for i, r := range rules {
		if err := checkText(fmt.Sprintf("rules[%d].model", i), r.Model, true); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("rules[%d].from_version", i), r.FromVersion, false); err != nil {
			return err
		}
		if _, err := c.Get(r.Package); err != nil {
			return fmt.Errorf("rules[%d].package: %q: %w", i, r.Package, err)
		}
		k := [2]string{r.Model, r.FromVersion}
		if seen[k] {
			return fmt.Errorf("rules[%d]: a second rule for model %q from version %q", i, r.Model, r.FromVersion)
		}
		seen[k] = true
	}
	if rules == nil {
		rules = []Release{}
	}
	b, _ := json.MarshalIndent(rules, "", "  ")
	c.mu.Lock()
	defer c.mu.Unlock()
	return atomicfile.Write(filepath.Join(c.dir, "policy.json"), b)
}

// Match returns the package the policy gives a device of model running
// version: a rule for that exact version wins over a rule for any version.
// A device already running the package's version gets nothing (ok false).
func (c *Catalogue) Match(model, version string) (p *Package, ok bool, err error) {
	pol, err := c.Policy()
	if err != nil {
		return nil, false, err
	}
	var pick *Release
	for i := range pol {
		r := &pol[i]
		if r.Model != model {
			continue
		}
		if r.FromVersion == version && version != "" {
			pick = r
			break
		}
		if r.FromVersion == "" && pick == nil {
			pick = r
		}
	}
	if pick == nil {
		return nil, false, nil
	}
	p, err = c.Get(pick.Package)
	if err != nil {
		return nil, false, fmt.Errorf("content: the policy for model %q names %s: %w", model, pick.Package, err)
	}
	if p.Version == version {
		return nil, false, nil
	}
	return p, true, nil
}

// NotifyMAC is the tag that binds a package's install-notify link to one
// device, so that a report cannot be forged for another device.
func (c *Catalogue) NotifyMAC(id, device string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(device))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// CheckNotifyMAC verifies a NotifyMAC tag in constant time.
func (c *Catalogue) CheckNotifyMAC(id, device, tag string) bool {
	return hmac.Equal([]byte(c.NotifyMAC(id, device)), []byte(tag))
}
