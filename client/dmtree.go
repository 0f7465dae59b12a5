package client

import (
	"context"
	"strings"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/syncml"
)

// DMTree adapts a *dmtree.Tree to the engine's Tree interface.
func DMTree(t *dmtree.Tree) Tree { return dmTree{t} }

type dmTree struct{ t *dmtree.Tree }

var (
	_ Tree     = dmTree{}
	_ TreeRoom = dmTree{}
)

// Room reports the tree's budget (dmtree.Options MaxValueSize, MaxTotalBytes).
func (d dmTree) Room() (int, int64) {
	u := d.t.Usage()
	if u.MaxBytes <= 0 {
		return u.MaxValue, -1
	}
	return u.MaxValue, max(u.MaxBytes-u.Bytes, 0)
}

func (d dmTree) Add(p, uri string, v Value) error {
	return d.t.Add(p, uri, dmtree.Value(v))
}

func (d dmTree) Replace(p, uri string, v Value) error {
	return d.t.Replace(p, uri, dmtree.Value(v))
}

// Delete removes uri; when that removes DMAcc accounts, their ServerIDs
// are stripped from every ACL in the same transaction (OMA-TS-DM_TND-V1_2, ACL), so no
// right outlives the account.
func (d dmTree) Delete(p, uri string) error {
	if !strings.HasPrefix(strings.TrimPrefix(uri, "./"), strings.TrimPrefix(dmacc.Root, "./")) {
		return d.t.Delete(p, uri)
	}
	tx := d.t.Begin()
	defer tx.Rollback()
	if err := deleteAccounts(tx, p, uri); err != nil {
		return err
	}
	return tx.Commit()
}

func (d dmTree) Copy(p, target, source string) error { return d.t.Copy(p, target, source) }

func (d dmTree) Get(p, uri string) ([]Result, error) {
	rs, err := d.t.Get(p, uri)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(rs))
	for i, r := range rs {
		out[i] = Result(r)
	}
	return out, nil
}

func (d dmTree) Exec(ctx context.Context, p, uri string, data []byte, corr string) (syncml.StatusCode, error) {
	return d.t.Exec(ctx, p, uri, data, corr)
}

func (d dmTree) Begin() Tx { return dmTx{d.t.Begin()} }

type dmTx struct{ tx *dmtree.Tx }

func (x dmTx) Add(p, uri string, v Value) error     { return x.tx.Add(p, uri, dmtree.Value(v)) }
func (x dmTx) Replace(p, uri string, v Value) error { return x.tx.Replace(p, uri, dmtree.Value(v)) }
func (x dmTx) Delete(p, uri string) error           { return deleteAccounts(x.tx, p, uri) }
func (x dmTx) Copy(p, target, source string) error  { return x.tx.Copy(p, target, source) }
func (x dmTx) Commit() error                        { return x.tx.Commit() }
func (x dmTx) Rollback() error                      { return x.tx.Rollback() }

// deleteAccounts deletes uri as principal p inside tx. When uri is ./DMAcc or
// one account under it, every ServerID that no remaining account names is
// then removed from the ACLs (dmtree.Tx.RemoveServerID).
func deleteAccounts(tx *dmtree.Tx, p, uri string) error {
	doomed := accountServerIDs(tx, uri)
	if err := tx.Delete(p, uri); err != nil {
		return err
	}
	if len(doomed) == 0 {
		return nil
	}
	left := map[string]bool{}
	for _, id := range accountServerIDs(tx, dmacc.Root) {
		left[id] = true
	}
	for _, id := range doomed {
		if left[id] {
			continue
		}
		if _, err := tx.RemoveServerID(id); err != nil {
			return err
		}
	}
	return nil
}

// accountServerIDs returns the ServerIDs of the DMAcc accounts at or under
// uri when uri is ./DMAcc or ./DMAcc/<x> (nil otherwise), read as the device.
func accountServerIDs(tx *dmtree.Tx, uri string) []string {
	u, err := dmtree.ParseURI(uri, nil)
	root, _ := dmtree.ParseURI(dmacc.Root, nil)
	if err != nil || u.Prop != "" || u.List != dmtree.ListNone || len(root.Segments) != 1 ||
		len(u.Segments) < 1 || len(u.Segments) > 2 || u.Segments[0] != root.Segments[0] {
		return nil
	}
	var accounts []string
	if len(u.Segments) == 2 {
		accounts = []string{u.Segments[1]}
	} else {
		rs, err := tx.Get("", dmacc.Root)
		if err != nil || len(rs) != 1 || rs[0].Format != dmtree.FormatNode {
			return nil
		}
		for _, name := range strings.Split(string(rs[0].Data), "/") {
			if name != "" {
				accounts = append(accounts, name)
			}
		}
	}
	var ids []string
	for _, a := range accounts {
		seg := a
		if len(u.Segments) == 2 {
			seg = dmtree.EscapeSegment(a)
		}
		rs, err := tx.Get("", dmacc.Root+"/"+seg+"/ServerID")
		if err == nil && len(rs) == 1 && len(rs[0].Data) > 0 {
			ids = append(ids, string(rs[0].Data))
		}
	}
	return ids
}
