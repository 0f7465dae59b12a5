package dmtree

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// AccessType is the DDF AccessType set of a node; it is independent of the ACL
// and both must allow a server command (OMA-TS-DM_TND-V1_2, DDF AccessType).
type AccessType uint8

// AccessType bits.
const (
	AccessAdd AccessType = 1 << iota
	AccessCopy
	AccessDelete
	AccessExec
	AccessGet
	AccessReplace
)

var accessNames = []struct {
	name string
	bit  AccessType
}{{"Add", AccessAdd}, {"Copy", AccessCopy}, {"Delete", AccessDelete}, {"Exec", AccessExec}, {"Get", AccessGet}, {"Replace", AccessReplace}}

// Has reports whether every bit of b is in a.
func (a AccessType) Has(b AccessType) bool { return a&b == b }

// String lists the access types joined by "+", e.g. "Get+Replace".
func (a AccessType) String() string {
	var parts []string
	for _, n := range accessNames {
		if a&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, "+")
}

// DDF is a parsed Device Description Framework document (MgmtTree).
type DDF struct {
	VerDTD string
	Man    string
	Mod    string
	Nodes  []*DDFNode
}

// DDFNode describes one node (or a run-time named placeholder) of an MO.
type DDFNode struct {
	// Name is the NodeName; "" is a run-time named placeholder (<x>).
	Name string
	// Path is the URI of the parent for top-level nodes ("" = where attached).
	Path        string
	Access      AccessType
	Default     *string // DefaultValue, nil when absent
	Description string
	Format      string // DFFormat
	// MinOcc and MaxOcc bound how many instances may exist; MaxOcc 0 is unbounded.
	MinOcc, MaxOcc int
	Permanent      bool
	// Types is DFType: MIME types of a leaf, or the DDFName (MO id) of an interior node.
	Types      []string
	TypeIsDDF  bool
	CaseInsens bool // CaseSense CIS: the name and the subtree below match case-insensitively
	CaseSens   bool // CaseSense CS stated explicitly (ends a CIS subtree)
	Title      string
	Children   []*DDFNode
}

// Interior reports whether the described node is interior (DFFormat node).
func (d *DDFNode) Interior() bool { return d.Format == FormatNode }

// match returns the child definition that governs a node called name: an exact
// name wins over a placeholder.
func (d *DDFNode) match(name string) *DDFNode {
	var ph *DDFNode
	for _, c := range d.Children {
		switch {
		case c.Name == name:
			return c
		case c.CaseInsens && c.Name != "" && strings.EqualFold(c.Name, name):
			return c
		case c.Name == "" && ph == nil:
			ph = c
		}
	}
	return ph
}

// ParseDDF parses a DDF document (syncml:dmddf1.2). Malformed documents give 400.
func ParseDDF(b []byte) (*DDF, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, &syncml.StatusError{Code: syncml.StatusBadRequest, Msg: "DDF", Err: err}
	}
	if root.name != "MgmtTree" {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF root is <%s>, want <MgmtTree>", root.name)
	}
	d := &DDF{VerDTD: root.childText("VerDTD"), Man: root.childText("Man"), Mod: root.childText("Mod")}
	for _, c := range root.children {
		if c.name != "Node" {
			continue
		}
		n, err := parseDDFNode(c, true)
		if err != nil {
			return nil, err
		}
		d.Nodes = append(d.Nodes, n)
	}
	if len(d.Nodes) == 0 {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF has no Node")
	}
	return d, nil
}

func parseDDFNode(e *elem, top bool) (*DDFNode, error) {
	n := &DDFNode{Name: e.childText("NodeName"), MinOcc: 1, MaxOcc: 1}
	if e.child("NodeName") == nil {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF Node without NodeName")
	}
	if n.Name != "" {
		if err := CheckName(n.Name); err != nil {
			return nil, err
		}
	}
	if top {
		n.Path = e.childText("Path")
	}
	p := e.child("DFProperties")
	if p == nil {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF Node %q without DFProperties", n.Name)
	}
	if at := p.child("AccessType"); at != nil {
		for _, c := range at.children {
			found := false
			for _, an := range accessNames {
				if an.name == c.name {
					n.Access |= an.bit
					found = true
				}
			}
			if !found {
				return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF AccessType %q unknown", c.name)
			}
		}
	}
	if dv := p.child("DefaultValue"); dv != nil {
		s := dv.text
		n.Default = &s
	}
	n.Description = p.childText("Description")
	n.Title = p.childText("DFTitle")
	f := p.child("DFFormat")
	if f == nil || len(f.children) != 1 {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF Node %q needs one DFFormat", n.Name)
	}
	n.Format = f.children[0].name
	if _, ok := formatCode(n.Format); !ok {
		return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF Node %q: unknown DFFormat %q", n.Name, n.Format)
	}
	if o := p.child("Occurrence"); o != nil && len(o.children) == 1 {
		if err := n.setOccurrence(o.children[0]); err != nil {
			return nil, err
		}
	}
	if s := p.child("Scope"); s != nil && len(s.children) == 1 {
		switch s.children[0].name {
		case "Permanent":
			n.Permanent = true
		case "Dynamic":
		default:
			return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF Scope %q unknown", s.children[0].name)
		}
	}
	if t := p.child("DFType"); t != nil {
		for _, c := range t.children {
			switch c.name {
			case "MIME":
				n.Types = append(n.Types, c.text)
			case "DDFName":
				n.Types = append(n.Types, c.text)
				n.TypeIsDDF = true
			}
		}
	}
	if cs := p.child("CaseSense"); cs != nil && len(cs.children) == 1 {
		switch cs.children[0].name {
		case "CIS":
			n.CaseInsens = true
		case "CS":
			n.CaseSens = true
		default:
			return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF CaseSense %q unknown", cs.children[0].name)
		}
	}
	for _, c := range e.children {
		if c.name != "Node" {
			continue
		}
		if !n.Interior() {
			return nil, syncml.Errorf(syncml.StatusBadRequest, "DDF leaf %q has child nodes", n.Name)
		}
		cn, err := parseDDFNode(c, false)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, cn)
	}
	return n, nil
}

