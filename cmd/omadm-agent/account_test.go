package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
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

// OMA-TS-DM_TND-V1_2 ACL rules: a ServerID leaves the ACLs only
// when its account is deleted. Writing the account again from changed flags
// updates its leaves in place and keeps every ACL and the nonces.
func TestWriteAccount_ChangedFlagsUpdateInPlaceAndKeepEveryACL(t *testing.T) {
	tr := dmtree.New(nil)
	if err := dmacc.Install(tr); err != nil {
		t.Fatal(err)
	}
	spec := accountSpec{serverURL: "http://dm.example/dm", serverID: "dm.example", username: "u", password: "p", srvPassword: "sp", scheme: "syncml:auth-md5"}
	if err := writeAccount(tr, spec); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]string{{"./Vendor", "Get=dm.example+other"}, {"./DMAcc/dm.example", "Get=dm.example&Replace=dm.example"}} {
		if s[0] == "./Vendor" {
			if err := tr.Add("", s[0], dmtree.Value{Format: dmtree.FormatNode}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tr.Replace("", s[0]+"?prop=ACL", dmtree.Value{Data: []byte(s[1])}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dmacc.SetNonce(tr, "dm.example", dmacc.LevelServer, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	acls := func() string {
		b, err := tr.TNDS("", ".", dmtree.PropACL|dmtree.PropName)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := acls()
	verNo := func() uint16 {
		info, err := tr.Info("./DMAcc/dm.example/AppAuth/CLCRED/AAuthSecret")
		if err != nil {
			t.Fatal(err)
		}
		return info.VerNo
	}
	v0 := verNo()
	if err := writeAccount(tr, spec); err != nil {
		t.Fatal(err)
	}
	if verNo() != v0 || acls() != before {
		t.Fatalf("the same flags rewrote the account")
	}
	spec.password, spec.serverURL = "new", "http://dm.example/v2"
	if err := writeAccount(tr, spec); err != nil {
		t.Fatal(err)
	}
	a, err := dmacc.FindByServerID(tr, "dm.example")
	if err != nil || a.Client.Secret != "new" || a.Addr != "http://dm.example/v2" || string(a.Server.Data) != "kept" {
		t.Fatalf("account %+v, err %v", a, err)
	}
	if got := acls(); got != before {
		t.Fatalf("ACLs changed:\n%s\nwant\n%s", got, before)
	}
}

// Restarting the real agent with the same --server flags keeps its DMAcc
// account and every ACL as the server left them; changed flags update the
// account in place and keep the server's rights (OMA-TS-DM_TND-V1_2 ACL
// rules: rights go only with the account). Real server engine
// over HTTP on 127.0.0.1.
func TestAgent_RestartWithServerFlagsKeepsTheAccountAndEveryACL(t *testing.T) {
	st, url := realServer(t)
	ctx := context.Background()
	state := t.TempDir()
	queue := func(specs ...storage.JobSpec) []*storage.Job {
		var out []*storage.Job
		for _, s := range specs {
			j := &storage.Job{DeviceID: "IMEI:42", Spec: s}
			if err := st.CreateJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			out = append(out, j)
		}
		return out
	}
	done := func(jobs []*storage.Job) {
		t.Helper()
		for _, j := range jobs {
			got, err := st.GetJob(ctx, j.ID)
			if err != nil || got.Status != 200 {
				t.Fatalf("%s %v: status %d %s (%v)", got.Spec.Command, got.Spec.Items, got.Status, got.Error, err)
			}
		}
	}
	start := func(serverURL string) {
		t.Helper()
		var stdout, stderr syncBuf
		args := []string{"--state", state, "--server", serverURL, "--server-id", "srv.test", "--device-id", "IMEI:42",
			"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--once"}
		if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
	}
	snapshot := func() (acls, addr string) {
		t.Helper()
		tr, err := dmtree.Open(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		b, err := tr.TNDS("", ".", dmtree.PropACL|dmtree.PropName)
		if err != nil {
			t.Fatal(err)
		}
		a, err := dmacc.FindByServerID(tr, "srv.test")
		if err != nil {
			t.Fatal(err)
		}
		return string(b), a.Addr
	}

	first := queue(
		storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: "./Vendor/X", Data: "x"}}},
		storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor?prop=ACL", Data: "Add=srv.test&Delete=srv.test&Get=srv.test&Replace=srv.test"}}},
		storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./DMAcc/srv.test?prop=ACL", Data: "Add=srv.test&Get=srv.test&Replace=srv.test"}}},
	)
	start(url)
	done(first)
	before, _ := snapshot()

	// Same flags: nothing changes, and the server still reads what it owns.
	get := queue(storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Vendor/X"}}})
	start(url)
	done(get)
	if after, _ := snapshot(); after != before {
		t.Fatalf("restart with the same flags changed ACLs:\n%s\nwant\n%s", after, before)
	}

	// Changed flags: the account follows them, the ACLs do not move.
	get = queue(storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Vendor/X"}}})
	start(url + "2")
	done(get)
	after, addr := snapshot()
	if addr != url+"2" || after != before {
		t.Fatalf("account address %q; ACLs\n%s\nwant\n%s", addr, after, before)
	}
}

// OMA-TS-DM_Security-V1_2 §5.1: each direction has its own credential type:
// --server-auth sets the SRVCRED AAuthType, which the engine requires of the
// server's credentials; without it the server uses the client's type.
func TestWriteAccount_ServerAuthSetsTheServerCredentialType(t *testing.T) {
	for _, tc := range []struct {
		srvScheme, want string
	}{{syncml.AuthBasic, syncml.AuthBasic}, {syncml.AuthMAC, syncml.AuthMAC}, {"", syncml.AuthMD5}} {
		t.Run(tc.want, func(t *testing.T) {
			tr := dmtree.New(nil)
			if err := dmacc.Install(tr); err != nil {
				t.Fatal(err)
			}
			spec := accountSpec{serverURL: "http://127.0.0.1/dm", serverID: "srv", username: "u", password: "p",
				srvPassword: "s", scheme: syncml.AuthMD5, srvScheme: tc.srvScheme}
			if err := writeAccount(tr, spec); err != nil {
				t.Fatal(err)
			}
			a, err := dmacc.FindByServerID(tr, "srv")
			if err != nil {
				t.Fatal(err)
			}
			if ca := clientAccount(a); ca.AuthScheme != syncml.AuthMD5 || ca.ServerAuthScheme != tc.want {
				t.Fatalf("client %q server %q, want md5 and %q", ca.AuthScheme, ca.ServerAuthScheme, tc.want)
			}
		})
	}
}
