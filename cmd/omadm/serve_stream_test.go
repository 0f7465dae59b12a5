package main

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	apiclient "github.com/omadm/omadm/api/client"
)

// The whole chain of omadm serve: a notification stored in SQLite by the
// engine, relayed to the hub, and replayed from the store to a stream that
// resumes with Last-Event-ID, then followed live, each event exactly once.
func TestServe_StreamResumesFromLastEventIDWithoutLossOrDuplicates(t *testing.T) {
	t.Setenv("OMADM_API_TOKEN", "")
	rs := startTestServer(t, t.TempDir(), io.Discard)
	t.Cleanup(func() { _ = rs.Shutdown(context.Background()) })
	// Package 0 goes to a socket of ours on 127.0.0.1, read by nobody.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // bounds a hang only
	defer cancel()
	c := apiclient.New(rs.URL, rs.Token)
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: "d1", Username: "u", Password: "p", NotifyAddr: "udp://" + pc.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	notify := func() {
		t.Helper()
		if _, err := c.Notify(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
	}
	// Two notifications while no stream is open.
	notify()
	notify()
	evs, err := c.Events(ctx, "d1", 0, 10)
	if err != nil || len(evs.Events) != 2 || evs.Events[0].Kind != "notification" {
		t.Fatalf("stored events %+v, %v", evs, err)
	}
	first, second := evs.Events[0].ID, evs.Events[1].ID

	got := make(chan api.Update, 16)
	opened := make(chan struct{})
	errc := make(chan error, 1)
	stop := errors.New("stop")
	go func() {
		errc <- c.Stream(ctx, apiclient.StreamOptions{Device: "d1", Kinds: []string{api.UpdateEvent}, LastEventID: first,
			OnOpen: func() { close(opened) }}, func(u api.Update) error {
			got <- u
			if len(got) == cap(got) {
				return stop
			}
			return nil
		})
	}()
	next := func(what string) api.Update {
		t.Helper()
		select {
		case u := <-got:
			return u
		case err := <-errc:
			t.Fatalf("stream ended before %s: %v", what, err)
		}
		return api.Update{}
	}
	// The replay: only the event after Last-Event-ID.
	if u := next("the replay"); u.EventID != second || u.Event == nil || u.Event.Kind != "notification" {
		t.Fatalf("replayed %+v, want event %d", u, second)
	}
	<-opened
	// A live one follows, and nothing is sent twice.
	notify()
	u := next("the live event")
	if u.EventID <= second || u.Event == nil || u.Event.Kind != "notification" {
		t.Fatalf("live update %+v, want the third notification (after %d)", u, second)
	}
	third := u.EventID
	evs, err = c.Events(ctx, "d1", second, 10)
	if err != nil || len(evs.Events) != 1 || evs.Events[0].ID != third {
		t.Fatalf("stored after %d: %+v, %v; want only %d", second, evs, err, third)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("stream ended with %v", err)
	}
	for len(got) > 0 {
		if u := <-got; u.EventID <= third {
			t.Fatalf("event %d sent again", u.EventID)
		}
	}
}
