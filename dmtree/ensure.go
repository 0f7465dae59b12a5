package dmtree

import (
	"bytes"

	"github.com/omadm/omadm/syncml"
)

// Ensure sets the existing leaf at uri to v as the device, but only when its
// stored format, type or value differ, so that device code re-applying the same
// values at every start (DevInfo, DevDetail) leaves TStamp and VerNo alone. It
// reports whether the leaf changed; errors are those of Replace (404 when the
// leaf is missing).
func (t *Tree) Ensure(uri string, v Value) (bool, error) {
	changed := false
	err := t.run(func() error {
		u, err := t.parse(uri)
		if err != nil {
			return err
		}
		if err := notOnProps(u, "Ensure"); err != nil {
			return err
		}
		id := t.find(u.Segments)
		if id < 0 {
			return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
		}
		n := &t.nodes[id]
		if !n.interior() && v.Format != FormatNode {
			code, data, typ, err := t.leafValue(n.def, v)
			if err != nil {
				return err
			}
			if v.Format == "" && n.def == nil {
				// As Replace: no Meta Format keeps the node's format.
				if code, data, err = normalizeValue(formats[n.format], v.Data); err != nil {
					return err
				}
			}
			if typ == "" {
				typ = n.typ
			}
			if code == n.format && typ == n.typ && bytes.Equal(data, n.value) {
				return nil
			}
		}
		mark := len(t.undo)
		if err := t.replaceNode("", id, v); err != nil {
			return err
		}
		changed = len(t.undo) > mark
		return nil
	})
	return changed, err
}
