package dmtree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// On-disk layout of a persisted tree (Open):
//
//	tree.snap      snapshot: magic, generation, nodes in pre-order, CRC-32C
//	journal.<gen>  append-only records since that snapshot:
//	               u32 length, u32 CRC-32C of the payload, payload (entries)
//
// Every mutating operation (or committed Tx) appends one record and fsyncs
// before it returns. A torn record at the tail fails its CRC and is cut off on
// load, so a kill -9 at any point leaves either the old or the new tree.
// Compaction writes tree.snap.tmp, fsyncs, renames it over tree.snap (atomic)
// with a new generation and only then starts journal.<gen+1>; the journal of an
// older generation is never replayed.

const (
	snapName  = "tree.snap"
	snapMagic = "OMADMTS1"
	jPrefix   = "journal."
	// maxRecord bounds one journal record on load.
	maxRecord = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type store struct {
	dir      string
	gen      uint64
	j        *os.File
	jsize    int64
	snapSize int64
	noSync   bool
	lock     *os.File // flock on dir/LOCK, held while open
}

// Open loads the tree persisted in dir (created when missing) and keeps it
// durable: every change is journaled and fsynced before the call returns.
// Options are as for New; the URI limits and root ACL of an existing tree
// are those of opts. Open takes an advisory lock on dir, so a second Open of
// the same dir (by this or another process) fails with ErrLocked until Close.
func Open(dir string, opts *Options) (*Tree, error) {
	t, err := newTree(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	t, err = t.open(dir, lock)
	if err != nil && lock != nil {
		lock.Close()
	}
	return t, err
}

func (t *Tree) open(dir string, lock *os.File) (*Tree, error) {
	st := &store{dir: dir, noSync: t.opts.NoSync, lock: lock}
	t.loading = true
	if b, err := os.ReadFile(filepath.Join(dir, snapName)); err == nil {
		if err := t.loadSnapshot(b, st); err != nil {
			return nil, fmt.Errorf("dmtree: %s: %w", snapName, err)
		}
		st.snapSize = int64(len(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// Leftovers of an interrupted compaction or older generations.
	_ = os.Remove(filepath.Join(dir, snapName+".tmp"))
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if g, ok := journalGen(e.Name()); ok && g != st.gen {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	jpath := filepath.Join(dir, jPrefix+strconv.FormatUint(st.gen, 10))
	if b, err := os.ReadFile(jpath); err == nil {
		valid, err := t.replayJournal(b)
		if err != nil {
			return nil, fmt.Errorf("dmtree: journal: %w", err)
		}
		if valid != int64(len(b)) {
			if err := os.Truncate(jpath, valid); err != nil {
				return nil, err
			}
		}
		st.jsize = valid
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	t.loading = false
	t.undo = t.undo[:0]
	f, err := os.OpenFile(jpath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	st.j = f
	if err := st.syncDir(); err != nil {
		f.Close()
		return nil, err
	}
	t.st = st
	return t, nil
}

func journalGen(name string) (uint64, bool) {
	if !strings.HasPrefix(name, jPrefix) {
		return 0, false
	}
	g, err := strconv.ParseUint(name[len(jPrefix):], 10, 64)
	return g, err == nil
}

func (s *store) sync(f *os.File) error {
	if s.noSync {
		return nil
	}
	return f.Sync()
}

func (s *store) syncDir() error {
	if s.noSync {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *store) append(payload []byte) error {
	rec := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, castagnoli))
	rec = append(rec, payload...)
	if _, err := s.j.Write(rec); err != nil {
		// Cut a partial write so later records stay reachable.
		_ = s.j.Truncate(s.jsize)
		return err
	}
	if err := s.sync(s.j); err != nil {
		return err
	}
	s.jsize += int64(len(rec))
	return nil
}

func (s *store) needCompact(ratio int, min int64) bool {
	return s.jsize > min && s.jsize > int64(ratio)*s.snapSize
}

func (s *store) close() error {
	err := s.j.Close()
	if s.lock != nil {
		if e := s.lock.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Compact folds the journal into a new snapshot now.
func (t *Tree) Compact() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st == nil || t.closed {
		return nil
	}
	return t.compactLocked()
}

func (t *Tree) compactLocked() error {
	s := t.st
	gen := s.gen + 1
	snap := t.encodeSnapshot(gen)
	tmp := filepath.Join(s.dir, snapName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(snap); err != nil {
		f.Close()
		return err
	}
	if err := s.sync(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, snapName)); err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	// From here the new snapshot is authoritative; the old journal is dead.
	jpath := filepath.Join(s.dir, jPrefix+strconv.FormatUint(gen, 10))
	nj, err := os.OpenFile(jpath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	old := s.j
	oldPath := filepath.Join(s.dir, jPrefix+strconv.FormatUint(s.gen, 10))
	s.j, s.gen, s.jsize, s.snapSize = nj, gen, 0, int64(len(snap))
	old.Close()
	_ = os.Remove(oldPath)
	return s.syncDir()
}

func (t *Tree) encodeSnapshot(gen uint64) []byte {
	b := make([]byte, 0, 64+t.count*48)
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint64(b, gen)
	b = binary.AppendUvarint(b, uint64(t.count))
	order := t.subtree(rootID, make([]int32, 0, t.count))
	pos := make(map[int32]uint64, len(order))
	for i, id := range order {
		pos[id] = uint64(i)
		n := &t.nodes[id]
		if id != rootID {
			b = binary.AppendUvarint(b, pos[n.parent])
		}
		b = appendString(b, n.name)
		b = appendNodeState(b, n)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// reader decodes the snapshot and journal encodings with bounds checks.
type reader struct {
	b   []byte
	err error
}

var errCorrupt = errors.New("corrupt data")

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// nodeState decodes appendNodeState into n.
func (t *Tree) nodeState(r *reader, n *node) {
	n.flags = r.byte1() & (flagInterior | flagPermanent)
	n.format = r.byte1()
	n.verNo = uint16(r.uvarint())
	n.tstamp = r.varint()
	n.typ = t.internStr(r.str())
	aclText := r.str()
	n.title = r.str()
	if v := r.bytes(); len(v) > 0 {
		n.value = bytes.Clone(v)
	} else {
		n.value = nil
	}
	if r.err != nil {
		return
	}
	if int(n.format) >= len(formats) || (n.format == fmtNode) != (n.flags&flagInterior != 0) {
		r.err = errCorrupt
		return
	}
	n.acl = nil
	if aclText != "" {
		a, err := ParseACL(aclText)
		if err != nil {
			r.err = errCorrupt
			return
		}
		n.acl = t.internACL(a)
	}
}

// internACL shares identical ACLs between nodes loaded from disk.
func (t *Tree) internACL(a *ACL) *ACL {
	if t.acls == nil {
		t.acls = make(map[string]*ACL)
	}
	if x, ok := t.acls[a.raw]; ok {
		return x
	}
	if len(t.acls) < 1<<12 {
		t.acls[a.raw] = a
	}
	return a
}

func (t *Tree) loadSnapshot(b []byte, st *store) error {
	if len(b) < len(snapMagic)+12 || string(b[:len(snapMagic)]) != snapMagic {
		return errCorrupt
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return errors.New("checksum mismatch")
	}
	st.gen = binary.LittleEndian.Uint64(body[len(snapMagic):])
	r := &reader{b: body[len(snapMagic)+8:]}
	count := r.uvarint()
	if r.err != nil || count == 0 || count > uint64(len(body)) {
		return errCorrupt
	}
	t.nodes = make([]node, 0, count)
	t.index = make(map[childKey]int32, count)
	t.bytes = 0
	for i := uint64(0); i < count; i++ {
		var n node
		parent := int32(-1)
		if i > 0 {
			p := r.uvarint()
			if p >= i {
				return errCorrupt
			}
			parent = int32(p)
		}
		n.name = r.str()
		t.nodeState(r, &n)
		if r.err != nil {
			return r.err
		}
		n.flags |= flagLive
		n.parent = parent
		id := int32(i)
		if i > 0 {
			n.name = t.internStr(n.name)
			pn := &t.nodes[parent]
			if !pn.interior() || CheckName(n.name) != nil {
				return errCorrupt
			}
			key := childKey{parent, n.name}
			if _, dup := t.index[key]; dup {
				return errCorrupt
			}
			t.index[key] = id
			pn.children = append(pn.children, id)
		} else if n.flags&flagInterior == 0 {
			return errCorrupt
		}
		t.nodes = append(t.nodes, n)
		t.bytes += n.cost()
	}
	if len(r.b) != 0 {
		return errCorrupt
	}
	t.count = int(count)
	return nil
}

// replayJournal applies every valid record and returns the length of the valid
// prefix. A torn or corrupt tail ends the replay; a valid record that does not
// apply is an error (the files do not belong together).
func (t *Tree) replayJournal(b []byte) (int64, error) {
	var off int64
	for {
		rest := b[off:]
		if len(rest) < 8 {
			return off, nil
		}
		n := binary.LittleEndian.Uint32(rest[0:])
		sum := binary.LittleEndian.Uint32(rest[4:])
		if n > maxRecord || uint64(n) > uint64(len(rest)-8) {
			return off, nil
		}
		payload := rest[8 : 8+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			return off, nil
		}
		if err := t.applyRecord(payload); err != nil {
			return off, fmt.Errorf("record at offset %d: %w", off, err)
		}
		off += 8 + int64(n)
		t.undo = t.undo[:0]
	}
}

func (t *Tree) applyRecord(p []byte) error {
	r := &reader{b: p}
	for len(r.b) > 0 && r.err == nil {
		kind := r.byte1()
		u, err := ParseURI(r.str(), nil)
		if r.err != nil {
			break
		}
		if err != nil {
			return err
		}
		switch kind {
		case entPut:
			var n node
			t.nodeState(r, &n)
			if r.err != nil {
				break
			}
			if len(u.Segments) == 0 {
				if n.flags&flagInterior == 0 {
					return errCorrupt
				}
				t.update(rootID, func(x *node) { setState(x, &n) })
				continue
			}
			if id := t.find(u.Segments); id >= 0 {
				if t.nodes[id].interior() != n.interior() {
					return errCorrupt
				}
				t.update(id, func(x *node) { setState(x, &n) })
				continue
			}
			parent := t.find(u.Segments[:len(u.Segments)-1])
			if parent < 0 || !t.nodes[parent].interior() {
				return fmt.Errorf("%w: no parent for %s", errCorrupt, u.Path())
			}
			if _, err := t.create(parent, u.Segments[len(u.Segments)-1], n); err != nil {
				return err
			}
			t.bindDef(t.find(u.Segments))
		case entDelete:
			id := t.find(u.Segments)
			if id <= rootID {
				return fmt.Errorf("%w: delete of missing %s", errCorrupt, u.Path())
			}
			t.remove(id)
		case entRename:
			name := r.str()
			id := t.find(u.Segments)
			if r.err != nil {
				break
			}
			if id <= rootID || CheckName(name) != nil {
				return fmt.Errorf("%w: bad rename of %s", errCorrupt, u.Path())
			}
			if _, clash := t.index[childKey{t.nodes[id].parent, name}]; clash {
				return errCorrupt
			}
			t.rename(id, name)
		default:
			return errCorrupt
		}
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

func setState(x, n *node) {
	x.flags = x.flags&flagLive | n.flags
	x.format, x.verNo, x.tstamp, x.typ, x.acl, x.title, x.value = n.format, n.verNo, n.tstamp, n.typ, n.acl, n.title, n.value
}

// bindDef attaches the DDF definition governing a newly created node, if any.
func (t *Tree) bindDef(id int32) {
	if id <= rootID {
		return
	}
	if pd := t.nodes[t.nodes[id].parent].def; pd != nil {
		t.nodes[id].def = pd.match(t.nodes[id].name)
	}
}
