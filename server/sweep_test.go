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

func TestEngine_SweepAppliesEventRetention(t *testing.T) {
	now := time.Now().UTC()
	cases := []struct {
		name     string
		keep     time.Duration
		wantLeft []string
	}{
		{"default keeps 30 days", 0, []string{"new", "month-"}},
		{"one hour", time.Hour, []string{"new"}},
		{"negative keeps everything", -1, []string{"old", "month+", "month-", "new"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			h := newHarness(t, st, func(o *server.Options) { o.EventKeep = tc.keep })
			h.addDevice(t, "basic")
			ctx := context.Background()
			for _, e := range []struct {
				data string
				age  time.Duration
			}{{"old", 400 * 24 * time.Hour}, {"month+", 31 * 24 * time.Hour}, {"month-", 29 * 24 * time.Hour}, {"new", time.Minute}} {
				if err := st.AddEvent(ctx, &storage.Event{DeviceID: devID, Kind: "generic-alert", Data: e.data, CreatedAt: now.Add(-e.age)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			evs, err := st.ListEvents(ctx, devID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]bool{}
			for _, e := range evs {
				left[e.Data] = true
			}
			if len(left) != len(tc.wantLeft) {
				t.Errorf("%d events left, want %v", len(evs), tc.wantLeft)
			}
			for _, w := range tc.wantLeft {
				if !left[w] {
					t.Errorf("event %q was deleted; want kept", w)
				}
			}
		})
	}
}

func TestEngine_SweepTrimsEveryDevicesTraces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(testing.TB) storage.Store
	}{
		{"memstore", func(testing.TB) storage.Store { return memstore.New() }},
		{"sqlite (3,300 traces: two ID ranges)", openSQLite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store(t)
			h := newHarness(t, st, func(o *server.Options) { o.TraceKeep = 2 })
			ctx := context.Background()
			const devices = 1100
			var traces []*storage.TraceEntry
			for i := range devices {
				id := fmt.Sprintf("dev-%04d", i)
				if err := st.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "basic"}); err != nil {
					t.Fatal(err)
				}
				for m := range 3 {
					traces = append(traces, &storage.TraceEntry{DeviceID: id, SessionID: "1", Direction: "in", MsgID: fmt.Sprint(m + 1)})
				}
			}
			if err := storage.WriteEffects(ctx, st, &storage.Effects{Traces: traces}); err != nil {
				t.Fatal(err)
			}
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"dev-0000", "dev-0499", "dev-0500", "dev-1099"} {
				ts, err := st.ListTraces(ctx, id, "", 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(ts) != 2 || ts[0].MsgID != "2" || ts[1].MsgID != "3" {
					t.Errorf("%s: %d traces left, want the newest 2", id, len(ts))
				}
			}
		})
	}
}

func TestEngine_SweepAppliesJobRetentionOnlyWhenSet(t *testing.T) {
	now := time.Now().UTC()
	for _, tc := range []struct {
		name string
		keep time.Duration
		want []string // URIs of the jobs left
	}{
		{"default keeps every job", 0, []string{"./old-done", "./old-queued", "./new-done"}},
		{"one day", 24 * time.Hour, []string{"./old-queued", "./new-done"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			h := newHarness(t, st, func(o *server.Options) { o.JobKeep = tc.keep })
			h.addDevice(t, "basic")
			ctx := context.Background()
			for _, j := range []struct {
				uri   string
				state storage.JobState
				age   time.Duration
			}{{"./old-done", storage.JobDone, 48 * time.Hour}, {"./old-queued", storage.JobQueued, 48 * time.Hour}, {"./new-done", storage.JobDone, time.Hour}} {
				if err := st.CreateJob(ctx, &storage.Job{DeviceID: devID, State: j.state, CreatedAt: now.Add(-j.age),
					Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: j.uri}}}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.e.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			js, err := st.ListJobs(ctx, storage.JobFilter{DeviceID: devID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range js {
				got = append(got, j.Spec.Items[0].URI)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("jobs left %v, want %v", got, tc.want)
			}
		})
	}
}
