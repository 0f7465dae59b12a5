// Package moframe is what every management object with operations shares,
// so that an object is declared rather than copied:
//
//   - Model: the object's DDF, written as a .ddf.xml file beside its code and
//     embedded. The root node may be run-time named (empty NodeName): Bind
//     names it where the device places the object. The object's tree nodes,
//     their formats, types, defaults and AccessTypes come from it (Place,
//     Install), and CheckDescriptor holds the server's mo.Descriptor to it.
//   - Runner: the asynchronous operation of one object instance. Exec
//     answers 202 (accepted), the work runs in the background and its
//     outcome goes out as Generic Alert 1226 carrying the Exec's correlator
//     (OMA-TS-DM_Protocol-V1_2 §8.7, §10.3 "Asynchronous reporting"). The
//     operation in progress is kept in a state file, so an agent restart
//     resumes it and it is reported exactly once.
//   - Report: the 1226 item of an operation's outcome.
//   - ResultError: how a device hook chooses the result code it reports.
//   - Instance: embedded in an object's type, its URI, Wait, Busy, Close
//     and Mounted.
//
// Declaring an object: embed its DDF and parse it once with MustModel; at
// agent start Install (or Place, then Bind and Grant) the instance and mount
// a plug-in whose Exec calls Runner.Begin with the work; the work returns an
// Outcome (the final state and the Report); the server side's Descriptor is
// checked against the Model by a test calling CheckDescriptor.
package moframe

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/syncml"
)

// Model is an object's DDF with one root node.
type Model struct {
	xml  []byte
	root *dmtree.DDFNode
}

// NewModel parses a DDF document whose MgmtTree has exactly one Node, the
// object's root, an interior node whose DDFName is the object's MO id.
func NewModel(ddfXML []byte) (*Model, error) {
	d, err := dmtree.ParseDDF(ddfXML)
	if err != nil {
		return nil, err
	}
	if len(d.Nodes) != 1 || !d.Nodes[0].Interior() {
		return nil, errors.New("moframe: an object's DDF needs one interior root node")
	}
	r := d.Nodes[0]
	if !r.TypeIsDDF || len(r.Types) != 1 || r.Types[0] == "" {
		return nil, fmt.Errorf("moframe: the root of the DDF has no DDFName (the MO id)")
	}
	return &Model{xml: ddfXML, root: r}, nil
}

// MustModel is NewModel for a document embedded in the program: a broken
// one is a programming error, found by the object's tests.
func MustModel(ddfXML []byte) *Model {
	m, err := NewModel(ddfXML)
	if err != nil {
		panic(err)
	}
	return m
}

// MOID is the object's identifier (the DDFName of its root).
func (m *Model) MOID() string { return m.root.Types[0] }

// XML returns the document as written (the root possibly unnamed).
func (m *Model) XML() []byte { return m.xml }

// Root returns the root's definition (shared, do not modify).
func (m *Model) Root() *dmtree.DDFNode { return m.root }

// Bind returns the DDF with the root named name, ready for
// dmtree.Tree.Install below the object's parent. The nodes below the root
// are shared with the Model and must not be modified.
func (m *Model) Bind(name string) *dmtree.DDF {
	r := *m.root
	r.Name = name
	return &dmtree.DDF{VerDTD: "1.2", Nodes: []*dmtree.DDFNode{&r}}
}

// Node finds a definition by its path relative to the root ("" is the
// root). A segment that is not a named child matches the run-time named
// child (<x>); "<x>" may be written for it.
func (m *Model) Node(rel string) (*dmtree.DDFNode, bool) {
	n := m.root
	if rel == "" {
		return n, true
	}
	for _, seg := range strings.Split(rel, "/") {
		var next, ph *dmtree.DDFNode
		for _, c := range n.Children {
			switch {
			case c.Name == "" && ph == nil:
				ph = c
			case c.Name != "" && c.Name == seg:
				next = c
			}
		}
		if next == nil {
			next = ph
		}
		if next == nil {
			return nil, false
		}
		n = next
	}
	return n, true
}

