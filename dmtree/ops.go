package dmtree

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/omadm/omadm/syncml"
)

func isTNDS(typ string) bool {
	return typ == syncml.TypeTNDSXML || typ == syncml.TypeTNDSWBXML
}

func notOnProps(u URI, cmd string) error {
	if u.Prop != "" {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is not allowed on property %s", cmd, u.Prop)
	}
	if u.List != ListNone {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is not allowed with ?list=", cmd)
	}
	return nil
}

func (t *Tree) add(principal, uri string, v Value) error {
	u, err := t.parse(uri)
	if err != nil {
		return err
	}
	if err := notOnProps(u, "Add"); err != nil {
		return err
	}
	if t.inInbox(u.Segments) {
		return t.addInbox(principal, u, v)
	}
	if isTNDS(v.Type) {
		return t.addTNDS(principal, u.Segments, v.Data)
	}
	_, err = t.addNode(principal, u.Segments, v, nil)
	return err
}

// addNode creates segs with value v, creating missing interior ancestors. When
// props is non-nil (TNDS) it carries the node's run-time properties.
func (t *Tree) addNode(principal string, segs []string, v Value, props *tndsProps) (int32, error) {
	if len(segs) == 0 {
		return -1, syncml.Errorf(syncml.StatusAlreadyExists, "the root always exists")
	}
	p, k := t.deepest(segs)
	if k == len(segs) {
		if err := t.allowed(principal, CmdAdd, t.nodes[p].parent); err != nil {
			return -1, err
		}
		return -1, syncml.Errorf(syncml.StatusAlreadyExists, "%s already exists", displayURI(segs))
	}
	for i := k; i < len(segs); i++ {
		last := i == len(segs)-1
		here := segs[:i+1]
		fail := func(err error) (int32, error) {
			if last {
				return -1, err
			}
			return -1, atNode(err, displayURI(here))
		}
		pn := &t.nodes[p]
		if !pn.interior() {
			return fail(syncml.Errorf(syncml.StatusCommandNotAllowed, "parent %s is a leaf", t.uriOf(p)))
		}
		if err := t.allowed(principal, CmdAdd, p); err != nil {
			return fail(err)
		}
		name := segs[i]
		var def *DDFNode
		if pn.def != nil {
			def = pn.def.match(name)
			if def == nil && len(pn.def.Children) > 0 {
				return fail(syncml.Errorf(syncml.StatusCommandNotAllowed, "the DDF of %s has no node %q", t.uriOf(p), name))
			}
		}
		if def != nil {
			if principal != "" && (!def.Access.Has(AccessAdd) || def.Permanent) {
				return fail(syncml.Errorf(syncml.StatusCommandNotAllowed, "the DDF does not allow Add of %s", displayURI(here)))
			}
			if def.Name == "" && def.MaxOcc > 0 && t.countDef(p, def) >= def.MaxOcc {
				return fail(syncml.Errorf(syncml.StatusCommandNotAllowed, "at most %d instances of %s allowed", def.MaxOcc, def))
			}
		}
		var n node
		n.def = def
		if last {
			nv := v
			if props != nil && props.format != "" && nv.Format == "" {
				nv.Format = props.format
			}
			interior := nv.Format == FormatNode || (nv.Format == "" && def != nil && def.Interior())
			if interior {
				if def != nil && !def.Interior() {
					return fail(syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s must be a leaf of format %s", displayURI(here), def.Format))
				}
				if len(nv.Data) != 0 {
					return fail(syncml.Errorf(syncml.StatusUnsupportedMediaType, "interior node %s cannot carry data", displayURI(here)))
				}
				n.flags, n.format, n.typ = flagInterior, fmtNode, nv.Type
			} else {
				code, data, typ, err := t.leafValue(def, nv)
				if err != nil {
					return fail(err)
				}
				n.format, n.value, n.typ = code, data, typ
			}
		} else {
			if def != nil && !def.Interior() {
				return fail(syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is a leaf in the DDF", displayURI(here)))
			}
			n.flags, n.format = flagInterior, fmtNode
		}
		if def != nil && def.Permanent {
			n.flags |= flagPermanent
		}
		if n.interior() && principal != "" && !t.effACL(p).Allows(CmdReplace, principal) {
			// Creator rule (OMA-TS-DM_TND-V1_2, ACL): the adding server keeps control of what it made.
			n.acl = (&ACL{}).With(principal, CmdAdd, CmdDelete, CmdReplace)
		}
		if props != nil && last {
			// An ACL carried in a TNDS object obeys the rules of a Replace
			// of ?prop=ACL on the new node (OMA-TS-DM_TND-V1_2, ACL; OMA-TS-DM_TNDS-V1_2), so a server
			// cannot grant itself rights it does not hold.
			if props.acl != nil && !t.mayChangeACL(principal, p, n.interior(), n.acl) {
				return fail(syncml.Errorf(syncml.StatusPermissionDenied, "setting the ACL of %s needs Replace on its parent", displayURI(here)))
			}
			if err := props.apply(&n); err != nil {
				return fail(err)
			}
		}
		n.tstamp = t.now().Unix()
		if props != nil && last && props.tstamp != 0 {
			n.tstamp = props.tstamp
		}
		id, err := t.create(p, name, n)
		if err != nil {
			return fail(err)
		}
		if last && principal != "" && def != nil && n.interior() {
			if err := t.complete(id, def); err != nil {
				return fail(err)
			}
		}
		p = id
	}
	return p, nil
}

// complete creates, as the device, the children a server may not Add that
// the DDF requires below a node a server just added, when the plug-in that
// serves it asks for that (Completer).
func (t *Tree) complete(id int32, def *DDFNode) error {
	c, ok := t.pluginFor(id).(Completer)
	if !ok || !c.Complete(t.uriOf(id)) {
		return nil
	}
	for _, cd := range def.Children {
		if cd.Name == "" || cd.MinOcc == 0 || cd.Access.Has(AccessAdd) {
			continue
		}
		if _, exists := t.index[childKey{id, cd.Name}]; exists {
			continue
		}
		if err := t.installNode(id, cd); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) countDef(parent int32, def *DDFNode) int {
	c := 0
	for _, ch := range t.nodes[parent].children {
		if t.nodes[ch].def == def {
			c++
		}
	}
	return c
}

// leafValue validates v for a leaf governed by def (nil = no DDF) and returns
// the stored format, data and type.
func (t *Tree) leafValue(def *DDFNode, v Value) (uint8, []byte, string, error) {
	if len(v.Data) > t.opts.MaxValueSize*4/3+4 {
		return 0, nil, "", syncml.Errorf(syncml.StatusEntityTooLarge, "value larger than %d bytes", t.opts.MaxValueSize)
	}
	format := v.Format
	if def != nil {
		if def.Interior() {
			return 0, nil, "", syncml.Errorf(syncml.StatusUnsupportedMediaType, "node must be interior (format node)")
		}
		if format == "" {
			format = def.Format
		}
		binary := func(f string) bool { return f == FormatB64 || f == FormatBin }
		if format != def.Format && !(binary(format) && binary(def.Format)) {
			return 0, nil, "", syncml.Errorf(syncml.StatusUnsupportedMediaType, "format %s where the DDF requires %s", format, def.Format)
		}
	}
	if format == FormatNode {
		return 0, nil, "", syncml.Errorf(syncml.StatusUnsupportedMediaType, "a leaf cannot have format node")
	}
	code, data, err := normalizeValue(format, v.Data)
	if err != nil {
		return 0, nil, "", err
	}
	if len(data) > t.opts.MaxValueSize {
		return 0, nil, "", syncml.Errorf(syncml.StatusEntityTooLarge, "value larger than %d bytes", t.opts.MaxValueSize)
	}
	typ := v.Type
	if def != nil && len(def.Types) > 0 && !def.TypeIsDDF {
		if typ == "" {
			typ = def.Types[0]
		} else if !slices.Contains(def.Types, typ) {
			return 0, nil, "", syncml.Errorf(syncml.StatusUnsupportedMediaType, "type %s not allowed by the DDF", typ)
		}
	}
	return code, data, typ, nil
}

func (t *Tree) replace(principal, uri string, v Value) error {
	u, err := t.parse(uri)
	if err != nil {
		return err
	}
	if u.List != ListNone {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "Replace is not allowed with ?list=")
	}
	if u.Prop != "" {
		return t.replaceProp(principal, u, v)
	}
	if isTNDS(v.Type) {
		return t.replaceTNDS(principal, u.Segments, v.Data)
	}
	id := t.find(u.Segments)
	if id < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	return t.replaceNode(principal, id, v)
}

func (t *Tree) replaceNode(principal string, id int32, v Value) error {
	if err := t.allowed(principal, CmdReplace, id); err != nil {
		return err
	}
	if err := t.accessOK(principal, AccessReplace, id); err != nil {
		return err
	}
	n := &t.nodes[id]
	perm := n.permanent() && principal != ""
	if n.interior() {
		if (v.Format != "" && v.Format != FormatNode) || len(v.Data) != 0 {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is interior and has no value", t.uriOf(id))
		}
		if v.Type == n.typ {
			return nil
		}
		if perm || id == rootID {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "type of permanent node %s cannot change", t.uriOf(id))
		}
		if err := t.fits(int64(len(v.Type) - len(n.typ))); err != nil {
			return err
		}
		typ := t.internStr(v.Type)
		t.update(id, func(n *node) { n.typ = typ; t.touch(n) })
		return nil
	}
	if v.Format == FormatNode {
		return syncml.Errorf(syncml.StatusUnsupportedMediaType, "%s is a leaf", t.uriOf(id))
	}
	code, data, typ, err := t.leafValue(n.def, v)
	if err != nil {
		return err
	}
	if v.Format == "" && n.def == nil {
		// No Meta Format: keep the node's format (the value must fit it).
		code, data, err = normalizeValue(formats[n.format], v.Data)
		if err != nil {
			return err
		}
	}
	if typ == "" {
		typ = n.typ
	}
	if perm && (code != n.format || typ != n.typ) {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "format and type of permanent node %s cannot change", t.uriOf(id))
	}
	if err := t.fits(int64(len(data) - len(n.value) + len(typ) - len(n.typ))); err != nil {
		return err
	}
	if p := t.pluginFor(id); p != nil {
		if s, ok := p.(ValueSetter); ok {
			if err := s.SetValue(t.uriOf(id), Value{Format: formats[code], Type: typ, Data: data}); err != nil {
				return err
			}
		}
	}
	typ = t.internStr(typ)
	t.update(id, func(n *node) {
		n.format, n.value, n.typ = code, data, typ
		t.touch(n)
	})
	return nil
}

