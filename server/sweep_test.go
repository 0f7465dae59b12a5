package server_test

import (
	"context"
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
