package server

import (
	"context"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// slowSweepStore holds DeleteSessionsBefore until its context ends, as a
// sweep of a large backlog would.
type slowSweepStore struct {
	storage.Store
	started chan struct{}
	ended   chan error
}

func (s *slowSweepStore) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	s.ended <- ctx.Err()
	return 0, ctx.Err()
}

func TestMaintain_RunsBesideTheMessageAndCloseStopsIt(t *testing.T) {
	st := &slowSweepStore{Store: memstore.New(), started: make(chan struct{}, 1), ended: make(chan error, 1)}
	e, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	e.lastMaint.Store(0) // a minute has passed
	done := make(chan struct{})
	go func() { e.maintain(); close(done) }()
	select {
	case <-done: // returned while the sweep still runs
	case <-time.After(10 * time.Second):
		t.Fatal("maintain waited for the sweep")
	}
	select {
	case <-st.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the sweep did not start")
	}
	e.lastMaint.Store(0) // another minute, the first sweep still running
	e.maintain()
	select {
	case <-st.started:
		t.Fatal("a second sweep started beside the running one")
	case <-time.After(50 * time.Millisecond):
	}
	e.Close(context.Background())
	select {
	case err := <-st.ended:
		if err == nil {
			t.Fatal("sweep context not cancelled")
		}
	default:
		t.Fatal("Close returned before the sweep ended")
	}
	e.lastMaint.Store(0)
	e.maintain()
	select {
	case <-st.started:
		t.Fatal("a sweep started after Close")
	case <-time.After(50 * time.Millisecond):
	}
}
