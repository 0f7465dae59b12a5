package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

var _ storage.ImportPreparer = (*Store)(nil)

// importPrep is an import unit with its checks done and password hashes
// computed.
type importPrep struct {
	ds     []*storage.Device
	st     *state
	errs   []error  // refusals of the checks
	hashes []string // PasswordHash of each device that passed them
}

func (p *importPrep) Devices() []*storage.Device { return p.ds }

// PrepareImport implements storage.ImportPreparer: the checks that do not
// depend on the store's contents, and the password hashes.
func (s *Store) PrepareImport(ds []*storage.Device) storage.PreparedImport {
	p := &importPrep{ds: ds, st: s.state, errs: make([]error, len(ds)), hashes: make([]string, len(ds))}
	for i, d := range ds {
		if d.ID == "" {
			p.errs[i] = fmt.Errorf("memstore: device without id")
			continue
		}
		if err := storable(d.ID, d.AuthScheme, d.Username, d.Password, d.ServerPassword, d.NotifyAddr,
			d.ServerAuthScheme, d.CertSHA256, d.TransportAuth); err != nil {
			p.errs[i] = err
			continue
		}
		p.hashes[i] = storage.HashPassword(d)
	}
	return p
}

// StoreImport implements storage.ImportPreparer.
func (s *Store) StoreImport(ctx context.Context, pi storage.PreparedImport) ([]error, error) {
	p, ok := pi.(*importPrep)
	if !ok || p.st != s.state {
		return nil, storage.ErrForeignImport
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := slices.Clone(p.errs)
	now := time.Now().UTC()
	for i, d := range p.ds {
		if errs[i] != nil {
			continue
		}
		if s.devices[d.ID] != nil {
			errs[i] = fmt.Errorf("%w: device %s", storage.ErrExists, d.ID)
			continue
		}
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		d.PasswordHash = p.hashes[i]
		c := copyDevice(d)
		c.Password = ""
		s.devices[d.ID] = c
	}
	return errs, nil
}

// ImportDevices implements storage.Inventory.
func (s *Store) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	return s.StoreImport(ctx, s.PrepareImport(ds))
}

// StoreImport implements storage.ImportPreparer inside a batch.
func (t *txStore) StoreImport(ctx context.Context, p storage.PreparedImport) ([]error, error) {
	for _, d := range p.Devices() {
		remember(t.state, t.devices, d.ID)
	}
	return t.Store.StoreImport(ctx, p)
}
