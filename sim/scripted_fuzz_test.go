package sim_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/syncml"
)

// FuzzScriptedDevice_Reply feeds arbitrary server replies to a scripted
// device: reading them (the XML byte scanner, or the syncml decoder) must
// never panic and a session must end within its round-trip bound.
func FuzzScriptedDevice_Reply(f *testing.F) {
	files, _ := filepath.Glob("testdata/replies/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".wbxml"))
	}
	f.Add([]byte("<SyncML><SyncHdr><MsgID>1</MsgID></SyncHdr><SyncBody><Final/></SyncBody></SyncML>"), false)
	f.Fuzz(func(t *testing.T, reply []byte, wbxml bool) {
		ct := syncml.ContentTypeXML
		if wbxml {
			ct = syncml.ContentTypeWBXML
		}
		tr := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
			return &client.Response{ContentType: ct, Body: reply}, nil
		})
		d, err := sim.NewScriptedDevice(sim.ScriptedOptions{ServerURL: "http://127.0.0.1/dm", DeviceID: "IMEI:1",
			Username: "u", Password: "p", Transport: tr, Encoding: syncml.EncodingXML})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = d.Session(context.Background(), "1")
	})
}
