package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
)

func TestRelay_PublishesTheRecordsEngineChangesName(t *testing.T) {
	st := newMemStore()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = st.CreateDevice(ctx, &storage.Device{ID: "d1"})
	j := &storage.Job{DeviceID: "d1", Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./A"}}}}
	_ = st.CreateJob(ctx, j)
	ev := &storage.Event{DeviceID: "d1", Kind: "generic-alert", Data: "1200"}
	_ = st.AddEvent(ctx, ev)
	end := &storage.Event{DeviceID: "d1", SessionID: "5", Kind: "session-end"}
	_ = st.AddEvent(ctx, end)
	tr := &storage.TraceEntry{DeviceID: "d1", SessionID: "5", Direction: "in", Decoded: "<SyncML/>"}
	_ = st.AddTrace(ctx, tr)

	hub := handler.NewHub()
	r := handler.NewRelay(st, hub, nil, 16)
	r.Push(server.Update{Kind: api.UpdateJob, DeviceID: "d1", JobID: j.ID}) // nobody listens: ignored
	updates, _, unsub := hub.Subscribe()
	defer unsub()
	go r.Run(ctx)

	changes := []server.Update{
		{Kind: api.UpdateJob, DeviceID: "d1", JobID: j.ID},
		{Kind: api.UpdateJob, DeviceID: "d1", JobID: 999}, // gone: skipped
		{Kind: api.UpdateEvent, DeviceID: "d1", EventID: ev.ID},
		{Kind: api.UpdateEvent, DeviceID: "d1", EventKind: "notification"}, // no event id: names nothing
		{Kind: api.UpdateSession, DeviceID: "d1", SessionID: "5", EventID: end.ID, EventKind: "session-end"},
		{Kind: api.UpdateTrace, DeviceID: "d1", SessionID: "5", TraceID: tr.ID},
	}
	for _, c := range changes {
		r.Push(c)
	}
	var got []api.Update
	timeout := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case u := <-updates:
			got = append(got, u)
		case <-timeout:
			t.Fatalf("only %d updates", len(got))
		}
	}
	if got[0].Job == nil || got[0].Job.URI != "./A" ||
		got[1].Event == nil || got[1].Event.Data != "1200" || got[1].EventID != ev.ID ||
		got[2].Session == nil || got[2].Session.State != "ended" || got[2].EventID != end.ID ||
		got[3].Trace == nil || got[3].Trace.Decoded != "<SyncML/>" {
		t.Fatalf("updates = %+v", got)
	}
}

func TestRelay_FullQueueEndsStreamsAsLaggedInsteadOfDroppingSilently(t *testing.T) {
	hub := handler.NewHub()
	r := handler.NewRelay(newMemStore(), hub, nil, 1) // Run is not started: the queue fills
	updates, lagged, unsub := hub.Subscribe()
	defer unsub()
	r.Push(server.Update{Kind: api.UpdateJob, DeviceID: "d1", JobID: 1})
	if lagged() {
		t.Fatal("lagged with room in the queue")
	}
	r.Push(server.Update{Kind: api.UpdateJob, DeviceID: "d1", JobID: 2})
	if _, open := <-updates; open || !lagged() {
		t.Fatalf("stream open=%v lagged=%v after an update could not be queued", open, lagged())
	}
	if n := hub.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}