// Value is the empty value a node of definition d is created with: its
// format and its first type, its DefaultValue as data.
func Value(d *dmtree.DDFNode) dmtree.Value {
	v := dmtree.Value{Format: d.Format}
	if len(d.Types) > 0 && !d.TypeIsDDF {
		v.Type = d.Types[0]
	} else if d.TypeIsDDF && len(d.Types) > 0 {
		v.Type = d.Types[0]
	}
	if d.Default != nil {
		v.Data = []byte(*d.Default)
	}
	return v
}

// Place creates the object's root at uri (Type the MO id) and the optional
// nodes rel lists (paths relative to the root, parents first), as the
// device and unless they exist, each with the format, type and default its
// definition gives. It returns uri in canonical form.
func (m *Model) Place(t *dmtree.Tree, uri string, rel ...string) (string, error) {
	uri, err := CanonicalNode(uri)
	if err != nil {
		return "", err
	}
	if err := AddNode(t, uri, dmtree.Value{Format: dmtree.FormatNode, Type: m.MOID()}); err != nil {
		return "", err
	}
	for _, r := range rel {
		d, ok := m.Node(r)
		if !ok {
			return "", fmt.Errorf("the DDF of %s has no node %s", m.MOID(), r)
		}
		if err := AddNode(t, uri+"/"+r, Value(d)); err != nil {
			return "", err
		}
	}
	return uri, nil
}

// BindAt binds the DDF to the object at its canonical uri, which also
// creates the nodes the DDF requires (Occurrence One, OneOrMore) with their
// defaults.
func (m *Model) BindAt(t *dmtree.Tree, uri string) error {
	if err := t.Install(path.Dir(uri), m.Bind(path.Base(uri))); err != nil {
		return fmt.Errorf("bind the DDF at %s: %w", uri, err)
	}
	return nil
}

