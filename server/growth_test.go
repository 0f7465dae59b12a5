package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

func TestEngine_SweepAppliesTraceAgeRetention(t *testing.T) {
	now := time.Now().UTC()
	for _, tc := range []struct {
		name  string
		store func(testing.TB) storage.Store
		age   time.Duration
		want  []string // MsgIDs left, oldest first
	}{
		{"memstore, off by default", func(testing.TB) storage.Store { return memstore.New() }, 0, []string{"old", "week", "new"}},
		{"memstore, one day", func(testing.TB) storage.Store { return memstore.New() }, 24 * time.Hour, []string{"new"}},
		{"sqlite, three days", openSQLite, 72 * time.Hour, []string{"new"}},
		{"sqlite, thirty days", openSQLite, 30 * 24 * time.Hour, []string{"week", "new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store(t)
			h := newHarness(t, st, func(o *server.Options) { o.TraceMaxAge = tc.age })
			h.addDevice(t, "basic")
			ctx := context.Background()
			for _, tr := range []struct {
				id  string
				age time.Duration
			}{{"old", 400 * 24 * time.Hour}, {"week", 7 * 24 * time.Hour}, {"new", time.Minute}} {
				if err := st.AddTrace(ctx, &storage.TraceEntry{DeviceID: devID, SessionID: "1", Direction: "in", MsgID: tr.id,
					CreatedAt: now.Add(-tr.age)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			ts, err := st.ListTraces(ctx, devID, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range ts {
				got = append(got, tr.MsgID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("traces left %v, want %v", got, tc.want)
			}
		})
	}
}

// A device whose session never ended is trimmed by the next sweep, which
// looks only at the traces added since the one before.
func TestEngine_SweepTrimsDevicesThatGotTracesSinceTheLastSweep(t *testing.T) {
	st := openSQLite(t)
	h := newHarness(t, st, func(o *server.Options) { o.TraceKeep = 3 })
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := st.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "basic"}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(dev string, n int) {
		for i := range n {
			if err := st.AddTrace(ctx, &storage.TraceEntry{DeviceID: dev, SessionID: "1", Direction: "in", MsgID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(dev string) int {
		ts, err := st.ListTraces(ctx, dev, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	add("a", 5)
	if err := h.e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	add("b", 4)
	add("a", 2)
	if err := h.e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := count("a"), count("b"); a != 3 || b != 3 {
		t.Errorf("traces left: a %d, b %d; want 3 each", a, b)
	}
}
