package dmtree

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// TNDSNode is one Node of a parsed TNDS document (a run-time subtree).
type TNDSNode struct {
	Name     string // NodeName; "" = the command target itself
	Path     string // top-level nodes only
	Interior bool
	Value    *string // leaf value text as serialised (b64 for binary formats)
	Props    tndsProps
	Children []*TNDSNode
}

// tndsProps holds the RTProperties of a TNDS node.
type tndsProps struct {
	acl    *string
	format string
	title  *string
	tstamp int64
	typ    string
	verNo  *uint16
}

func (p *tndsProps) apply(n *node) error {
	if p.acl != nil {
		a, err := ParseACL(*p.acl)
		if err != nil {
			return err
		}
		if a.Empty() {
			a = nil
		}
		n.acl = a
	}
	if p.title != nil {
		if len(*p.title) > MaxTitleLen {
			return syncml.Errorf(syncml.StatusEntityTooLarge, "Title longer than %d bytes", MaxTitleLen)
		}
		n.title = *p.title
	}
	if p.typ != "" && n.typ == "" {
		n.typ = p.typ
	}
	return nil
}

// TNDS is a parsed Tree and Description Serialization document.
type TNDS struct {
	VerDTD, Man, Mod string
	Nodes            []*TNDSNode
}

// ParseTNDS parses a TNDS XML document (the WBXML form arrives decoded to XML
// from the codec). Malformed documents give 400, unknown formats 415.
func ParseTNDS(b []byte) (*TNDS, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, &syncml.StatusError{Code: syncml.StatusBadRequest, Msg: "TNDS", Err: err}
	}
	if root.name != "MgmtTree" {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS root is <%s>, want <MgmtTree>", root.name)
	}
	doc := &TNDS{VerDTD: root.childText("VerDTD"), Man: root.childText("Man"), Mod: root.childText("Mod")}
	for _, c := range root.children {
		if c.name == "Node" {
			n, err := parseTNDSNode(c, true)
			if err != nil {
				return nil, err
			}
			doc.Nodes = append(doc.Nodes, n)
		}
	}
	if len(doc.Nodes) == 0 {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS has no Node")
	}
	return doc, nil
}

func parseTNDSNode(e *elem, top bool) (*TNDSNode, error) {
	n := &TNDSNode{Name: e.childText("NodeName")}
	if n.Name != "" {
		if err := CheckName(n.Name); err != nil {
			return nil, err
		}
	} else if !top {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "nested TNDS Node without NodeName")
	}
	if top {
		n.Path = e.childText("Path")
	}
	ddfName := false // Type given as DDFName: the node is interior (OMA-TS-DM_TNDS-V1_2)
	if rt := e.child("RTProperties"); rt != nil {
		for _, p := range rt.children {
			switch p.name {
			case "ACL":
				s := p.text
				n.Props.acl = &s
			case "Format":
				if len(p.children) != 1 {
					return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS Format needs one child")
				}
				n.Props.format = p.children[0].name
				if _, ok := formatCode(n.Props.format); !ok {
					return nil, syncml.Errorf(syncml.StatusUnsupportedMediaType, "TNDS format %q unsupported", n.Props.format)
				}
			case "Title":
				s := p.text
				n.Props.title = &s
			case "TStamp":
				ts, ok := parseTStamp(strings.TrimSpace(p.text))
				if !ok {
					return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS TStamp %q invalid", p.text)
				}
				n.Props.tstamp = ts
			case "Type":
				for _, c := range p.children {
					if c.name == "MIME" || c.name == "DDFName" {
						n.Props.typ = c.text
						ddfName = c.name == "DDFName"
					}
				}
			case "VerNo":
				v, err := strconv.ParseUint(strings.TrimSpace(p.text), 10, 16)
				if err != nil {
					return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS VerNo %q invalid", p.text)
				}
				u := uint16(v)
				n.Props.verNo = &u
			}
		}
	}
	if v := e.child("Value"); v != nil {
		s := v.text
		n.Value = &s
	}
	for _, c := range e.children {
		if c.name != "Node" {
			continue
		}
		if n.Value != nil {
			return nil, syncml.Errorf(syncml.StatusBadRequest, "TNDS Node %q has both Value and children", n.Name)
		}
		cn, err := parseTNDSNode(c, false)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, cn)
	}
	// A node without Format and Value is interior when it continues the
	// path to children or when its Type is a DDFName (an MO identifier,
	// which only interior nodes have): an empty interior node serialised
	// without its Format, or one whose children the reader may not see,
	// stays interior (OMA-TS-DM_TNDS-V1_2, TNDS syntax: Type is a
	// MIME type for leaves, a DDFName for interior nodes).
	n.Interior = n.Props.format == FormatNode || (n.Props.format == "" && n.Value == nil && (len(n.Children) > 0 || ddfName))
	if n.Interior && n.Value != nil {
		return nil, syncml.Errorf(syncml.StatusUnsupportedMediaType, "interior TNDS Node %q has a Value", n.Name)
	}
	return n, nil
}

