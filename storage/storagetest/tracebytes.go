package storagetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/omadm/omadm/storage"
)

// sizedTraces adds n traces of growing bodies to deviceID, through AddTrace
// and WriteEffects alternately, and returns their IDs.
func sizedTraces(t *testing.T, s storage.Store, deviceID string, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		tr := &storage.TraceEntry{DeviceID: deviceID, SessionID: fmt.Sprint("S", i/2), Direction: "in", MsgID: fmt.Sprint(i),
			ContentType: "application/vnd.syncml.dm+xml", Body: noise(uint64(i), 64+16*i), Decoded: "<SyncML/>"}
		if i%2 == 0 {
			check(t, "AddTrace", s.AddTrace(bg, tr))
		} else {
			check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Traces: []*storage.TraceEntry{tr}}))
		}
		ids = append(ids, tr.ID)
	}
	return ids
}

// noise is n bytes no compressor shrinks much, so stored sizes grow with n
// whatever form a backend keeps bodies in.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func traceBytes(t *testing.T, s storage.Store) int64 {
	t.Helper()
	n, err := s.TraceBytes(bg)
	check(t, "TraceBytes", err)
	return n
}

// traceByteTests check storage.TraceByteKeeper: the running total of the
// stored trace bytes and the bounded, oldest-first deletion.
var traceByteTests = []test{
	{"TraceBytesFollowsAddsAndDeletes", func(t *testing.T, s storage.Store) {
		if n := traceBytes(t, s); n != 0 {
			t.Fatalf("empty store: TraceBytes = %d", n)
		}
		mustDevice(t, s, "a")
		sizedTraces(t, s, "a", 6)
		total := traceBytes(t, s)
		if total <= 0 {
			t.Fatalf("after 6 traces: TraceBytes = %d", total)
		}
		n, freed, err := s.DeleteOldestTraces(bg, 100, total+1)
		check(t, "DeleteOldestTraces", err)
		if n != 6 || freed != total {
			t.Errorf("DeleteOldestTraces(excess beyond the total) = %d traces, %d bytes; want 6, %d", n, freed, total)
		}
		if got := traceBytes(t, s); got != 0 {
			t.Errorf("after deleting every trace: TraceBytes = %d", got)
		}
	}},
	{"DeleteOldestTracesDeletesOldestFirstUntilTheExcessIsFreed", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		// Bodies grow with each trace of a device: a's 8 come first.
		all := sizedTraces(t, s, "a", 8)
		all = append(all, sizedTraces(t, s, "b", 4)...)
		before := traceBytes(t, s)
		// One byte of excess: the oldest trace alone covers it.
		n, freed, err := s.DeleteOldestTraces(bg, 100, 1)
		check(t, "DeleteOldestTraces", err)
		if n != 1 || freed <= 0 {
			t.Fatalf("DeleteOldestTraces(excess 1) = %d traces, %d bytes; want 1 trace", n, freed)
		}
		if got := traceBytes(t, s); got != before-freed {
			t.Errorf("TraceBytes = %d after freeing %d of %d", got, freed, before)
		}
		// One byte more than the next trace holds: that one and the next.
		rest := all[1:]
		first := traceBytes(t, s)
		n, one, err := s.DeleteOldestTraces(bg, 1, 1<<40) // learn the next trace's size
		check(t, "DeleteOldestTraces(limit 1)", err)
		if n != 1 {
			t.Fatalf("DeleteOldestTraces(limit 1) deleted %d", n)
		}
		if got := traceBytes(t, s); got != first-one {
			t.Errorf("TraceBytes = %d, want %d", got, first-one)
		}
		rest = rest[1:]
		n, freed, err = s.DeleteOldestTraces(bg, 100, one) // the traces grow: the next alone holds more than one
		check(t, "DeleteOldestTraces", err)
		if n != 1 || freed < one {
			t.Errorf("DeleteOldestTraces(excess %d) = %d traces, %d bytes; want 1 trace of at least %d bytes", one, n, freed, one)
		}
		rest = rest[1:]
		got := append(traceIDs(t, s, "a"), traceIDs(t, s, "b")...)
		slices.Sort(got)
		deepEqual(t, "traces left", got, rest)
	}},
	{"DeleteOldestTracesVisitsAtMostLimit", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		ids := sizedTraces(t, s, "a", 10)
		n, _, err := s.DeleteOldestTraces(bg, 3, 1<<40)
		check(t, "DeleteOldestTraces", err)
		if n != 3 {
			t.Errorf("DeleteOldestTraces(limit 3) deleted %d", n)
		}
		deepEqual(t, "traces left", traceIDs(t, s, "a"), ids[3:])
	}},
	{"DeletingADeviceLowersTraceBytes", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		sizedTraces(t, s, "a", 4)
		sizedTraces(t, s, "b", 3)
		both := traceBytes(t, s)
		check(t, "DeleteDevice", s.DeleteDevice(bg, "a"))
		onlyB := traceBytes(t, s)
		if onlyB <= 0 || onlyB >= both {
			t.Fatalf("TraceBytes = %d after deleting a device (was %d)", onlyB, both)
		}
		n, freed, err := s.DeleteOldestTraces(bg, 100, 1<<40)
		check(t, "DeleteOldestTraces", err)
		if n != 3 || freed != onlyB {
			t.Errorf("DeleteOldestTraces = %d traces, %d bytes; want 3, %d", n, freed, onlyB)
		}
		if got := traceBytes(t, s); got != 0 {
			t.Errorf("TraceBytes = %d with no trace left", got)
		}
	}},
	{"DeleteOldestTracesArguments", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		ids := sizedTraces(t, s, "a", 2)
		if _, _, err := s.DeleteOldestTraces(bg, 0, 1); err == nil {
			t.Error("DeleteOldestTraces(limit 0) accepted")
		}
		for _, excess := range []int64{0, -5} {
			n, freed, err := s.DeleteOldestTraces(bg, 100, excess)
			check(t, "DeleteOldestTraces", err)
			if n != 0 || freed != 0 {
				t.Errorf("excess %d: deleted %d traces, %d bytes", excess, n, freed)
			}
		}
		deepEqual(t, "traces left", traceIDs(t, s, "a"), ids)
	}},
}

// BenchTraceBytesStep measures one step of the trace size bound on a
// table already holding stored traces: 100 traces of 1 KiB are added
// (outside the timer), then the bytes are read and the oldest traces
// freeing the excess are deleted. Its cost is that of the step, whatever
// the table holds: run it with different stored values to compare.
func BenchTraceBytesStep(b *testing.B, s storage.Store, stored int) {
	benchDevice(b, s, "dev")
	body := noise(1, 1024)
	add := func(n int) {
		e := &storage.Effects{}
		for i := range n {
			e.Traces = append(e.Traces, &storage.TraceEntry{DeviceID: "dev", SessionID: fmt.Sprint(i / 10), Direction: "in",
				MsgID: fmt.Sprint(i % 10), ContentType: "application/octet-stream", Body: body})
		}
		if err := storage.WriteEffects(bg, s, e); err != nil {
			b.Fatal(err)
		}
	}
	for n := stored; n > 0; n -= 1000 {
		add(min(n, 1000))
	}
	bound, err := s.TraceBytes(bg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		add(100)
		b.StartTimer()
		total, err := s.TraceBytes(bg)
		if err != nil {
			b.Fatal(err)
		}
		if n, _, err := s.DeleteOldestTraces(bg, 2000, total-bound); err != nil || n == 0 {
			b.Fatalf("DeleteOldestTraces: %d deleted, %v", n, err)
		}
	}
}