func (t *Tree) delete(principal, uri string) error {
	u, err := t.parse(uri)
	if err != nil {
		return err
	}
	if err := notOnProps(u, "Delete"); err != nil {
		return err
	}
	if len(u.Segments) == 0 {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "the root cannot be deleted")
	}
	id := t.find(u.Segments)
	if id < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	return t.deleteNode(principal, id)
}

func (t *Tree) deleteNode(principal string, id int32) error {
	if err := t.allowed(principal, CmdDelete, id); err != nil {
		return err
	}
	if err := t.accessOK(principal, AccessDelete, id); err != nil {
		return err
	}
	if principal != "" {
		for _, x := range t.subtree(id, nil) {
			if t.nodes[x].permanent() {
				return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s is permanent", t.uriOf(x))
			}
		}
	}
	t.remove(id)
	return nil
}

func (t *Tree) copyNode(principal, target, source string) error {
	tu, err := t.parse(target)
	if err != nil {
		return err
	}
	su, err := t.parse(source)
	if err != nil {
		return err
	}
	if err := notOnProps(tu, "Copy"); err != nil {
		return err
	}
	if err := notOnProps(su, "Copy"); err != nil {
		return err
	}
	if t.inInbox(tu.Segments) || t.inInbox(su.Segments) {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "Copy to or from ./Inbox is not allowed")
	}
	src := t.find(su.Segments)
	if src < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "copy source %s does not exist", displayURI(su.Segments))
	}
	if err := t.allowed(principal, CmdGet, src); err != nil {
		return err
	}
	if err := t.accessOK(principal, AccessCopy, src); err != nil {
		return err
	}
	if t.nodes[src].interior() {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "only leaf nodes can be copied")
	}
	v, err := t.leafData(src)
	if err != nil {
		return err
	}
	if v.Format == FormatB64 {
		v.Format = FormatBin
	}
	if dst := t.find(tu.Segments); dst >= 0 {
		// A Copy onto an existing node that may not be overwritten (an
		// interior node, a node whose AccessType lacks Replace, a permanent
		// node whose Format or Type would change) is refused with 403
		// Forbidden, not 405 (OMA-TS-DM_RepPro-V1_2 Copy; SyncML RepPro §10
		// 403). Missing ACL rights stay 425.
		if t.nodes[dst].interior() {
			return syncml.Errorf(syncml.StatusForbidden, "copy target %s is interior and may not be overwritten", t.uriOf(dst))
		}
		err := t.replaceNode(principal, dst, v)
		if syncml.StatusOf(err) == syncml.StatusCommandNotAllowed {
			return &syncml.StatusError{Code: syncml.StatusForbidden, Msg: "copy target " + t.uriOf(dst) + " may not be overwritten", Err: err}
		}
		return err
	}
	_, err = t.addNode(principal, tu.Segments, v, nil)
	return err
}

