package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// FuzzEngine_Handle feeds arbitrary bodies to a live engine (a known device,
// queued jobs, an open session): it must never panic and must answer either
// with a decodable SyncML reply or an error carrying a 4xx/5xx status.
func FuzzEngine_Handle(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*ml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Ext(name) == ".wbxml")
	}
	h := newHarness(f, nil)
	h.addDevice(f, "basic")
	h.addJob(f, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Big"}}})
	h.addJob(f, storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{{Command: "Add", Items: []storage.JobItem{{URI: "./A", Data: "1"}}}}})
	f.Fuzz(func(t *testing.T, body []byte, wbxml bool) {
		ct := syncml.ContentTypeXML
		if wbxml {
			ct = syncml.ContentTypeWBXML
		}
		out, err := h.e.Handle(context.Background(), &server.Inbound{Body: body, ContentType: ct, Addr: dmhttp.RequestAddressing(dmURL), SecureSession: dmhttp.SecureURL(dmURL)})
		if err != nil {
			if c := syncml.StatusOf(err); c < 400 {
				t.Fatalf("error %v maps to status %d", err, c)
			}
			return
		}
		if _, _, err := syncml.Decode(out.Body, out.ContentType, nil); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
	})
}
