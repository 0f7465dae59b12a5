package dmtree

import (
	"encoding/binary"

	"github.com/omadm/omadm/syncml"
)

// The primitives below are the only code that changes the node table. Each one
// records its inverse (for failed operations and Tx rollback) and a journal
// entry (for persistence), so both stay exact by construction.

const (
	entPut    byte = 'P'
	entDelete byte = 'D'
	entRename byte = 'R'
)

func (t *Tree) touch(n *node) {
	n.tstamp = t.now().Unix()
	n.verNo++ // u16: 0xFFFF wraps to 0 (OMA-TS-DM_TND-V1_2, VerNo property)
}

// create links a new node under parent and returns its id.
func (t *Tree) create(parent int32, name string, n node) (int32, error) {
	if !t.loading && t.opts.MaxNodes > 0 && t.count >= t.opts.MaxNodes {
		return -1, syncml.Errorf(syncml.StatusDeviceFull, "tree holds the maximum of %d nodes", t.opts.MaxNodes)
	}
	n.name = name
	size := n.cost()
	if err := t.fits(size); err != nil {
		return -1, err
	}
	n.name = t.internStr(name)
	n.parent = parent
	n.flags |= flagLive
	n.typ = t.internStr(n.typ)
	var id int32
	fromFree := len(t.free) > 0
	if fromFree {
		id = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
		t.nodes[id] = n
	} else {
		id = int32(len(t.nodes))
		t.nodes = append(t.nodes, n)
	}
	p := &t.nodes[parent]
	p.children = append(p.children, id)
	t.index[childKey{parent, n.name}] = id
	t.count++
	t.bytes += size
	t.undo = append(t.undo, func() {
		t.bytes -= size
		delete(t.index, childKey{parent, n.name})
		p := &t.nodes[parent]
		p.children = p.children[:len(p.children)-1]
		t.nodes[id] = node{}
		if fromFree {
			t.free = append(t.free, id)
		} else {
			t.nodes = t.nodes[:id]
		}
		t.count--
	})
	t.journalPut(id)
	return id, nil
}

// update changes fields of a node through f.
func (t *Tree) update(id int32, f func(n *node)) {
	old := t.nodes[id]
	f(&t.nodes[id])
	delta := t.nodes[id].cost() - old.cost()
	t.bytes += delta
	t.undo = append(t.undo, func() { t.nodes[id] = old; t.bytes -= delta })
	t.journalPut(id)
}

// rename gives node id a new name (its sibling clash is checked by the caller).
func (t *Tree) rename(id int32, name string) {
	n := &t.nodes[id]
	oldName, parent := n.name, n.parent
	if t.journaling() {
		t.jbuf = append(t.jbuf, entRename)
		t.jbuf = appendString(t.jbuf, t.uriOf(id))
		t.jbuf = appendString(t.jbuf, name)
	}
	delete(t.index, childKey{parent, oldName})
	n.name = t.internStr(name)
	t.index[childKey{parent, n.name}] = id
	delta := int64(len(name) - len(oldName))
	t.bytes += delta
	t.undo = append(t.undo, func() {
		t.bytes -= delta
		delete(t.index, childKey{parent, t.nodes[id].name})
		t.nodes[id].name = oldName
		t.index[childKey{parent, oldName}] = id
	})
}

// remove deletes node id and its subtree.
func (t *Tree) remove(id int32) {
	if t.journaling() {
		t.jbuf = append(t.jbuf, entDelete)
		t.jbuf = appendString(t.jbuf, t.uriOf(id))
	}
	ids := t.subtree(id, nil)
	saved := make([]node, len(ids))
	var size int64
	for i, x := range ids {
		saved[i] = t.nodes[x]
		size += saved[i].cost()
	}
	parent := t.nodes[id].parent
	oldChildren := t.nodes[parent].children
	kept := make([]int32, 0, len(oldChildren)-1)
	for _, c := range oldChildren {
		if c != id {
			kept = append(kept, c)
		}
	}
	t.nodes[parent].children = kept
	freeLen := len(t.free)
	var mounts map[int32]Plugin
	for _, x := range ids {
		n := &t.nodes[x]
		delete(t.index, childKey{n.parent, n.name})
		if p, ok := t.mounts[x]; ok {
			if mounts == nil {
				mounts = make(map[int32]Plugin)
			}
			mounts[x] = p
			delete(t.mounts, x)
		}
		*n = node{}
		t.free = append(t.free, x)
	}
	t.count -= len(ids)
	t.bytes -= size
	t.undo = append(t.undo, func() {
		t.bytes += size
		for i, x := range ids {
			t.nodes[x] = saved[i]
			t.index[childKey{saved[i].parent, saved[i].name}] = x
		}
		for x, p := range mounts {
			t.mounts[x] = p
		}
		t.nodes[parent].children = oldChildren
		t.free = t.free[:freeLen]
		t.count += len(ids)
	})
}

// subtree appends id and its descendants in pre-order.
func (t *Tree) subtree(id int32, dst []int32) []int32 {
	stack := []int32{id}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		dst = append(dst, x)
		ch := t.nodes[x].children
		for i := len(ch) - 1; i >= 0; i-- {
			stack = append(stack, ch[i])
		}
	}
	return dst
}

func (t *Tree) journalPut(id int32) {
	if !t.journaling() {
		return
	}
	t.jbuf = append(t.jbuf, entPut)
	t.jbuf = appendString(t.jbuf, t.uriOf(id))
	t.jbuf = appendNodeState(t.jbuf, &t.nodes[id])
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendNodeState encodes every stored property of n except name and links.
func appendNodeState(b []byte, n *node) []byte {
	b = append(b, n.flags&^flagLive, n.format)
	b = binary.AppendUvarint(b, uint64(n.verNo))
	b = binary.AppendVarint(b, n.tstamp)
	b = appendString(b, n.typ)
	b = appendString(b, n.acl.String())
	b = appendString(b, n.title)
	return appendBytes(b, n.value)
}
