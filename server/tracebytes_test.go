package server_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// addSizedTraces adds n traces of size bytes each (bodies no compressor
// shrinks, so every backend stores about size bytes) and returns their IDs.
func addSizedTraces(t *testing.T, st storage.Store, n, size int) []int64 {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var ids []int64
	for range n {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		tr := &storage.TraceEntry{DeviceID: devID, SessionID: "S", Direction: "in", MsgID: "1", Body: b}
		if err := st.AddTrace(context.Background(), tr); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID)
	}
	return ids
}

func storedTraceIDs(t *testing.T, st storage.Store) []int64 {
	t.Helper()
	ts, err := st.ListTraces(context.Background(), devID, "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, tr := range ts {
		ids = append(ids, tr.ID)
	}
	return ids
}

func TestEngine_SweepDeletesOldestTracesOverTheSizeBound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(testing.TB) storage.Store
	}{
		{"memstore", func(testing.TB) storage.Store { return memstore.New() }},
		{"sqlite", openSQLite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := tc.store(t)
			newHarness(t, st).addDevice(t, "basic")
			ids := addSizedTraces(t, st, 10, 1000)
			total, err := st.TraceBytes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Room for about four and a half traces: the newest four stay.
			max := total * 45 / 100
			h := newHarness(t, st, func(o *server.Options) { o.TraceKeep = 1000; o.TraceMaxBytes = max })
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			left, err := st.TraceBytes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if left > max {
				t.Errorf("TraceBytes = %d after the sweep, over the bound %d", left, max)
			}
			if got := storedTraceIDs(t, st); !slices.Equal(got, ids[6:]) {
				t.Errorf("traces left %v, want the newest four %v", got, ids[6:])
			}
			// Under the bound: a second sweep deletes nothing.
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if got := storedTraceIDs(t, st); !slices.Equal(got, ids[6:]) {
				t.Errorf("second sweep: traces left %v, want %v", got, ids[6:])
			}
		})
	}
}

// countingStore records the size-bound deletions the engine asks for.
type countingStore struct {
	storage.Store
	mu     sync.Mutex
	calls  int
	limits []int
}

func (c *countingStore) DeleteOldestTraces(ctx context.Context, limit int, excess int64) (int, int64, error) {
	c.mu.Lock()
	c.calls++
	c.limits = append(c.limits, limit)
	c.mu.Unlock()
	return c.Store.DeleteOldestTraces(ctx, limit, excess)
}

// A store far over the bound is brought under it over several rounds:
// each round does at most TraceBytesStepsPerRound steps of TraceSweepStep
// traces, so one round's work does not grow with the table.
func TestEngine_TraceSizeSweepIsBoundedPerRound(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	h := newHarness(t, st, func(o *server.Options) { o.TraceKeep = 1 << 30; o.TraceMaxBytes = 1 })
	h.addDevice(t, "basic")
	perRound := server.TraceBytesStepsPerRound * server.TraceSweepStep
	ids := addSizedTraces(t, st, perRound+300, 4)

	if err := h.e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if st.calls != server.TraceBytesStepsPerRound {
		t.Errorf("first round: %d deletion steps, want %d", st.calls, server.TraceBytesStepsPerRound)
	}
	for _, l := range st.limits {
		if l != server.TraceSweepStep {
			t.Errorf("a step visited up to %d traces, want %d", l, server.TraceSweepStep)
		}
	}
	if got := storedTraceIDs(t, st); !slices.Equal(got, ids[perRound:]) {
		t.Errorf("first round left %d traces, want the newest %d", len(got), len(ids)-perRound)
	}

	st.calls = 0
	if err := h.e.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedTraceIDs(t, st); len(got) != 0 {
		t.Errorf("second round left %d traces over a bound of one byte", len(got))
	}
	if st.calls != 1 {
		t.Errorf("second round: %d deletion steps, want 1", st.calls)
	}
}
