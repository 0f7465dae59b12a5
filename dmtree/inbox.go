package dmtree

import (
	"strings"

	"github.com/omadm/omadm/syncml"
)

// The Inbox (OMA-TS-DM_StdObj-V1_2, Inbox) is an optional permanent interior node ./Inbox
// whose only use is Add: a server adds a management object there without
// knowing where the device keeps objects of that kind, and the device places
// it by its MO identifier. The tree knows the places from a registry that the
// device fills with Place (each mo/<name> package registers its object from its
// Install). With the Inbox enabled:
//
//   - any Get of ./Inbox or below, ?prop= and ?list= included, gives 405, and
//     ?list= of an ancestor leaves the Inbox out;
//   - Add ./Inbox/<name> with Meta Format node and Type = an MO identifier
//     creates <place>/<name> instead, where <place> is the parent URI
//     registered for that identifier;
//   - Add ./Inbox (or ./Inbox/<name>) with a TNDS value places each top-level
//     Node by the DDFName Type in its RTProperties; a Node without NodeName
//     takes <name> from the target. Leaf values in the document that refer to
//     a sibling as ./Inbox/<other>[/...] are rewritten to its placed URI;
//   - anything else added to the Inbox (a leaf, an unregistered or missing MO
//     identifier, deeper targets) gives 405.
//
// The Add needs the Add right on ./Inbox and, as usual, on the parent of the
// placed node; one Status covers the whole placement, all or nothing.

// InboxMOID is the MO identifier of ./Inbox.
const InboxMOID = "urn:oma:mo:oma-dm-inbox:1.0"

var errInboxGet = syncml.Errorf(syncml.StatusCommandNotAllowed, "nothing below ./Inbox can be read")

var inboxDef = &DDFNode{Name: "Inbox", Access: AccessAdd, Format: FormatNode, MinOcc: 0, MaxOcc: 1,
	Permanent: true, Types: []string{InboxMOID}, TypeIsDDF: true, Description: "Management object inbox"}

// EnableInbox creates the permanent interior node ./Inbox when missing and
// turns on the Inbox rules above. Call it at every start, like Install.
func (t *Tree) EnableInbox() error {
	return t.run(func() error {
		id, ok := t.index[childKey{rootID, "Inbox"}]
		if !ok {
			var err error
			n := node{flags: flagInterior | flagPermanent, format: fmtNode, typ: InboxMOID, def: inboxDef, tstamp: t.now().Unix()}
			if id, err = t.create(rootID, "Inbox", n); err != nil {
				return err
			}
		} else if err := t.bindExisting(id, inboxDef); err != nil {
			return err
		}
		old := t.inbox
		t.inbox = id
		t.undo = append(t.undo, func() { t.inbox = old })
		return nil
	})
}

// Place registers parentURI as the place of instances of the management object
// moID, for Adds to the Inbox (an empty parentURI removes the entry). The
// registry lives in memory; register at every start.
func (t *Tree) Place(moID, parentURI string) error {
	if moID == "" {
		return syncml.Errorf(syncml.StatusBadRequest, "placement needs an MO identifier")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if parentURI == "" {
		delete(t.places, moID)
		return nil
	}
	u, err := t.parse(parentURI)
	if err != nil {
		return err
	}
	if u.Prop != "" || u.List != ListNone {
		return syncml.Errorf(syncml.StatusBadRequest, "placement %q has a query", parentURI)
	}
	if t.places == nil {
		t.places = make(map[string]string)
	}
	t.places[moID] = displayURI(u.Segments)
	return nil
}

// inInbox reports whether segs is ./Inbox or below while the Inbox is enabled.
func (t *Tree) inInbox(segs []string) bool {
	if t.inbox == rootID || len(segs) == 0 {
		return false
	}
	// The slot may have been freed and reused since EnableInbox: only the
	// node bound to the Inbox definition counts.
	n := &t.nodes[t.inbox]
	return n.def == inboxDef && n.parent == rootID && segs[0] == n.name
}

func (t *Tree) placeSegs(moID string) ([]string, bool) {
	p, ok := t.places[moID]
	if !ok {
		return nil, false
	}
	u, err := ParseURI(p, nil)
	if err != nil {
		return nil, false
	}
	return u.Segments, true
}

func (t *Tree) addInbox(principal string, u URI, v Value) error {
	if err := t.allowed(principal, CmdAdd, t.inbox); err != nil {
		return err
	}
	if len(u.Segments) > 2 {
		return syncml.Errorf(syncml.StatusCommandNotAllowed, "only management objects can be added to ./Inbox")
	}
	target := ""
	if len(u.Segments) == 2 {
		target = u.Segments[1]
	}
	if !isTNDS(v.Type) {
		if target == "" {
			return syncml.Errorf(syncml.StatusAlreadyExists, "./Inbox already exists")
		}
		place, ok := t.placeSegs(v.Type)
		if v.Format != FormatNode || !ok {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "./Inbox takes only management objects of a known MO identifier (got %q)", v.Type)
		}
		_, err := t.addNode(principal, append(place, target), v, nil)
		return err
	}
	doc, err := ParseTNDS(v.Data)
	if err != nil {
		return err
	}
	// Resolve every placement first so that sibling references can be rewritten.
	type placed struct {
		n    *TNDSNode
		segs []string
	}
	var all []placed
	rewrite := map[string]string{}
	for _, n := range doc.Nodes {
		name := n.Name
		if name == "" {
			name = target
		}
		place, ok := t.placeSegs(n.Props.typ)
		if name == "" || !n.Interior || !ok || (n.Path != "" && n.Path != "." && n.Path != "./Inbox") {
			return syncml.Errorf(syncml.StatusCommandNotAllowed, "TNDS node %q cannot be placed from ./Inbox (Type %q)", name, n.Props.typ)
		}
		segs := append(place, name)
		if t.lim.MaxDepth > 0 && len(segs) > t.lim.MaxDepth {
			return syncml.Errorf(syncml.StatusURITooLong, "placed node deeper than MaxDepth %d", t.lim.MaxDepth)
		}
		all = append(all, placed{n, segs})
		rewrite["./Inbox/"+escapeSegment(name)] = displayURI(segs)
	}
	for _, p := range all {
		rewriteRefs(p.n, rewrite)
		c := *p.n
		c.Name, c.Path = p.segs[len(p.segs)-1], ""
		if err := t.addTNDSNode(principal, p.segs, &c); err != nil {
			return err
		}
	}
	return nil
}

// rewriteRefs replaces references to Inbox siblings in leaf values.
func rewriteRefs(n *TNDSNode, m map[string]string) {
	if n.Value != nil && strings.HasPrefix(*n.Value, "./Inbox/") {
		for from, to := range m {
			if v := *n.Value; v == from || strings.HasPrefix(v, from+"/") {
				s := to + v[len(from):]
				n.Value = &s
				break
			}
		}
	}
	for _, c := range n.Children {
		rewriteRefs(c, m)
	}
}
