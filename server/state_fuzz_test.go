package server_test

import (
	"context"
	"os"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// FuzzEngine_StoredSessionState gives the engine arbitrary stored session
// state (compact or legacy JSON, truncated, garbage) for the session a
// message continues: it must never panic, and a state it cannot read is a
// 5xx error, not a reply built from half a state.
func FuzzEngine_StoredSessionState(f *testing.F) {
	pkg1, err := os.ReadFile("testdata/pkg1-basic.xml")
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: the state the engine itself stored after package 1, cut at
	// several places, and the older all-JSON format.
	{
		h := newHarness(f, nil)
		h.addDevice(f, "basic")
		h.addJob(f, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./A"}}})
		d := newDevice(h.e, "basic")
		d.post(f, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
		s, err := h.store.GetSession(context.Background(), devID, "1")
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range []int{len(s.State), len(s.State) / 2, 3, 1, 0} {
			f.Add(s.State[:n])
		}
		f.Add([]byte(`{"enc":0,"in_msgid":1,"out_msgid":1,"authed":true,"pending":{"1/2":{"job":1,"cmd":"Get"}}}`))
		f.Add([]byte{0x02, 0xff, 0xff, 0xff, 0xff, 0x0f})
	}
	f.Fuzz(func(t *testing.T, state []byte) {
		store := memstore.New()
		h := newHarness(t, store)
		h.addDevice(t, "basic")
		ctx := context.Background()
		if err := store.SaveSession(ctx, &storage.Session{DeviceID: devID, SessionID: "1", Token: "tok", State: state}); err != nil {
			t.Fatal(err)
		}
		out, err := h.e.Handle(ctx, &server.Inbound{Body: pkg1, ContentType: syncml.ContentTypeXML, Addr: dmhttp.RequestAddressing(dmURL), SecureSession: dmhttp.SecureURL(dmURL)})
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
