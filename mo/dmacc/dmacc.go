// Package dmacc is the DMAcc management object in its OMA DM 1.2 form
// (./DMAcc/<x>, urn:oma:mo:oma-dm-dmacc:1.0, AppID w7): one account per DM
// server with its addresses and credentials. The client engine reads its
// accounts here and persists the nonces of each session through SetNonce.
package dmacc

import (
	_ "embed"
	"strconv"
	"sync"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// MOID is the management object identifier; TypeW7 is the DDFName DM 1.2
// bootstraps use for the same object. Both are accepted as the DMAcc type.
const (
	MOID   = "urn:oma:mo:oma-dm-dmacc:1.0"
	TypeW7 = "org.openmobilealliance/1.0/w7"
	Root   = "./DMAcc"
)

// Authentication levels (AAuthLevel).
const (
	LevelClient = "CLCRED"  // credentials the client sends to the server
	LevelServer = "SRVCRED" // credentials the server sends to the client
	LevelOBEX   = "OBEX"
	LevelHTTP   = "HTTP"
)

//go:embed dmacc.ddf.xml
var ddfXML []byte

// DDFXML returns the object's DDF document.
func DDFXML() []byte { return ddfXML }

var parsed = sync.OnceValues(func() (*dmtree.DDF, error) { return dmtree.ParseDDF(ddfXML) })

// DDF returns the parsed DDF (shared, do not modify).
func DDF() (*dmtree.DDF, error) { return parsed() }

// Credential is one AppAuth/<x> entry.
type Credential struct {
	Level  string // CLCRED, SRVCRED, ...
	Type   string // AAuthType: BASIC, DIGEST, HMAC, ...
	Name   string
	Secret string
	Data   []byte // nonce
}

// Account is one server account (./DMAcc/<ID>).
type Account struct {
	ID       string // the <x> node name
	ServerID string
	Name     string
	Addr     string
	Port     int // 0 = none
	AuthPref string
	Client   Credential // AAuthLevel CLCRED
	Server   Credential // AAuthLevel SRVCRED
}

// Install creates ./DMAcc (or binds the DDF to existing accounts) and
// registers ./DMAcc as the place of accounts a server adds to ./Inbox (under
// both MOID and TypeW7). Call it at every start.
func Install(t *dmtree.Tree) error {
	d, err := DDF()
	if err != nil {
		return err
	}
	if err := t.Install(".", d); err != nil {
		return err
	}
	for _, id := range []string{MOID, TypeW7} {
		if err := t.Place(id, Root); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAccount removes the account of serverID and, in the same transaction,
// strips serverID from every ACL of the tree (OMA-TS-DM_TND-V1_2, ACL:
// deleting a ServerID), so no right outlives the account. 404 when there is no account.
func DeleteAccount(t *dmtree.Tree, serverID string) error {
	a, err := FindByServerID(t, serverID)
	if err != nil {
		return err
	}
	tx := t.Begin()
	defer tx.Rollback()
	if err := tx.Delete("", Root+"/"+dmtree.EscapeSegment(a.ID)); err != nil {
		return err
	}
	if _, err := tx.RemoveServerID(serverID); err != nil {
		return err
	}
	return tx.Commit()
}

// AddAccount creates ./DMAcc/<a.ID> as the device, all or nothing, and grants
// a.ServerID Get, Replace and Delete on it (OMA-TS-DM_StdObj-V1_2, DMAcc). An existing ID
// gives 418.
func AddAccount(t *dmtree.Tree, a Account) error {
	if a.ID == "" || a.ServerID == "" {
		return syncml.Errorf(syncml.StatusBadRequest, "account needs an ID and a ServerID")
	}
	base := Root + "/" + dmtree.EscapeSegment(a.ID)
	chr := func(s string) dmtree.Value {
		return dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(s)}
	}
	node := dmtree.Value{Format: dmtree.FormatNode}
	tx := t.Begin()
	defer tx.Rollback()
	steps := []struct {
		uri string
		v   dmtree.Value
	}{
		{base, dmtree.Value{Format: dmtree.FormatNode, Type: TypeW7}},
		{base + "/AppID", chr("w7")},
		{base + "/ServerID", chr(a.ServerID)},
		{base + "/AppAddr/1/Addr", chr(a.Addr)},
		{base + "/AppAddr/1/AddrType", chr("URI")},
	}
	if a.Name != "" {
		steps = append(steps, struct {
			uri string
			v   dmtree.Value
		}{base + "/Name", chr(a.Name)})
	}
	for _, s := range steps {
		if err := tx.Add("", s.uri, s.v); err != nil {
			return err
		}
	}
	if a.Port > 0 {
		if err := tx.Add("", base+"/AppAddr/1/Port/1/PortNbr", chr(strconv.Itoa(a.Port))); err != nil {
			return err
		}
	}
	if a.AuthPref != "" {
		if err := tx.Add("", base+"/AAuthPref", chr(a.AuthPref)); err != nil {
			return err
		}
	}
	for _, c := range []Credential{a.Client, a.Server} {
		if c.Level == "" {
			continue
		}
		cb := base + "/AppAuth/" + dmtree.EscapeSegment(c.Level)
		if err := tx.Add("", cb, node); err != nil {
			return err
		}
		for _, kv := range [][2]string{{"AAuthLevel", c.Level}, {"AAuthType", c.Type}, {"AAuthName", c.Name}, {"AAuthSecret", c.Secret}} {
			if err := tx.Add("", cb+"/"+kv[0], chr(kv[1])); err != nil {
				return err
			}
		}
		if err := tx.Add("", cb+"/AAuthData", dmtree.Value{Format: dmtree.FormatBin, Type: "application/octet-stream", Data: c.Data}); err != nil {
			return err
		}
	}
	acl, err := dmtree.NewACL(map[dmtree.Cmd][]string{dmtree.CmdDelete: {a.ServerID}, dmtree.CmdGet: {a.ServerID}, dmtree.CmdReplace: {a.ServerID}})
	if err != nil {
		return err
	}
	if err := tx.Replace("", base+"?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		return err
	}
	return tx.Commit()
}

// Accounts lists every account under ./DMAcc, in tree order.
func Accounts(t *dmtree.Tree) ([]Account, error) {
	info, err := t.Info(Root)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(info.Children))
	for _, id := range info.Children {
		a, err := read(t, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// FindByServerID returns the account of serverID (404 when there is none).
func FindByServerID(t *dmtree.Tree, serverID string) (Account, error) {
	all, err := Accounts(t)
	if err != nil {
		return Account{}, err
	}
	for _, a := range all {
		if a.ServerID == serverID {
			return a, nil
		}
	}
	return Account{}, syncml.Errorf(syncml.StatusNotFound, "no DMAcc account for server %q", serverID)
}

// SetNonce stores the next nonce (AAuthData) of serverID's credential at level
// (CLCRED or SRVCRED) durably, as the device.
func SetNonce(t *dmtree.Tree, serverID, level string, nonce []byte) error {
	a, err := FindByServerID(t, serverID)
	if err != nil {
		return err
	}
	base := Root + "/" + dmtree.EscapeSegment(a.ID) + "/AppAuth"
	info, err := t.Info(base)
	if err != nil {
		return err
	}
	for _, x := range info.Children {
		cb := base + "/" + dmtree.EscapeSegment(x)
		if leaf(t, cb+"/AAuthLevel") != level {
			continue
		}
		v := dmtree.Value{Format: dmtree.FormatBin, Type: "application/octet-stream", Data: nonce}
		if err := t.Replace("", cb+"/AAuthData", v); dmtreeNotFound(err) {
			return t.Add("", cb+"/AAuthData", v)
		} else {
			return err
		}
	}
	return syncml.Errorf(syncml.StatusNotFound, "account %q has no %s credential", a.ID, level)
}

func dmtreeNotFound(err error) bool { return syncml.StatusOf(err) == syncml.StatusNotFound }

func leaf(t *dmtree.Tree, uri string) string {
	rs, err := t.Get("", uri)
	if err != nil || len(rs) == 0 {
		return ""
	}
	return string(rs[0].Data)
}

func read(t *dmtree.Tree, id string) (Account, error) {
	base := Root + "/" + dmtree.EscapeSegment(id)
	a := Account{ID: id, ServerID: leaf(t, base+"/ServerID"), Name: leaf(t, base+"/Name"), AuthPref: leaf(t, base+"/AAuthPref")}
	if addrs, err := t.Info(base + "/AppAddr"); err == nil && len(addrs.Children) > 0 {
		ab := base + "/AppAddr/" + dmtree.EscapeSegment(addrs.Children[0])
		a.Addr = leaf(t, ab+"/Addr")
		if ports, err := t.Info(ab + "/Port"); err == nil && len(ports.Children) > 0 {
			a.Port, _ = strconv.Atoi(leaf(t, ab+"/Port/"+dmtree.EscapeSegment(ports.Children[0])+"/PortNbr"))
		}
	}
	if auths, err := t.Info(base + "/AppAuth"); err == nil {
		for _, x := range auths.Children {
			cb := base + "/AppAuth/" + dmtree.EscapeSegment(x)
			c := Credential{Level: leaf(t, cb+"/AAuthLevel"), Type: leaf(t, cb+"/AAuthType"), Name: leaf(t, cb+"/AAuthName"), Secret: leaf(t, cb+"/AAuthSecret")}
			if rs, err := t.Get("", cb+"/AAuthData"); err == nil && len(rs) > 0 {
				c.Data = rs[0].Data
			}
			switch c.Level {
			case LevelClient:
				a.Client = c
			case LevelServer:
				a.Server = c
			}
		}
	}
	return a, nil
}
