package dmtree

import (
	"errors"
	"sync"
	"time"

	"github.com/omadm/omadm/syncml"
)

// DefaultRootACL is the root ACL of a new tree (OMA-TS-DM_TND-V1_2, ACL).
const DefaultRootACL = "Add=*&Get=*"

// Options configure a Tree. A nil *Options means the defaults below.
type Options struct {
	// URI limits, published in ./DevDetail/URI; 0 = unlimited (violations → 414).
	MaxDepth, MaxTotLen, MaxSegLen int
	// RootACL is the root's ACL on a new tree (default DefaultRootACL).
	RootACL string
	// MaxValueSize bounds one leaf value in bytes (default 16 MiB; larger → 413).
	MaxValueSize int
	// MaxNodes bounds the number of nodes, the root included (0 = unlimited;
	// an Add, Copy or TNDS that would exceed it → 420 Device full).
	MaxNodes int
	// MaxTotalBytes bounds the sum of all stored leaf values and node
	// metadata (names, types, titles, ACLs) in bytes (0 = unlimited; an
	// Add, Replace, Copy, property Replace or TNDS that would exceed it →
	// 420 Device full). With the default compaction the files of an Open tree
	// stay below about 3 × MaxTotalBytes plus node overhead.
	MaxTotalBytes int64
	// Now returns the current time for TStamp (default time.Now).
	Now func() time.Time
	// NoSync skips fsync on the journal and snapshot: faster, not crash safe.
	// Only for tests and benchmarks.
	NoSync bool
	// CompactRatio: the journal is folded into a new snapshot when it grows
	// beyond CompactRatio × snapshot size (and past CompactMin bytes). Default 2.
	CompactRatio int
	// CompactMin is the journal size below which no compaction happens (default 1 MiB).
	CompactMin int64
}

// Value is the data of an Add or Replace. Format "" means chr for leaves; Format
// "b64" means Data is base64 text, which the tree decodes and stores as bin.
// Type application/vnd.syncml.dmtnds+xml (or +wbxml, delivered as XML text)
// means Data is a TNDS document describing a subtree.
type Value struct {
	Format, Type string
	Data         []byte
}

// Result is one item of a Get answer. URI is "./A/B" style ("." for the
// root), with the query kept for ?prop= answers.
type Result struct {
	URI, Format, Type string
	Data              []byte
}

// Tree is a device management tree. All methods are safe for concurrent use.
type Tree struct {
	mu     sync.RWMutex
	nodes  []node
	free   []int32
	index  map[childKey]int32
	intern map[string]string
	acls   map[string]*ACL
	lim    Limits
	opts   Options
	now    func() time.Time
	mounts map[int32]Plugin
	count  int
	bytes  int64 // sum of the live leaf values
	// hasCIS is set once an installed DDF declares CaseSense CIS.
	hasCIS bool
	// inbox is the ./Inbox node when EnableInbox made it live (else 0), and
	// places maps MO identifiers to the parent URI of their instances.
	inbox  int32
	places map[string]string

	// Mutation bookkeeping: undo closures of the running operation or Tx, and
	// the journal entries it produced.
	undo    []func()
	jbuf    []byte
	tx      *Tx
	st      *store
	closed  bool
	loading bool
	// changes is the in-memory record of committed changes kept since
	// RecordChanges (see changes.go).
	changes *changeLog
}

// New returns an empty in-memory tree holding only the root.
func New(opts *Options) *Tree {
	t, err := newTree(opts)
	if err != nil {
		// Only an invalid RootACL fails; fall back to the default.
		o := *opts
		o.RootACL = ""
		t, _ = newTree(&o)
	}
	return t
}

func newTree(opts *Options) (*Tree, error) {
	t := &Tree{index: make(map[childKey]int32), intern: make(map[string]string), mounts: make(map[int32]Plugin)}
	if opts != nil {
		t.opts = *opts
	}
	if t.opts.MaxValueSize <= 0 {
		t.opts.MaxValueSize = 16 << 20
	}
	if t.opts.CompactRatio <= 0 {
		t.opts.CompactRatio = 2
	}
	if t.opts.CompactMin <= 0 {
		t.opts.CompactMin = 1 << 20
	}
	t.now = t.opts.Now
	if t.now == nil {
		t.now = time.Now
	}
	t.lim = Limits{MaxDepth: t.opts.MaxDepth, MaxTotLen: t.opts.MaxTotLen, MaxSegLen: t.opts.MaxSegLen}
	rs := t.opts.RootACL
	if rs == "" {
		rs = DefaultRootACL
	}
	acl, err := ParseACL(rs)
	if err != nil {
		return nil, err
	}
	t.nodes = append(t.nodes, node{name: ".", parent: -1, flags: flagLive | flagInterior | flagPermanent, format: fmtNode, acl: acl})
	t.count = 1
	t.bytes = t.nodes[0].cost()
	return t, nil
}

