package dmacc_test

import (
	"fmt"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
)

// A device creates the account of its DM server, finds it again by ServerID
// when a session starts, and stores the next nonce the server sent.
func Example() {
	tree := dmtree.New(nil)
	if err := dmacc.Install(tree); err != nil {
		panic(err)
	}
	err := dmacc.AddAccount(tree, dmacc.Account{
		ID: "omadm", ServerID: "dm.example.com", Addr: "https://dm.example.com/dm",
		Client: dmacc.Credential{Level: dmacc.LevelClient, Type: "DIGEST", Name: "dev1", Secret: "s3cret"},
	})
	if err != nil {
		panic(err)
	}
	a, _ := dmacc.FindByServerID(tree, "dm.example.com")
	fmt.Println(a.ID, a.Addr, a.Client.Type)
	_ = dmacc.SetNonce(tree, "dm.example.com", dmacc.LevelClient, []byte("n1"))
	a, _ = dmacc.FindByServerID(tree, "dm.example.com")
	fmt.Printf("nonce %s\n", a.Client.Data)
	acl, _ := tree.Info("./DMAcc/omadm")
	fmt.Println(acl.ACL)
	// Output:
	// omadm https://dm.example.com/dm DIGEST
	// nonce n1
	// Delete=dm.example.com&Get=dm.example.com&Replace=dm.example.com
}

// Deleting an account also takes the server's id out of every ACL.
func ExampleDeleteAccount() {
	tree := dmtree.New(nil)
	_ = dmacc.Install(tree)
	_ = dmacc.AddAccount(tree, dmacc.Account{ID: "a", ServerID: "srv", Addr: "https://srv/dm"})
	_ = tree.Add("", "./App", dmtree.Value{Format: dmtree.FormatNode})
	_ = tree.Replace("", "./App?prop=ACL", dmtree.Value{Data: []byte("Get=srv+ops&Replace=srv")})
	if err := dmacc.DeleteAccount(tree, "srv"); err != nil {
		panic(err)
	}
	info, _ := tree.Info("./App")
	fmt.Println(info.ACL)
	// Output: Get=ops
}
