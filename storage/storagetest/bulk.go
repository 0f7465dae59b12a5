package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/omadm/omadm/storage"
)

// bulkTests cover many traces and events in one WriteEffects (the engine's
// trace write-behind), which stores with a storage.BulkAdder use.
var bulkTests = []test{
	{"ManyRecordsKeepOrderIDsAndFields", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		// 100 and 71: neither a power of two nor under any statement size.
		var ts []*storage.TraceEntry
		for i := range 100 {
			ts = append(ts, &storage.TraceEntry{DeviceID: []string{"a", "b"}[i%2], SessionID: fmt.Sprint(i / 4),
				Direction: []string{"in", "out"}[i%2], MsgID: fmt.Sprint(i), ContentType: "application/vnd.syncml.dm+xml",
				Body: []byte(fmt.Sprintf("<SyncML>%d</SyncML>", i))})
		}
		var evs []*storage.Event
		for i := range 71 {
			evs = append(evs, &storage.Event{DeviceID: []string{"b", "a"}[i%2], SessionID: fmt.Sprint(i), Kind: "session-end", Data: fmt.Sprint(i)})
		}
		check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Traces: ts, Events: evs}))
		for i := 1; i < len(ts); i++ {
			if ts[i].ID <= ts[i-1].ID {
				t.Fatalf("trace IDs not ascending in order: %d then %d", ts[i-1].ID, ts[i].ID)
			}
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].ID <= evs[i-1].ID {
				t.Fatalf("event IDs not ascending in order: %d then %d", evs[i-1].ID, evs[i].ID)
			}
		}
		got, err := s.ListTraces(bg, "a", "", 1000)
		check(t, "ListTraces", err)
		if len(got) != 50 {
			t.Fatalf("device a has %d traces, want 50", len(got))
		}
		for k, g := range got {
			w := ts[2*k]
			if g.ID != w.ID || g.MsgID != w.MsgID || g.SessionID != w.SessionID || string(g.Body) != string(w.Body) || g.Direction != "in" {
				t.Fatalf("trace %d = %+v, want %+v", k, g, w)
			}
			checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
		}
		gotEv, err := s.ListEvents(bg, "b", 0, 1000)
		check(t, "ListEvents", err)
		if len(gotEv) != 36 {
			t.Fatalf("device b has %d events, want 36", len(gotEv))
		}
		for k, g := range gotEv {
			if w := evs[2*k]; g.ID != w.ID || g.Data != w.Data {
				t.Fatalf("event %d = %+v, want %+v", k, g, w)
			}
		}
	}},
	{"OneMissingDeviceStoresNothing", func(t *testing.T, s storage.Store) {
		if _, ok := s.(storage.Batcher); !ok {
			if _, ok := s.(storage.EffectsWriter); !ok {
				t.Skip("store writes record by record (no batches)")
			}
		}
		mustDevice(t, s, "a")
		var ts []*storage.TraceEntry
		for i := range 70 {
			id := "a"
			if i == 66 {
				id = "gone"
			}
			ts = append(ts, &storage.TraceEntry{DeviceID: id, Direction: "in", Body: []byte("x")})
		}
		evs := []*storage.Event{{DeviceID: "a", Kind: "session-start"}}
		err := storage.WriteEffects(bg, s, &storage.Effects{Traces: ts, Events: evs})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("WriteEffects with a missing device: %v, want ErrNotFound", err)
		}
		got, err := s.ListTraces(bg, "a", "", 1000)
		check(t, "ListTraces", err)
		gotEv, err2 := s.ListEvents(bg, "a", 0, 10)
		check(t, "ListEvents", err2)
		if len(got) != 0 || len(gotEv) != 0 {
			t.Errorf("%d traces and %d events stored from a refused write", len(got), len(gotEv))
		}
	}},
}
