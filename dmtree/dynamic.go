package dmtree

import (
	"slices"

	"github.com/omadm/omadm/syncml"
)

// ChildLister supplies the children of interior nodes whose child list comes
// from code (installed applications, attached bearers, ...). It is an optional
// ability of a Plugin. ListChildren gets the canonical URI of a stored interior
// node the plug-in serves and returns the names of its code-provided children;
// names that are also stored nodes are listed once. A code-provided child that
// is not stored is a virtual leaf: Get reads it through the plug-in's
// ValueGetter (404 without one), with the ACL and DDF AccessType of its parent;
// it answers neither ?prop= nor ?list= (405) and cannot be changed (404). Like
// ValueGetter it runs under the tree's read lock and must not call back into
// the tree.
type ChildLister interface {
	ListChildren(uri string) ([]string, error)
}

// ListFunc adapts a function to a Plugin that lists children.
type ListFunc func(uri string) ([]string, error)

// Mounted accepts any mount point.
func (ListFunc) Mounted(string) error { return nil }

// ListChildren calls f.
func (f ListFunc) ListChildren(uri string) ([]string, error) { return f(uri) }

var (
	_ ChildLister = ListFunc(nil)
	_ Plugin      = ListFunc(nil)
)

// virtualChildren returns the code-provided names of interior node id that are
// not stored, in the plug-in's order, without duplicates or invalid names.
func (t *Tree) virtualChildren(id int32) ([]string, error) {
	if len(t.mounts) == 0 || !t.nodes[id].interior() {
		return nil, nil
	}
	l, ok := t.pluginFor(id).(ChildLister)
	if !ok {
		return nil, nil
	}
	names, err := l.ListChildren(t.uriOf(id))
	if err != nil {
		return nil, err
	}
	var out []string
	var seen map[string]struct{} // dedup in linear time for long lists
	if len(names) > 8 {
		seen = make(map[string]struct{}, len(names))
	}
	for _, name := range names {
		if CheckName(name) != nil {
			continue
		}
		if seen != nil {
			if _, dup := seen[name]; dup {
				continue
			}
			seen[name] = struct{}{}
		} else if slices.Contains(out, name) {
			continue
		}
		if _, stored := t.child(id, name); stored {
			continue
		}
		out = append(out, name)
	}
	return out, nil
}

// virtualValue reads the virtual leaf name below parent through the plug-in.
func (t *Tree) virtualValue(parent int32, name string) (Result, error) {
	uri := t.uriOf(parent) + "/" + escapeSegment(name)
	if parent == rootID {
		uri = "./" + escapeSegment(name)
	}
	g, ok := t.pluginFor(parent).(ValueGetter)
	if !ok {
		return Result{}, syncml.Errorf(syncml.StatusNotFound, "%s has no value source", uri)
	}
	v, err := g.GetValue(uri)
	if err == ErrUseStored {
		return Result{}, syncml.Errorf(syncml.StatusNotFound, "%s does not exist", uri)
	}
	if err != nil {
		return Result{}, err
	}
	if v.Format == "" {
		v.Format = FormatChr
	}
	return Result{URI: uri, Format: v.Format, Type: v.Type, Data: v.Data}, nil
}

// virtualAllowed applies the parent's effective ACL and the DDF AccessType
// matching name to a Get of a virtual child.
func (t *Tree) virtualAllowed(principal string, parent int32, name string) error {
	if err := t.allowed(principal, CmdGet, parent); err != nil {
		return err
	}
	if principal == "" {
		return nil
	}
	if pd := t.nodes[parent].def; pd != nil {
		if d := pd.match(name); d != nil && !d.Access.Has(AccessGet) {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "AccessType of %s/%s does not include Get", t.uriOf(parent), name)
		}
	}
	return nil
}

// getVirtual answers a Get whose target is not stored: a code-provided child
// of its parent, or 404.
func (t *Tree) getVirtual(principal string, u URI) ([]Result, error) {
	notFound := syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	if len(u.Segments) == 0 || len(t.mounts) == 0 {
		return nil, notFound
	}
	parent := t.find(u.Segments[:len(u.Segments)-1])
	if parent < 0 {
		return nil, notFound
	}
	name := u.Segments[len(u.Segments)-1]
	names, err := t.virtualChildren(parent)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, name) {
		return nil, notFound
	}
	if err := t.virtualAllowed(principal, parent, name); err != nil {
		return nil, err
	}
	if u.Prop != "" || u.List != ListNone {
		return nil, syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is provided by code and has no properties", displayURI(u.Segments))
	}
	r, err := t.virtualValue(parent, name)
	if err != nil {
		return nil, err
	}
	return []Result{r}, nil
}
