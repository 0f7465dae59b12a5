package server

import (
	"context"
	"testing"
	"testing/synctest"
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

// The test runs in a synctest bubble: synctest.Wait lets every goroutine the
// engine started settle, so "no second sweep started" is checked without
// waiting for an arbitrary time.
func TestMaintain_RunsBesideTheMessageAndCloseStopsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &slowSweepStore{Store: memstore.New(), started: make(chan struct{}, 1), ended: make(chan error, 1)}
		e, err := New(Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		e.lastMaint.Store(0) // a minute has passed
		e.maintain()         // returns while the sweep still runs
		synctest.Wait()
		select {
		case <-st.started:
		default:
			t.Fatal("the sweep did not start")
		}
		e.lastMaint.Store(0) // another minute, the first sweep still running
		e.maintain()
		synctest.Wait()
		select {
		case <-st.started:
			t.Fatal("a second sweep started beside the running one")
		default:
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
		synctest.Wait()
		select {
		case <-st.started:
			t.Fatal("a sweep started after Close")
		default:
		}
	})
}

// Ended sessions stay a minute (a device that lost our last reply may send
// its message again and get the stored reply), then the sweep deletes them;
// open sessions stay until they expire.
func TestSweep_DeletesEndedSessionsAfterAMinute(t *testing.T) {
	st := memstore.New()
	e, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	ctx := context.Background()
	if err := st.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "basic"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ended", "open"} {
		s := &storage.Session{DeviceID: "dev", SessionID: id, Token: "tok-" + id}
		if err := st.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		s.Closed = id == "ended"
		if err := st.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(id string) bool {
		_, err := st.GetSession(ctx, "dev", id)
		return err == nil
	}
	if err := e.sweep(ctx, time.Now().Add(30*time.Second), false); err != nil {
		t.Fatal(err)
	}
	if !exists("ended") || !exists("open") {
		t.Fatalf("half a minute later: ended %v, open %v; want both kept", exists("ended"), exists("open"))
	}
	if err := e.sweep(ctx, time.Now().Add(2*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if exists("ended") || !exists("open") {
		t.Errorf("two minutes later: ended %v, open %v; want only the open one kept", exists("ended"), exists("open"))
	}
}
