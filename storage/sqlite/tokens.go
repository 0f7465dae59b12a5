package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.TokenStore = (*Store)(nil)

func scanToken(sc interface{ Scan(...any) error }) (*storage.APIToken, error) {
	var t storage.APIToken
	var created, used, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &t.Prefix, &t.Hash, &created, &used, &revoked); err != nil {
		return nil, wrap(err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(revoked)
	return &t, nil
}

// CreateAPIToken implements storage.TokenStore.
func (s *Store) CreateAPIToken(ctx context.Context, t *storage.APIToken) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.CreateAPIToken(ctx, t) })
	}
	c := now()
	err := s.tx.QueryRowContext(ctx, q(sqlcommon.InsertToken),
		t.Name, t.Prefix, t.Hash, c.UnixMicro()).Scan(&t.ID)
	if err != nil {
		return wrap(err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = c, time.Time{}, time.Time{}
	return nil
}

// APITokenByHash implements storage.TokenStore.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (*storage.APIToken, error) {
	t, err := scanToken(s.reader().QueryRowContext(ctx, q(sqlcommon.TokenByHash), hash))
	if err != nil {
		return nil, fmt.Errorf("API token: %w", err)
	}
	return t, nil
}

// ListAPITokens implements storage.TokenStore.
func (s *Store) ListAPITokens(ctx context.Context, includeRevoked bool) ([]*storage.APIToken, error) {
	query := sqlcommon.ListTokens
	if !includeRevoked {
		query = sqlcommon.ListLiveTokens
	}
	rows, err := s.reader().QueryContext(ctx, query)
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
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.TouchAPIToken(ctx, id, at) })
	}
	var n int64
	err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE id = ?`, id).Scan(&n)
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: API token %d", storage.ErrNotFound, id)
	}
	_, err = s.tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		at.UnixMicro(), id, at.UnixMicro())
	return wrap(err)
}

// RevokeAPIToken implements storage.TokenStore.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (*storage.APIToken, error) {
	var out *storage.APIToken
	if s.tx == nil {
		err := s.solo(ctx, func(in *Store) error {
			var err error
			out, err = in.RevokeAPIToken(ctx, id)
			return err
		})
		return out, err
	}
	if _, err := s.tx.ExecContext(ctx, q(sqlcommon.RevokeToken), now().UnixMicro(), id); err != nil {
		return nil, wrap(err)
	}
	t, err := scanToken(s.tx.QueryRowContext(ctx, q(sqlcommon.TokenByID), id))
	if err != nil {
		return nil, fmt.Errorf("API token %d: %w", id, err)
	}
	return t, nil
}
