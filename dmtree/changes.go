package dmtree

import (
	"bytes"
	"errors"
)

// A tree built the same way twice (the same installs in the same order) has
// the same nodes. A program that keeps many such trees (a fleet simulator)
// can keep, for an idle one, only what changed since it was built: it calls
// RecordChanges after building, Changes before dropping the tree, and
// ApplyChanges on a tree built again. The changes are the entries the
// journal of a persistent tree holds (a node's whole state by URI, deletes
// and renames), with a later state of a node replacing its earlier one.

// changeLog is the recorded changes, one journal entry each, in order.
type changeLog struct {
	entries []change
	// structural is the index after the last delete or rename: a node's
	// state before it may not be folded into a later one.
	structural int
}

type change struct {
	kind byte
	uri  string
	b    []byte // the whole entry, kind and URI included
}

// RecordChanges makes the tree keep in memory every change committed from
// now on (operations and transactions that succeed; rolled back ones leave
// nothing), for Changes. Calling it again keeps the record.
func (t *Tree) RecordChanges() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changes == nil {
		t.changes = &changeLog{}
	}
}

// Changes returns the changes recorded since RecordChanges (nil when there
// are none or nothing is recorded), compactly encoded: a node changed many
// times appears once, with its last state.
func (t *Tree) Changes() []byte {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.changes == nil {
		return nil
	}
	n := 0
	for _, c := range t.changes.entries {
		n += len(c.b)
	}
	if n == 0 {
		return nil
	}
	out := make([]byte, 0, n)
	for _, c := range t.changes.entries {
		out = append(out, c.b...)
	}
	return out
}

// ApplyChanges replays the output of Changes of another tree onto t, which
// must have been built the same way (it holds every node the changes
// update, and the parents of those they create). It is all or nothing: on
// error t is unchanged. With RecordChanges on, the replayed changes are
// recorded as t's own. ACLs and sizes are not checked again (they were
// when the changes were made); the tree's node limit is not applied.
func (t *Tree) ApplyChanges(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.begin(); err != nil {
		return err
	}
	if t.tx != nil {
		return errors.New("dmtree: ApplyChanges inside a transaction")
	}
	mark := len(t.undo)
	t.loading = true
	err := t.applyRecord(b)
	t.loading = false
	if err != nil {
		t.rollbackTo(mark)
		return err
	}
	t.undo = t.undo[:mark]
	if t.st != nil {
		if err := t.st.append(b); err != nil {
			return err
		}
	}
	t.changes.add(b)
	return nil
}

// add records the entries of one committed journal record.
func (l *changeLog) add(rec []byte) {
	if l == nil {
		return
	}
	for len(rec) > 0 {
		n := entryLen(rec)
		if n <= 0 {
			return // not produced by this package; cannot happen
		}
		r := &reader{b: rec[1:n]}
		c := change{kind: rec[0], uri: r.str(), b: bytes.Clone(rec[:n])}
		rec = rec[n:]
		if c.kind != entPut {
			l.entries = append(l.entries, c)
			l.structural = len(l.entries)
			continue
		}
		folded := false
		for i := len(l.entries) - 1; i >= l.structural; i-- {
			if l.entries[i].uri == c.uri {
				// The later state replaces the earlier one in place: the
				// node existed there already, so the order stays valid.
				l.entries[i].b = c.b
				folded = true
				break
			}
		}
		if !folded {
			l.entries = append(l.entries, c)
		}
	}
}

// entryLen is the length of the journal entry at the start of b, or -1.
func entryLen(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	r := &reader{b: b[1:]}
	r.bytes() // URI
	switch b[0] {
	case entPut:
		r.byte1()
		r.byte1()
		r.uvarint()
		r.varint()
		r.bytes() // type
		r.bytes() // ACL
		r.bytes() // title
		r.bytes() // value
	case entRename:
		r.bytes()
	case entDelete:
	default:
		return -1
	}
	if r.err != nil {
		return -1
	}
	return len(b) - len(r.b)
}

// journaling reports whether changes produce journal entries: for the
// files of a persistent tree or for the in-memory record.
func (t *Tree) journaling() bool {
	return !t.loading && (t.st != nil || t.changes != nil)
}
