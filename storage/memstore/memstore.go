// Package memstore is an in-memory storage.Store for tests and benchmarks of
// the packages above storage (server engine, REST API). It follows the storage
// contract (sentinel errors, optimistic session versions, terminal jobs immune
// to updates) and passes the same conformance suite as the SQL backends, so
// tests that use it exercise the rules real storage keeps, without a database.
// Like them it is a storage.Batcher and a storage.EffectsWriter, so the engine
// stores each DM message as one atomic unit on it too (batch.go).
// Nothing is persisted. Like the SQL backends it keeps only the hash of a
// device's password (storage.Device.PasswordHash); the server's own password
// stays readable in memory, where there is no rest to protect it at.
package memstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
)

// Store keeps everything in maps behind one mutex, indexed by device where
// the engine looks things up by device. Values are deep-copied in and out so
// callers cannot alias stored state, as with a real database.
//
// Store is a storage.Batcher and a storage.EffectsWriter: a batch holds the
// mutex for its whole length (one writer at a time, as with SQLite) and
// undoes its writes when it fails (batch.go).
type Store struct {
	// mu is the state's mutex; on the Store a batch hands its function it
	// is a no-op, since the batch holds the mutex throughout.
	mu sync.Locker
	*state
	tx *txStore // the batch a Store handed to a batch's function belongs to; nil otherwise
}

// state is what a Store holds, shared by the Store a batch hands out.
type state struct {
	lock     sync.Mutex
	devices  map[string]*storage.Device
	jobs     map[int64]*storage.Job
	devJobs  map[string][]int64 // device → its job IDs, ascending; may hold deleted IDs
	nextJob  int64
	sessions map[string]*storage.Session // key deviceID + "\x00" + sessionID
	tokens   map[string]string           // token → sessions key
	chunks   map[string][][]byte         // sessions key → its large-object chunks by Seq
	events   []*storage.Event
	nextEv   int64
	tree     map[string]storage.TreeNode      // key deviceID + "\x00" + URI
	traces   map[string][]*storage.TraceEntry // device → its traces, oldest first
	nextTr   int64
	ops      map[int64]*storage.Operation
	opCorr   map[string]int64                      // deviceID + "\x00" + correlator → operation ID
	opJob    map[int64]int64                       // job ID → its operation's ID
	attempts map[int64][]*storage.OperationAttempt // operation ID → its ended attempts, by number
	nextOp   int64
	camps    campaignData // campaigns.go
	inv      inventory    // groups (inventory.go)
	profiles map[string]*storage.Profile
	// API tokens (tokens.go), by ID.
	apiTokens []*storage.APIToken
	nextToken int64

	// open is set while a batch runs; undo then reverts its writes,
	// newest first (batch.go).
	open bool
	undo []func()
}

var (
	_ storage.Store      = (*Store)(nil)
	_ storage.ChunkStore = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	st := &state{
		devices:  map[string]*storage.Device{},
		jobs:     map[int64]*storage.Job{},
		devJobs:  map[string][]int64{},
		traces:   map[string][]*storage.TraceEntry{},
		sessions: map[string]*storage.Session{},
		tokens:   map[string]string{},
		chunks:   map[string][][]byte{},
		tree:     map[string]storage.TreeNode{},
		// Made here rather than on first use, so that a batch's undo
		// entries always refer to the maps that stay.
		ops:      map[int64]*storage.Operation{},
		opCorr:   map[string]int64{},
		opJob:    map[int64]int64{},
		camps:    campaignData{byID: map[int64]*storage.Campaign{}, devices: map[int64][]*storage.CampaignDevice{}},
		inv:      inventory{groups: map[string]*storage.Group{}, members: map[string]map[string]bool{}},
		profiles: map[string]*storage.Profile{},
	}
	return &Store{mu: &st.lock, state: st}
}

// storable rejects what a SQL text column cannot hold: NUL bytes and invalid UTF-8.
func storable(vals ...string) error {
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
			return fmt.Errorf("memstore: value %q is not storable text", v)
		}
	}
	return nil
}

func validState(st storage.JobState) bool {
	switch st {
	case storage.JobQueued, storage.JobSent, storage.JobDone, storage.JobFailed, storage.JobCancelled:
		return true
	}
	return false
}

