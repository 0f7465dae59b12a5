package sim_test

import (
	"testing"

	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/transport/dmhttp"
)

// A simulated device built with a SCOMO directory carries the software
// component object, with the server's rights on it; without, it has none.
func TestNewDevice_CarriesSCOMOWhenGivenADirectory(t *testing.T) {
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dir  string
		want bool
	}{{"with", t.TempDir(), true}, {"without", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			id := sim.NewIdentity(7)
			d, err := sim.NewDevice(sim.DeviceOptions{Identity: id, Credentials: sim.DeriveCredentials("s", id.DevID),
				ServerURL: "http://127.0.0.1:1/dm", ServerID: "srv", Transport: tp, SCOMODir: tc.dir})
			if err != nil {
				t.Fatal(err)
			}
			if (d.SCOMO() != nil) != tc.want {
				t.Fatalf("SCOMO() = %v", d.SCOMO())
			}
			rs, err := d.Tree().Get("srv", sim.SCOMORoot+"?prop=Type")
			if tc.want && (err != nil || string(rs[0].Data) != scomo.MOID) {
				t.Errorf("Type of %s: %v %v", sim.SCOMORoot, rs, err)
			}
			if !tc.want && err == nil {
				t.Errorf("%s exists without SCOMODir", sim.SCOMORoot)
			}
		})
	}
}
