package dmtree

import (
	"context"
	"errors"

	"github.com/omadm/omadm/syncml"
)

// Plugin is code that backs a subtree of the management tree: dynamic values
// (DevDetail counters, FUMO State), Exec handlers (FUMO Download/Update, SCOMO
// operations) and Replace hooks. The required method is small; a plug-in gains
// abilities by also implementing ValueGetter, ValueSetter or Executor, which the
// tree finds by type assertion. A plug-in serves the node it is mounted on and
// every node below it (the nearest mount wins).
type Plugin interface {
	// Mounted is called once by Tree.Mount with the canonical URI of the mount
	// point. Returning an error refuses the mount.
	Mounted(uri string) error
}

// ValueGetter supplies live leaf values. It runs under the tree's read lock and
// must not call back into the tree. Returning ErrUseStored falls back to the
// stored value.
type ValueGetter interface {
	GetValue(uri string) (Value, error)
}

// ValueSetter sees a Replace of a leaf before it is stored: returning an error
// rejects the Replace with the error's status. It runs under the tree's write
// lock and must not call back into the tree.
type ValueSetter interface {
	SetValue(uri string, v Value) error
}

// Executor handles Exec on a node. It runs without the tree lock, so it may
// read and write the tree. It returns 200 when the work completed synchronously
// or 202 when it was accepted and will be reported later (Generic Alert 1226
// carrying correlator).
type Executor interface {
	Exec(ctx context.Context, uri string, data []byte, correlator string) (syncml.StatusCode, error)
}

// Completer is an optional ability of a Plugin. When a server's Add creates
// an interior node the plug-in serves and Complete(uri) returns true, the
// tree creates below it, as the device and within the same command, every
// child its DDF definition requires (Occurrence One or OneOrMore) whose
// AccessType has no Add, with its DefaultValue: the nodes only the device
// may make, such as the Status and Operations of a SCOMO package the server
// adds (OMA-TS-DM-SCOMO-V1_0: the server Adds Download/<x> and its
// parameters; Status and the Operations nodes are the device's). Complete
// runs under the tree's write lock and must not call back into the tree.
type Completer interface {
	Complete(uri string) bool
}

// ErrUseStored tells the tree that a ValueGetter has no live value for a node.
var ErrUseStored = errors.New("dmtree: use stored value")

// ExecFunc adapts a function to a Plugin that handles Exec.
type ExecFunc func(ctx context.Context, uri string, data []byte, correlator string) (syncml.StatusCode, error)

// Mounted accepts any mount point.
func (ExecFunc) Mounted(string) error { return nil }

// Exec calls f.
func (f ExecFunc) Exec(ctx context.Context, uri string, data []byte, correlator string) (syncml.StatusCode, error) {
	return f(ctx, uri, data, correlator)
}

// GetFunc adapts a function to a Plugin that supplies live values.
type GetFunc func(uri string) (Value, error)

// Mounted accepts any mount point.
func (GetFunc) Mounted(string) error { return nil }

// GetValue calls f.
func (f GetFunc) GetValue(uri string) (Value, error) { return f(uri) }

// Compile-time checks of the adapters.
var (
	_ Executor    = ExecFunc(nil)
	_ Plugin      = ExecFunc(nil)
	_ ValueGetter = GetFunc(nil)
	_ Plugin      = GetFunc(nil)
)

// Mount attaches p to the existing node at uri (404 if absent). Mounting again
// on the same node replaces the plug-in; a nil p removes it.
func (t *Tree) Mount(uri string, p Plugin) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.parse(uri)
	if err != nil {
		return err
	}
	id := t.find(u.Segments)
	if id < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "mount point %s does not exist", displayURI(u.Segments))
	}
	if p == nil {
		delete(t.mounts, id)
		return nil
	}
	if err := p.Mounted(t.uriOf(id)); err != nil {
		return err
	}
	t.mounts[id] = p
	return nil
}

// pluginFor returns the plug-in serving node id, or nil.
func (t *Tree) pluginFor(id int32) Plugin {
	if len(t.mounts) == 0 {
		return nil
	}
	for ; id >= 0; id = t.nodes[id].parent {
		if p, ok := t.mounts[id]; ok {
			return p
		}
	}
	return nil
}
