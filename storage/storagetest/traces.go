package storagetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

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
