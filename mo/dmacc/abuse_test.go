package dmacc_test

import (
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/syncml"
)

// ServerID is the ACL principal of an account. A server that could rewrite
// its own ServerID to another server's would, from the next session on, be
// granted every right the other server holds (and be picked for its package
// 0): OMA-TS-DM_StdObj-V1_2 §7.1.3.1.3 gives ServerID the Access Type Get
// only, and so does this DDF. Only the device (bootstrap, setup) writes it.
func TestDMAcc_ServerCannotTakeAnotherServersIdentity(t *testing.T) {
	tr := newTree(t)
	other := acct
	other.ID, other.ServerID, other.Addr = "srv2", "other.example", "https://other.example/dm"
	for _, a := range []dmacc.Account{acct, other} {
		if err := dmacc.AddAccount(tr, a); err != nil {
			t.Fatal(err)
		}
	}
	chr := func(s string) dmtree.Value { return dmtree.Value{Format: "chr", Data: []byte(s)} }
	attacks := []struct {
		name string
		do   func() error
		want syncml.StatusCode
	}{
		{"Replace of its ServerID", func() error {
			return tr.Replace(acct.ServerID, "./DMAcc/srv1/ServerID", chr(other.ServerID))
		}, syncml.StatusCommandNotAllowed},
		{"Copy onto its ServerID", func() error {
			return tr.Copy(acct.ServerID, "./DMAcc/srv1/ServerID", "./DMAcc/srv1/AAuthPref")
		}, syncml.StatusCommandNotAllowed},
		{"TNDS Replace of its account", func() error {
			return tr.Replace(acct.ServerID, "./DMAcc/srv1", dmtree.Value{Format: "xml", Type: syncml.TypeTNDSXML, Data: []byte(
				`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>srv1</NodeName><Path>./DMAcc</Path>` +
					`<Node><NodeName>ServerID</NodeName><Value>other.example</Value></Node></Node></MgmtTree>`)})
		}, syncml.StatusCommandNotAllowed},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			if err := a.do(); syncml.StatusOf(err) != a.want {
				t.Fatalf("got %v, want %d", err, a.want)
			}
			all, err := dmacc.Accounts(tr)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || all[0].ServerID != acct.ServerID || all[1].ServerID != other.ServerID {
				t.Fatalf("accounts now %+v", all)
			}
		})
	}
	// The device itself still may.
	if err := tr.Replace("", "./DMAcc/srv1/ServerID", chr("renamed.example")); err != nil {
		t.Fatalf("device Replace of ServerID: %v", err)
	}
}