// Commands lists the ACL commands some node of the DDF lets a server use
// (the union of its AccessTypes): what the object's ACL grants its servers,
// the DDF then deciding node by node.
func (m *Model) Commands() []dmtree.Cmd {
	var all dmtree.AccessType
	var walk func(n *dmtree.DDFNode)
	walk = func(n *dmtree.DDFNode) {
		all |= n.Access
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(m.root)
	var out []dmtree.Cmd
	for _, p := range []struct {
		a dmtree.AccessType
		c dmtree.Cmd
	}{{dmtree.AccessAdd, dmtree.CmdAdd}, {dmtree.AccessDelete, dmtree.CmdDelete}, {dmtree.AccessExec, dmtree.CmdExec},
		{dmtree.AccessGet, dmtree.CmdGet}, {dmtree.AccessReplace, dmtree.CmdReplace}} {
		if all.Has(p.a) {
			out = append(out, p.c)
		}
	}
	return out
}

// Install places the object at uri with the optional nodes rel, binds the
// DDF and grants servers the commands its DDF allows (Commands) on it. Call
// it at every start: what exists is kept. It returns uri in canonical form.
func (m *Model) Install(t *dmtree.Tree, uri string, servers []string, rel ...string) (string, error) {
	uri, err := m.Place(t, uri, rel...)
	if err != nil {
		return "", err
	}
	if err := m.BindAt(t, uri); err != nil {
		return "", err
	}
	if err := Grant(t, uri, servers, m.Commands()...); err != nil {
		return "", err
	}
	return uri, nil
}

// CheckDescriptor holds a server-side descriptor to the object's DDF: every
// operation executes a node whose AccessType has Exec, creates (Create) an
// interior node whose AccessType has Add, and every parameter writes a leaf
// whose AccessType has Replace (Add for an operation that creates) and whose
// format is the parameter's. It returns every disagreement.
func (m *Model) CheckDescriptor(d *mo.Descriptor) error {
	var errs []error
	if d.MOID != m.MOID() {
		errs = append(errs, fmt.Errorf("descriptor %s names MO %s, the DDF %s", d.Name, d.MOID, m.MOID()))
	}
	for _, op := range d.Operations {
		n, ok := m.Node(op.ExecNode())
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: operation %s executes %s, not in the DDF", d.Name, op.Name, op.ExecNode()))
		case !n.Access.Has(dmtree.AccessExec):
			errs = append(errs, fmt.Errorf("%s: operation %s executes %s, whose AccessType is %s", d.Name, op.Name, op.ExecNode(), n.Access))
		}
		write := dmtree.AccessReplace
		if op.Create != "" {
			write = dmtree.AccessAdd
			n, ok := m.Node(op.Create)
			switch {
			case !ok || !n.Interior():
				errs = append(errs, fmt.Errorf("%s: operation %s creates %s, not an interior node of the DDF", d.Name, op.Name, op.Create))
			case !n.Access.Has(dmtree.AccessAdd):
				errs = append(errs, fmt.Errorf("%s: operation %s creates %s, whose AccessType is %s", d.Name, op.Name, op.Create, n.Access))
			}
		}
		for _, p := range op.Params {
			if p.Node == "" {
				continue
			}
			// "{}" (a list element) and "{p}" (a parameter's value) name
			// run-time nodes: Node matches them with the DDF's <x>.
			n, ok := m.Node(p.Node)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: %s parameter %s writes %s, not in the DDF", d.Name, op.Name, p.Name, p.Node))
			case !n.Access.Has(write):
				errs = append(errs, fmt.Errorf("%s: %s parameter %s writes %s, whose AccessType is %s", d.Name, op.Name, p.Name, p.Node, n.Access))
			case n.Format != p.Format:
				errs = append(errs, fmt.Errorf("%s: %s parameter %s is %s, node %s is %s", d.Name, op.Name, p.Name, p.Format, p.Node, n.Format))
			}
		}
	}
	if d.Refresh != "" {
		rel, _, _ := strings.Cut(d.Refresh, "?")
		if n, ok := m.Node(rel); !ok || !n.Access.Has(dmtree.AccessGet) {
			errs = append(errs, fmt.Errorf("%s: Refresh reads %s, not a node of the DDF a server may Get", d.Name, rel))
		}
	}
	return errors.Join(errs...)
}

// CanonicalNode returns uri in its canonical "./A/B" form; the root and
// URIs with a query cannot hold an object.
func CanonicalNode(uri string) (string, error) {
	u, err := dmtree.ParseURI(uri, nil)
	if err != nil {
		return "", err
	}
	if len(u.Segments) == 0 || u.Prop != "" || u.List != dmtree.ListNone {
		return "", fmt.Errorf("%q is not a node an object can be placed at", uri)
	}
	return "./" + u.Path(), nil
}

// AddNode creates the node at uri as the device unless it exists.
func AddNode(t *dmtree.Tree, uri string, v dmtree.Value) error {
	if err := t.Add("", uri, v); err != nil && syncml.StatusOf(err) != syncml.StatusAlreadyExists {
		return fmt.Errorf("create %s: %w", uri, err)
	}
	return nil
}

// Grant gives servers the commands cmds (none: Get, Replace and Exec) on
// uri: its ACL, inherited below it; the DDF's AccessTypes still decide what
// each node allows. No servers leaves the ACL alone.
func Grant(t *dmtree.Tree, uri string, servers []string, cmds ...dmtree.Cmd) error {
	if len(servers) == 0 {
		return nil
	}
	if len(cmds) == 0 {
		cmds = []dmtree.Cmd{dmtree.CmdGet, dmtree.CmdReplace, dmtree.CmdExec}
	}
	grants := map[dmtree.Cmd][]string{}
	for _, c := range cmds {
		grants[c] = servers
	}
	acl, err := dmtree.NewACL(grants)
	if err != nil {
		return err
	}
	if err := t.Replace("", uri+"?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		return fmt.Errorf("set the ACL of %s: %w", uri, err)
	}
	return nil
}
