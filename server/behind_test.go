package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
)

// traceCounts is how many traces and events the store holds for the device.
func traceCounts(t *testing.T, st storage.Store, id string) (traces, events int) {
	t.Helper()
	tr, err := st.ListTraces(context.Background(), id, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.ListEvents(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(tr), len(evs)
}

func TestEngine_TracesAreWrittenBehindAndFlushed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush time.Duration
		// before is what the store holds right after the session, before
		// any flush: nothing when written behind (the interval is long),
		// everything when written with each message.
		beforeTraces, beforeEvents int
	}{
		{"behind", time.Hour, 0, 0},
		{"with each message", -1, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, func(o *server.Options) { o.TraceFlush = tc.flush })
			h.addDevice(t, "basic")
			d := newDevice(h.e, "basic")
			d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if tr, ev := traceCounts(t, h.store, devID); tr != tc.beforeTraces || ev != tc.beforeEvents {
				t.Errorf("before flush: %d traces, %d events; want %d, %d", tr, ev, tc.beforeTraces, tc.beforeEvents)
			}
			h.e.Flush(context.Background())
			if tr, ev := traceCounts(t, h.store, devID); tr != 2 || ev != 2 {
				t.Errorf("after flush: %d traces, %d events; want 2, 2", tr, ev)
			}
			var traceUpd, sessUpd int
			for _, u := range h.updates() {
				switch u.Kind {
				case "trace":
					traceUpd++
					if u.TraceID == 0 {
						t.Errorf("trace update without an id: %+v", u)
					}
				case "session":
					sessUpd++
				}
			}
			if traceUpd != 2 || sessUpd != 2 {
				t.Errorf("live updates: %d trace, %d session; want 2, 2", traceUpd, sessUpd)
			}
		})
	}
}

func TestEngine_CloseWritesTheTraceBacklog(t *testing.T) {
	st := memstore.New()
	h := newHarness(t, st, func(o *server.Options) { o.TraceFlush = time.Hour })
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	h.e.Close(context.Background())
	if tr, ev := traceCounts(t, st, devID); tr != 2 || ev != 2 {
		t.Errorf("after Close: %d traces, %d events; want 2, 2", tr, ev)
	}
	// After Close the engine still works; its traces are written at once.
	d2 := newDevice(h.e, "basic")
	d2.sessionID = "2"
	d2.post(t, d2.message(true, d2.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if tr, _ := traceCounts(t, st, devID); tr != 4 {
		t.Errorf("after a session past Close: %d traces, want 4", tr)
	}
}

// failingTraces refuses any write that carries more than one trace, as a
// store does whose batch holds one record of a device deleted meanwhile.
type failingTraces struct{ storage.Store }

func (f failingTraces) WriteEffects(ctx context.Context, e *storage.Effects) error {
	if len(e.Traces) > 1 {
		return errors.New("injected: batch refused")
	}
	return storage.WriteEffects(ctx, f.Store, e)
}

func TestEngine_TraceBacklogFallsBackToOneByOne(t *testing.T) {
	base := memstore.New()
	h := newHarness(t, failingTraces{base}, func(o *server.Options) { o.TraceFlush = time.Hour })
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	h.e.Flush(context.Background())
	if tr, ev := traceCounts(t, base, devID); tr != 2 || ev != 2 {
		t.Errorf("after a refused batch: %d traces, %d events; want 2, 2 written one by one", tr, ev)
	}
}