// Type returns the node's Type property (a MIME type for a leaf, a DDFName
// for an interior node; "" when the document gives none).
func (n *TNDSNode) Type() string { return n.Props.typ }

// value returns the node's Value for Add/Replace.
func (n *TNDSNode) value() Value {
	if n.Interior {
		return Value{Format: FormatNode, Type: n.Props.typ}
	}
	v := Value{Format: n.Props.format, Type: n.Props.typ}
	if n.Value != nil {
		v.Data = []byte(*n.Value)
	}
	if v.Format == FormatBin {
		// XML cannot carry raw bytes: binary TNDS values are base64 text.
		v.Format = FormatB64
	}
	return v
}

// tndsTarget resolves a top-level TNDS node's URI against the command target.
func tndsTarget(base []string, n *TNDSNode, lim *Limits) ([]string, error) {
	segs := append([]string(nil), base...)
	if p := n.Path; p != "" {
		if p == "." || strings.HasPrefix(p, "./") {
			u, err := ParseURI(p, lim)
			if err != nil {
				return nil, err
			}
			segs = u.Segments
		} else {
			u, err := ParseURI(p, lim)
			if err != nil {
				return nil, err
			}
			segs = append(segs, u.Segments...)
		}
	}
	if n.Name != "" {
		segs = append(segs, n.Name)
	}
	if lim != nil && lim.MaxDepth > 0 && len(segs) > lim.MaxDepth {
		return nil, syncml.Errorf(syncml.StatusURITooLong, "TNDS node deeper than MaxDepth %d", lim.MaxDepth)
	}
	return segs, nil
}

