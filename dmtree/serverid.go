package dmtree

import "github.com/omadm/omadm/syncml"

// RemoveServerID strips serverID from the ACL of every node (OMA-TS-DM_TND-V1_2,
// ACL: "Deleting a ServerID"): commands left without ids are dropped, a node whose
// ACL becomes empty inherits again, and a root command left empty reverts to
// "*". The device calls it when a server's account is deleted, so that a later
// server reusing the id inherits no rights. Changed nodes get a new TStamp and
// VerNo. It returns the number of nodes changed.
func (t *Tree) RemoveServerID(serverID string) (int, error) {
	var changed int
	err := t.run(func() error {
		var err error
		changed, err = t.removeServerID(serverID)
		return err
	})
	return changed, err
}

// RemoveServerID is Tree.RemoveServerID inside the transaction.
func (tx *Tx) RemoveServerID(serverID string) (int, error) {
	var changed int
	err := tx.do(func() error {
		var err error
		changed, err = tx.t.removeServerID(serverID)
		return err
	})
	return changed, err
}

func (t *Tree) removeServerID(serverID string) (int, error) {
	if serverID == "" || serverID == "*" {
		return 0, syncml.Errorf(syncml.StatusBadRequest, "%q is not a server id", serverID)
	}
	changed := 0
	for id := range t.nodes {
		n := &t.nodes[id]
		if n.flags&flagLive == 0 || n.acl.Empty() || !n.acl.lists(serverID) {
			continue
		}
		acl := n.acl.Without(serverID, int32(id) == rootID)
		if acl.Empty() {
			acl = nil
		}
		t.update(int32(id), func(n *node) { n.acl = acl; t.touch(n) })
		changed++
	}
	return changed, nil
}

// lists reports whether id appears literally in any entry of a.
func (a *ACL) lists(id string) bool {
	for c := range a.ids {
		for _, x := range a.ids[c] {
			if x == id {
				return true
			}
		}
	}
	return false
}