// leafData returns the current value of a leaf, asking its plug-in first.
func (t *Tree) leafData(id int32) (Value, error) {
	n := &t.nodes[id]
	if p := t.pluginFor(id); p != nil {
		if g, ok := p.(ValueGetter); ok {
			v, err := g.GetValue(t.uriOf(id))
			if err == nil {
				return v, nil
			}
			if err != ErrUseStored {
				return Value{}, err
			}
		}
	}
	return Value{Format: formats[n.format], Type: n.typ, Data: slices.Clone(n.value)}, nil
}

// Get reads a leaf value, an interior node's child list, a property (?prop=)
// or a subtree (?list=).
func (t *Tree) Get(principal, uri string) ([]Result, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return nil, syncml.Errorf(syncml.StatusCommandFailed, "tree is closed")
	}
	return t.get(principal, uri)
}

func (t *Tree) get(principal, uri string) ([]Result, error) {
	u, err := t.parse(uri)
	if err != nil {
		return nil, err
	}
	id := t.find(u.Segments)
	if id < 0 {
		if t.inInbox(u.Segments) {
			return nil, errInboxGet
		}
		return t.getVirtual(principal, u)
	}
	if t.inInbox(u.Segments) {
		return nil, errInboxGet
	}
	if err := t.allowed(principal, CmdGet, id); err != nil {
		return nil, err
	}
	if err := t.accessOK(principal, AccessGet, id); err != nil {
		return nil, err
	}
	if u.Prop != "" {
		r, err := t.getProp(id, u)
		if err != nil {
			return nil, err
		}
		return []Result{r}, nil
	}
	switch u.List {
	case ListStruct, ListStructData:
		var out []Result
		if err := t.listStruct(principal, id, u.List == ListStructData, &out); err != nil {
			return nil, err
		}
		return out, nil
	case ListTNDS:
		doc, err := t.tnds(principal, id, u.ListProps)
		if err != nil {
			return nil, err
		}
		return []Result{{URI: t.uriOf(id), Format: FormatXML, Type: syncml.TypeTNDSXML, Data: doc}}, nil
	}
	r, err := t.nodeResult(id)
	if err != nil {
		return nil, err
	}
	return []Result{r}, nil
}