func (t *Tree) addTNDS(principal string, base []string, data []byte) error {
	doc, err := ParseTNDS(data)
	if err != nil {
		return err
	}
	for _, n := range doc.Nodes {
		segs, err := tndsTarget(base, n, &t.lim)
		if err != nil {
			return err
		}
		if err := t.addTNDSNode(principal, segs, n); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) addTNDSNode(principal string, segs []string, n *TNDSNode) error {
	id := t.find(segs)
	switch {
	case id >= 0 && n.Name == "" && t.nodes[id].interior():
		// The node is the command target itself: add below it.
	case id >= 0 && n.Interior && t.nodes[id].interior() && len(n.Children) > 0:
		// A continuation node: an existing interior node the document
		// names on the way to new children. It stays as it is, interior;
		// an ACL it carries is set under the rules of Replace ?prop=ACL.
		if n.Props.acl != nil && *n.Props.acl != t.nodes[id].acl.String() {
			if err := t.replaceProp(principal, URI{Segments: segs, Prop: "ACL"}, Value{Data: []byte(*n.Props.acl)}); err != nil {
				return atNode(err, displayURI(segs))
			}
		}
	default:
		if _, err := t.addNode(principal, segs, n.value(), &n.Props); err != nil {
			if FailedURI(err) == "" {
				err = atNode(err, displayURI(segs))
			}
			return err
		}
	}
	return t.addTNDSChildren(principal, segs, n)
}

func (t *Tree) addTNDSChildren(principal string, segs []string, n *TNDSNode) error {
	for _, c := range n.Children {
		cs := append(append([]string(nil), segs...), c.Name)
		if t.lim.MaxDepth > 0 && len(cs) > t.lim.MaxDepth {
			return syncml.Errorf(syncml.StatusURITooLong, "TNDS node deeper than MaxDepth %d", t.lim.MaxDepth)
		}
		if err := t.addTNDSNode(principal, cs, c); err != nil {
			return err
		}
	}
	return nil
}

// replaceTNDS replaces each described subtree completely: the result equals
// deleting the old children, replacing the root and adding the new nodes.
func (t *Tree) replaceTNDS(principal string, base []string, data []byte) error {
	doc, err := ParseTNDS(data)
	if err != nil {
		return err
	}
	for _, n := range doc.Nodes {
		segs, err := tndsTarget(base, n, &t.lim)
		if err != nil {
			return err
		}
		id := t.find(segs)
		if id < 0 {
			return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(segs))
		}
		if t.nodes[id].interior() != n.Interior {
			return syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s: TNDS and tree disagree on interior/leaf", displayURI(segs))
		}
		if err := t.replaceNode(principal, id, n.value()); err != nil {
			return err
		}
		if n.Props.title != nil || n.Props.acl != nil {
			if n.Props.acl != nil {
				if err := t.replaceProp(principal, URI{Segments: segs, Prop: "ACL"}, Value{Data: []byte(*n.Props.acl)}); err != nil {
					return err
				}
			}
			if n.Props.title != nil {
				if err := t.replaceProp(principal, URI{Segments: segs, Prop: "Title"}, Value{Data: []byte(*n.Props.title)}); err != nil {
					return err
				}
			}
		}
		if !n.Interior {
			continue
		}
		for _, c := range append([]int32(nil), t.nodes[id].children...) {
			if err := t.deleteNode(principal, c); err != nil {
				return err
			}
		}
		if err := t.addTNDSChildren(principal, segs, n); err != nil {
			return err
		}
	}
	return nil
}

// TNDS serialises the subtree at uri with the chosen properties, including only
// nodes principal may Get (the same as Get uri?list=TNDS…).
func (t *Tree) TNDS(principal, uri string, props PropSet) ([]byte, error) {
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
	if t.inInbox(u.Segments) {
		return nil, errInboxGet
	}
	if err := t.allowed(principal, CmdGet, id); err != nil {
		return nil, err
	}
	return t.tnds(principal, id, props)
}

func (t *Tree) tnds(principal string, id int32, props PropSet) ([]byte, error) {
	w := &xmlWriter{}
	w.openAttr("MgmtTree", `xmlns="syncml:dmddf1.2"`)
	w.leaf("VerDTD", "1.2")
	if err := t.tndsNode(w, principal, id, props, true); err != nil {
		return nil, err
	}
	w.close("MgmtTree")
	return w.b.Bytes(), nil
}

