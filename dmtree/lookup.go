package dmtree

import "strings"

// Name lookup and DDF CaseSense (OMA-TS-DM_TND-V1_2: URIs, DDF).
//
// Node names always keep the case they were created with. A DDF may declare a
// node CaseSense CIS: then its name, and every name in the subtree below it,
// matches case-insensitively, until a descendant definition declares CS
// explicitly. Exact matches take the fast path through the index; only a miss
// in a tree whose DDFs declare CIS somewhere falls back to a scan of the
// parent's children.

// child returns the child of parent called name, honouring CaseSense CIS.
func (t *Tree) child(parent int32, name string) (int32, bool) {
	if c, ok := t.index[childKey{parent, name}]; ok {
		return c, true
	}
	if !t.hasCIS || !t.nodes[parent].interior() {
		return -1, false
	}
	inherited, known := false, false
	for _, c := range t.nodes[parent].children {
		if !strings.EqualFold(t.nodes[c].name, name) {
			continue
		}
		if d := t.nodes[c].def; d != nil && (d.CaseInsens || d.CaseSens) {
			if d.CaseInsens {
				return c, true
			}
			continue
		}
		if !known {
			inherited, known = t.cisScope(parent), true
		}
		if inherited {
			return c, true
		}
	}
	return -1, false
}

// cisScope reports whether names below node id match case-insensitively: the
// nearest definition on the way to the root that states a CaseSense says CIS.
func (t *Tree) cisScope(id int32) bool {
	for ; id >= 0; id = t.nodes[id].parent {
		if d := t.nodes[id].def; d != nil && (d.CaseInsens || d.CaseSens) {
			return d.CaseInsens
		}
	}
	return false
}

// hasCaseInsens reports whether any definition of d declares CaseSense CIS.
func hasCaseInsens(nodes []*DDFNode) bool {
	for _, n := range nodes {
		if n.CaseInsens || hasCaseInsens(n.Children) {
			return true
		}
	}
	return false
}