func (n *DDFNode) setOccurrence(o *elem) error {
	switch o.name {
	case "One":
		n.MinOcc, n.MaxOcc = 1, 1
	case "ZeroOrOne":
		n.MinOcc, n.MaxOcc = 0, 1
	case "ZeroOrMore":
		n.MinOcc, n.MaxOcc = 0, 0
	case "OneOrMore":
		n.MinOcc, n.MaxOcc = 1, 0
	case "ZeroOrN", "OneOrN":
		v, err := strconv.Atoi(strings.TrimSpace(o.text))
		if err != nil || v < 1 || v > 65536 {
			return syncml.Errorf(syncml.StatusBadRequest, "DDF %s bound %q invalid", o.name, o.text)
		}
		n.MinOcc, n.MaxOcc = 0, v
		if o.name == "OneOrN" {
			n.MinOcc = 1
		}
	default:
		return syncml.Errorf(syncml.StatusBadRequest, "DDF Occurrence %q unknown", o.name)
	}
	return nil
}

func (n *DDFNode) occurrenceTag() (tag, text string) {
	switch {
	case n.MinOcc == 1 && n.MaxOcc == 1:
		return "One", ""
	case n.MinOcc == 0 && n.MaxOcc == 1:
		return "ZeroOrOne", ""
	case n.MinOcc == 0 && n.MaxOcc == 0:
		return "ZeroOrMore", ""
	case n.MinOcc == 1 && n.MaxOcc == 0:
		return "OneOrMore", ""
	case n.MinOcc == 0:
		return "ZeroOrN", strconv.Itoa(n.MaxOcc)
	default:
		return "OneOrN", strconv.Itoa(n.MaxOcc)
	}
}

// Marshal writes the DDF as XML (syncml:dmddf1.2).
func (d *DDF) Marshal() []byte {
	w := &xmlWriter{}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.openAttr("MgmtTree", `xmlns="syncml:dmddf1.2"`)
	v := d.VerDTD
	if v == "" {
		v = "1.2"
	}
	w.leaf("VerDTD", v)
	if d.Man != "" {
		w.leaf("Man", d.Man)
	}
	if d.Mod != "" {
		w.leaf("Mod", d.Mod)
	}
	for _, n := range d.Nodes {
		n.marshal(w, true)
	}
	w.close("MgmtTree")
	return w.b.Bytes()
}

func (n *DDFNode) marshal(w *xmlWriter, top bool) {
	w.open("Node")
	w.leaf("NodeName", n.Name)
	if top && n.Path != "" {
		w.leaf("Path", n.Path)
	}
	w.open("DFProperties")
	w.open("AccessType")
	for _, an := range accessNames {
		if n.Access&an.bit != 0 {
			w.empty(an.name)
		}
	}
	w.close("AccessType")
	if n.Default != nil {
		w.leaf("DefaultValue", *n.Default)
	}
	if n.Description != "" {
		w.leaf("Description", n.Description)
	}
	w.wrap("DFFormat", n.Format)
	tag, text := n.occurrenceTag()
	if text == "" {
		w.wrap("Occurrence", tag)
	} else {
		w.open("Occurrence")
		w.leaf(tag, text)
		w.close("Occurrence")
	}
	if n.Permanent {
		w.wrap("Scope", "Permanent")
	} else {
		w.wrap("Scope", "Dynamic")
	}
	if n.Title != "" {
		w.leaf("DFTitle", n.Title)
	}
	w.open("DFType")
	if len(n.Types) == 0 && n.Interior() {
		w.empty("DDFName")
	}
	for _, t := range n.Types {
		if n.TypeIsDDF {
			w.leaf("DDFName", t)
		} else {
			w.leaf("MIME", t)
		}
	}
	w.close("DFType")
	if n.CaseInsens {
		w.wrap("CaseSense", "CIS")
	} else if n.CaseSens {
		w.wrap("CaseSense", "CS")
	}
	w.close("DFProperties")
	for _, c := range n.Children {
		c.marshal(w, false)
	}
	w.close("Node")
}

// String describes the node for error messages.
func (n *DDFNode) String() string {
	name := n.Name
	if name == "" {
		name = "<x>"
	}
	return fmt.Sprintf("%s(%s)", name, n.Format)
}