func (t *Tree) nodeResult(id int32) (Result, error) {
	n := &t.nodes[id]
	if n.interior() {
		var b strings.Builder
		for i, c := range n.children {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escapeSegment(t.nodes[c].name))
		}
		extra, err := t.virtualChildren(id)
		if err != nil {
			return Result{}, err
		}
		for _, name := range extra {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escapeSegment(name))
		}
		return Result{URI: t.uriOf(id), Format: FormatNode, Type: n.typ, Data: []byte(b.String())}, nil
	}
	v, err := t.leafData(id)
	if err != nil {
		return Result{}, err
	}
	return Result{URI: t.uriOf(id), Format: v.Format, Type: v.Type, Data: v.Data}, nil
}

// listStruct appends the ?list=Struct or StructData items of the subtree at id
// in pre-order, stored children before code-provided ones. Meta Format and
// Type are left empty when they are the defaults chr and text/plain
// (OMA-TS-DM_TND-V1_2, tree exchange); nodes principal may not Get, and the Inbox, are left out.
func (t *Tree) listStruct(principal string, id int32, data bool, out *[]Result) error {
	if id == t.inbox && id != rootID {
		return nil
	}
	if t.allowed(principal, CmdGet, id) == nil && t.accessOK(principal, AccessGet, id) == nil {
		n := &t.nodes[id]
		r := Result{URI: t.uriOf(id), Format: formats[n.format], Type: n.typ}
		if data && !n.interior() {
			v, err := t.leafData(id)
			if err != nil {
				return err
			}
			r.Format, r.Type, r.Data = v.Format, v.Type, v.Data
		}
		*out = append(*out, structDefaults(r))
	}
	for _, c := range t.nodes[id].children {
		if err := t.listStruct(principal, c, data, out); err != nil {
			return err
		}
	}
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
		if !data {
			r.Data = nil
		}
		*out = append(*out, structDefaults(r))
	}
	return nil
}

