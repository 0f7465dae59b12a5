package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var sessionTests = []test{
	{"FirstSaveInsertsAtVersionOneAndLaterSavesIncrement", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		state := []byte{0x00, 0x01, 0xff, 0xfe, '\n', 0xc3}
		ss := &storage.Session{DeviceID: "dev", SessionID: "1A", Token: "tok-1", State: state}
		before := time.Now()
		check(t, "SaveSession insert", s.SaveSession(bg, ss))
		if ss.Version != 1 {
			t.Fatalf("Version after insert = %d, want 1", ss.Version)
		}
		between(t, "CreatedAt", ss.CreatedAt, before, time.Now())
		between(t, "UpdatedAt", ss.UpdatedAt, before, time.Now())
		got, err := s.GetSession(bg, "dev", "1A")
		check(t, "GetSession", err)
		if !bytes.Equal(got.State, state) || got.Version != 1 || got.Token != "tok-1" || got.Closed {
			t.Fatalf("stored session = %+v", got)
		}
		checkTime(t, "stored CreatedAt", got.CreatedAt, ss.CreatedAt)

		ss.State, ss.Closed, ss.Token = []byte("next"), true, "tok-2"
		check(t, "SaveSession update", s.SaveSession(bg, ss))
		if ss.Version != 2 {
			t.Fatalf("Version after update = %d, want 2", ss.Version)
		}
		got, err = s.GetSessionByToken(bg, "tok-2")
		check(t, "GetSessionByToken", err)
		if string(got.State) != "next" || !got.Closed || got.Version != 2 || got.DeviceID != "dev" || got.SessionID != "1A" {
			t.Fatalf("updated session = %+v", got)
		}
		checkTime(t, "CreatedAt after update", got.CreatedAt, ss.CreatedAt)
		checkTime(t, "UpdatedAt after update", got.UpdatedAt, ss.UpdatedAt)
		_, err = s.GetSessionByToken(bg, "tok-1")
		wantErr(t, "old token", err, storage.ErrNotFound)
	}},
	{"StaleOrFutureVersionIsErrConflict", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		ss := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "t", State: []byte("v1")}
		check(t, "SaveSession", s.SaveSession(bg, ss))
		check(t, "SaveSession", s.SaveSession(bg, ss)) // now at 2
		for _, v := range []int64{0, 1, 3, 99} {
			stale := *ss
			stale.Version, stale.State = v, []byte("stale")
			wantErr(t, fmt.Sprintf("save at version %d", v), s.SaveSession(bg, &stale), storage.ErrConflict)
			if stale.Version != v {
				t.Errorf("failed save changed Version to %d", stale.Version)
			}
		}
		got, err := s.GetSession(bg, "dev", "1")
		check(t, "GetSession", err)
		if got.Version != 2 || string(got.State) != "v1" {
			t.Errorf("after conflicts: version %d state %q", got.Version, got.State)
		}
	}},
	{"ConcurrentSavesOfOneVersionLetExactlyOneWin", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		const workers, rounds = 24, 5
		race := func(base storage.Session) (winner int) {
			t.Helper()
			var wg sync.WaitGroup
			errs := make([]error, workers)
			start := make(chan struct{})
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := base
					mine.State = fmt.Appendf(nil, "worker-%d", w)
					<-start
					errs[w] = s.SaveSession(bg, &mine)
				}()
			}
			close(start)
			wg.Wait()
			winner = -1
			for w, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("version %d: workers %d and %d both won", base.Version, winner, w)
					}
					winner = w
				case !errors.Is(err, storage.ErrConflict):
					t.Fatalf("version %d: worker %d: %v", base.Version, w, err)
				}
			}
			if winner < 0 {
				t.Fatalf("version %d: nobody won", base.Version)
			}
			return winner
		}
		base := storage.Session{DeviceID: "dev", SessionID: "S", Token: "tok"}
		for v := range int64(rounds + 1) {
			base.Version = v
			w := race(base)
			got, err := s.GetSession(bg, "dev", "S")
			check(t, "GetSession", err)
			if got.Version != v+1 || string(got.State) != fmt.Sprintf("worker-%d", w) {
				t.Fatalf("after round %d: version %d state %q, want %d worker-%d", v, got.Version, got.State, v+1, w)
			}
		}
	}},
	{"UnknownSessionOrTokenIsErrNotFound", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		check(t, "SaveSession", s.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1"}))
		_, err := s.GetSession(bg, "dev", "2")
		wantErr(t, "GetSession", err, storage.ErrNotFound)
		_, err = s.GetSession(bg, "other", "1")
		wantErr(t, "GetSession other device", err, storage.ErrNotFound)
		_, err = s.GetSessionByToken(bg, "nope")
		wantErr(t, "GetSessionByToken", err, storage.ErrNotFound)
		_, err = s.GetSessionByToken(bg, "")
		wantErr(t, "GetSessionByToken empty", err, storage.ErrNotFound)
	}},
	{"SameSessionIDOnTwoDevicesAreDistinct", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		check(t, "save a", s.SaveSession(bg, &storage.Session{DeviceID: "a", SessionID: "1", State: []byte("a")}))
		check(t, "save b", s.SaveSession(bg, &storage.Session{DeviceID: "b", SessionID: "1", State: []byte("b")}))
		got, err := s.GetSession(bg, "b", "1")
		check(t, "GetSession", err)
		if string(got.State) != "b" {
			t.Errorf("state = %q", got.State)
		}
	}},
	{"TokenTakenByAnotherSessionIsErrExists", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		check(t, "save", s.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "1", Token: "same"}))
		err := s.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "2", Token: "same"})
		wantErr(t, "second session with the same token", err, storage.ErrExists)
	}},
	{"SessionOfUnknownDeviceIsErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.SaveSession(bg, &storage.Session{DeviceID: "nobody", SessionID: "1"})
		wantErr(t, "SaveSession", err, storage.ErrNotFound)
	}},
	{"DeleteBeforeRemovesMoreThanOneChunk", func(t *testing.T, s storage.Store) {
		// Backends delete expired sessions a few thousand at a time; every
		// chunk must go, and the count must add up.
		mustDevice(t, s, "dev")
		const idle = 4500
		check(t, "save idle sessions", storage.InBatch(bg, s, func(st storage.Store) error {
			for i := range idle {
				if err := st.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: fmt.Sprint(i), Token: fmt.Sprint("t", i)}); err != nil {
					return err
				}
			}
			return nil
		}))
		time.Sleep(5 * time.Millisecond)
		cut := time.Now()
		time.Sleep(5 * time.Millisecond)
		check(t, "save fresh", s.SaveSession(bg, &storage.Session{DeviceID: "dev", SessionID: "fresh"}))
		n, err := s.DeleteSessionsBefore(bg, cut)
		check(t, "DeleteSessionsBefore", err)
		if n != idle {
			t.Errorf("deleted %d sessions, want %d", n, idle)
		}
		if _, err := s.GetSession(bg, "dev", "4499"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an idle session survived: %v", err)
		}
		if _, err := s.GetSession(bg, "dev", "fresh"); err != nil {
			t.Errorf("fresh session: %v", err)
		}
	}},
	{"DeleteBeforeRemovesOnlyIdleSessions", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		old := &storage.Session{DeviceID: "dev", SessionID: "old", Token: "t-old"}
		check(t, "save old", s.SaveSession(bg, old))
		time.Sleep(5 * time.Millisecond) // order the two saves on the clock
		cut := time.Now()
		time.Sleep(5 * time.Millisecond)
		fresh := &storage.Session{DeviceID: "dev", SessionID: "fresh", Token: "t-fresh"}
		check(t, "save fresh", s.SaveSession(bg, fresh))

		n, err := s.DeleteSessionsBefore(bg, cut.Add(-time.Hour))
		check(t, "DeleteSessionsBefore", err)
		if n != 0 {
			t.Fatalf("deleted %d sessions older than an hour ago, want 0", n)
		}
		n, err = s.DeleteSessionsBefore(bg, cut)
		check(t, "DeleteSessionsBefore", err)
		if n != 1 {
			t.Fatalf("deleted %d sessions, want 1", n)
		}
		_, err = s.GetSessionByToken(bg, "t-old")
		wantErr(t, "old session", err, storage.ErrNotFound)
		if _, err := s.GetSession(bg, "dev", "fresh"); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
	}},
}
