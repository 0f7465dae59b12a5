package bootstrap_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/fleet/bootstrap"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:  %q\nwant: %q", name, got, want)
	}
}

func store(t *testing.T) storage.Store {
	t.Helper()
	st := memstore.New()
	err := st.CreateDevice(context.Background(), &storage.Device{ID: "IMEI:490154203237518", AuthScheme: "md5",
		Username: "dev1", Password: "old", ServerPassword: "srv-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Each profile format, applied by the device as OMA-TS-DM_Bootstrap-V1_2
// says (TNDS added at the root, or the DM message's Add commands run as the
// device), yields the same DMAcc account; the documents are golden files.
func TestGenerate_EveryFormatYieldsTheAccountOnTheDevice(t *testing.T) {
	for _, format := range bootstrap.Formats {
		t.Run(format, func(t *testing.T) {
			st := store(t)
			p, err := bootstrap.Generate(context.Background(), st, bootstrap.Request{DeviceID: "IMEI:490154203237518",
				ServerID: "omadm", ServerURL: "https://dm.example.com/dm", Format: format, Password: "new-client-secret"})
			if err != nil {
				t.Fatal(err)
			}
			ext := ".wbxml"
			if format == bootstrap.FormatTNDSXML {
				ext = ".xml"
			}
			golden(t, "dmacc-"+format+ext, p.Body)
			tree := dmtree.New(nil)
			if err := dmacc.Install(tree); err != nil {
				t.Fatal(err)
			}
			if format == bootstrap.FormatTNDSXML {
				err = tree.Add("", ".", dmtree.Value{Type: "application/vnd.syncml.dmtnds+xml", Data: p.Body})
			} else {
				_, err = client.ApplyBootstrap(client.DMTree(tree), p.Body, p.ContentType)
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := dmacc.FindByServerID(tree, "omadm")
			if err != nil {
				t.Fatal(err)
			}
			if a.Addr != "https://dm.example.com/dm" || a.Client.Name != "dev1" || a.Client.Secret != "new-client-secret" ||
				a.Client.Type != "DIGEST" || a.Server.Secret != "srv-secret" || a.Server.Name != "omadm" {
				t.Errorf("account on the device: %+v", a)
			}
		})
	}
}

// The server keeps only a hash of the client password, so a profile without
// a given password carries a new one, stored on the device record.
func TestGenerate_MakesAndStoresANewPassword(t *testing.T) {
	st := store(t)
	ctx := context.Background()
	p, err := bootstrap.Generate(ctx, st, bootstrap.Request{DeviceID: "IMEI:490154203237518", ServerID: "omadm", ServerURL: "http://x/dm"})
	if err != nil || !p.PasswordChanged {
		t.Fatalf("Generate: %v, changed %v", err, p != nil && p.PasswordChanged)
	}
	tree := dmtree.New(nil)
	dmacc.Install(tree)
	if _, err := client.ApplyBootstrap(client.DMTree(tree), p.Body, p.ContentType); err != nil {
		t.Fatal(err)
	}
	a, _ := dmacc.FindByServerID(tree, "omadm")
	d, _ := st.GetDevice(ctx, "IMEI:490154203237518")
	if d.PasswordHash != storage.HashPassword(&storage.Device{Username: "dev1", Password: a.Client.Secret}) {
		t.Error("the stored password hash is not that of the profile's password")
	}
}

// OMA-TS-DM_Security-V1_2 §5.1.7.2.1: the MAC is hex(HMAC-SHA1(key, the
// WBXML message)); a plain XML TNDS file cannot carry one.
func TestGenerate_ProtectsWBXMLMessages(t *testing.T) {
	st := store(t)
	imsi, _ := auth.IMSIKey("310150123456789")
	p, err := bootstrap.Generate(context.Background(), st, bootstrap.Request{DeviceID: "IMEI:490154203237518", ServerID: "omadm",
		ServerURL: "http://x/dm", Security: "NETWPIN", Network: imsi, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Security != auth.BootstrapNetworkID || auth.VerifyBootstrap(p.Security, imsi, p.Body, p.MAC) != nil {
		t.Errorf("security %q MAC %q does not verify", p.Security, p.MAC)
	}
	pm, err := bootstrap.Generate(context.Background(), st, bootstrap.Request{DeviceID: "IMEI:490154203237518", ServerID: "omadm",
		ServerURL: "http://x/dm", Security: "USERPINMAC", PIN: "2468", Password: "pw"})
	if err != nil || pm.MAC != "" || auth.VerifyUserPINMAC(pm.UserPIN, pm.Body) != nil {
		t.Errorf("USERPINMAC: %v, MAC %q, user PIN %q", err, pm.MAC, pm.UserPIN)
	}
	_, err = bootstrap.Generate(context.Background(), st, bootstrap.Request{DeviceID: "IMEI:490154203237518", ServerID: "omadm",
		ServerURL: "http://x/dm", Format: bootstrap.FormatTNDSXML, Security: "USERPIN", PIN: "1"})
	if !errors.Is(err, bootstrap.ErrUnsupported) {
		t.Errorf("secured XML TNDS: %v, want ErrUnsupported", err)
	}
	if _, err := bootstrap.Generate(context.Background(), st, bootstrap.Request{DeviceID: "nope", ServerID: "omadm", ServerURL: "http://x/dm"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown device: %v", err)
	}
}
