package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
)

func TestAltServerNonce_SurvivesARestartOutsideTheTree(t *testing.T) {
	dir := t.TempDir()
	st := treeNonces(dmtree.New(nil), dir).(client.AltNonceStore)
	tests := []struct {
		name  string
		nonce []byte
	}{
		{"saved", []byte("alt-nonce-1")},
		{"replaced", []byte("alt-nonce-2")},
		{"cleared", nil},
		{"cleared twice", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.SaveAltServerNonce("dm.example/x", tc.nonce); err != nil {
				t.Fatal(err)
			}
			if got := loadAltNonce(dir, "dm.example/x"); !bytes.Equal(got, tc.nonce) {
				t.Fatalf("loaded %q, want %q", got, tc.nonce)
			}
			if info, err := os.Stat(altNoncePath(dir, "dm.example/x")); err == nil && info.Mode().Perm() != 0o600 {
				t.Fatalf("file mode %v", info.Mode())
			}
		})
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Fatalf("left files %v", m)
	}
}

func TestWriteAccount_ReplacingAnAccountDropsItsOldACLEntries(t *testing.T) {
	tr := dmtree.New(nil)
	if err := dmacc.Install(tr); err != nil {
		t.Fatal(err)
	}
	spec := accountSpec{serverURL: "http://dm.example/dm", serverID: "dm.example", username: "u", password: "p", srvPassword: "sp", scheme: "syncml:auth-md5"}
	if err := writeAccount(tr, spec); err != nil {
		t.Fatal(err)
	}
	if err := tr.Add("", "./Vendor", dmtree.Value{Format: dmtree.FormatNode}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Replace("", "./Vendor?prop=ACL", dmtree.Value{Data: []byte("Get=dm.example+other")}); err != nil {
		t.Fatal(err)
	}
	if err := dmacc.SetNonce(tr, "dm.example", dmacc.LevelServer, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	spec.password = "new"
	if err := writeAccount(tr, spec); err != nil {
		t.Fatal(err)
	}
	info, err := tr.Info("./Vendor")
	if err != nil {
		t.Fatal(err)
	}
	a, err := dmacc.FindByServerID(tr, "dm.example")
	if err != nil || info.ACL != "Get=other" || a.Client.Secret != "new" || string(a.Server.Data) != "kept" {
		t.Fatalf("ACL %q, account %+v, err %v", info.ACL, a, err)
	}
}
