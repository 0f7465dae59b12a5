package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.ProfileStore = (*Store)(nil)

// CreateProfile implements storage.ProfileStore.
func (s *Store) CreateProfile(ctx context.Context, p *storage.Profile) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateProfile(ctx, p) })
	}
	plain, sealed, err := sqlcommon.SealProfile(s.key, p)
	if err != nil {
		return err
	}
	t := now()
	if _, err := s.tx.ExecContext(ctx, `INSERT INTO profiles (name, kind, settings, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.Name, p.Kind, string(plain), sealed, t.UnixMicro(), t.UnixMicro()); err != nil {
		return wrap(err)
	}
	p.CreatedAt, p.UpdatedAt = t, t
	return nil
}

func (s *Store) scanProfile(sc interface{ Scan(...any) error }) (*storage.Profile, error) {
	var p storage.Profile
	var plain string
	var sealed []byte
	var created, updated sql.NullInt64
	if err := sc.Scan(&p.Name, &p.Kind, &plain, &sealed, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	if err := sqlcommon.OpenProfile(s.key, &p, plain, sealed); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// GetProfile implements storage.ProfileStore.
func (s *Store) GetProfile(ctx context.Context, name string) (*storage.Profile, error) {
	return s.scanProfile(s.reader().QueryRowContext(ctx, `SELECT name, kind, settings, secrets, created_at, updated_at FROM profiles WHERE name = ?`, name))
}

// UpdateProfile implements storage.ProfileStore.
func (s *Store) UpdateProfile(ctx context.Context, p *storage.Profile) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.UpdateProfile(ctx, p) })
	}
	plain, sealed, err := sqlcommon.SealProfile(s.key, p)
	if err != nil {
		return err
	}
	t := now()
	var created sql.NullInt64
	err = s.tx.QueryRowContext(ctx, `UPDATE profiles SET kind = ?, settings = ?, secrets = ?, updated_at = ? WHERE name = ? RETURNING created_at`,
		p.Kind, string(plain), sealed, t.UnixMicro(), p.Name).Scan(&created)
	if err != nil {
		return wrap(err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), t
	return nil
}

// ListProfiles implements storage.ProfileStore.
func (s *Store) ListProfiles(ctx context.Context, after string, limit int) ([]*storage.Profile, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT name, kind, settings, secrets, created_at, updated_at FROM profiles WHERE name > ? ORDER BY name LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []*storage.Profile{}
	for rows.Next() {
		p, err := s.scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err())
}

// DeleteProfile implements storage.ProfileStore.
func (s *Store) DeleteProfile(ctx context.Context, name string) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.DeleteProfile(ctx, name) })
	}
	res, err := s.tx.ExecContext(ctx, `DELETE FROM profiles WHERE name = ?`, name)
	if err != nil {
		return wrap(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: profile %q", storage.ErrNotFound, name)
	}
	return nil
}
