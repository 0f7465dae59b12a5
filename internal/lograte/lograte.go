// Package lograte bounds the log lines that remote peers can cause: one
// line per message text per interval, the next one telling how many were
// left out. Message texts are the key, so callers pass constant messages
// (the set stays small) and put variable parts in attributes.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Limiter lets through at most one record per message per Every.
type Limiter struct {
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]*state
}

type state struct {
	last       time.Time
	suppressed int
}

// New returns a limiter writing each message at most once per every (zero
// or negative: every record is written).
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, now: time.Now, seen: map[string]*state{}}
}

// WithClock makes the limiter read time from now (for tests).
func (l *Limiter) WithClock(now func() time.Time) *Limiter { l.now = now; return l }

// Warn logs msg at warn level on log, unless the same msg was logged less
// than the limiter's interval ago; then it is only counted, and the next
// line of msg carries the count as "suppressed".
func (l *Limiter) Warn(log *slog.Logger, msg string, args ...any) {
	l.Log(context.Background(), log, slog.LevelWarn, msg, args...)
}

// Log is Warn at any level.
func (l *Limiter) Log(ctx context.Context, log *slog.Logger, level slog.Level, msg string, args ...any) {
	if !log.Enabled(ctx, level) {
		return
	}
	if l != nil && l.every > 0 {
		now := l.now()
		l.mu.Lock()
		s := l.seen[msg]
		if s == nil {
			s = &state{}
			l.seen[msg] = s
		} else if now.Sub(s.last) < l.every {
			s.suppressed++
			l.mu.Unlock()
			return
		}
		n := s.suppressed
		s.last, s.suppressed = now, 0
		l.mu.Unlock()
		if n > 0 {
			args = append(args, "suppressed", n, "every", l.every)
		}
	}
	log.Log(ctx, level, msg, args...)
}
