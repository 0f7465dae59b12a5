package dmacc

import (
	"bytes"
	"encoding/xml"
	"strconv"

	"github.com/omadm/omadm/dmtree"
)

// Node is one node of an account as a server writes it in a bootstrap:
// its URI, format, type and value (leaves only).
type Node struct {
	URI    string
	Format string // node, chr
	Type   string // DDFName of the account node, MIME type of leaves
	Value  string
}

// Nodes lists the account's nodes in the order a bootstrap of plain Add
// commands creates them (parents first), as AddAccount lays them out:
// ./DMAcc/<ID> with AppID w7, ServerID, Name, AppAddr/1 (Addr, AddrType URI,
// Port), AAuthPref and AppAuth/<level> (AAuthLevel, AAuthType, AAuthName,
// AAuthSecret) for each credential (objects.md §3, OMA-TS-DM_StdObj-V1_2
// DMAcc). Nonces (AAuthData) are left out: the first session's challenge
// gives fresh ones.
func (a Account) Nodes() []Node {
	base := Root + "/" + dmtree.EscapeSegment(a.ID)
	var out []Node
	node := func(uri, typ string) { out = append(out, Node{URI: uri, Format: dmtree.FormatNode, Type: typ}) }
	leaf := func(uri, v string) {
		out = append(out, Node{URI: uri, Format: dmtree.FormatChr, Type: "text/plain", Value: v})
	}
	node(base, TypeW7)
	leaf(base+"/AppID", "w7")
	leaf(base+"/ServerID", a.ServerID)
	if a.Name != "" {
		leaf(base+"/Name", a.Name)
	}
	node(base+"/AppAddr", "")
	node(base+"/AppAddr/1", "")
	leaf(base+"/AppAddr/1/Addr", a.Addr)
	leaf(base+"/AppAddr/1/AddrType", "URI")
	if a.Port > 0 {
		node(base+"/AppAddr/1/Port", "")
		node(base+"/AppAddr/1/Port/1", "")
		leaf(base+"/AppAddr/1/Port/1/PortNbr", strconv.Itoa(a.Port))
	}
	if a.AuthPref != "" {
		leaf(base+"/AAuthPref", a.AuthPref)
	}
	auths := false
	for _, c := range []Credential{a.Client, a.Server} {
		if c.Level == "" {
			continue
		}
		if !auths {
			node(base+"/AppAuth", "")
			auths = true
		}
		cb := base + "/AppAuth/" + dmtree.EscapeSegment(c.Level)
		node(cb, "")
		leaf(cb+"/AAuthLevel", c.Level)
		leaf(cb+"/AAuthType", c.Type)
		leaf(cb+"/AAuthName", c.Name)
		leaf(cb+"/AAuthSecret", c.Secret)
	}
	return out
}

// ACL is the account node's ACL: its server may Get, Replace and Delete it.
func (a Account) ACL() string {
	acl, err := dmtree.NewACL(map[dmtree.Cmd][]string{dmtree.CmdDelete: {a.ServerID}, dmtree.CmdGet: {a.ServerID}, dmtree.CmdReplace: {a.ServerID}})
	if err != nil {
		return ""
	}
	return acl.String()
}

// TNDS returns the account as a TNDS document (OMA-TS-DM_TNDS-V1_2, XML)
// placing ./DMAcc/<ID> with its ACL, the form a bootstrap carries in an Add
// (OMA-TS-DM_Bootstrap: clients must take embedded TNDS objects).
func (a Account) TNDS() []byte {
	nodes := a.Nodes()
	var b bytes.Buffer
	b.WriteString(`<MgmtTree xmlns="syncml:dmddf1.2">` + "\n" + `  <VerDTD>1.2</VerDTD>` + "\n")
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	// Nodes come parents first; a stack of open interior nodes closes them.
	var open []string
	indent := func() string { return "  " + string(bytes.Repeat([]byte("  "), len(open))) }
	closeTo := func(uri string) {
		for len(open) > 0 && !isUnder(uri, open[len(open)-1]) {
			open = open[:len(open)-1]
			b.WriteString(indent() + "</Node>\n")
		}
	}
	for i, n := range nodes {
		closeTo(n.URI)
		name := n.URI[len(parentOf(n.URI))+1:]
		b.WriteString(indent() + "<Node>\n")
		b.WriteString(indent() + "  <NodeName>" + esc(name) + "</NodeName>\n")
		if i == 0 {
			b.WriteString(indent() + "  <Path>" + Root + "</Path>\n")
		}
		b.WriteString(indent() + "  <RTProperties>\n")
		if i == 0 {
			b.WriteString(indent() + "    <ACL>" + esc(a.ACL()) + "</ACL>\n")
		}
		b.WriteString(indent() + "    <Format><" + n.Format + "/></Format>\n")
		switch {
		case n.Format == dmtree.FormatNode && n.Type != "":
			b.WriteString(indent() + "    <Type><DDFName>" + esc(n.Type) + "</DDFName></Type>\n")
		case n.Format != dmtree.FormatNode:
			b.WriteString(indent() + "    <Type><MIME>" + esc(n.Type) + "</MIME></Type>\n")
		}
		b.WriteString(indent() + "  </RTProperties>\n")
		if n.Format == dmtree.FormatNode {
			open = append(open, n.URI)
			continue
		}
		b.WriteString(indent() + "  <Value>" + esc(n.Value) + "</Value>\n")
		b.WriteString(indent() + "</Node>\n")
	}
	closeTo("")
	b.WriteString("</MgmtTree>\n")
	return b.Bytes()
}

func parentOf(uri string) string {
	i := bytes.LastIndexByte([]byte(uri), '/')
	if i < 0 {
		return ""
	}
	return uri[:i]
}

func isUnder(uri, parent string) bool {
	return len(uri) > len(parent) && uri[:len(parent)] == parent && uri[len(parent)] == '/'
}
