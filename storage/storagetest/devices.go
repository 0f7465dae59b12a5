package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var deviceTests = []test{
	{"CreateThenGetRoundTripsEveryField", func(t *testing.T, s storage.Store) {
		want := newDevice("IMEI:493005100592800")
		want.LastSeen = time.Date(2025, 1, 2, 3, 4, 5, 999999000, time.FixedZone("X", 3600))
		check(t, "CreateDevice", s.CreateDevice(bg, want))
		got, err := s.GetDevice(bg, want.ID)
		check(t, "GetDevice", err)
		checkDevice(t, got, want)
		if string(got.ServerNonce) != string(binaryNonce) {
			t.Errorf("ServerNonce = %x, want %x (binary bytes exact)", got.ServerNonce, binaryNonce)
		}
	}},
	{"CreateAssignsCreatedAtWhenZero", func(t *testing.T, s storage.Store) {
		d := newDevice("dev")
		d.CreatedAt = time.Time{}
		before := time.Now()
		check(t, "CreateDevice", s.CreateDevice(bg, d))
		between(t, "CreatedAt", d.CreatedAt, before, time.Now())
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		checkTime(t, "stored CreatedAt", got.CreatedAt, d.CreatedAt)
		if !got.LastSeen.IsZero() {
			t.Errorf("LastSeen = %v, want zero until the first session", got.LastSeen)
		}
	}},
	{"CreateWithTakenIDIsErrExists", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		wantErr(t, "second CreateDevice", s.CreateDevice(bg, newDevice("dev")), storage.ErrExists)
	}},
	{"GetUnknownIsErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.GetDevice(bg, "nobody")
		wantErr(t, "GetDevice", err, storage.ErrNotFound)
	}},
	{"UpdateOverwritesMutableFieldsAndKeepsCreatedAt", func(t *testing.T, s storage.Store) {
		orig := mustDevice(t, s, "dev")
		upd := &storage.Device{
			ID: "dev", AuthScheme: "hmac", Username: "u2", Password: "p2", ServerPassword: "sp2",
			ServerNonce: []byte{0xde, 0xad, 0x00}, ClientNonce: nil, NotifyAddr: "sms:+15551234",
			DevInfo: map[string]string{"./DevInfo/Mod": "X1"}, Labels: nil,
			CreatedAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), // ignored: not mutable
			LastSeen:  time.Date(2026, 6, 1, 12, 0, 0, 1000, time.UTC),
		}
		check(t, "UpdateDevice", s.UpdateDevice(bg, upd))
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		want := *upd
		want.CreatedAt = orig.CreatedAt
		checkDevice(t, got, &want)
	}},
	{"UpdateUnknownIsErrNotFound", func(t *testing.T, s storage.Store) {
		wantErr(t, "UpdateDevice", s.UpdateDevice(bg, newDevice("nobody")), storage.ErrNotFound)
	}},
	{"ListPagesInBytewiseIDOrder", func(t *testing.T, s storage.Store) {
		ids := []string{"a", "B", "IMEI:1", "IMEI:10", "IMEI:2", "imei:1", "Z", "ü", "0", "-"}
		for i := range 15 {
			ids = append(ids, fmt.Sprintf("dev-%03d", i))
		}
		shuffled := append([]string(nil), ids...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, id := range shuffled {
			mustDevice(t, s, id)
		}
		slices.Sort(ids) // Go compares strings bytewise
		var got []string
		after := ""
		for range 10 {
			page, err := s.ListDevices(bg, after, 10)
			check(t, "ListDevices", err)
			if len(page) > 10 {
				t.Fatalf("page of %d devices, limit 10", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, d := range page {
				got = append(got, d.ID)
			}
			after = page[len(page)-1].ID
		}
		deepEqual(t, "paged IDs", got, ids)
		all, err := s.ListDevices(bg, "", 0)
		check(t, "ListDevices limit 0", err)
		if len(all) != len(ids) {
			t.Errorf("limit 0 returned %d devices, want all %d (default 100)", len(all), len(ids))
		}
		checkDevice(t, all[0], func() *storage.Device { d := newDevice(ids[0]); return d }())
	}},
	{"CountCountsDevices", func(t *testing.T, s storage.Store) {
		n, err := s.CountDevices(bg)
		check(t, "CountDevices", err)
		if n != 0 {
			t.Fatalf("empty store counts %d devices", n)
		}
		for i := range 3 {
			mustDevice(t, s, fmt.Sprint(i))
		}
		n, err = s.CountDevices(bg)
		check(t, "CountDevices", err)
		if n != 3 {
			t.Errorf("CountDevices = %d, want 3", n)
		}
	}},
	{"DeleteRemovesEverythingTheDeviceOwns", func(t *testing.T, s storage.Store) {
		populate := func(id string) (*storage.Job, *storage.Session) {
			mustDevice(t, s, id)
			j := mustJob(t, s, id, getSpec("./DevInfo/Man"))
			ss := &storage.Session{DeviceID: id, SessionID: "1", Token: "tok-" + id, State: []byte("x")}
			check(t, "SaveSession", s.SaveSession(bg, ss))
			check(t, "AddEvent", s.AddEvent(bg, &storage.Event{DeviceID: id, Kind: "generic-alert"}))
			check(t, "PutTreeNodes", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: id, URI: "./DevInfo/Man", Value: "Acme"}}))
			check(t, "AddTrace", s.AddTrace(bg, &storage.TraceEntry{DeviceID: id, SessionID: "1", Direction: "in", Body: []byte("<SyncML/>")}))
			return j, ss
		}
		gone, _ := populate("gone")
		keptJob, _ := populate("kept")

		check(t, "DeleteDevice", s.DeleteDevice(bg, "gone"))

		_, err := s.GetDevice(bg, "gone")
		wantErr(t, "GetDevice after delete", err, storage.ErrNotFound)
		_, err = s.GetJob(bg, gone.ID)
		wantErr(t, "GetJob after delete", err, storage.ErrNotFound)
		_, err = s.GetSession(bg, "gone", "1")
		wantErr(t, "GetSession after delete", err, storage.ErrNotFound)
		_, err = s.GetSessionByToken(bg, "tok-gone")
		wantErr(t, "GetSessionByToken after delete", err, storage.ErrNotFound)
		evs, err := s.ListEvents(bg, "gone", 0, 0)
		check(t, "ListEvents", err)
		nodes, err := s.ListTreeNodes(bg, "gone", "")
		check(t, "ListTreeNodes", err)
		trs, err := s.ListTraces(bg, "gone", "", 0)
		check(t, "ListTraces", err)
		if len(evs)+len(nodes)+len(trs) != 0 {
			t.Errorf("left behind: %d events, %d tree nodes, %d traces", len(evs), len(nodes), len(trs))
		}
		allEvents, err := s.ListEvents(bg, "", 0, 0)
		check(t, "ListEvents all", err)
		if len(allEvents) != 1 || allEvents[0].DeviceID != "kept" {
			t.Errorf("events after delete = %+v, want only the kept device's", allEvents)
		}
		if n, _ := s.CountJobs(bg, storage.JobQueued); n != 1 {
			t.Errorf("queued jobs after delete = %d, want 1", n)
		}

		if _, err := s.GetJob(bg, keptJob.ID); err != nil {
			t.Errorf("other device's job: %v", err)
		}
		if _, err := s.GetSessionByToken(bg, "tok-kept"); err != nil {
			t.Errorf("other device's session: %v", err)
		}
		if n, _ := s.ListTreeNodes(bg, "kept", ""); len(n) != 1 {
			t.Errorf("other device's tree nodes = %d, want 1", len(n))
		}
		if tr, _ := s.ListTraces(bg, "kept", "", 0); len(tr) != 1 {
			t.Errorf("other device's traces = %d, want 1", len(tr))
		}
		wantErr(t, "second DeleteDevice", s.DeleteDevice(bg, "gone"), storage.ErrNotFound)
		// The ID is free again.
		mustDevice(t, s, "gone")
	}},
	{"RejectsUnstorableInputWithAnError", func(t *testing.T, s storage.Store) {
		cases := []struct {
			name string
			mod  func(d *storage.Device)
		}{
			{"empty id", func(d *storage.Device) { d.ID = "" }},
			{"NUL in password", func(d *storage.Device) { d.Password = "a\x00b" }},
			{"invalid UTF-8 in username", func(d *storage.Device) { d.Username = "\xc3\x28" }},
		}
		for _, c := range cases {
			d := newDevice("dev")
			c.mod(d)
			err := s.CreateDevice(bg, d)
			if err == nil {
				t.Errorf("%s: CreateDevice accepted it", c.name)
			}
		}
		if n, _ := s.CountDevices(context.Background()); n != 0 {
			t.Errorf("%d devices stored from bad input", n)
		}
	}},
}
