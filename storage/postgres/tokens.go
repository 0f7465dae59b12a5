package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.TokenStore = (*Store)(nil)

func scanToken(sc interface{ Scan(...any) error }) (*storage.APIToken, error) {
	var t storage.APIToken
	var created, used, revoked pgtype.Timestamptz
	if err := sc.Scan(&t.ID, &t.Name, &t.Prefix, &t.Hash, &created, &used, &revoked); err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromTS(created), fromTS(used), fromTS(revoked)
	return &t, nil
}

// CreateAPIToken implements storage.TokenStore.
func (s *Store) CreateAPIToken(ctx context.Context, t *storage.APIToken) error {
	c := now()
	if err := s.db.QueryRow(ctx, sqlcommon.InsertToken,
		t.Name, t.Prefix, t.Hash, c).Scan(&t.ID); err != nil {
		return wrap(err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = c, time.Time{}, time.Time{}
	return nil
}

// APITokenByHash implements storage.TokenStore.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (*storage.APIToken, error) {
	t, err := scanToken(s.db.QueryRow(ctx, sqlcommon.TokenByHash, hash))
	if err != nil {
		return nil, fmt.Errorf("API token: %w", err)
	}
	return t, nil
}

// ListAPITokens implements storage.TokenStore.
func (s *Store) ListAPITokens(ctx context.Context, includeRevoked bool) ([]*storage.APIToken, error) {
	q := sqlcommon.ListTokens
	if !includeRevoked {
		q = sqlcommon.ListLiveTokens
	}
	rows, err := s.db.Query(ctx, q)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []*storage.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err())
}

// TouchAPIToken implements storage.TokenStore.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	// One statement: the row exists (found) and its last use moves forward
	// only.
	var found bool
	err := s.db.QueryRow(ctx, `WITH t AS (SELECT id FROM api_tokens WHERE id = $1),
		u AS (UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2) RETURNING id)
		SELECT EXISTS (SELECT 1 FROM t)`, id, at.UTC().Truncate(time.Microsecond)).Scan(&found)
	if err != nil {
		return wrap(err)
	}
	if !found {
		return fmt.Errorf("%w: API token %d", storage.ErrNotFound, id)
	}
	return nil
}

// RevokeAPIToken implements storage.TokenStore.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (*storage.APIToken, error) {
	if _, err := s.db.Exec(ctx, sqlcommon.RevokeToken, now(), id); err != nil {
		return nil, wrap(err)
	}
	t, err := scanToken(s.db.QueryRow(ctx, sqlcommon.TokenByID, id))
	if err != nil {
		return nil, fmt.Errorf("API token %d: %w", id, err)
	}
	return t, nil
}
