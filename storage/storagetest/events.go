package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var eventTests = []test{
	{"AddAssignsIDAndCreatedAtAndRoundTripsFields", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		want := &storage.Event{
			DeviceID: "dev", SessionID: "S1", Kind: "generic-alert",
			Type:   "org.openmobilealliance.dm.firmwareupdate.update",
			Source: "./FwUpdate/x/Update", Target: "", Format: "int", Mark: "critical",
			Data: "200 ü <x>", Correlator: "abc",
		}
		before := time.Now()
		check(t, "AddEvent", s.AddEvent(bg, want))
		if want.ID <= 0 {
			t.Fatalf("ID = %d", want.ID)
		}
		between(t, "CreatedAt", want.CreatedAt, before, time.Now())
		given := &storage.Event{DeviceID: "dev", Kind: "session-end", CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 5000, time.UTC)}
		check(t, "AddEvent", s.AddEvent(bg, given))
		got, err := s.ListEvents(bg, "dev", 0, 0)
		check(t, "ListEvents", err)
		if len(got) != 2 {
			t.Fatalf("%d events", len(got))
		}
		for i, w := range []*storage.Event{want, given} {
			g := *got[i]
			checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
			g.CreatedAt = w.CreatedAt
			deepEqual(t, "event", &g, w)
		}
	}},
	{"ListFiltersByDeviceAndPagesByID", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		var aIDs, all []int64
		for i := range 9 {
			dev := []string{"a", "b", "a"}[i%3]
			e := &storage.Event{DeviceID: dev, Kind: "generic-alert", Data: fmt.Sprint(i)}
			check(t, "AddEvent", s.AddEvent(bg, e))
			all = append(all, e.ID)
			if dev == "a" {
				aIDs = append(aIDs, e.ID)
			}
		}
		ids := func(dev string, after int64, limit int) []int64 {
			t.Helper()
			es, err := s.ListEvents(bg, dev, after, limit)
			check(t, "ListEvents", err)
			out := make([]int64, len(es))
			for i, e := range es {
				out[i] = e.ID
			}
			return out
		}
		deepEqual(t, "device a", ids("a", 0, 0), aIDs)
		deepEqual(t, "all devices", ids("", 0, 0), all)
		deepEqual(t, "a after the second, limit 2", ids("a", aIDs[1], 2), aIDs[2:4])
		deepEqual(t, "all after the last", ids("", all[len(all)-1], 0), []int64{})
	}},
	{"DeleteEventsBeforeRemovesOnlyOlderEventsOfEveryDevice", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		cut := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		// Out of creation order on purpose: retention goes by time, not ID.
		offsets := []time.Duration{-time.Hour, time.Hour, -time.Microsecond, 0, -48 * time.Hour, time.Minute}
		var kept []int64
		for i, off := range offsets {
			e := &storage.Event{DeviceID: []string{"a", "b"}[i%2], Kind: "generic-alert", CreatedAt: cut.Add(off)}
			check(t, "AddEvent", s.AddEvent(bg, e))
			if off >= 0 {
				kept = append(kept, e.ID)
			}
		}
		n, err := s.DeleteEventsBefore(bg, cut)
		check(t, "DeleteEventsBefore", err)
		if n != 3 {
			t.Errorf("deleted %d, want 3", n)
		}
		got, err := s.ListEvents(bg, "", 0, 0)
		check(t, "ListEvents", err)
		ids := []int64{}
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		deepEqual(t, "kept events", ids, kept)
		n, err = s.DeleteEventsBefore(bg, cut)
		check(t, "DeleteEventsBefore again", err)
		if n != 0 {
			t.Errorf("second sweep deleted %d, want 0", n)
		}
	}},
	{"DeleteEventsBeforeRemovesABacklogLargerThanOneChunk", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var evs []*storage.Event
		for i := range 4500 {
			evs = append(evs, &storage.Event{DeviceID: "a", Kind: "session-end", CreatedAt: old.Add(time.Duration(i) * time.Second)})
		}
		evs = append(evs, &storage.Event{DeviceID: "a", Kind: "generic-alert", CreatedAt: old.Add(24 * time.Hour)})
		check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Events: evs}))
		n, err := s.DeleteEventsBefore(bg, old.Add(12*time.Hour))
		check(t, "DeleteEventsBefore", err)
		if n != 4500 {
			t.Errorf("deleted %d, want 4500", n)
		}
		got, err := s.ListEvents(bg, "a", 0, 0)
		check(t, "ListEvents", err)
		if len(got) != 1 || got[0].Kind != "generic-alert" {
			t.Errorf("left %d events, want the one generic alert", len(got))
		}
	}},
	{"EventOfUnknownDeviceIsErrNotFound", func(t *testing.T, s storage.Store) {
		wantErr(t, "AddEvent", s.AddEvent(bg, &storage.Event{DeviceID: "nobody", Kind: "x"}), storage.ErrNotFound)
	}},
}
