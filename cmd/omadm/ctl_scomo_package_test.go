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
	"github.com/omadm/omadm/storage"
)

// `scomo install DEVICE ID --package PKGID` through `omadm serve`: the
// server puts the package's download descriptor, bound to the device, in
// Download/<id>/PkgURL (OMA-TS-DM-SCOMO-V1_0 §5: PkgURL names the package
// or its descriptor); URL and --package exclude each other and one is
// needed.
func TestCtl_ScomoInstallFromTheCatalogue(t *testing.T) {
	ctx := context.Background()
	rs, err := startServer(ctx, serveConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Token: ctlTestToken,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Shutdown(ctx)
	file := filepath.Join(t.TempDir(), "maps.tgz")
	os.WriteFile(file, []byte("component"), 0o600)
	out, _, err := runCtl(t, rs.URL, "package", "upload", file, "--name", "maps", "--version", "2.1", "-o", "json")
	if err != nil {
		t.Fatalf("upload: %v %s", err, out)
	}
	var ps []api.Package
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) != 1 {
		t.Fatalf("upload printed %s (%v)", out, err)
	}
	id := ps[0].ID
	if _, _, err := runCtl(t, rs.URL, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"scomo", "install", "d1", "maps"},
		{"scomo", "install", "d1", "maps", "http://p/maps.tgz", "--package", id},
		{"scomo", "install", "d1", "maps", "--package", "pkg-nosuch"},
	} {
		if _, _, err := runCtl(t, rs.URL, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if out, _, err := runCtl(t, rs.URL, "scomo", "install", "d1", "maps", "--package", id); err != nil {
		t.Fatalf("scomo install --package: %v %s", err, out)
	}
	js, _ := rs.Store.ListJobs(ctx, storage.JobFilter{DeviceID: "d1"})
	if len(js) != 1 || len(js[0].Spec.Children) != 2 {
		t.Fatalf("queued %+v, want one Sequence of the Add and the Exec", js)
	}
	var pkgURL string
	for _, it := range js[0].Spec.Children[0].Items {
		if it.URI == "./SCOMO/Download/maps/PkgURL" {
			pkgURL = it.Data
		}
	}
	if !strings.HasPrefix(pkgURL, rs.URL+"/dl/"+id+".dd?device=d1&tag=") {
		t.Errorf("PkgURL %q, want the descriptor of %s for d1", pkgURL, id)
	}
}
