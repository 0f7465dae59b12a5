package dmtree

import (
	"time"

	"github.com/omadm/omadm/syncml"
)

// Tx is an all-or-nothing batch of changes, used for Atomic. Begin holds the
// tree's write lock until Commit or Rollback, so other callers wait; the Tx
// methods must be called from one goroutine and never together with Tree
// methods of the same tree in that goroutine.
//
// A command that fails inside a Tx leaves no trace of itself; the earlier
// successful commands stay until Commit makes them durable in one journal
// record or Rollback undoes them, leaving the tree exactly as before Begin.
type Tx struct {
	t    *Tree
	done bool
}

// Begin starts a transaction.
func (t *Tree) Begin() *Tx {
	t.mu.Lock()
	tx := &Tx{t: t}
	t.tx = tx
	t.undo = t.undo[:0]
	t.jbuf = t.jbuf[:0]
	return tx
}

func (tx *Tx) do(f func() error) error {
	t := tx.t
	if tx.done {
		return syncml.Errorf(syncml.StatusCommandFailed, "transaction already finished")
	}
	if err := t.begin(); err != nil {
		return err
	}
	mark, jmark := len(t.undo), len(t.jbuf)
	return t.finish(mark, jmark, f())
}

// Add is Tree.Add inside the transaction.
func (tx *Tx) Add(principal, uri string, v Value) error {
	return tx.do(func() error { return tx.t.add(principal, uri, v) })
}

// Replace is Tree.Replace inside the transaction.
func (tx *Tx) Replace(principal, uri string, v Value) error {
	return tx.do(func() error { return tx.t.replace(principal, uri, v) })
}

// Delete is Tree.Delete inside the transaction.
func (tx *Tx) Delete(principal, uri string) error {
	return tx.do(func() error { return tx.t.delete(principal, uri) })
}

// Copy is Tree.Copy inside the transaction.
func (tx *Tx) Copy(principal, target, source string) error {
	return tx.do(func() error { return tx.t.copyNode(principal, target, source) })
}

// Get is Tree.Get inside the transaction; it sees the transaction's changes.
func (tx *Tx) Get(principal, uri string) ([]Result, error) {
	if tx.done {
		return nil, syncml.Errorf(syncml.StatusCommandFailed, "transaction already finished")
	}
	return tx.t.get(principal, uri)
}

// Commit makes the transaction's changes durable as one journal record. If that
// write fails, every change is undone and the error (510) is returned.
func (tx *Tx) Commit() error {
	if tx.done {
		return syncml.Errorf(syncml.StatusCommandFailed, "transaction already finished")
	}
	t := tx.t
	tx.done = true
	defer t.mu.Unlock()
	t.tx = nil
	err := t.persist()
	if err != nil {
		t.rollbackTo(0)
	}
	t.undo = t.undo[:0]
	t.jbuf = t.jbuf[:0]
	return err
}

// Rollback undoes every change of the transaction. Calling it after Commit is
// a no-op, so `defer tx.Rollback()` is safe.
func (tx *Tx) Rollback() error {
	if tx.done {
		return nil
	}
	t := tx.t
	tx.done = true
	defer t.mu.Unlock()
	t.tx = nil
	t.rollbackTo(0)
	t.jbuf = t.jbuf[:0]
	return nil
}

func timeUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
