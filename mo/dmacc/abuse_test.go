package dmacc_test

import (
	"strings"
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

// AAuthSecret and AAuthData have no Get in the DMAcc DDF
// (OMA-TS-DM_StdObj-V1_2 §7.1.3.1): no way of reading, listing, exporting or
// copying them lets a server, even the account's own, see a secret or a
// nonce, and URI tricks reach nothing the plain URI does not.
func TestDMAcc_NoServerReadsCredentialsByAnyRoute(t *testing.T) {
	tr := newTree(t)
	a := acct
	a.Client.Secret, a.Server.Secret = "client-SECRET-1", "server-SECRET-2"
	a.Client.Data, a.Server.Data = []byte("client-NONCE-1"), []byte("server-NONCE-2")
	if err := dmacc.AddAccount(tr, a); err != nil {
		t.Fatal(err)
	}
	if err := tr.Replace("", ".?prop=ACL", dmtree.Value{Data: []byte("Add=*&Get=*&Replace=*")}); err != nil {
		t.Fatal(err)
	}
	secret := func(b []byte) bool {
		for _, s := range []string{"client-SECRET-1", "server-SECRET-2", "client-NONCE-1", "server-NONCE-2",
			"Y2xpZW50LU5PTkNFLTE", "c2VydmVyLU5PTkNFLTI"} { // the nonces in base64 too
			if strings.Contains(string(b), s) {
				return true
			}
		}
		return false
	}
	cred := "./DMAcc/srv1/AppAuth/CLCRED/"
	gets := []string{
		cred + "AAuthSecret", cred + "AAuthData", cred + "AAuthSecret?prop=Size", cred + "AAuthData?prop=ACL",
		"./DMAcc/srv1/AppAuth/SRVCRED/AAuthSecret", "./DMAcc/srv1/AppAuth/SRVCRED/AAuthData",
		"./DMAcc?list=StructData", "./DMAcc/srv1?list=StructData", "./DMAcc/srv1/AppAuth?list=StructData",
		"./DMAcc/srv1?list=TNDS+Value", ".?list=TNDS+Value+ACL+Size", "./DMAcc/srv1/AppAuth/CLCRED?list=TNDS+Value",
		"./DMAcc/srv1/AppAuth/CLCRED", "./DMAcc/srv1/AppAuth/%43LCRED/AAuthSecret", "DMAcc/srv1/AppAuth/CLCRED/AAuthSecret",
		"./DMAcc/srv1/AppAuth/CLCRED/../CLCRED/AAuthSecret", "./DMAcc//srv1/AppAuth/CLCRED/AAuthSecret",
		cred + "AAuthSecret/", cred + "AAuthSecret?list=StructData", cred + "AAuthSecret?list=TNDS+Value",
	}
	for _, server := range []string{acct.ServerID, "other.example"} {
		for _, uri := range gets {
			rs, err := tr.Get(server, uri)
			for _, r := range rs {
				if secret(r.Data) {
					t.Errorf("%s: Get %s disclosed a credential: %q", server, uri, r.Data)
				}
			}
			if err == nil && strings.Contains(uri, "AAuth") && !strings.Contains(uri, "?list") {
				t.Errorf("%s: Get %s succeeded: %+v", server, uri, rs)
			}
		}
		for _, src := range []string{cred + "AAuthSecret", cred + "AAuthData"} {
			if err := tr.Copy(server, "./Stolen", src); err == nil {
				t.Errorf("%s: Copy of %s succeeded", server, src)
			}
		}
	}
}