// Limits returns the URI limits the tree enforces (for ./DevDetail/URI).
func (t *Tree) Limits() Limits { return t.lim }

// Close releases the persistence files; the tree must not be used afterwards.
func (t *Tree) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.st != nil {
		return t.st.close()
	}
	return nil
}

// Usage is how much of its budget a tree holds.
type Usage struct {
	Nodes, MaxNodes int   // live nodes (root included) and the bound (0 = none)
	Bytes, MaxBytes int64 // bytes of leaf values and node metadata (names, types, titles, ACLs) and the bound (0 = none)
	MaxValue        int   // bound of one leaf value in bytes
}

// Usage reports the tree's size against its budget (Options MaxNodes,
// MaxTotalBytes, MaxValueSize).
func (t *Tree) Usage() Usage {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return Usage{Nodes: t.count, MaxNodes: t.opts.MaxNodes, Bytes: t.bytes, MaxBytes: t.opts.MaxTotalBytes, MaxValue: t.opts.MaxValueSize}
}

// fits checks that growing the stored values by delta bytes stays within
// MaxTotalBytes (420 Device full otherwise). Loading from disk is never refused.
func (t *Tree) fits(delta int64) error {
	if t.loading || t.opts.MaxTotalBytes <= 0 || delta <= 0 || t.bytes+delta <= t.opts.MaxTotalBytes {
		return nil
	}
	return syncml.Errorf(syncml.StatusDeviceFull, "tree values and node metadata would take %d bytes, more than the %d allowed", t.bytes+delta, t.opts.MaxTotalBytes)
}

// Len returns the number of live nodes, the root included.
func (t *Tree) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

func (t *Tree) internStr(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := t.intern[s]; ok {
		return v
	}
	if len(t.intern) < 1<<16 {
		t.intern[s] = s
	}
	return s
}

// parse validates a URI against the tree's limits.
func (t *Tree) parse(s string) (URI, error) { return ParseURI(s, &t.lim) }

// find returns the node at segs, or -1.
func (t *Tree) find(segs []string) int32 {
	id := rootID
	for _, s := range segs {
		c, ok := t.child(id, s)
		if !ok {
			return -1
		}
		id = c
	}
	return id
}

// deepest returns the deepest existing node on segs and how many segments it covers.
func (t *Tree) deepest(segs []string) (int32, int) {
	id := rootID
	for i, s := range segs {
		c, ok := t.child(id, s)
		if !ok {
			return id, i
		}
		id = c
	}
	return id, len(segs)
}

// uriOf returns the canonical "./A/B" form of a node's URI.
func (t *Tree) uriOf(id int32) string {
	if id == rootID {
		return "."
	}
	return "./" + joinPath(t.segsOf(id))
}

func (t *Tree) segsOf(id int32) []string {
	var segs []string
	for ; id != rootID; id = t.nodes[id].parent {
		segs = append(segs, t.nodes[id].name)
	}
	for i, j := 0, len(segs)-1; i < j; i, j = i+1, j-1 {
		segs[i], segs[j] = segs[j], segs[i]
	}
	return segs
}

func displayURI(segs []string) string {
	if len(segs) == 0 {
		return "."
	}
	return "./" + joinPath(segs)
}

// effACL returns the effective ACL of a node: its own, or the nearest ancestor's.
func (t *Tree) effACL(id int32) *ACL {
	for {
		n := &t.nodes[id]
		if !n.acl.Empty() || id == rootID {
			return n.acl
		}
		id = n.parent
	}
}

