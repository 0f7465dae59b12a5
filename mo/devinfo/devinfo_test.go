package devinfo_test

import (
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/devinfo"
	"github.com/omadm/omadm/syncml"
)

// clock advances one second per call so that a TStamp change is visible.
func clock() func() time.Time {
	t0 := time.Date(2001, 7, 11, 16, 38, 17, 0, time.UTC)
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

var info = devinfo.Info{DevID: "IMEI:493005100592800", Man: "omadm", Mod: "sim", DmV: "1.2"}

func TestInstall_CreatesEveryLeafWithValues(t *testing.T) {
	tr := dmtree.New(&dmtree.Options{Now: clock()})
	if err := devinfo.Install(tr, info); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DevId": info.DevID, "Man": "omadm", "Mod": "sim", "DmV": "1.2", "Lang": "en-US"}
	for _, uri := range devinfo.Nodes() {
		rs, err := tr.Get("srv", uri)
		if err != nil {
			t.Fatalf("Get %s: %v", uri, err)
		}
		name := uri[len(devinfo.Root)+1:]
		if string(rs[0].Data) != want[name] || rs[0].Format != "chr" {
			t.Errorf("%s = %q (%s), want %q", uri, rs[0].Data, rs[0].Format, want[name])
		}
	}
	root, err := tr.Info(devinfo.Root)
	if err != nil || root.Type != devinfo.MOID || !root.Permanent {
		t.Fatalf("root %+v %v", root, err)
	}
	if err := tr.Validate(devinfo.Root); err != nil {
		t.Fatalf("tree does not match the DDF: %v", err)
	}
}

func TestInstall_Again(t *testing.T) {
	tests := []struct {
		name       string
		next       devinfo.Info
		changedURI string // "" = nothing may change
	}{
		{"same values keep TStamp and VerNo", info, ""},
		{"a changed value bumps only that leaf", devinfo.Info{DevID: info.DevID, Man: "omadm", Mod: "sim", DmV: "1.3"}, devinfo.Root + "/DmV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := dmtree.New(&dmtree.Options{Now: clock()})
			if err := devinfo.Install(tr, info); err != nil {
				t.Fatal(err)
			}
			before := map[string]dmtree.NodeInfo{}
			for _, uri := range devinfo.Nodes() {
				before[uri], _ = tr.Info(uri)
			}
			if err := devinfo.Install(tr, tc.next); err != nil {
				t.Fatal(err)
			}
			for _, uri := range devinfo.Nodes() {
				after, _ := tr.Info(uri)
				moved := after.VerNo != before[uri].VerNo || !after.TStamp.Equal(before[uri].TStamp)
				if moved != (uri == tc.changedURI) {
					t.Errorf("%s: VerNo %d→%d TStamp %v→%v", uri, before[uri].VerNo, after.VerNo, before[uri].TStamp, after.TStamp)
				}
			}
		})
	}
}

func TestInstall_RefusesServersAndMissingDevID(t *testing.T) {
	tr := dmtree.New(nil)
	if err := devinfo.Install(tr, devinfo.Info{}); syncml.StatusOf(err) != syncml.StatusBadRequest {
		t.Fatalf("no DevId: %v", err)
	}
	if err := devinfo.Install(tr, info); err != nil {
		t.Fatal(err)
	}
	if err := tr.Replace("srv", devinfo.Root+"/DevId", dmtree.Value{Data: []byte("x")}); syncml.StatusOf(err) != syncml.StatusPermissionDenied {
		t.Fatalf("server Replace of DevId: %v", err)
	}
	if err := tr.Delete("srv", devinfo.Root); syncml.StatusOf(err) == syncml.StatusOK {
		t.Fatal("server deleted ./DevInfo")
	}
}

func TestDDF_ParsesAndDescribesTheObject(t *testing.T) {
	d, err := devinfo.DDF()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Nodes) != 1 || d.Nodes[0].Name != "DevInfo" || d.Nodes[0].Types[0] != devinfo.MOID {
		t.Fatalf("DDF top %+v", d.Nodes[0])
	}
}