// CreateDevice implements storage.Store.
func (s *Store) CreateDevice(ctx context.Context, d *storage.Device) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.ID == "" {
		return fmt.Errorf("memstore: device without id")
	}
	if err := storable(d.ID, d.AuthScheme, d.Username, d.Password, d.ServerPassword, d.NotifyAddr,
		d.ServerAuthScheme, d.CertSHA256, d.TransportAuth); err != nil {
		return err
	}
	if _, ok := s.devices[d.ID]; ok {
		return storage.ErrExists
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	d.PasswordHash = storage.HashPassword(d)
	c := copyDevice(d)
	c.Password = ""
	remember(s.state, s.devices, d.ID)
	s.devices[d.ID] = c
	return nil
}

// GetDevice implements storage.Store.
func (s *Store) GetDevice(ctx context.Context, id string) (*storage.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, ok := s.devices[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return copyDevice(d), nil
}

// UpdateDevice implements storage.Store.
func (s *Store) UpdateDevice(ctx context.Context, d *storage.Device) error {
	return s.updateDevice(ctx, d, false, true)
}

func (s *Store) updateDevice(ctx context.Context, d *storage.Device, contact, devInfo bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	old, ok := s.devices[d.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if err := storable(d.AuthScheme, d.Username, d.Password, d.ServerPassword, d.NotifyAddr,
		d.ServerAuthScheme, d.CertSHA256, d.TransportAuth); err != nil {
		return err
	}
	d.PasswordHash = storage.HashPassword(d)
	c := copyDevice(d)
	c.Password = ""
	c.CreatedAt = old.CreatedAt
	if contact {
		c.Labels = old.Labels
		if !devInfo {
			c.DevInfo = old.DevInfo
		}
	}
	remember(s.state, s.devices, d.ID)
	s.devices[d.ID] = c
	return nil
}

var _ storage.DeviceContactWriter = (*Store)(nil)

// UpdateDeviceContact implements storage.DeviceContactWriter: UpdateDevice
// leaving the labels, and unless devInfo the DevInfo, as stored.
func (s *Store) UpdateDeviceContact(ctx context.Context, d *storage.Device, devInfo bool) error {
	return s.updateDevice(ctx, d, true, devInfo)
}

// ListDevices implements storage.Store.
func (s *Store) ListDevices(ctx context.Context, afterID string, limit int) ([]*storage.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	var out []*storage.Device
	for id, d := range s.devices {
		if id > afterID {
			out = append(out, copyDevice(d))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeleteDevice implements storage.Store.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.devices[id]; !ok {
		return storage.ErrNotFound
	}
	remember(s.state, s.devices, id)
	delete(s.devices, id)
	s.keepMemberships(id)
	s.dropMemberships(id)
	for _, k := range s.devJobs[id] {
		remember(s.state, s.jobs, k)
		delete(s.jobs, k)
	}
	remember(s.state, s.devJobs, id)
	delete(s.devJobs, id)
	remember(s.state, s.traces, id)
	delete(s.traces, id)
	for k, v := range s.sessions {
		if v.DeviceID == id {
			s.dropSession(k, v)
		}
	}
	for k, v := range s.tree {
		if v.DeviceID == id {
			remember(s.state, s.tree, k)
			delete(s.tree, k)
		}
	}
	var evs []*storage.Event
	for _, e := range s.events {
		if e.DeviceID != id {
			evs = append(evs, e)
		}
	}
	s.keepEvents()
	s.events = evs
	for k, o := range s.ops {
		if o.DeviceID == id {
			ck := corrKey(o.DeviceID, o.Correlator)
			remember(s.state, s.opCorr, ck)
			delete(s.opCorr, ck)
			if s.opJob[o.JobID] == k {
				remember(s.state, s.opJob, o.JobID)
				delete(s.opJob, o.JobID)
			}
			remember(s.state, s.ops, k)
			delete(s.ops, k)
			remember(s.state, s.attempts, k)
			delete(s.attempts, k)
		}
	}
	return nil
}

// CountDevices implements storage.Store.
func (s *Store) CountDevices(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return len(s.devices), nil
}

// CreateJob implements storage.Store.
func (s *Store) CreateJob(ctx context.Context, j *storage.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.devices[j.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	if j.State != "" && !validState(j.State) {
		return fmt.Errorf("memstore: invalid job state %q", j.State)
	}
	s.nextJob++
	j.ID = s.nextJob
	if j.State == "" {
		j.State = storage.JobQueued
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = time.Now().UTC()
	}
	remember(s.state, s.jobs, j.ID)
	s.jobs[j.ID] = copyJob(j)
	remember(s.state, s.devJobs, j.DeviceID)
	s.devJobs[j.DeviceID] = append(s.devJobs[j.DeviceID], j.ID)
	return nil
}

// GetJob implements storage.Store.
func (s *Store) GetJob(ctx context.Context, id int64) (*storage.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j, ok := s.jobs[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return copyJob(j), nil
}

// deviceJobs is sortedJobs for one device: only its own jobs are looked at,
// which keeps PendingJobs cheap however many jobs other devices have. It
// drops the IDs of deleted jobs from the device's list as it goes (outside
// a batch: a batch's undo entries keep the list as it was).
func (s *Store) deviceJobs(deviceID string, want func(*storage.Job) bool) []*storage.Job {
	ids := s.devJobs[deviceID]
	live := ids[:0]
	var out []*storage.Job
	for _, id := range ids {
		j, ok := s.jobs[id]
		if !ok {
			continue
		}
		if !s.open {
			live = append(live, id)
		}
		if want(j) {
			out = append(out, copyJob(j))
		}
	}
	switch {
	case s.open:
	case len(live) == 0:
		delete(s.devJobs, deviceID)
	default:
		s.devJobs[deviceID] = live
	}
	return out
}

func (s *Store) sortedJobs(keep func(*storage.Job) bool) []*storage.Job {
	var out []*storage.Job
	for _, j := range s.jobs {
		if keep(j) {
			out = append(out, copyJob(j))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// ListJobs implements storage.Store.
func (s *Store) ListJobs(ctx context.Context, f storage.JobFilter) ([]*storage.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, st := range f.States {
		if !validState(st) {
			return nil, fmt.Errorf("memstore: invalid job state %q", st)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	pick := s.sortedJobs
	if f.DeviceID != "" {
		pick = func(keep func(*storage.Job) bool) []*storage.Job { return s.deviceJobs(f.DeviceID, keep) }
	}
	out := pick(func(j *storage.Job) bool {
		if f.DeviceID != "" && j.DeviceID != f.DeviceID || j.ID <= f.AfterID {
			return false
		}
		if len(f.States) == 0 {
			return true
		}
		for _, st := range f.States {
			if st == j.State {
				return true
			}
		}
		return false
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PendingJobs implements storage.Store.
func (s *Store) PendingJobs(ctx context.Context, deviceID, sessionID string) ([]*storage.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.deviceJobs(deviceID, func(j *storage.Job) bool {
		return j.DeviceID == deviceID && (j.State == storage.JobQueued || j.State == storage.JobSent && j.SessionID != sessionID)
	}), nil
}

// UpdateJob implements storage.Store.
func (s *Store) UpdateJob(ctx context.Context, j *storage.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	old, ok := s.jobs[j.ID]
	if !ok {
		return storage.ErrNotFound
	}
	if old.State.Terminal() {
		return storage.ErrConflict
	}
	remember(s.state, s.jobs, j.ID)
	s.jobs[j.ID] = copyJob(j)
	return nil
}

// CancelJob implements storage.Store.
func (s *Store) CancelJob(ctx context.Context, id int64) (*storage.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j, ok := s.jobs[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	if j.State.Terminal() {
		return nil, storage.ErrConflict
	}
	c := *j // replaced, not changed in place: a batch's undo entry keeps j
	c.State = storage.JobCancelled
	c.DoneAt = time.Now().UTC()
	remember(s.state, s.jobs, id)
	s.jobs[id] = &c
	return copyJob(&c), nil
}

// CountJobs implements storage.Store.
func (s *Store) CountJobs(ctx context.Context, state storage.JobState) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, j := range s.jobs {
		if j.State == state {
			n++
		}
	}
	return n, nil
}

// SaveSession implements storage.Store.
func (s *Store) SaveSession(ctx context.Context, x *storage.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.devices[x.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	key := x.DeviceID + "\x00" + x.SessionID
	old, ok := s.sessions[key]
	cur := int64(0)
	if ok {
		cur = old.Version
	}
	if cur != x.Version {
		return storage.ErrConflict
	}
	if x.Token != "" {
		if k, ok := s.tokens[x.Token]; ok && k != key {
			return storage.ErrExists
		}
	}
	if ok && old.Token != x.Token {
		remember(s.state, s.tokens, old.Token)
		delete(s.tokens, old.Token)
	}
	if x.Token != "" {
		remember(s.state, s.tokens, x.Token)
		s.tokens[x.Token] = key
	}
	now := time.Now().UTC()
	if !ok {
		x.CreatedAt = now
	}
	x.UpdatedAt = now
	x.Version++
	remember(s.state, s.sessions, key)
	s.sessions[key] = copySession(x)
	return nil
}

// GetSession implements storage.Store.
func (s *Store) GetSession(ctx context.Context, deviceID, sessionID string) (*storage.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x, ok := s.sessions[deviceID+"\x00"+sessionID]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return copySession(x), nil
}

// GetSessionByToken implements storage.Store.
func (s *Store) GetSessionByToken(ctx context.Context, token string) (*storage.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if x, ok := s.sessions[s.tokens[token]]; ok && token != "" {
		return copySession(x), nil
	}
	return nil, storage.ErrNotFound
}

// DeleteSessionsBefore implements storage.Store.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for k, x := range s.sessions {
		if x.UpdatedAt.Before(t) {
			s.dropSession(k, x)
			n++
		}
	}
	return n, nil
}

// DeleteJobsBefore implements storage.Store.
func (s *Store) DeleteJobsBefore(ctx context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for id, j := range s.jobs {
		switch j.State {
		case storage.JobDone, storage.JobFailed, storage.JobCancelled:
			if j.CreatedAt.Before(t) {
				remember(s.state, s.jobs, id)
				delete(s.jobs, id)
				n++
			}
		}
	}
	return n, nil
}

// DeleteEventsBefore implements storage.Store.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.keepEvents()
	kept := s.events[:0]
	for _, e := range s.events {
		if !e.CreatedAt.Before(t) {
			kept = append(kept, e)
		}
	}
	n := len(s.events) - len(kept)
	clear(s.events[len(kept):])
	s.events = kept
	return n, nil
}

// AddEvent implements storage.Store.
func (s *Store) AddEvent(ctx context.Context, e *storage.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.devices[e.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	s.nextEv++
	e.ID = s.nextEv
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	s.keepEventCount()
	s.events = append(s.events, copyEvent(e))
	return nil
}

// ListEvents implements storage.Store.
func (s *Store) ListEvents(ctx context.Context, deviceID string, afterID int64, limit int) ([]*storage.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	var out []*storage.Event
	for _, e := range s.events {
		if (deviceID == "" || e.DeviceID == deviceID) && e.ID > afterID && len(out) < limit {
			out = append(out, copyEvent(e))
		}
	}
	return out, nil
}

// PutTreeNodes implements storage.Store.
func (s *Store) PutTreeNodes(ctx context.Context, nodes []storage.TreeNode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, n := range nodes {
		if _, ok := s.devices[n.DeviceID]; !ok {
			return storage.ErrNotFound
		}
		if err := storable(n.URI, n.Format, n.Type, n.Value); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		if n.UpdatedAt.IsZero() {
			n.UpdatedAt = time.Now().UTC()
		}
		k := n.DeviceID + "\x00" + n.URI
		remember(s.state, s.tree, k)
		s.tree[k] = n
	}
	return nil
}

func under(uri, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return prefix == "" || uri == prefix || strings.HasPrefix(uri, prefix+"/")
}

// ListTreeNodes implements storage.Store.
func (s *Store) ListTreeNodes(ctx context.Context, deviceID, prefix string) ([]storage.TreeNode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.TreeNode
	for _, n := range s.tree {
		if n.DeviceID == deviceID && under(n.URI, prefix) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out, nil
}

// DeleteTreeNodes implements storage.Store.
func (s *Store) DeleteTreeNodes(ctx context.Context, deviceID, prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	for k, n := range s.tree {
		if n.DeviceID == deviceID && under(n.URI, prefix) {
			remember(s.state, s.tree, k)
			delete(s.tree, k)
		}
	}
	return nil
}

// AddTrace implements storage.Store.
func (s *Store) AddTrace(ctx context.Context, t *storage.TraceEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.devices[t.DeviceID]; !ok {
		return storage.ErrNotFound
	}
	s.nextTr++
	t.ID = s.nextTr
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	remember(s.state, s.traces, t.DeviceID)
	s.traces[t.DeviceID] = append(s.traces[t.DeviceID], copyTrace(t))
	return nil
}

// ListTraces implements storage.Store.
func (s *Store) ListTraces(ctx context.Context, deviceID, sessionID string, limit int) ([]*storage.TraceEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	var out []*storage.TraceEntry
	trs := s.traces[deviceID]
	for i := len(trs) - 1; i >= 0 && len(out) < limit; i-- {
		t := trs[i]
		if sessionID == "" || t.SessionID == sessionID {
			out = append(out, copyTrace(t))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PruneTraces implements storage.Store.
func (s *Store) PruneTraces(ctx context.Context, keep int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if keep < 0 {
		return fmt.Errorf("memstore: negative trace count %d", keep)
	}
	for dev := range s.traces {
		s.trimTraces(dev, keep)
	}
	return nil
}

// PruneDeviceTraces implements storage.DeviceTracePruner.
func (s *Store) PruneDeviceTraces(ctx context.Context, deviceID string, keep int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if keep < 0 {
		return 0, fmt.Errorf("memstore: negative trace count %d", keep)
	}
	return s.trimTraces(deviceID, keep), nil
}

var _ storage.DeviceTracePruner = (*Store)(nil)

// trimTraces keeps the newest traces of dev and says how many went.
func (s *Store) trimTraces(dev string, newest int) int {
	trs := s.traces[dev]
	n := len(trs) - newest
	if n <= 0 {
		return 0
	}
	remember(s.state, s.traces, dev)
	if newest == 0 {
		delete(s.traces, dev)
		return n
	}
	s.traces[dev] = append(trs[:0:0], trs[n:]...)
	return n
}

// Ping implements storage.Store.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// Close implements storage.Store; inside a batch it is storage.ErrInBatch.
func (s *Store) Close() error {
	if s.tx != nil {
		return storage.ErrInBatch
	}
	return nil
}

// AppendChunks implements storage.ChunkStore.
func (s *Store) AppendChunks(ctx context.Context, cs []*storage.Chunk) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, c := range cs {
		key := c.DeviceID + "\x00" + c.SessionID
		if _, ok := s.sessions[key]; !ok {
			return fmt.Errorf("%w: session %s/%s", storage.ErrNotFound, c.DeviceID, c.SessionID)
		}
		if c.Seq < 0 {
			return fmt.Errorf("memstore: chunk seq %d is negative", c.Seq)
		}
		have := s.chunks[key]
		if c.Seq < len(have) && have[c.Seq] != nil {
			return fmt.Errorf("%w: chunk %d of session %s/%s", storage.ErrExists, c.Seq, c.DeviceID, c.SessionID)
		}
		s.keepChunk(key, c.Seq)
		for len(have) <= c.Seq {
			have = append(have, nil)
		}
		have[c.Seq] = append([]byte{}, c.Data...) // non-nil even when empty: the seq is taken
		s.chunks[key] = have
	}
	return nil
}

// ReadChunks implements storage.ChunkStore.
func (s *Store) ReadChunks(ctx context.Context, deviceID, sessionID string) ([]byte, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var out []byte
	n := 0
	for _, c := range s.chunks[deviceID+"\x00"+sessionID] {
		if c != nil {
			out = append(out, c...)
			n++
		}
	}
	return out, n, nil
}

// DeleteChunks implements storage.ChunkStore.
func (s *Store) DeleteChunks(ctx context.Context, deviceID, sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	remember(s.state, s.chunks, deviceID+"\x00"+sessionID)
	delete(s.chunks, deviceID+"\x00"+sessionID)
	return nil
}
