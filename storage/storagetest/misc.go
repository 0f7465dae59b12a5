package storagetest

import (
	"bytes"
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

var treeTests = []test{
	{"PrefixMatchesTheNodeAndItsSubtreeButNotSiblingsSharingText", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		mustDevice(t, s, "other")
		uris := []string{"./B", "./A/B/C", "./AB", "./A", "./A-x", "./AB/C", "./A/B", "./A/Ü"}
		var nodes []storage.TreeNode
		for _, u := range uris {
			nodes = append(nodes, storage.TreeNode{DeviceID: "dev", URI: u, Format: "chr", Value: "v" + u})
		}
		nodes = append(nodes, storage.TreeNode{DeviceID: "other", URI: "./A/B", Value: "x"})
		check(t, "PutTreeNodes", s.PutTreeNodes(bg, nodes))
		list := func(prefix string) []string {
			t.Helper()
			ns, err := s.ListTreeNodes(bg, "dev", prefix)
			check(t, "ListTreeNodes", err)
			out := []string{}
			for _, n := range ns {
				if n.DeviceID != "dev" || n.Value != "v"+n.URI {
					t.Errorf("node %+v", n)
				}
				out = append(out, n.URI)
			}
			return out
		}
		cases := []struct {
			prefix string
			want   []string
		}{
			{"", []string{"./A", "./A-x", "./A/B", "./A/B/C", "./A/Ü", "./AB", "./AB/C", "./B"}},
			{"./A", []string{"./A", "./A/B", "./A/B/C", "./A/Ü"}},
			{"./A/", []string{"./A", "./A/B", "./A/B/C", "./A/Ü"}},
			{"./A/B", []string{"./A/B", "./A/B/C"}},
			{"./AB", []string{"./AB", "./AB/C"}},
			{"./A/B/C", []string{"./A/B/C"}},
			{"./Z", []string{}},
			{"./A/B/C/D", []string{}},
		}
		for _, c := range cases {
			deepEqual(t, fmt.Sprintf("prefix %q", c.prefix), list(c.prefix), c.want)
		}
	}},
	{"PutUpsertsByDeviceAndURI", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		at := time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC)
		check(t, "put", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A", Format: "int", Value: "1", UpdatedAt: at}}))
		before := time.Now()
		check(t, "put again", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A", Format: "chr", Type: "text/plain", Value: "two"}}))
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "ListTreeNodes", err)
		if len(ns) != 1 || ns[0].Format != "chr" || ns[0].Type != "text/plain" || ns[0].Value != "two" {
			t.Fatalf("after upsert: %+v", ns)
		}
		between(t, "UpdatedAt", ns[0].UpdatedAt, before, time.Now())
	}},
	{"PutIsAllOrNothing", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		err := s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A"}, {DeviceID: "nobody", URI: "./B"}})
		wantErr(t, "PutTreeNodes with an unknown device", err, storage.ErrNotFound)
		err = s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "dev", URI: "./A"}, {DeviceID: "dev", URI: "./B", Value: "\x00"}})
		if err == nil {
			t.Fatal("PutTreeNodes accepted a NUL byte")
		}
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "ListTreeNodes", err)
		if len(ns) != 0 {
			t.Fatalf("failed puts stored %d nodes", len(ns))
		}
		check(t, "empty put", s.PutTreeNodes(bg, nil))
	}},
	{"DeleteUsesTheSamePrefixSemantics", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		mustDevice(t, s, "other")
		var nodes []storage.TreeNode
		for _, u := range []string{"./A", "./A/B", "./A-x", "./AB", "./B"} {
			nodes = append(nodes, storage.TreeNode{DeviceID: "dev", URI: u}, storage.TreeNode{DeviceID: "other", URI: u})
		}
		check(t, "put", s.PutTreeNodes(bg, nodes))
		check(t, "delete ./A", s.DeleteTreeNodes(bg, "dev", "./A"))
		ns, err := s.ListTreeNodes(bg, "dev", "")
		check(t, "list", err)
		var got []string
		for _, n := range ns {
			got = append(got, n.URI)
		}
		deepEqual(t, "left after deleting ./A", got, []string{"./A-x", "./AB", "./B"})
		check(t, "delete all", s.DeleteTreeNodes(bg, "dev", ""))
		if ns, _ := s.ListTreeNodes(bg, "dev", ""); len(ns) != 0 {
			t.Errorf("%d nodes left after deleting all", len(ns))
		}
		if ns, _ := s.ListTreeNodes(bg, "other", ""); len(ns) != 5 {
			t.Errorf("other device has %d nodes, want 5", len(ns))
		}
	}},
}

