package dmtree_test

import (
	"fmt"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// A device builds its tree, a server adds and reads nodes, and the ACL decides
// who may do what; errors carry the SyncML status to answer with.
func Example() {
	tree := dmtree.New(&dmtree.Options{MaxDepth: 8})

	// The device (principal "") creates an object and gives one server rights.
	_ = tree.Add("", "./Vendor/App/Version", dmtree.Value{Format: "chr", Data: []byte("1.0")})
	_ = tree.Replace("", "./Vendor?prop=ACL", dmtree.Value{Data: []byte("Add=srv&Get=srv&Replace=srv")})

	// The server adds a leaf and reads the interior node's child list.
	if err := tree.Add("srv", "./Vendor/App/Mode", dmtree.Value{Format: "int", Data: []byte("2")}); err != nil {
		fmt.Println(err)
	}
	rs, _ := tree.Get("srv", "./Vendor/App")
	fmt.Printf("%s %s %q\n", rs[0].URI, rs[0].Format, rs[0].Data)

	// Another server is refused with 425, a missing node gives 404.
	_, err := tree.Get("other", "./Vendor/App/Version")
	fmt.Println(int(syncml.StatusOf(err)))
	_, err = tree.Get("srv", "./Vendor/Nope")
	fmt.Println(int(syncml.StatusOf(err)))

	// Properties are read with ?prop=.
	rs, _ = tree.Get("srv", "./Vendor?prop=ACL")
	fmt.Printf("%s\n", rs[0].Data)
	// Output:
	// ./Vendor/App node "Version/Mode"
	// 425
	// 404
	// Add=srv&Get=srv&Replace=srv
}

// ParseACL reads the ACL grammar; Allows answers one permission check.
func ExampleParseACL() {
	acl, err := dmtree.ParseACL("Get=*&Replace=srv1+srv2")
	if err != nil {
		panic(err)
	}
	fmt.Println(acl.Allows(dmtree.CmdGet, "anyone"), acl.Allows(dmtree.CmdReplace, "srv2"), acl.Allows(dmtree.CmdDelete, "srv1"))
	fmt.Println(acl.Without("srv1", false))
	// Output:
	// true true false
	// Get=*&Replace=srv2
}
