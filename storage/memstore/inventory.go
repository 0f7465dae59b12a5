package memstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

// inventory is the groups part of the store (devices hold their labels).
type inventory struct {
	groups  map[string]*storage.Group
	members map[string]map[string]bool // group name → member device IDs
}

var _ storage.Inventory = (*Store)(nil)
var _ storage.GroupStore = (*Store)(nil)

// QueryDevices implements storage.DeviceQuerier by scanning every device.
func (s *Store) QueryDevices(ctx context.Context, q storage.DeviceQuery) ([]*storage.Device, string, error) {
	after, err := q.Prepare()
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var members map[string]bool
	if q.Group != "" {
		members = s.inv.members[q.Group]
	}
	type row struct {
		key int64
		d   *storage.Device
	}
	var rows []row
	for _, d := range s.devices {
		if q.Group != "" && !members[d.ID] {
			continue
		}
		if !q.Match(d) {
			continue
		}
		r := row{storage.SortKey(q.Sort, d), d}
		if after != nil {
			c := cmp.Or(cmp.Compare(r.key, after.Key), cmp.Compare(d.ID, after.ID))
			if (!q.Desc && c <= 0) || (q.Desc && c >= 0) {
				continue
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b row) int {
		c := cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.d.ID, b.d.ID))
		if q.Desc {
			return -c
		}
		return c
	})
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = q.NextCursor(rows[len(rows)-1].d)
	}
	out := make([]*storage.Device, len(rows))
	for i, r := range rows {
		out[i] = copyDevice(r.d)
	}
	return out, next, nil
}

// UpdateLabels implements storage.Inventory.
func (s *Store) UpdateLabels(ctx context.Context, ids []string, set map[string]string, remove []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for k, v := range set {
		if err := storable(k, v); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, id := range ids {
		d, ok := s.devices[id]
		if !ok {
			continue
		}
		l := maps.Clone(d.Labels)
		if l == nil {
			l = map[string]string{}
		}
		maps.Copy(l, set)
		for _, k := range remove {
			delete(l, k)
		}
		if len(l) == 0 && d.Labels == nil {
			l = nil
		}
		if !maps.Equal(l, d.Labels) {
			d.Labels = l
			n++
		}
	}
	return n, nil
}

// dropMemberships removes a deleted device from every group (s.mu held).
func (s *Store) dropMemberships(id string) {
	for _, m := range s.inv.members {
		delete(m, id)
	}
}

// CreateGroup implements storage.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g *storage.Group) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if g.Name == "" {
		return fmt.Errorf("memstore: group without name")
	}
	if err := storable(g.Name, g.Description, g.Selector); err != nil {
		return err
	}
	if s.inv.groups == nil {
		s.inv.groups = map[string]*storage.Group{}
		s.inv.members = map[string]map[string]bool{}
	}
	if _, ok := s.inv.groups[g.Name]; ok {
		return fmt.Errorf("%w: group %s", storage.ErrExists, g.Name)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	c := *g
	c.CreatedAt = wall(g.CreatedAt)
	s.inv.groups[g.Name] = &c
	s.inv.members[g.Name] = map[string]bool{}
	return nil
}

// GetGroup implements storage.GroupStore.
func (s *Store) GetGroup(ctx context.Context, name string) (*storage.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g, ok := s.inv.groups[name]
	if !ok {
		return nil, fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	c := *g
	return &c, nil
}

// ListGroups implements storage.GroupStore.
func (s *Store) ListGroups(ctx context.Context, after string, limit int) ([]*storage.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	var out []*storage.Group
	for _, name := range slices.Sorted(maps.Keys(s.inv.groups)) {
		if name <= after {
			continue
		}
		if len(out) == limit {
			break
		}
		c := *s.inv.groups[name]
		out = append(out, &c)
	}
	return out, nil
}

// DeleteGroup implements storage.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.inv.groups[name]; !ok {
		return fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	delete(s.inv.groups, name)
	delete(s.inv.members, name)
	return nil
}

// staticGroup returns the member set of a static group (s.mu held).
func (s *Store) staticGroup(name string) (map[string]bool, error) {
	g, ok := s.inv.groups[name]
	if !ok {
		return nil, fmt.Errorf("%w: group %s", storage.ErrNotFound, name)
	}
	if g.Dynamic() {
		return nil, fmt.Errorf("%w: group %s", storage.ErrDynamicGroup, name)
	}
	return s.inv.members[name], nil
}

// AddGroupMembers implements storage.GroupStore.
func (s *Store) AddGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m, err := s.staticGroup(name)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, ok := s.devices[id]; !ok {
			return 0, fmt.Errorf("%w: device %s", storage.ErrNotFound, id)
		}
	}
	n := 0
	for _, id := range ids {
		if !m[id] {
			m[id] = true
			n++
		}
	}
	return n, nil
}

// RemoveGroupMembers implements storage.GroupStore.
func (s *Store) RemoveGroupMembers(ctx context.Context, name string, ids []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m, err := s.staticGroup(name)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if m[id] {
			delete(m, id)
			n++
		}
	}
	return n, nil
}
