package storagetest

import (
	"fmt"
	"testing"

	"github.com/omadm/omadm/storage"
)

// addTraces stores n traces of a device and returns their IDs in order.
func addTraces(t *testing.T, s storage.Store, deviceID string, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		tr := &storage.TraceEntry{DeviceID: deviceID, SessionID: "S", Direction: "in", MsgID: fmt.Sprint(i)}
		check(t, "AddTrace", s.AddTrace(bg, tr))
		ids = append(ids, tr.ID)
	}
	return ids
}

func traceIDs(t *testing.T, s storage.Store, deviceID string) []int64 {
	t.Helper()
	ts, err := s.ListTraces(bg, deviceID, "", 1000)
	check(t, "ListTraces", err)
	ids := []int64{}
	for _, tr := range ts {
		ids = append(ids, tr.ID)
	}
	return ids
}

// pruneTests cover the per-device trace retention (the table-wide
// PruneTraces cost grew with every trace of every device).
var pruneTests = []test{
	{"PruneDeviceTracesKeepsTheNewestOfThatDeviceOnly", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		a := addTraces(t, s, "a", 7)
		b := addTraces(t, s, "b", 5)
		n, err := storage.PruneDeviceTraces(bg, s, "a", 3)
		check(t, "PruneDeviceTraces", err)
		if _, ok := s.(storage.DeviceTracePruner); ok && n != 4 {
			t.Errorf("PruneDeviceTraces deleted %d, want 4", n)
		}
		deepEqual(t, "device a", traceIDs(t, s, "a"), a[4:])
		if _, ok := s.(storage.DeviceTracePruner); ok {
			deepEqual(t, "device b (not pruned)", traceIDs(t, s, "b"), b)
		}
	}},
	{"PruneDeviceTracesWithinRetentionDeletesNothing", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		a := addTraces(t, s, "a", 3)
		for _, keep := range []int{3, 4, 100} {
			n, err := storage.PruneDeviceTraces(bg, s, "a", keep)
			check(t, "PruneDeviceTraces", err)
			if n > 0 {
				t.Errorf("keep %d: deleted %d", keep, n)
			}
		}
		deepEqual(t, "device a", traceIDs(t, s, "a"), a)
		n, err := storage.PruneDeviceTraces(bg, s, "nobody", 1)
		check(t, "PruneDeviceTraces of an unknown device", err)
		if n > 0 {
			t.Errorf("unknown device: deleted %d", n)
		}
	}},
	{"PruneDeviceTracesKeepZeroEmptiesAndNegativeIsAnError", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		addTraces(t, s, "a", 3)
		_, err := storage.PruneDeviceTraces(bg, s, "a", 0)
		check(t, "PruneDeviceTraces 0", err)
		deepEqual(t, "device a", traceIDs(t, s, "a"), []int64{})
		if _, err := storage.PruneDeviceTraces(bg, s, "a", -1); err == nil {
			t.Error("PruneDeviceTraces(-1) accepted")
		}
		if p, ok := s.(storage.DeviceTracePruner); ok {
			if _, err := p.PruneDeviceTraces(bg, "a", -1); err == nil {
				t.Error("backend PruneDeviceTraces(-1) accepted")
			}
		}
	}},
	{"EffectsWithTraceKeepTrimTheDevicesTheyTrace", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		mustDevice(t, s, "c")
		old := addTraces(t, s, "a", 5)
		addTraces(t, s, "b", 5)
		c := addTraces(t, s, "c", 5)
		e := &storage.Effects{TraceKeep: 3, Traces: []*storage.TraceEntry{
			{DeviceID: "a", SessionID: "S2", Direction: "in", MsgID: "1"},
			{DeviceID: "b", SessionID: "S2", Direction: "in", MsgID: "1"},
			{DeviceID: "a", SessionID: "S2", Direction: "out", MsgID: "1"},
		}}
		check(t, "WriteEffects", storage.WriteEffects(bg, s, e))
		deepEqual(t, "device a", traceIDs(t, s, "a"), []int64{old[4], e.Traces[0].ID, e.Traces[2].ID})
		if got := traceIDs(t, s, "b"); len(got) != 3 || got[2] != e.Traces[1].ID {
			t.Errorf("device b: %v, want its 2 newest old traces and %d", got, e.Traces[1].ID)
		}
		if _, ok := s.(storage.DeviceTracePruner); ok {
			deepEqual(t, "device c (no trace in the effects)", traceIDs(t, s, "c"), c)
		}
	}},
	{"EffectsRefusedByAGuardTrimNothing", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		a := addTraces(t, s, "a", 5)
		j := mustJob(t, s, "a", getSpec("./X"))
		_, err := s.CancelJob(bg, j.ID)
		check(t, "CancelJob", err)
		j.State = storage.JobSent
		e := &storage.Effects{TraceKeep: 1, Jobs: []*storage.Job{j}, Guarded: 1,
			Traces: []*storage.TraceEntry{{DeviceID: "a", SessionID: "S2", Direction: "in", MsgID: "1"}}}
		wantErr(t, "WriteEffects", storage.WriteEffects(bg, s, e), storage.ErrGuard)
		deepEqual(t, "device a", traceIDs(t, s, "a"), a)
	}},
}