// structDefaults drops Meta Format chr and Type text/plain, the defaults a
// ?list=Struct item omits (OMA-TS-DM_TND-V1_2, tree exchange).
func structDefaults(r Result) Result {
	if r.Format == FormatChr {
		r.Format = ""
	}
	if r.Type == "text/plain" {
		r.Type = ""
	}
	return r
}

func (t *Tree) getProp(id int32, u URI) (Result, error) {
	n := &t.nodes[id]
	var s string
	switch u.Prop {
	case "ACL":
		s = n.acl.String()
	case "Format":
		s = formats[n.format]
	case "Name":
		s = n.name
	case "Size":
		if n.interior() {
			return Result{}, syncml.Errorf(syncml.StatusOptionalNotSupported, "interior nodes have no Size")
		}
		v, err := t.leafData(id)
		if err != nil {
			return Result{}, err
		}
		s = strconv.Itoa(len(v.Data))
	case "Title":
		s = n.title
	case "TStamp":
		s = formatTStamp(n.tstamp)
	case "Type":
		s = n.typ
	case "VerNo":
		s = strconv.Itoa(int(n.verNo))
	}
	// Property values are UTF-8 strings carried without Meta (TND 1.2 §7.4:
	// a Meta would always be chr, text/plain and is NOT RECOMMENDED).
	return Result{URI: t.uriOf(id) + "?prop=" + u.Prop, Data: []byte(s)}, nil
}

// MaxTitleLen bounds the Title property (OMA-TS-DM_TND-V1_2, Title).
const MaxTitleLen = 255

// mayChangeACL reports whether principal may set the ACL of a node under
// parent whose own ACL is own (nil = inherits): Replace in the parent's
// effective ACL, or for an interior node Replace in its own effective ACL
// (OMA-TS-DM_TND-V1_2, ACL). The device ("") always may.
func (t *Tree) mayChangeACL(principal string, parent int32, interior bool, own *ACL) bool {
	if principal == "" {
		return true
	}
	if t.effACL(parent).Allows(CmdReplace, principal) {
		return true
	}
	if !interior {
		return false
	}
	if own.Empty() {
		own = t.effACL(parent)
	}
	return own.Allows(CmdReplace, principal)
}

