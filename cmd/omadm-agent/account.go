package main

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/internal/atomicfile"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/syncml"
)

// schemeOf maps a DMAcc AAuthType to the SyncML credential scheme.
func schemeOf(aauthType string) string {
	switch strings.ToUpper(aauthType) {
	case "BASIC":
		return syncml.AuthBasic
	case "DIGEST":
		return syncml.AuthMD5
	case "HMAC":
		return syncml.AuthMAC
	}
	return ""
}

func aauthTypeOf(scheme string) string {
	switch scheme {
	case syncml.AuthBasic:
		return "BASIC"
	case syncml.AuthMD5:
		return "DIGEST"
	case syncml.AuthMAC:
		return "HMAC"
	}
	return ""
}

// clientAccount turns a DMAcc account into the engine's account.
func clientAccount(a dmacc.Account) client.Account {
	ca := client.Account{
		ServerID:     a.ServerID,
		ServerURL:    withPort(a.Addr, a.Port),
		AuthScheme:   schemeOf(a.Client.Type),
		ClientName:   a.Client.Name,
		ClientSecret: a.Client.Secret,
		ClientNonce:  a.Client.Data,
		ServerName:   a.Server.Name,
		ServerSecret: a.Server.Secret,
		ServerNonce:  a.Server.Data,
		// Each direction has its own type (OMA-TS-DM_Security-V1_2 §5.1):
		// the SRVCRED AAuthType is what the server's credentials must use.
		ServerAuthScheme: schemeOf(a.Server.Type),
	}
	if s := schemeOf(a.AuthPref); s != "" {
		ca.AuthScheme = s
	}
	return ca
}

// withPort puts port into an http(s) URL that has none.
func withPort(addr string, port int) string {
	i := strings.Index(addr, "://")
	if port <= 0 || i < 0 {
		return addr
	}
	rest := addr[i+3:]
	host, path := rest, ""
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		host, path = rest[:j], rest[j:]
	}
	if strings.Contains(host, ":") {
		return addr
	}
	return addr[:i+3] + host + ":" + strconv.Itoa(port) + path
}

// accountSpec is an account given on the command line.
type accountSpec struct {
	serverURL, serverID             string
	username, password, srvPassword string
	scheme                          string
	srvScheme                       string // "" = scheme
}

// writeAccount creates the DMAcc account of spec, or, when an account of the
// same ServerID exists, updates it in place: only the leaves the flags
// describe (address, authentication preference, credential types, names and
// secrets) are rewritten, and only when they differ. The account node, its
// nonces and every ACL stay as they are, so restarting the agent with the
// same flags changes nothing and changed flags never strip rights the
// server holds: a ServerID leaves the ACLs only when its account is deleted
// (OMA-TS-DM_TND-V1_2 ACL rules).
func writeAccount(t *dmtree.Tree, spec accountSpec) error {
	if spec.serverID == "" || spec.serverURL == "" {
		return errors.New("--server and --server-id are required to set up an account")
	}
	typ := aauthTypeOf(spec.scheme)
	a := dmacc.Account{
		ID: nodeName(spec.serverID), ServerID: spec.serverID, Name: spec.serverID, Addr: spec.serverURL, AuthPref: typ,
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: orDefault(typ, "DIGEST"), Name: spec.username, Secret: spec.password},
		Server: dmacc.Credential{Level: dmacc.LevelServer, Type: orDefault(aauthTypeOf(spec.srvScheme), orDefault(typ, "DIGEST")), Name: spec.serverID, Secret: spec.srvPassword},
	}
	old, err := dmacc.FindByServerID(t, spec.serverID)
	if syncml.StatusOf(err) == syncml.StatusNotFound {
		return dmacc.AddAccount(t, a)
	}
	if err != nil {
		return err
	}
	return updateAccount(t, old.ID, a)
}

