package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage"
)

// A message's reads run on the writer connection between its transactions,
// or on the read-only pool when the writer stays busy; either way a read
// issued after a write returned sees that write, and reads and batches
// running at the same time neither block each other for good nor fail.
func TestReadMessage_SeesEveryCommittedWriteWhileBatchesRun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	const devices, rounds = 4, 60
	for i := range devices {
		id := fmt.Sprintf("dev-%d", i)
		if err := s.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: "basic"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, devices)
	for i := range devices {
		wg.Go(func() {
			id := fmt.Sprintf("dev-%d", i)
			sess := &storage.Session{DeviceID: id, SessionID: "1", Token: "tok-" + id, State: []byte(`{}`)}
			for n := range rounds {
				sess.State = fmt.Appendf(nil, `{"n":%d}`, n)
				if err := storage.WriteEffects(ctx, s, &storage.Effects{Session: sess}); err != nil {
					errs <- fmt.Errorf("%s round %d: write: %w", id, n, err)
					return
				}
				byID := &storage.MessageRead{DeviceID: id, SessionID: "1", Pending: true}
				byToken := &storage.MessageRead{DeviceID: id, Token: sess.Token}
				for _, r := range []*storage.MessageRead{byID, byToken} {
					if err := storage.ReadMessage(ctx, s, r); err != nil || r.DeviceErr != nil || r.SessionErr != nil || r.PendingErr != nil {
						errs <- fmt.Errorf("%s round %d: read: %v %v %v %v", id, n, err, r.DeviceErr, r.SessionErr, r.PendingErr)
						return
					}
					if r.Session.Version != sess.Version || string(r.Session.State) != string(sess.State) {
						errs <- fmt.Errorf("%s round %d: read version %d state %s, want %d %s (a stale read)",
							id, n, r.Session.Version, r.Session.State, sess.Version, sess.State)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A read issued from inside a batch function through the outer store (not
// the batch's own) must not wait for the writer the batch holds.
func TestReadMessage_OnTheOuterStoreInsideABatchDoesNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "basic"}); err != nil {
		t.Fatal(err)
	}
	err := s.Batch(ctx, func(st storage.Store) error {
		r := &storage.MessageRead{DeviceID: "dev", SessionID: "1", Pending: true}
		if err := storage.ReadMessage(ctx, s, r); err != nil {
			return err
		}
		if r.DeviceErr != nil {
			return r.DeviceErr
		}
		_, err := storage.GetJobs(ctx, s, []int64{1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A read never sees what a running batch wrote before the batch commits: a
// read that arrives while a group holds the writer is not run inside that
// group's transaction (one of its batches may still roll back).
func TestReadMessage_DoesNotSeeARunningBatchsWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.CreateDevice(ctx, &storage.Device{ID: "dev", AuthScheme: "basic"}); err != nil {
		t.Fatal(err)
	}
	wrote, release := make(chan struct{}), make(chan struct{})
	batch := make(chan error, 1)
	go func() {
		batch <- s.Batch(ctx, func(st storage.Store) error {
			err := st.SaveSession(ctx, &storage.Session{DeviceID: "dev", SessionID: "1", State: []byte(`{}`)})
			close(wrote)
			<-release
			return err
		})
	}()
	<-wrote
	r := &storage.MessageRead{DeviceID: "dev", SessionID: "1", Pending: true}
	if err := storage.ReadMessage(ctx, s, r); err != nil || r.DeviceErr != nil {
		t.Fatalf("read during the batch: %v %v", err, r.DeviceErr)
	}
	if !errors.Is(r.SessionErr, storage.ErrNotFound) {
		t.Fatalf("read during the batch: session %+v, %v; want ErrNotFound (the batch has not committed)", r.Session, r.SessionErr)
	}
	close(release)
	if err := <-batch; err != nil {
		t.Fatal(err)
	}
	r = &storage.MessageRead{DeviceID: "dev", SessionID: "1"}
	if err := storage.ReadMessage(ctx, s, r); err != nil || r.SessionErr != nil {
		t.Fatalf("read after the commit: %v %v", err, r.SessionErr)
	}
}
