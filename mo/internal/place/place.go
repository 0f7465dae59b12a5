// Package place holds what the management objects whose node the device
// chooses (FUMO, LAWMO) do alike at Install: read that node's URI, create
// nodes as the device, and grant the managing servers their rights.
package place

import (
	"fmt"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// Node returns uri in its canonical "./A/B" form; the root and URIs with a
// query cannot hold an object.
func Node(uri string) (string, error) {
	u, err := dmtree.ParseURI(uri, nil)
	if err != nil {
		return "", err
	}
	if len(u.Segments) == 0 || u.Prop != "" || u.List != dmtree.ListNone {
		return "", fmt.Errorf("%q is not a node an object can be placed at", uri)
	}
	return "./" + u.Path(), nil
}

// Add creates the node at uri as the device unless it exists.
func Add(t *dmtree.Tree, uri string, v dmtree.Value) error {
	if err := t.Add("", uri, v); err != nil && syncml.StatusOf(err) != syncml.StatusAlreadyExists {
		return fmt.Errorf("create %s: %w", uri, err)
	}
	return nil
}

// Grant gives servers Get, Replace and Exec on uri (its ACL, inherited
// below it); no servers leaves the ACL alone.
func Grant(t *dmtree.Tree, uri string, servers []string) error {
	if len(servers) == 0 {
		return nil
	}
	acl, err := dmtree.NewACL(map[dmtree.Cmd][]string{
		dmtree.CmdGet: servers, dmtree.CmdReplace: servers, dmtree.CmdExec: servers,
	})
	if err != nil {
		return err
	}
	if err := t.Replace("", uri+"?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		return fmt.Errorf("set the ACL of %s: %w", uri, err)
	}
	return nil
}
