package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.ProfileStore = (*Store)(nil)

// CreateProfile implements storage.ProfileStore.
func (s *Store) CreateProfile(ctx context.Context, p *storage.Profile) error {
	plain, sealed, err := sqlcommon.SealProfile(s.key, p)
	if err != nil {
		return err
	}
	t := now()
	if _, err := s.db.Exec(ctx, `INSERT INTO profiles (name, kind, settings, secrets, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5, $5)`,
		p.Name, p.Kind, string(plain), sealed, t); err != nil {
		return wrap(err)
	}
	p.CreatedAt, p.UpdatedAt = t, t
	return nil
}

func (s *Store) scanProfile(sc interface{ Scan(...any) error }) (*storage.Profile, error) {
	var p storage.Profile
	var plain string
	var sealed []byte
	var created, updated pgtype.Timestamptz
	if err := sc.Scan(&p.Name, &p.Kind, &plain, &sealed, &created, &updated); err != nil {
		return nil, wrap(err)
	}
	if err := sqlcommon.OpenProfile(s.key, &p, plain, sealed); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return &p, nil
}

const profileCols = `name, kind, settings::text, secrets, created_at, updated_at`

// GetProfile implements storage.ProfileStore.
func (s *Store) GetProfile(ctx context.Context, name string) (*storage.Profile, error) {
	return s.scanProfile(s.db.QueryRow(ctx, `SELECT `+profileCols+` FROM profiles WHERE name = $1`, name))
}

// UpdateProfile implements storage.ProfileStore.
func (s *Store) UpdateProfile(ctx context.Context, p *storage.Profile) error {
	plain, sealed, err := sqlcommon.SealProfile(s.key, p)
	if err != nil {
		return err
	}
	t := now()
	var created pgtype.Timestamptz
	if err := s.db.QueryRow(ctx, `UPDATE profiles SET kind = $1, settings = $2::jsonb, secrets = $3, updated_at = $4 WHERE name = $5 RETURNING created_at`,
		p.Kind, string(plain), sealed, t, p.Name).Scan(&created); err != nil {
		return wrap(err)
	}
	p.CreatedAt, p.UpdatedAt = fromTS(created), t
	return nil
}

// ListProfiles implements storage.ProfileStore.
func (s *Store) ListProfiles(ctx context.Context, after string, limit int) ([]*storage.Profile, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT `+profileCols+` FROM profiles WHERE name COLLATE "C" > $1 ORDER BY name COLLATE "C" LIMIT $2`, after, limit)
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
	tag, err := s.db.Exec(ctx, `DELETE FROM profiles WHERE name = $1`, name)
	if err != nil {
		return wrap(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: profile %q", storage.ErrNotFound, name)
	}
	return nil
}