// updateAccount rewrites, as the device and all or nothing, the leaves of
// account id that differ from a; missing leaves (a credential a bootstrap
// did not give) are added.
func updateAccount(t *dmtree.Tree, id string, a dmacc.Account) error {
	base := dmacc.Root + "/" + dmtree.EscapeSegment(id)
	addr := base + "/AppAddr/1"
	if info, err := t.Info(base + "/AppAddr"); err == nil && len(info.Children) > 0 {
		addr = base + "/AppAddr/" + dmtree.EscapeSegment(info.Children[0])
	}
	creds := map[string]string{}
	if info, err := t.Info(base + "/AppAuth"); err == nil {
		for _, x := range info.Children {
			cb := base + "/AppAuth/" + dmtree.EscapeSegment(x)
			if lvl, ok := get(t, cb+"/AAuthLevel"); ok {
				creds[lvl] = cb
			}
		}
	}
	tx := t.Begin()
	defer tx.Rollback()
	set := func(uri, v string) error {
		rs, err := tx.Get("", uri)
		switch {
		case err == nil && len(rs) == 1 && string(rs[0].Data) == v:
			return nil
		case syncml.StatusOf(err) == syncml.StatusNotFound:
			return tx.Add("", uri, dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(v)})
		case err != nil:
			return err
		}
		return tx.Replace("", uri, dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(v)})
	}
	if err := set(addr+"/Addr", a.Addr); err != nil {
		return err
	}
	if a.AuthPref != "" {
		if err := set(base+"/AAuthPref", a.AuthPref); err != nil {
			return err
		}
	}
	for _, c := range []dmacc.Credential{a.Client, a.Server} {
		cb, ok := creds[c.Level]
		if !ok {
			cb = base + "/AppAuth/" + dmtree.EscapeSegment(c.Level)
			if err := tx.Add("", cb, dmtree.Value{Format: dmtree.FormatNode}); err != nil {
				return err
			}
		}
		for _, kv := range [][2]string{{"AAuthLevel", c.Level}, {"AAuthType", c.Type}, {"AAuthName", c.Name}, {"AAuthSecret", c.Secret}} {
			if err := set(cb+"/"+kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// nodeName turns a server id into a node name.
func nodeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// nonceStore persists nonces into the account's AAuthData leaves and the
// alternate server nonce (client.Account.ServerNonceAlt) into a file of the
// state directory, where no DM server can read it.
type nonceStore struct {
	t   *dmtree.Tree
	dir string
}

var _ client.AltNonceStore = nonceStore{}

func treeNonces(t *dmtree.Tree, stateDir string) client.NonceStore {
	return nonceStore{t: t, dir: stateDir}
}

// SaveNonce writes AAuthData of the credential at level.
func (s nonceStore) SaveNonce(serverID string, level client.NonceLevel, nonce []byte) error {
	return dmacc.SetNonce(s.t, serverID, string(level), nonce)
}

// altNoncePath is the file holding serverID's alternate nonce.
func altNoncePath(dir, serverID string) string {
	return filepath.Join(dir, "srvnonce-alt-"+hex.EncodeToString([]byte(serverID)))
}

// SaveAltServerNonce replaces the alternate nonce file atomically (nil
// removes it).
func (s nonceStore) SaveAltServerNonce(serverID string, nonce []byte) error {
	path := altNoncePath(s.dir, serverID)
	if nonce == nil {
		return atomicfile.RemoveDurable(path)
	}
	return atomicfile.WriteDurable(path, nonce)
}

// loadAltNonce reads the alternate nonce saved for serverID (nil when none).
func loadAltNonce(dir, serverID string) []byte {
	b, err := os.ReadFile(altNoncePath(dir, serverID))
	if err != nil || len(b) == 0 || len(b) > 1024 {
		return nil
	}
	return b
}

func get(t *dmtree.Tree, uri string) (string, bool) {
	rs, err := t.Get("", uri)
	if err != nil || len(rs) != 1 {
		return "", false
	}
	return string(rs[0].Data), true
}
