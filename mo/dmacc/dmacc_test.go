package dmacc_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/devdetail"
	"github.com/omadm/omadm/mo/devinfo"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/syncml"
)

func newTree(t *testing.T) *dmtree.Tree {
	t.Helper()
	tr := dmtree.New(&dmtree.Options{MaxDepth: 10, MaxTotLen: 255, MaxSegLen: 64})
	if err := devinfo.Install(tr, devinfo.Info{DevID: "IMEI:493005100592800", Man: "omadm", Mod: "sim", DmV: "1.2"}); err != nil {
		t.Fatal(err)
	}
	if err := devdetail.Install(tr, devdetail.Detail{DevTyp: "phone", FwV: "1.0", LrgObj: true}); err != nil {
		t.Fatal(err)
	}
	if err := dmacc.Install(tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

var acct = dmacc.Account{
	ID: "srv1", ServerID: "dm.example.com", Name: "Example", Addr: "https://dm.example.com/dm", Port: 443, AuthPref: "DIGEST",
	Client: dmacc.Credential{Level: dmacc.LevelClient, Type: "DIGEST", Name: "dev", Secret: "s1", Data: []byte{1, 2}},
	Server: dmacc.Credential{Level: dmacc.LevelServer, Type: "DIGEST", Name: "srv", Secret: "s2", Data: []byte{3}},
}

func TestDMAcc_AddListFindAndNonce(t *testing.T) {
	tr := newTree(t)
	if err := dmacc.AddAccount(tr, acct); err != nil {
		t.Fatal(err)
	}
	if err := dmacc.AddAccount(tr, acct); syncml.StatusOf(err) != 418 {
		t.Fatalf("duplicate account: %v", err)
	}
	got, err := dmacc.FindByServerID(tr, "dm.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != acct.Addr || got.Port != 443 || got.Client.Secret != "s1" || !bytes.Equal(got.Server.Data, []byte{3}) {
		t.Fatalf("account read back as %+v", got)
	}
	if err := dmacc.SetNonce(tr, "dm.example.com", dmacc.LevelClient, []byte("nonce")); err != nil {
		t.Fatal(err)
	}
	got, _ = dmacc.FindByServerID(tr, "dm.example.com")
	if string(got.Client.Data) != "nonce" {
		t.Fatalf("nonce %q", got.Client.Data)
	}
	if _, err := dmacc.FindByServerID(tr, "other"); syncml.StatusOf(err) != 404 {
		t.Fatalf("unknown server: %v", err)
	}
	if err := tr.Validate(dmacc.Root); err != nil {
		t.Fatalf("account violates its DDF: %v", err)
	}
}

func TestDMAcc_ServerAccessFollowsACLAndAccessType(t *testing.T) {
	tr := newTree(t)
	if err := dmacc.AddAccount(tr, acct); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, principal, uri string
		want                 syncml.StatusCode
	}{
		{"owner reads ServerID", "dm.example.com", "./DMAcc/srv1/ServerID", 200},
		{"other server denied", "evil", "./DMAcc/srv1/ServerID", 425},
		{"secret not Get-able", "dm.example.com", "./DMAcc/srv1/AppAuth/CLCRED/AAuthSecret", 405},
		{"nonce not Get-able", "dm.example.com", "./DMAcc/srv1/AppAuth/CLCRED/AAuthData", 405},
		{"DevInfo readable by anyone", "evil", "./DevInfo/DevId", 200},
		{"DevDetail publishes MaxDepth", "evil", "./DevDetail/URI/MaxDepth", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tr.Get(tc.principal, tc.uri)
			if got := syncml.StatusOf(err); got != tc.want {
				t.Fatalf("status %d, want %d (%v)", got, tc.want, err)
			}
		})
	}
	rs, _ := tr.Get("", "./DevDetail/URI/MaxSegLen")
	if string(rs[0].Data) != "64" {
		t.Fatalf("MaxSegLen = %s", rs[0].Data)
	}
	if err := tr.Replace("x", "./DevInfo/DevId", dmtree.Value{Data: []byte("y")}); syncml.StatusOf(err) != 425 {
		t.Fatalf("server Replace of DevId: %v", err)
	}
	for _, uri := range []string{"./DevInfo", "./DevDetail"} {
		if err := tr.Validate(uri); err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
	}
}

func TestMO_InstallIsIdempotent(t *testing.T) {
	tr := newTree(t)
	before, _ := tr.TNDS("", ".", dmtree.PropAll&^dmtree.PropTStamp&^dmtree.PropVerNo)
	if err := devinfo.Install(tr, devinfo.Info{DevID: "IMEI:493005100592800", Man: "omadm", Mod: "sim", DmV: "1.2"}); err != nil {
		t.Fatal(err)
	}
	if err := dmacc.Install(tr); err != nil {
		t.Fatal(err)
	}
	after, _ := tr.TNDS("", ".", dmtree.PropAll&^dmtree.PropTStamp&^dmtree.PropVerNo)
	if !bytes.Equal(before, after) {
		t.Fatalf("second Install changed the tree")
	}
}

func TestDeleteAccount_RemovesAccountAndEveryACLEntryOfTheServer(t *testing.T) {
	tr := newTree(t)
	if err := dmacc.AddAccount(tr, acct); err != nil {
		t.Fatal(err)
	}
	if err := tr.Add("", "./Vendor", dmtree.Value{Format: dmtree.FormatNode}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Replace("", "./Vendor?prop=ACL", dmtree.Value{Data: []byte("Get=dm.example.com+other&Replace=dm.example.com")}); err != nil {
		t.Fatal(err)
	}
	if err := dmacc.DeleteAccount(tr, acct.ServerID); err != nil {
		t.Fatal(err)
	}
	if _, err := dmacc.FindByServerID(tr, acct.ServerID); syncml.StatusOf(err) != syncml.StatusNotFound {
		t.Fatalf("account still found: %v", err)
	}
	if info, _ := tr.Info("./Vendor"); info.ACL != "Get=other" {
		t.Fatalf("./Vendor ACL %q, want Get=other", info.ACL)
	}
	if err := dmacc.DeleteAccount(tr, acct.ServerID); syncml.StatusOf(err) != syncml.StatusNotFound {
		t.Fatalf("second delete: %v", err)
	}
}

func TestInbox_PlacesBootstrapAccountUnderDMAcc(t *testing.T) {
	tr := newTree(t)
	if err := tr.EnableInbox(); err != nil {
		t.Fatal(err)
	}
	boot, err := os.ReadFile("testdata/bootstrap.tnds.xml")
	if err != nil {
		t.Fatal(err)
	}
	// A bootstrap is applied by the device itself: the DDF gives servers no
	// Add on account leaves.
	if err := tr.Add("boot.example.com", "./Inbox", dmtree.Value{Format: "xml", Type: syncml.TypeTNDSXML, Data: boot}); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Fatalf("server bootstrap through the Inbox: %v, want 405", err)
	}
	if err := tr.Add("", "./Inbox", dmtree.Value{Format: "xml", Type: syncml.TypeTNDSXML, Data: boot}); err != nil {
		t.Fatal(err)
	}
	a, err := dmacc.FindByServerID(tr, "boot.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "boot1" || a.Addr != "https://boot.example.com/dm" {
		t.Fatalf("placed account %+v", a)
	}
}
