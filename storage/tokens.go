package storage

import (
	"context"
	"time"
)

// APIToken is a named bearer token for the REST API. The store keeps only
// the SHA-256 of its plaintext (shown once, when it is created) and a short
// prefix of it, so an operator can tell tokens apart.
type APIToken struct {
	ID     int64
	Name   string // unique among the tokens not revoked
	Prefix string // the first characters of the plaintext
	Hash   []byte // SHA-256 of the plaintext (32 bytes); unique
	// CreatedAt is set by CreateAPIToken.
	CreatedAt time.Time
	// LastUsedAt is when a request last carried the token (zero: never);
	// it may lag behind by the interval the API handler writes it at.
	LastUsedAt time.Time
	// RevokedAt is when the token was revoked (zero: it is valid).
	RevokedAt time.Time
}

// Revoked reports whether the token was revoked.
func (t *APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// TokenStore keeps named API tokens. Every server node reads them from the
// store on each request, so a revocation takes effect on all nodes at once.
type TokenStore interface {
	// CreateAPIToken stores a new token; it assigns ID and CreatedAt.
	// ErrExists when a token that is not revoked has the name, or when the
	// hash is taken.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// APITokenByHash returns the token with this SHA-256, revoked or not
	// (ErrNotFound).
	APITokenByHash(ctx context.Context, hash []byte) (*APIToken, error)
	// ListAPITokens returns the tokens ordered by ID, the revoked ones only
	// when includeRevoked.
	ListAPITokens(ctx context.Context, includeRevoked bool) ([]*APIToken, error)
	// TouchAPIToken records a use of the token at t (LastUsedAt only moves
	// forward); ErrNotFound when there is no such token.
	TouchAPIToken(ctx context.Context, id int64, t time.Time) error
	// RevokeAPIToken marks the token revoked and returns it (ErrNotFound);
	// revoking a revoked token changes nothing.
	RevokeAPIToken(ctx context.Context, id int64) (*APIToken, error)
}
