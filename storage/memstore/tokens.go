package memstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/omadm/omadm/storage"
)

var _ storage.TokenStore = (*Store)(nil)

func copyToken(t *storage.APIToken) *storage.APIToken {
	c := *t
	c.Hash = bytes.Clone(t.Hash)
	c.CreatedAt, c.LastUsedAt, c.RevokedAt = wall(t.CreatedAt), wall(t.LastUsedAt), wall(t.RevokedAt)
	return &c
}

// CreateAPIToken implements storage.TokenStore.
func (s *Store) CreateAPIToken(ctx context.Context, t *storage.APIToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.apiTokens {
		if bytes.Equal(o.Hash, t.Hash) {
			return fmt.Errorf("%w: an API token with this hash", storage.ErrExists)
		}
		if o.Name == t.Name && !o.Revoked() {
			return fmt.Errorf("%w: API token %q", storage.ErrExists, t.Name)
		}
	}
	s.nextToken++
	t.ID = s.nextToken
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = time.Now().UTC().Truncate(time.Microsecond), time.Time{}, time.Time{}
	if s.open {
		n := len(s.apiTokens)
		s.undo = append(s.undo, func() { s.apiTokens = s.apiTokens[:n] })
	}
	s.apiTokens = append(s.apiTokens, copyToken(t))
	return nil
}

// APITokenByHash implements storage.TokenStore.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (*storage.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.apiTokens {
		if bytes.Equal(t.Hash, hash) {
			return copyToken(t), nil
		}
	}
	return nil, fmt.Errorf("API token: %w", storage.ErrNotFound)
}

// ListAPITokens implements storage.TokenStore.
func (s *Store) ListAPITokens(ctx context.Context, includeRevoked bool) ([]*storage.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*storage.APIToken
	for _, t := range s.apiTokens {
		if includeRevoked || !t.Revoked() {
			out = append(out, copyToken(t))
		}
	}
	return out, nil
}

func (s *Store) tokenByID(id int64) *storage.APIToken {
	for _, t := range s.apiTokens {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// TouchAPIToken implements storage.TokenStore.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokenByID(id)
	if t == nil {
		return fmt.Errorf("%w: API token %d", storage.ErrNotFound, id)
	}
	if at = at.UTC().Truncate(time.Microsecond); at.After(t.LastUsedAt) {
		s.keepToken(t)
		t.LastUsedAt = at
	}
	return nil
}

// RevokeAPIToken implements storage.TokenStore.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (*storage.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokenByID(id)
	if t == nil {
		return nil, fmt.Errorf("API token %d: %w", id, storage.ErrNotFound)
	}
	if !t.Revoked() {
		s.keepToken(t)
		t.RevokedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	return copyToken(t), nil
}
