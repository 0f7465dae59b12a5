package client

import (
	"context"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// DMTree adapts a *dmtree.Tree to the engine's Tree interface.
func DMTree(t *dmtree.Tree) Tree { return dmTree{t} }

type dmTree struct{ t *dmtree.Tree }

var _ Tree = dmTree{}

func (d dmTree) Add(p, uri string, v Value) error {
	return d.t.Add(p, uri, dmtree.Value(v))
}

func (d dmTree) Replace(p, uri string, v Value) error {
	return d.t.Replace(p, uri, dmtree.Value(v))
}

func (d dmTree) Delete(p, uri string) error          { return d.t.Delete(p, uri) }
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
func (x dmTx) Delete(p, uri string) error           { return x.tx.Delete(p, uri) }
func (x dmTx) Copy(p, target, source string) error  { return x.tx.Copy(p, target, source) }
func (x dmTx) Commit() error                        { return x.tx.Commit() }
func (x dmTx) Rollback() error                      { return x.tx.Rollback() }
