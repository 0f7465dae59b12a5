package api

import (
	"regexp"
	"time"

	"github.com/omadm/omadm/storage"
)

// TokenRequest is the body of POST /tokens.
type TokenRequest struct {
	// Name tells tokens apart (for example the person or system using it):
	// a letter, then letters, digits, '.', '_' or '-'; at most 64
	// characters; unique among the tokens not revoked.
	Name string `json:"name"`
}

// Token is a named API token. Token, the plaintext, is only in the answer
// to POST /tokens: the server keeps nothing but its SHA-256.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the token's first characters
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"` // at most a minute behind
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// Current is set on the token the request itself carried.
	Current bool `json:"current,omitempty"`
	// Token is the plaintext, shown once.
	Token string `json:"token,omitempty"`
}

// TokenList is GET /tokens: the named tokens by ID. The bootstrap token of
// `omadm serve` (its data directory's api-token, or $OMADM_API_TOKEN) is not
// listed: it is not stored and cannot be revoked through the API.
type TokenList struct {
	Tokens []Token `json:"tokens"`
	// BootstrapCurrent is true when the request carried the bootstrap token.
	BootstrapCurrent bool `json:"bootstrap_current,omitempty"`
}

// TokenPrefixLen is how many leading characters of a token are stored and
// shown: "omadm_" and 6 of the 43 random ones.
const TokenPrefixLen = 12

var tokenName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)

// ValidateTokenRequest checks a token request; errors name the field.
func ValidateTokenRequest(r *TokenRequest) error {
	switch {
	case r.Name == "":
		return invalid("name", "is required")
	case !tokenName.MatchString(r.Name):
		return invalid("name", "%q: want a letter, then letters, digits, '.', '_' or '-' (at most 64 characters)", r.Name)
	}
	return nil
}

// TokenFrom is the API view of a stored token.
func TokenFrom(t *storage.APIToken) Token {
	out := Token{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt}
	if !t.LastUsedAt.IsZero() {
		u := t.LastUsedAt
		out.LastUsedAt = &u
	}
	if t.Revoked() {
		r := t.RevokedAt
		out.RevokedAt = &r
	}
	return out
}

// NotificationSender is one configured way of sending package 0.
type NotificationSender struct {
	// Scheme is the address scheme it serves ("udp" for udp://host:port,
	// "sms" for sms:+number, …).
	Scheme string `json:"scheme"`
	// Kind is the sender's implementation (for example
	// "notification.UDPSender").
	Kind string `json:"kind"`
	// Description says how and where it delivers, without secrets (empty
	// when the sender does not describe itself).
	Description string `json:"description,omitempty"`
}

// NotificationSenderList is GET /notification-senders, by scheme.
type NotificationSenderList struct {
	Senders []NotificationSender `json:"senders"`
}