func (t *Tree) replaceProp(principal string, u URI, v Value) error {
	id := t.find(u.Segments)
	if id < 0 {
		return syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	n := &t.nodes[id]
	s := string(v.Data)
	switch u.Prop {
	case "ACL":
		ok := principal == ""
		if !ok && id == rootID {
			ok = t.effACL(id).Allows(CmdReplace, principal)
		} else if !ok {
			ok = t.mayChangeACL(principal, n.parent, n.interior(), n.acl)
		}
		if !ok {
			return syncml.Errorf(syncml.StatusPermissionDenied, "changing the ACL of %s needs Replace on its parent", t.uriOf(id))
		}
		acl, err := ParseACL(s)
		if err != nil {
			return err
		}
		if id == rootID && (acl.Empty() || !slices.Equal(acl.IDs(CmdAdd), []string{"*"})) {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "the root ACL must keep Add=*")
		}
		if acl.Empty() {
			acl = nil
		}
		if err := t.fits(aclCost(acl) - aclCost(n.acl)); err != nil {
			return err
		}
		t.update(id, func(n *node) { n.acl = acl; t.touch(n) })
	case "Name":
		if err := t.allowed(principal, CmdReplace, id); err != nil {
			return err
		}
		if id == rootID || (n.permanent() && principal != "") {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be renamed", t.uriOf(id))
		}
		if err := t.accessOK(principal, AccessReplace, id); err != nil {
			return err
		}
		if err := CheckName(s); err != nil {
			return err
		}
		if t.lim.MaxSegLen > 0 && len([]rune(s)) > t.lim.MaxSegLen {
			return syncml.Errorf(syncml.StatusURITooLong, "name longer than MaxSegLen %d", t.lim.MaxSegLen)
		}
		if s == n.name {
			return nil
		}
		if c, clash := t.child(n.parent, s); clash && c != id {
			return syncml.Errorf(syncml.StatusAlreadyExists, "a sibling named %q exists", s)
		}
		if n.def != nil && n.def.Name != "" {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "%s has a fixed name in its DDF", t.uriOf(id))
		}
		if err := t.fits(int64(len(s) - len(n.name))); err != nil {
			return err
		}
		t.rename(id, s)
		t.update(id, func(n *node) { t.touch(n) })
	case "Title":
		if err := t.allowed(principal, CmdReplace, id); err != nil {
			return err
		}
		if err := t.accessOK(principal, AccessReplace, id); err != nil {
			return err
		}
		if len(s) > MaxTitleLen {
			return syncml.Errorf(syncml.StatusEntityTooLarge, "Title longer than %d bytes", MaxTitleLen)
		}
		if err := t.fits(int64(len(s) - len(n.title))); err != nil {
			return err
		}
		t.update(id, func(n *node) { n.title = s; t.touch(n) })
	default:
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "property %s cannot be replaced", u.Prop)
	}
	return nil
}

// Exec runs the Executor plug-in serving uri (405 when there is none).
func (t *Tree) Exec(ctx context.Context, principal, uri string, data []byte, correlator string) (syncml.StatusCode, error) {
	t.mu.RLock()
	ex, canon, err := t.execTarget(principal, uri)
	t.mu.RUnlock()
	if err != nil {
		return syncml.StatusOf(err), err
	}
	code, err := ex.Exec(ctx, canon, data, correlator)
	if err != nil {
		return syncml.StatusOf(err), err
	}
	if code == 0 {
		code = syncml.StatusOK
	}
	return code, nil
}

func (t *Tree) execTarget(principal, uri string) (Executor, string, error) {
	if t.closed {
		return nil, "", syncml.Errorf(syncml.StatusCommandFailed, "tree is closed")
	}
	u, err := t.parse(uri)
	if err != nil {
		return nil, "", err
	}
	if err := notOnProps(u, "Exec"); err != nil {
		return nil, "", err
	}
	id := t.find(u.Segments)
	if id < 0 {
		return nil, "", syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	if err := t.allowed(principal, CmdExec, id); err != nil {
		return nil, "", err
	}
	if err := t.accessOK(principal, AccessExec, id); err != nil {
		return nil, "", err
	}
	ex, ok := t.pluginFor(id).(Executor)
	if !ok {
		return nil, "", syncml.Errorf(syncml.StatusCommandNotAllowed, "%s cannot be executed", t.uriOf(id))
	}
	return ex, t.uriOf(id), nil
}

// Info returns the properties of the node at uri without ACL checks, for
// device-side code (404 when absent).
func (t *Tree) Info(uri string) (NodeInfo, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.parse(uri)
	if err != nil {
		return NodeInfo{}, err
	}
	id := t.find(u.Segments)
	if id < 0 {
		return NodeInfo{}, syncml.Errorf(syncml.StatusNotFound, "%s does not exist", displayURI(u.Segments))
	}
	n := &t.nodes[id]
	info := NodeInfo{URI: t.uriOf(id), Interior: n.interior(), Permanent: n.permanent(), Format: formats[n.format],
		Type: n.typ, ACL: n.acl.String(), Title: n.title, VerNo: n.verNo, Size: len(n.value)}
	if n.tstamp != 0 {
		info.TStamp = timeUnix(n.tstamp)
	}
	for _, c := range n.children {
		info.Children = append(info.Children, t.nodes[c].name)
	}
	return info, nil
}