var traceTests = []test{
	{"AddRoundTripsBinaryBodyAndListReturnsNewestOldestFirst", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		body := make([]byte, 256)
		for i := range body {
			body[i] = byte(i)
		}
		var added []*storage.TraceEntry
		for i := range 6 {
			tr := &storage.TraceEntry{DeviceID: "dev", SessionID: []string{"S1", "S2"}[i%2],
				Direction: []string{"in", "out"}[i%2], MsgID: fmt.Sprint(i + 1),
				ContentType: "application/vnd.syncml.dm+wbxml", Body: body, Decoded: "<SyncML>ü</SyncML>"}
			before := time.Now()
			check(t, "AddTrace", s.AddTrace(bg, tr))
			between(t, "CreatedAt", tr.CreatedAt, before, time.Now())
			added = append(added, tr)
		}
		got, err := s.ListTraces(bg, "dev", "", 3)
		check(t, "ListTraces", err)
		if len(got) != 3 {
			t.Fatalf("%d traces, want 3", len(got))
		}
		for i, g := range got {
			w := added[3+i]
			if g.ID != w.ID || g.MsgID != w.MsgID || g.SessionID != w.SessionID || g.Direction != w.Direction ||
				g.ContentType != w.ContentType || g.Decoded != w.Decoded || !bytes.Equal(g.Body, body) {
				t.Errorf("trace %d = %+v, want %+v", i, g, w)
			}
			checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
		}
		s1, err := s.ListTraces(bg, "dev", "S1", 0)
		check(t, "ListTraces S1", err)
		if len(s1) != 3 || s1[0].MsgID != "1" || s1[2].MsgID != "5" {
			t.Errorf("session S1 traces: %d, first %v", len(s1), s1)
		}
		empty := &storage.TraceEntry{DeviceID: "dev", Direction: "in"}
		check(t, "AddTrace with empty body", s.AddTrace(bg, empty))
	}},
	{"PruneKeepsTheNewestPerDevice", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		var aIDs []int64
		for i := range 10 {
			tr := &storage.TraceEntry{DeviceID: "a", Direction: "in", MsgID: fmt.Sprint(i)}
			check(t, "AddTrace", s.AddTrace(bg, tr))
			aIDs = append(aIDs, tr.ID)
			if i < 3 {
				check(t, "AddTrace", s.AddTrace(bg, &storage.TraceEntry{DeviceID: "b", Direction: "out"}))
			}
		}
		check(t, "PruneTraces", s.PruneTraces(bg, 4))
		a, err := s.ListTraces(bg, "a", "", 100)
		check(t, "ListTraces", err)
		var got []int64
		for _, tr := range a {
			got = append(got, tr.ID)
		}
		deepEqual(t, "device a after prune", got, aIDs[6:])
		if b, _ := s.ListTraces(bg, "b", "", 100); len(b) != 3 {
			t.Errorf("device b has %d traces, want its 3", len(b))
		}
		check(t, "PruneTraces 0", s.PruneTraces(bg, 0))
		if a, _ := s.ListTraces(bg, "a", "", 100); len(a) != 0 {
			t.Errorf("%d traces left after keeping 0", len(a))
		}
		if err := s.PruneTraces(bg, -1); err == nil {
			t.Error("PruneTraces(-1) accepted")
		}
	}},
	{"TraceOfUnknownDeviceIsErrNotFound", func(t *testing.T, s storage.Store) {
		wantErr(t, "AddTrace", s.AddTrace(bg, &storage.TraceEntry{DeviceID: "nobody", Direction: "in"}), storage.ErrNotFound)
	}},
}
