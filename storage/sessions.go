package storage

import (
	"context"
	"time"
)

// SessionStore keeps the engine's state of DM sessions, so that any server
// node can handle a session's next message.
type SessionStore interface {
	// SaveSession inserts (Version 0 → 1) or updates a session when the stored
	// Version equals s.Version, then increments s.Version. ErrConflict otherwise.
	SaveSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, deviceID, sessionID string) (*Session, error)
	GetSessionByToken(ctx context.Context, token string) (*Session, error)
	// DeleteSessionsBefore removes sessions not updated since t; returns how many.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error)
}