func (t *Tree) tndsNode(w *xmlWriter, principal string, id int32, props PropSet, top bool) error {
	n := &t.nodes[id]
	w.open("Node")
	if id == rootID {
		w.leaf("NodeName", "")
	} else {
		w.leaf("NodeName", n.name)
		if top && n.parent != rootID {
			w.leaf("Path", t.uriOf(n.parent))
		} else if top {
			w.leaf("Path", ".")
		}
	}
	var v Value
	if !n.interior() {
		var err error
		if v, err = t.leafData(id); err != nil {
			return err
		}
	}
	format := formats[n.format]
	if !n.interior() {
		format = v.Format
	}
	binary := format == FormatBin || format == FormatB64
	if binary {
		format = FormatB64
	}
	// RTProperties and its Type are mandatory in TNDS (OMA-TS-DM_TNDS-V1_2) whatever
	// the selection; Format also accompanies a b64 Value, which could not be
	// read back without it.
	{
		w.open("RTProperties")
		if props&PropACL != 0 {
			w.leaf("ACL", n.acl.String())
		}
		if props&PropFormat != 0 || (binary && props&PropValue != 0) {
			w.wrap("Format", format)
		}
		if props&PropName != 0 && id != rootID {
			w.leaf("Name", n.name)
		}
		if props&PropSize != 0 && !n.interior() {
			w.leaf("Size", strconv.Itoa(len(v.Data)))
		}
		if props&PropTitle != 0 && n.title != "" {
			w.leaf("Title", n.title)
		}
		if props&PropTStamp != 0 && n.tstamp != 0 {
			w.leaf("TStamp", formatTStamp(n.tstamp))
		}
		{
			// Every leaf states its MIME type; one stored without a type
			// has the MetInf default text/plain (OMA-TS-SyncML_MetaInfo-V1_2, Type).
			w.open("Type")
			if n.interior() {
				w.leaf("DDFName", n.typ)
			} else {
				w.leaf("MIME", leafMIME(v.Type))
			}
			w.close("Type")
		}
		if props&PropVerNo != 0 {
			w.leaf("VerNo", strconv.Itoa(int(n.verNo)))
		}
		w.close("RTProperties")
	}
	if n.interior() {
		for _, c := range n.children {
			if c == t.inbox || t.allowed(principal, CmdGet, c) != nil || t.accessOK(principal, AccessGet, c) != nil {
				continue
			}
			if err := t.tndsNode(w, principal, c, props, false); err != nil {
				return err
			}
		}
		if err := t.tndsVirtual(w, principal, id, props); err != nil {
			return err
		}
	} else if props&PropValue != 0 {
		if binary {
			w.leaf("Value", base64.StdEncoding.EncodeToString(v.Data))
		} else {
			w.leaf("Value", string(v.Data))
		}
	}
	w.close("Node")
	return nil
}

// tndsVirtual writes the code-provided leaves of interior node id (ChildLister).
func (t *Tree) tndsVirtual(w *xmlWriter, principal string, id int32, props PropSet) error {
	extra, err := t.virtualChildren(id)
	if err != nil {
		return err
	}
	for _, name := range extra {
		if t.virtualAllowed(principal, id, name) != nil {
			continue
		}
		r, err := t.virtualValue(id, name)
		if err != nil {
			if syncml.StatusOf(err) == syncml.StatusNotFound {
				continue
			}
			return err
		}
		binary := r.Format == FormatBin || r.Format == FormatB64
		if binary {
			r.Format = FormatB64
		}
		w.open("Node")
		w.leaf("NodeName", name)
		{
			w.open("RTProperties")
			if props&PropFormat != 0 || (binary && props&PropValue != 0) {
				w.wrap("Format", r.Format)
			}
			if props&PropName != 0 {
				w.leaf("Name", name)
			}
			if props&PropSize != 0 {
				w.leaf("Size", strconv.Itoa(len(r.Data)))
			}
			w.open("Type")
			w.leaf("MIME", leafMIME(r.Type))
			w.close("Type")
			w.close("RTProperties")
		}
		if props&PropValue != 0 {
			if binary && r.Format == FormatB64 {
				w.leaf("Value", base64.StdEncoding.EncodeToString(r.Data))
			} else {
				w.leaf("Value", string(r.Data))
			}
		}
		w.close("Node")
	}
	return nil
}

// leafMIME is the MIME type a TNDS document states for a leaf: its Type, or
// the MetInf default text/plain when none is stored.
func leafMIME(typ string) string {
	if typ == "" {
		return "text/plain"
	}
	return typ
}
