package handler_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/storage"
)

// memStore is an in-memory storage.Store for handler tests; it follows the
// documented contract (sentinel errors, ordering, paging) closely enough for
// the API to be exercised without a database.
type memStore struct {
	mu      sync.Mutex
	devices map[string]*storage.Device
	jobs    map[int64]*storage.Job
	events  []*storage.Event
	traces  []*storage.TraceEntry
	nodes   map[string]storage.TreeNode // deviceID + "\x00" + URI
	nextID  int64
	pingErr error
}

var _ storage.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{devices: map[string]*storage.Device{}, jobs: map[int64]*storage.Job{}, nodes: map[string]storage.TreeNode{}}
}

func cp[T any](v *T) *T { c := *v; return &c }

func (m *memStore) CreateDevice(_ context.Context, d *storage.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.ID]; ok {
		return storage.ErrExists
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	m.devices[d.ID] = cp(d)
	return nil
}

func (m *memStore) GetDevice(_ context.Context, id string) (*storage.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return cp(d), nil
}

func (m *memStore) UpdateDevice(_ context.Context, d *storage.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.ID]; !ok {
		return storage.ErrNotFound
	}
	m.devices[d.ID] = cp(d)
	return nil
}

func (m *memStore) ListDevices(_ context.Context, afterID string, limit int) ([]*storage.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit == 0 {
		limit = 100
	}
	var ids []string
	for id := range m.devices {
		if id > afterID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []*storage.Device
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		out = append(out, cp(m.devices[id]))
	}
	return out, nil
}

func (m *memStore) DeleteDevice(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[id]; !ok {
		return storage.ErrNotFound
	}
	delete(m.devices, id)
	for k, j := range m.jobs {
		if j.DeviceID == id {
			delete(m.jobs, k)
		}
	}
	return nil
}

func (m *memStore) CountDevices(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.devices), nil
}

func (m *memStore) CreateJob(_ context.Context, j *storage.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[j.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	m.nextID++
	j.ID = m.nextID
	j.CreatedAt = time.Now().UTC()
	if j.State == "" {
		j.State = storage.JobQueued
	}
	m.jobs[j.ID] = cp(j)
	return nil
}

func (m *memStore) GetJob(_ context.Context, id int64) (*storage.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return cp(j), nil
}

func (m *memStore) ListJobs(_ context.Context, f storage.JobFilter) ([]*storage.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.Limit == 0 {
		f.Limit = 100
	}
	var out []*storage.Job
	for _, j := range m.jobs {
		if (f.DeviceID == "" || j.DeviceID == f.DeviceID) && j.ID > f.AfterID &&
			(len(f.States) == 0 || slices.Contains(f.States, j.State)) {
			out = append(out, cp(j))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) PendingJobs(context.Context, string, string) ([]*storage.Job, error) {
	return nil, nil
}

func (m *memStore) UpdateJob(_ context.Context, j *storage.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.jobs[j.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if cur.State.Terminal() {
		return storage.ErrConflict
	}
	m.jobs[j.ID] = cp(j)
	return nil
}

func (m *memStore) CancelJob(_ context.Context, id int64) (*storage.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	if j.State.Terminal() {
		return nil, storage.ErrConflict
	}
	j.State = storage.JobCancelled
	j.DoneAt = time.Now().UTC()
	return cp(j), nil
}

func (m *memStore) CountJobs(_ context.Context, s storage.JobState) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, j := range m.jobs {
		if j.State == s {
			n++
		}
	}
	return n, nil
}

func (m *memStore) SaveSession(context.Context, *storage.Session) error { return nil }
func (m *memStore) GetSession(context.Context, string, string) (*storage.Session, error) {
	return nil, storage.ErrNotFound
}
func (m *memStore) GetSessionByToken(context.Context, string) (*storage.Session, error) {
	return nil, storage.ErrNotFound
}
func (m *memStore) DeleteSessionsBefore(context.Context, time.Time) (int, error) { return 0, nil }

func (m *memStore) AddEvent(_ context.Context, e *storage.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	e.ID = m.nextID
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	m.events = append(m.events, cp(e))
	return nil
}

func (m *memStore) ListEvents(_ context.Context, deviceID string, afterID int64, limit int) ([]*storage.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit == 0 {
		limit = 100
	}
	var out []*storage.Event
	for _, e := range m.events {
		if (deviceID == "" || e.DeviceID == deviceID) && e.ID > afterID && len(out) < limit {
			out = append(out, cp(e))
		}
	}
	return out, nil
}

func (m *memStore) PutTreeNodes(_ context.Context, nodes []storage.TreeNode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range nodes {
		m.nodes[n.DeviceID+"\x00"+n.URI] = n
	}
	return nil
}

func (m *memStore) ListTreeNodes(_ context.Context, deviceID, prefix string) ([]storage.TreeNode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []storage.TreeNode
	for _, n := range m.nodes {
		if n.DeviceID == deviceID && (prefix == "" || n.URI == prefix || strings.HasPrefix(n.URI, prefix+"/")) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].URI < out[b].URI })
	return out, nil
}

func (m *memStore) DeleteTreeNodes(context.Context, string, string) error { return nil }

func (m *memStore) AddTrace(_ context.Context, t *storage.TraceEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	t.ID = m.nextID
	m.traces = append(m.traces, cp(t))
	return nil
}

func (m *memStore) ListTraces(_ context.Context, deviceID, sessionID string, limit int) ([]*storage.TraceEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*storage.TraceEntry
	for _, t := range m.traces {
		if t.DeviceID == deviceID && (sessionID == "" || t.SessionID == sessionID) {
			out = append(out, cp(t))
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

func (m *memStore) PruneTraces(context.Context, int) error { return nil }
func (m *memStore) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pingErr
}
func (m *memStore) Close() error { return nil }