// allowed checks the ACL right of principal for c on node id (425 when denied).
func (t *Tree) allowed(principal string, c Cmd, id int32) error {
	if principal == "" || t.effACL(id).Allows(c, principal) {
		return nil
	}
	return syncml.Errorf(syncml.StatusPermissionDenied, "%s on %s not granted to %q", c, t.uriOf(id), principal)
}

// accessOK checks the DDF AccessType of node id (405 when the DDF forbids).
func (t *Tree) accessOK(principal string, a AccessType, id int32) error {
	if principal == "" {
		return nil
	}
	if d := t.nodes[id].def; d != nil && !d.Access.Has(a) {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "AccessType of %s does not include %s", t.uriOf(id), a)
	}
	return nil
}

// FailedNodeError names the node whose implicit creation failed during an Add;
// the client engine puts URI in Status/Item/Target/LocURI (OMA-TS-DM_TND-V1_2,
// implicit addition of interior nodes). It is
// the Err of the returned *syncml.StatusError.
type FailedNodeError struct{ URI string }

func (e *FailedNodeError) Error() string { return "failed at " + e.URI }

// FailedURI returns the URI of the ancestor whose implicit creation made an Add
// fail, or "" when the failure concerns the target itself.
func FailedURI(err error) string {
	var fe *FailedNodeError
	if errors.As(err, &fe) {
		return fe.URI
	}
	return ""
}

func atNode(err error, uri string) error {
	var se *syncml.StatusError
	if errors.As(err, &se) {
		return &syncml.StatusError{Code: se.Code, Msg: se.Msg, Err: &FailedNodeError{URI: uri}}
	}
	return err
}

// begin starts a mutating operation under the write lock.
func (t *Tree) begin() error {
	if t.closed {
		return syncml.Errorf(syncml.StatusCommandFailed, "tree is closed")
	}
	return nil
}

// finish ends a mutating operation: on error its changes are undone; on success
// they are made durable (outside a Tx) or kept for the Tx to commit.
func (t *Tree) finish(mark int, jmark int, err error) error {
	if err != nil {
		t.rollbackTo(mark)
		t.jbuf = t.jbuf[:jmark]
		return err
	}
	if t.tx != nil {
		return nil
	}
	if err := t.persist(); err != nil {
		t.rollbackTo(0)
		t.jbuf = t.jbuf[:0]
		return err
	}
	t.undo = t.undo[:0]
	return nil
}

func (t *Tree) rollbackTo(mark int) {
	for i := len(t.undo) - 1; i >= mark; i-- {
		t.undo[i]()
		t.undo[i] = nil
	}
	t.undo = t.undo[:mark]
}

// persist writes the pending journal entries as one durable record.
func (t *Tree) persist() error {
	if len(t.jbuf) == 0 {
		return nil
	}
	defer func() { t.jbuf = t.jbuf[:0] }()
	if t.st == nil {
		t.changes.add(t.jbuf)
		return nil
	}
	if err := t.st.append(t.jbuf); err != nil {
		return &syncml.StatusError{Code: syncml.StatusDataStoreFailure, Msg: "journal write", Err: err}
	}
	if t.st.needCompact(t.opts.CompactRatio, t.opts.CompactMin) {
		// A failed compaction leaves the old snapshot and journal valid.
		_ = t.compactLocked()
	}
	t.changes.add(t.jbuf)
	return nil
}

// run executes one mutating operation with all-or-nothing semantics.
func (t *Tree) run(f func() error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.begin(); err != nil {
		return err
	}
	mark, jmark := len(t.undo), len(t.jbuf)
	return t.finish(mark, jmark, f())
}

// Add creates a node (OMA-TS-DM_TND-V1_2, Nodes). principal "" is the device itself.
func (t *Tree) Add(principal, uri string, v Value) error {
	return t.run(func() error { return t.add(principal, uri, v) })
}

// Replace overwrites a leaf value, a property (?prop=ACL|Name|Title) or, with a
// TNDS value, a whole subtree.
func (t *Tree) Replace(principal, uri string, v Value) error {
	return t.run(func() error { return t.replace(principal, uri, v) })
}

// Delete removes a node and its whole subtree.
func (t *Tree) Delete(principal, uri string) error {
	return t.run(func() error { return t.delete(principal, uri) })
}

// Copy copies the leaf source to target, creating or replacing it.
func (t *Tree) Copy(principal, target, source string) error {
	return t.run(func() error { return t.copyNode(principal, target, source) })
}
