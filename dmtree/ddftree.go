package dmtree

import (
	"github.com/omadm/omadm/syncml"
)

// Install binds the DDF d to the tree below parentURI ("." for an MO at the
// root; a top node's Path, when set, overrides it) and creates, as the device,
// every named node the DDF requires (Occurrence One or OneOrMore) that is
// missing, with its DefaultValue. Existing nodes keep their values; their DDF
// definitions are (re)bound, so Install is called at every start. Nodes that
// contradict the DDF give an error (405/415) and the tree is left unchanged.
func (t *Tree) Install(parentURI string, d *DDF) error {
	return t.run(func() error {
		if hasCaseInsens(d.Nodes) && !t.hasCIS {
			t.hasCIS = true
			t.undo = append(t.undo, func() { t.hasCIS = false })
		}
		for _, dn := range d.Nodes {
			base := parentURI
			if dn.Path != "" {
				base = dn.Path
			}
			u, err := t.parse(base)
			if err != nil {
				return err
			}
			parent := t.find(u.Segments)
			if parent < 0 {
				return syncml.Errorf(syncml.StatusNotFound, "DDF parent %s does not exist", displayURI(u.Segments))
			}
			if dn.Name == "" {
				return syncml.Errorf(syncml.StatusBadRequest, "a top-level DDF node needs a name")
			}
			if err := t.installNode(parent, dn); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *Tree) installNode(parent int32, d *DDFNode) error {
	id, ok := t.index[childKey{parent, d.Name}]
	if !ok {
		var n node
		if d.Interior() {
			n.flags, n.format, n.typ = flagInterior, fmtNode, first(d.Types)
		} else {
			data := []byte(nil)
			if d.Default != nil {
				data = []byte(*d.Default)
			}
			code, v, err := normalizeValue(d.Format, data)
			if err != nil {
				// A default that does not fit its format: store the node empty.
				code, v = formatOr(d.Format), nil
			}
			n.format, n.value, n.typ = code, v, first(d.Types)
		}
		if d.Permanent {
			n.flags |= flagPermanent
		}
		n.def = d
		n.tstamp = t.now().Unix()
		var err error
		if id, err = t.create(parent, d.Name, n); err != nil {
			return err
		}
	} else {
		if err := t.bindExisting(id, d); err != nil {
			return err
		}
	}
	return t.installChildren(id, d)
}

func (t *Tree) installChildren(id int32, d *DDFNode) error {
	for _, cd := range d.Children {
		if cd.Name == "" {
			for _, c := range t.nodes[id].children {
				if t.nodes[c].def == nil || t.nodes[c].def == cd {
					if t.nodes[id].def.match(t.nodes[c].name) != cd {
						continue
					}
					if err := t.bindExisting(c, cd); err != nil {
						return err
					}
					if err := t.installChildren(c, cd); err != nil {
						return err
					}
				}
			}
			continue
		}
		if _, exists := t.index[childKey{id, cd.Name}]; !exists && cd.MinOcc == 0 {
			continue
		}
		if err := t.installNode(id, cd); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) bindExisting(id int32, d *DDFNode) error {
	n := &t.nodes[id]
	if n.interior() != d.Interior() {
		return syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s: tree and DDF disagree on interior/leaf", t.uriOf(id))
	}
	if !n.interior() && n.format != formatOr(d.Format) {
		return syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s has format %s, DDF says %s", t.uriOf(id), formats[n.format], d.Format)
	}
	old, oldFlags := n.def, n.flags
	n.def = d
	if d.Permanent {
		n.flags |= flagPermanent
	}
	t.undo = append(t.undo, func() { t.nodes[id].def, t.nodes[id].flags = old, oldFlags })
	return nil
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

// formatOr returns the stored code of a DDF format (b64 is stored as bin).
func formatOr(f string) uint8 {
	c, ok := formatCode(f)
	if !ok {
		return fmtChr
	}
	if c == fmtB64 {
		return fmtBin
	}
	return c
}

// Validate checks the subtree at uri against its bound DDF definitions:
// names, Occurrence bounds and formats. It returns the first violation (405
// for a missing or surplus node, 415 for a format mismatch).
func (t *Tree) Validate(uri string) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.parse(uri)
	if err != nil {
		return err
	}
	id := t.find(u.Segments)
	if id < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	for _, x := range t.subtree(id, nil) {
		n := &t.nodes[x]
		d := n.def
		if d == nil {
			continue
		}
		if !n.interior() && n.format != formatOr(d.Format) {
			return syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s has format %s, DDF says %s", t.uriOf(x), formats[n.format], d.Format)
		}
		if !n.interior() {
			continue
		}
		counts := make(map[*DDFNode]int, len(d.Children))
		for _, c := range n.children {
			cd := t.nodes[c].def
			if cd == nil && len(d.Children) > 0 {
				return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is not in the DDF", t.uriOf(c))
			}
			counts[cd]++
		}
		for _, cd := range d.Children {
			c := counts[cd]
			if c < cd.MinOcc {
				return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s needs at least %d %s", t.uriOf(x), cd.MinOcc, cd)
			}
			if cd.MaxOcc > 0 && c > cd.MaxOcc {
				return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s allows at most %d %s", t.uriOf(x), cd.MaxOcc, cd)
			}
		}
	}
	return nil
}

// ExportDDF describes the subtree at uri as a DDF document: bound definitions
// are written as declared (placeholders once); other nodes are described from
// their run-time state.
func (t *Tree) ExportDDF(uri string) ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.parse(uri)
	if err != nil {
		return nil, err
	}
	id := t.find(u.Segments)
	if id < 0 {
		return nil, syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	c := *t.describe(id)
	top := &c
	if id == rootID {
		top.Name = ""
	} else {
		top.Name = t.nodes[id].name
		top.Path = t.uriOf(t.nodes[id].parent)
	}
	return (&DDF{VerDTD: "1.2", Nodes: []*DDFNode{top}}).Marshal(), nil
}

func (t *Tree) describe(id int32) *DDFNode {
	n := &t.nodes[id]
	if n.def != nil {
		return n.def
	}
	d := &DDFNode{Name: n.name, Format: formats[n.format], MinOcc: 0, MaxOcc: 1, Permanent: n.permanent()}
	d.Access = AccessGet | AccessReplace
	if !n.permanent() {
		d.Access |= AccessAdd | AccessDelete | AccessCopy
	}
	if n.interior() {
		d.TypeIsDDF = true
		d.Access &^= AccessCopy
	}
	if n.typ != "" {
		d.Types = []string{n.typ}
	}
	if t.mounts[id] != nil {
		if _, ok := t.mounts[id].(Executor); ok {
			d.Access |= AccessExec
		}
	}
	for _, c := range n.children {
		cd := t.describe(c)
		if cd.Name == "" && containsDef(d.Children, cd) {
			continue
		}
		d.Children = append(d.Children, cd)
	}
	return d
}

func containsDef(list []*DDFNode, d *DDFNode) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}
