package memstore

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/omadm/omadm/storage"
)

var _ storage.ProfileStore = (*Store)(nil)

func copyProfile(p *storage.Profile) *storage.Profile {
	c := *p
	c.Settings = maps.Clone(p.Settings)
	c.CreatedAt, c.UpdatedAt = wall(p.CreatedAt), wall(p.UpdatedAt)
	return &c
}

// CreateProfile implements storage.ProfileStore.
func (s *Store) CreateProfile(ctx context.Context, p *storage.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.profiles == nil {
		s.profiles = map[string]*storage.Profile{}
	}
	if _, ok := s.profiles[p.Name]; ok {
		return fmt.Errorf("%w: profile %q", storage.ErrExists, p.Name)
	}
	t := time.Now().UTC().Truncate(time.Microsecond)
	p.CreatedAt, p.UpdatedAt = t, t
	remember(s.state, s.profiles, p.Name)
	s.profiles[p.Name] = copyProfile(p)
	return nil
}

// GetProfile implements storage.ProfileStore.
func (s *Store) GetProfile(ctx context.Context, name string) (*storage.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[name]
	if !ok {
		return nil, fmt.Errorf("%w: profile %q", storage.ErrNotFound, name)
	}
	return copyProfile(p), nil
}

// UpdateProfile implements storage.ProfileStore.
func (s *Store) UpdateProfile(ctx context.Context, p *storage.Profile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.profiles[p.Name]
	if !ok {
		return fmt.Errorf("%w: profile %q", storage.ErrNotFound, p.Name)
	}
	p.CreatedAt, p.UpdatedAt = cur.CreatedAt, time.Now().UTC().Truncate(time.Microsecond)
	remember(s.state, s.profiles, p.Name)
	s.profiles[p.Name] = copyProfile(p)
	return nil
}

// ListProfiles implements storage.ProfileStore.
func (s *Store) ListProfiles(ctx context.Context, after string, limit int) ([]*storage.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.profiles))
	for n := range s.profiles {
		if n > after {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []*storage.Profile{}
	for _, n := range names {
		if len(out) == limit {
			break
		}
		out = append(out, copyProfile(s.profiles[n]))
	}
	return out, nil
}

// DeleteProfile implements storage.ProfileStore.
func (s *Store) DeleteProfile(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[name]; !ok {
		return fmt.Errorf("%w: profile %q", storage.ErrNotFound, name)
	}
	remember(s.state, s.profiles, name)
	delete(s.profiles, name)
	return nil
}
