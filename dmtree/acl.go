package dmtree

import (
	"slices"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// Cmd is a command an ACL grants (OMA-TS-DM_TND-V1_2, ACL); Copy has no ACL entry of its own.
type Cmd uint8

// The ACL commands, in the order ACLs are printed.
const (
	CmdAdd Cmd = iota
	CmdDelete
	CmdExec
	CmdGet
	CmdReplace
	numCmds
)

var cmdNames = [numCmds]string{"Add", "Delete", "Exec", "Get", "Replace"}

// String returns the ACL keyword of c.
func (c Cmd) String() string {
	if c < numCmds {
		return cmdNames[c]
	}
	return "Cmd?"
}

// ACL is a parsed node ACL. The zero value is the empty ACL, which means
// "inherit from the nearest ancestor". ACL values are immutable once built.
type ACL struct {
	ids [numCmds][]string // server ids per command; "*" = any server
	raw string
}

// MaxACLLen bounds ACL strings accepted by ParseACL.
const MaxACLLen = 64 << 10

// ParseACL parses the ACL grammar of OMA-TS-DM_TND-V1_2 (400 on malformed text).
// Repeated entries for one command are merged; ids keep their first order.
func ParseACL(s string) (*ACL, error) {
	if len(s) > MaxACLLen {
		return nil, syncml.Errorf(syncml.StatusEntityTooLarge, "ACL longer than %d bytes", MaxACLLen)
	}
	a := &ACL{}
	if s == "" {
		return a, nil
	}
	for _, entry := range strings.Split(s, "&") {
		cmdName, ids, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, syncml.Errorf(syncml.StatusBadRequest, "ACL entry %q has no '='", entry)
		}
		c, ok := cmdByName(cmdName)
		if !ok {
			return nil, syncml.Errorf(syncml.StatusBadRequest, "ACL command %q unknown", cmdName)
		}
		for _, id := range strings.Split(ids, "+") {
			if err := checkServerID(id); err != nil {
				return nil, err
			}
			if !slices.Contains(a.ids[c], id) {
				a.ids[c] = append(a.ids[c], id)
			}
		}
	}
	a.raw = a.format()
	return a, nil
}

func cmdByName(s string) (Cmd, bool) {
	for i, n := range cmdNames {
		if n == s {
			return Cmd(i), true
		}
	}
	return 0, false
}

func checkServerID(id string) error {
	if id == "*" {
		return nil
	}
	if id == "" {
		return syncml.Errorf(syncml.StatusBadRequest, "ACL has an empty server id")
	}
	for _, r := range id {
		if r == '=' || r == '&' || r == '*' || r == '+' || r <= ' ' || r == 0x7f {
			return syncml.Errorf(syncml.StatusBadRequest, "ACL server id %q has a forbidden character", id)
		}
	}
	return nil
}

// NewACL builds an ACL from a command → server ids map (ids validated as in ParseACL).
func NewACL(m map[Cmd][]string) (*ACL, error) {
	a := &ACL{}
	for c := Cmd(0); c < numCmds; c++ {
		for _, id := range m[c] {
			if err := checkServerID(id); err != nil {
				return nil, err
			}
			if !slices.Contains(a.ids[c], id) {
				a.ids[c] = append(a.ids[c], id)
			}
		}
	}
	a.raw = a.format()
	return a, nil
}

func (a *ACL) format() string {
	var b strings.Builder
	for c := Cmd(0); c < numCmds; c++ {
		if len(a.ids[c]) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(cmdNames[c])
		b.WriteByte('=')
		b.WriteString(strings.Join(a.ids[c], "+"))
	}
	return b.String()
}

// String prints the ACL in canonical order (Add, Delete, Exec, Get, Replace).
func (a *ACL) String() string {
	if a == nil {
		return ""
	}
	return a.raw
}

// Empty reports whether the ACL has no entry (the node inherits).
func (a *ACL) Empty() bool { return a == nil || a.raw == "" }

// IDs returns the server ids granted c (a copy).
func (a *ACL) IDs(c Cmd) []string {
	if a == nil || c >= numCmds {
		return nil
	}
	return slices.Clone(a.ids[c])
}

// Allows reports whether server may run c: its id or "*" is listed for c.
func (a *ACL) Allows(c Cmd, server string) bool {
	if a == nil || c >= numCmds {
		return false
	}
	for _, id := range a.ids[c] {
		if id == "*" || id == server {
			return true
		}
	}
	return false
}

// With returns a copy of a that also grants server each of cmds.
func (a *ACL) With(server string, cmds ...Cmd) *ACL {
	n := &ACL{}
	if a != nil {
		for c := range a.ids {
			n.ids[c] = slices.Clone(a.ids[c])
		}
	}
	for _, c := range cmds {
		if c < numCmds && !slices.Contains(n.ids[c], server) {
			n.ids[c] = append(n.ids[c], server)
		}
	}
	n.raw = n.format()
	return n
}

// Without returns a copy of a with server removed from every command; commands
// left without ids are dropped (OMA-TS-DM_TND-V1_2, ACL: deleting a ServerID). When root is
// true a root command left empty reverts to "*".
func (a *ACL) Without(server string, root bool) *ACL {
	n := &ACL{}
	if a == nil {
		return n
	}
	for c := range a.ids {
		for _, id := range a.ids[c] {
			if id != server {
				n.ids[c] = append(n.ids[c], id)
			}
		}
		if root && len(a.ids[c]) > 0 && len(n.ids[c]) == 0 {
			n.ids[c] = []string{"*"}
		}
	}
	n.raw = n.format()
	return n
}
