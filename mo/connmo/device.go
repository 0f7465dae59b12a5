package connmo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
)

// Config is the device side of the object.
type Config struct {
	// Servers are granted Get, Replace and Exec on the container (its ACL,
	// so they may Add and Delete access points and proxies below it too:
	// see Install); empty leaves the ACL as inherited.
	Servers []string
	// Apply puts the configuration in force when a server changed it: it
	// gets every leaf below the container as "NAP/corp/Addr=internet"
	// lines, sorted. An error leaves the change pending: the next Sync
	// calls Apply again. nil only records the change.
	Apply func(ctx context.Context, content string) error
	// Dir keeps the digest of the applied configuration, so a restart does
	// not apply it again; "" keeps it in memory.
	Dir string
	Log *slog.Logger
}

// appliedFile is the name of the digest's file in Config.Dir.
const appliedFile = "connmo.applied"

// Object is the installed container.
type Object struct {
	t   *dmtree.Tree
	uri string
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	applied string // digest of the configuration last put in force
}

// Install creates the container at uri (for example ./ConnMO) or binds it
// again and grants cfg.Servers Add, Delete, Get and Replace on it. At the
// first start the configuration found is taken as applied.
func Install(t *dmtree.Tree, uri string, cfg Config) (*Object, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	uri, err := Model.Install(t, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("connmo: %w", err)
	}
	if len(cfg.Servers) > 0 {
		acl, err := dmtree.NewACL(map[dmtree.Cmd][]string{dmtree.CmdAdd: cfg.Servers, dmtree.CmdDelete: cfg.Servers,
			dmtree.CmdGet: cfg.Servers, dmtree.CmdReplace: cfg.Servers})
		if err != nil {
			return nil, fmt.Errorf("connmo: %w", err)
		}
		if err := t.Replace("", uri+"?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
			return nil, fmt.Errorf("connmo: set the ACL of %s: %w", uri, err)
		}
	}
	o := &Object{t: t, uri: uri, cfg: cfg, log: cfg.Log.With("connmo", uri)}
	if cfg.Dir != "" {
		b, err := os.ReadFile(filepath.Join(cfg.Dir, appliedFile))
		switch {
		case err == nil:
			o.applied = strings.TrimSpace(string(b))
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("connmo: %w", err)
		}
	}
	if o.applied == "" {
		content, err := o.Content()
		if err != nil {
			return nil, err
		}
		if err := o.record(digest(content)); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// URI is the container's canonical URI.
func (o *Object) URI() string { return o.uri }

// Content returns every leaf below the container as sorted
// "relative/uri=value" lines.
func (o *Object) Content() (string, error) {
	rs, err := o.t.Get("", o.uri+"?list=StructData")
	if err != nil {
		return "", fmt.Errorf("connmo: read %s: %w", o.uri, err)
	}
	lines := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Format == dmtree.FormatNode {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(r.URI, o.uri), "/")
		lines = append(lines, rel+"="+strings.ReplaceAll(string(r.Data), "\n", `\n`))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), nil
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Sync puts a changed configuration in force: when the container's content
// differs from what was last applied it calls Config.Apply and, when that
// succeeds, records the content as applied. It reports whether it applied.
// The agent calls it after every session.
func (o *Object) Sync(ctx context.Context) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	content, err := o.Content()
	if err != nil {
		return false, err
	}
	d := digest(content)
	if d == o.applied {
		return false, nil
	}
	if o.cfg.Apply != nil {
		if err := o.cfg.Apply(ctx, content); err != nil {
			o.log.Warn("applying the connectivity configuration failed; retried after the next session", "err", err)
			return false, fmt.Errorf("connmo: apply: %w", err)
		}
	}
	if err := o.record(d); err != nil {
		return false, err
	}
	o.log.Info("connectivity configuration applied")
	return true, nil
}

func (o *Object) record(d string) error {
	if o.cfg.Dir != "" {
		if err := os.MkdirAll(o.cfg.Dir, 0o700); err != nil {
			return fmt.Errorf("connmo: %w", err)
		}
		if err := moframe.WriteFileSync(filepath.Join(o.cfg.Dir, appliedFile), []byte(d+"\n")); err != nil {
			return fmt.Errorf("connmo: %w", err)
		}
	}
	o.applied = d
	return nil
}
