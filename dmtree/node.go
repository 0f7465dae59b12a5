package dmtree

import (
	"time"
)

// node is one slot of the tree's node table. Nodes live in one slice and point
// at each other by index, which keeps a large tree compact and cheap to walk.
type node struct {
	name     string
	parent   int32
	flags    uint8
	format   uint8
	verNo    uint16
	tstamp   int64 // Unix seconds of the last change; 0 = never set
	typ      string
	acl      *ACL // nil = empty (inherit)
	title    string
	value    []byte
	children []int32
	def      *DDFNode
}

// cost is what node n counts against Options.MaxTotalBytes: its value and
// the metadata a server can make large (name, type, title, ACL), so that a
// tree of MaxNodes nodes cannot grow without bound through long names,
// types or ACLs.
func (n *node) cost() int64 {
	return int64(len(n.value)+len(n.name)+len(n.typ)+len(n.title)) + aclCost(n.acl)
}

// aclCost is the bytes an ACL takes against Options.MaxTotalBytes.
func aclCost(a *ACL) int64 {
	if a == nil {
		return 0
	}
	return int64(len(a.raw))
}

const (
	flagLive uint8 = 1 << iota
	flagInterior
	flagPermanent
)

const rootID int32 = 0

func (n *node) interior() bool  { return n.flags&flagInterior != 0 }
func (n *node) permanent() bool { return n.flags&flagPermanent != 0 }

type childKey struct {
	parent int32
	name   string
}

// NodeInfo is a read-only view of one node's properties, for device-side code
// and tests that need more than Get returns.
type NodeInfo struct {
	URI       string
	Interior  bool
	Permanent bool
	Format    string
	Type      string
	ACL       string // the node's own ACL ("" = inherits)
	Title     string
	TStamp    time.Time // zero when unset
	VerNo     uint16
	Size      int
	Children  []string
}

// formatTStamp renders t in ISO 8601 basic UTC form (20010711T163817Z).
func formatTStamp(sec int64) string {
	if sec == 0 {
		return ""
	}
	return time.Unix(sec, 0).UTC().Format("20060102T150405Z")
}

func parseTStamp(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}
