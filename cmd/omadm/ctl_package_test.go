package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
)

// The catalogue through `omadm serve` and ctl: upload, list, policy, a
// FUMO operation naming the package (PkgURL = its descriptor for the
// device), and delete guarded by the policy.
func TestCtl_PackageUploadPolicyFUMOAndDelete(t *testing.T) {
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	file := filepath.Join(t.TempDir(), "fw.bin")
	os.WriteFile(file, []byte("firmware image"), 0o600)
	if _, _, err := runCtl(t, rs.URL, "package", "upload", file); err == nil {
		t.Fatal("upload without --name and --version accepted")
	}
	out, _, err := runCtl(t, rs.URL, "package", "upload", file, "--name", "fw", "--version", "2.0", "-o", "json")
	if err != nil {
		t.Fatalf("upload: %v %s", err, out)
	}
	var ps []api.Package
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) != 1 || ps[0].Size != 14 {
		t.Fatalf("upload printed %s (%v)", out, err)
	}
	id := ps[0].ID
	if out, _, err := runCtl(t, rs.URL, "package", "list"); err != nil || !strings.Contains(out, id) {
		t.Fatalf("list: %v %s", err, out)
	}
	if out, _, err := runCtl(t, rs.URL, "package", "policy", "--rule", "X200@1.0="+id); err != nil || !strings.Contains(out, "X200") {
		t.Fatalf("policy: %v %s", err, out)
	}
	if _, _, err := runCtl(t, rs.URL, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCtl(t, rs.URL, "fumo", "d1", "--package", id); err != nil {
		t.Fatalf("fumo --package: %v %s", err, out)
	}
	js, _ := rs.Store.ListJobs(ctx, storage.JobFilter{DeviceID: "d1"})
	if len(js) != 1 || len(js[0].Spec.Children) != 2 || !strings.HasPrefix(js[0].Spec.Children[0].Items[0].Data, rs.URL+"/dl/"+id+".dd?device=d1&tag=") {
		t.Fatalf("queued %+v", js)
	}
	if _, _, err := runCtl(t, rs.URL, "package", "delete", id); err == nil || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("delete while the policy names it: %v", err)
	}
}

// `omadm ctl bootstrap` writes a factory file (TNDS XML) and prints the
// MAC of a protected WBXML profile.
func TestCtl_BootstrapWritesProfiles(t *testing.T) {
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	for _, d := range []string{"d1", "d2"} {
		if _, _, err := runCtl(t, rs.URL, "device", "add", d, "--username", "u-"+d, "--password", "p"); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	factory := filepath.Join(dir, "factory.xml")
	if out, _, err := runCtl(t, rs.URL, "bootstrap", "--device", "d1", "--format", "tnds-xml", "--out", factory); err != nil {
		t.Fatalf("bootstrap: %v %s", err, out)
	}
	if b, _ := os.ReadFile(factory); !strings.Contains(string(b), "<MgmtTree") || !strings.Contains(string(b), rs.URL+"/dm") {
		t.Fatalf("factory file: %s", b)
	}
	out, _, err := runCtl(t, rs.URL, "bootstrap", "--device", "d1", "--device", "d2", "--security", "USERPIN", "--pin", "1234",
		"--out", filepath.Join(dir, "batch"), "-o", "json")
	if err != nil {
		t.Fatalf("batch: %v %s", err, out)
	}
	var res api.BootstrapResult
	json.Unmarshal([]byte(out), &res)
	if len(res.Profiles) != 2 {
		t.Fatalf("batch printed %s", out)
	}
	for _, p := range res.Profiles {
		b, err := os.ReadFile(filepath.Join(dir, "batch", p.DeviceID+".wbxml"))
		if err != nil || auth.VerifyBootstrap(p.Security, []byte("1234"), b, p.MAC) != nil {
			t.Errorf("%s: file %v, MAC %q does not verify", p.DeviceID, err, p.MAC)
		}
	}
	if _, _, err := runCtl(t, rs.URL, "bootstrap", "--device", "d1"); err == nil {
		t.Error("bootstrap without --out or --push accepted")
	}
}
