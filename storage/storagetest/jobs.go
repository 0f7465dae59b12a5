package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// richSpec exercises every JobSpec field, nesting and awkward text.
func richSpec() storage.JobSpec {
	return storage.JobSpec{
		Command:    "Atomic",
		Correlator: "corr-42",
		Children: []storage.JobSpec{
			{Command: "Add", Set: true, Items: []storage.JobItem{
				{URI: "./Vendor/Acme/Cfg", Format: "chr", Type: "text/plain", Data: "a\"b<c>&d\n\tü€"},
				{URI: "./Vendor/Acme/Empty", Format: "chr", HasData: true},
				{URI: "./Vendor/Acme/Bin", Format: "b64", Data: "AP+AAQ=="},
			}},
			{Command: "Copy", Items: []storage.JobItem{{URI: "./A/Dst", Source: "./A/Src"}}},
			{Command: "Sequence", Children: []storage.JobSpec{{Command: "Delete", Items: []storage.JobItem{{URI: "./A/Old"}}}}},
			{Command: "Alert", Alert: &storage.UIAlert{Code: 1103, Text: "Pick one", MinDT: 5, MaxDT: 60,
				Default: "1", MaxLen: 10, InputType: "A", EchoType: "T", Choices: []string{"yes", "no", ""}}},
		},
	}
}

var jobTests = []test{
	{"DeleteJobsBeforeRemovesOnlyOldFinishedJobs", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		cut := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		type row struct {
			dev   string
			state storage.JobState
			age   time.Duration // before cut; negative = after
			kept  bool
		}
		rows := []row{
			{"a", storage.JobDone, 48 * time.Hour, false},
			{"b", storage.JobFailed, time.Hour, false},
			{"a", storage.JobQueued, 72 * time.Hour, true}, // never delivered: stays
			{"b", storage.JobCancelled, time.Microsecond, false},
			{"a", storage.JobSent, 24 * time.Hour, true},
			{"b", storage.JobDone, 0, true}, // created at the cut
			{"a", storage.JobDone, -time.Hour, true},
		}
		var kept []int64
		for _, r := range rows {
			j := &storage.Job{DeviceID: r.dev, Spec: getSpec("./X"), State: r.state, CreatedAt: cut.Add(-r.age)}
			if r.state != storage.JobQueued && r.state != storage.JobSent {
				j.DoneAt = cut
			}
			check(t, "CreateJob", s.CreateJob(bg, j))
			if r.kept {
				kept = append(kept, j.ID)
			}
		}
		n, err := s.DeleteJobsBefore(bg, cut)
		check(t, "DeleteJobsBefore", err)
		left, err := s.ListJobs(bg, storage.JobFilter{Limit: 1000})
		check(t, "ListJobs", err)
		ids := []int64{}
		for _, j := range left {
			ids = append(ids, j.ID)
		}
		deepEqual(t, "jobs left", ids, kept)
		if n != len(rows)-len(kept) {
			t.Errorf("deleted %d, want %d", n, len(rows)-len(kept))
		}
	}},
	{"DeleteJobsBeforeRemovesMoreThanOneChunk", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		const finished = 4500
		check(t, "create", storage.InBatch(bg, s, func(st storage.Store) error {
			for i := range finished {
				j := &storage.Job{DeviceID: "a", Spec: getSpec("./X"), State: storage.JobDone, DoneAt: old,
					CreatedAt: old.Add(time.Duration(i) * time.Second)}
				if err := st.CreateJob(bg, j); err != nil {
					return err
				}
			}
			return nil
		}))
		recent := mustJob(t, s, "a", getSpec("./Y"))
		n, err := s.DeleteJobsBefore(bg, old.Add(30*24*time.Hour))
		check(t, "DeleteJobsBefore", err)
		if n != finished {
			t.Errorf("deleted %d, want %d", n, finished)
		}
		left, err := s.ListJobs(bg, storage.JobFilter{DeviceID: "a"})
		check(t, "ListJobs", err)
		if len(left) != 1 || left[0].ID != recent.ID {
			t.Errorf("left %d jobs, want only the recent one", len(left))
		}
	}},
	{"CreateAssignsIncreasingIDsQueuedStateAndCreatedAt", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		before := time.Now()
		a := mustJob(t, s, "dev", getSpec("./A"))
		b := mustJob(t, s, "dev", getSpec("./B"))
		if a.ID <= 0 || b.ID <= a.ID {
			t.Fatalf("IDs %d, %d: want positive and increasing", a.ID, b.ID)
		}
		if a.State != storage.JobQueued {
			t.Errorf("State = %q, want queued by default", a.State)
		}
		between(t, "CreatedAt", a.CreatedAt, before, time.Now())
		got, err := s.GetJob(bg, a.ID)
		check(t, "GetJob", err)
		checkJob(t, got, a)
	}},
	{"SpecResultsAndChildStatusRoundTripAsJSON", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		want := &storage.Job{
			DeviceID: "dev", Spec: richSpec(), State: storage.JobDone, Status: 200,
			Results: []storage.ResultItem{
				{URI: "./A/Bin", Format: "b64", Type: "application/octet-stream", Data: "AAEC/w=="},
				{URI: "./A/Empty", Data: ""},
			},
			ChildStatus: []int{200, 216, 215, 1},
			Error:       "partly failed: ü",
			SessionID:   "S1",
			Attempts:    3,
			CreatedAt:   time.Date(2024, 5, 6, 7, 8, 9, 10000, time.UTC),
			SentAt:      time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC),
			DoneAt:      time.Date(2024, 5, 6, 7, 8, 11, 999000, time.UTC),
		}
		check(t, "CreateJob", s.CreateJob(bg, want))
		got, err := s.GetJob(bg, want.ID)
		check(t, "GetJob", err)
		checkJob(t, got, want)
	}},
	{"CreateForUnknownDeviceIsErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.CreateJob(bg, &storage.Job{DeviceID: "nobody", Spec: getSpec("./A")})
		wantErr(t, "CreateJob", err, storage.ErrNotFound)
	}},
	{"CreateWithInvalidStateFails", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		if err := s.CreateJob(bg, &storage.Job{DeviceID: "dev", Spec: getSpec("./A"), State: "running"}); err == nil {
			t.Fatal("CreateJob accepted state \"running\"")
		}
	}},
	{"GetUnknownIsErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.GetJob(bg, 987654)
		wantErr(t, "GetJob", err, storage.ErrNotFound)
	}},
	{"UpdateStoresEachStepOfTheLifeCycle", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		j := mustJob(t, s, "dev", getSpec("./DevInfo/Mod"))
		j.State, j.SessionID, j.Attempts = storage.JobSent, "S1", 1
		j.SentAt = time.Now()
		check(t, "UpdateJob sent", s.UpdateJob(bg, j))
		got, err := s.GetJob(bg, j.ID)
		check(t, "GetJob", err)
		checkJob(t, got, j)

		j.State, j.Status = storage.JobDone, 200
		j.Results = []storage.ResultItem{{URI: "./DevInfo/Mod", Format: "chr", Data: "X1"}}
		j.DoneAt = time.Now()
		check(t, "UpdateJob done", s.UpdateJob(bg, j))
		got, err = s.GetJob(bg, j.ID)
		check(t, "GetJob", err)
		checkJob(t, got, j)
	}},
	{"UpdateOfTerminalJobIsErrConflictAndChangesNothing", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		for _, final := range []storage.JobState{storage.JobDone, storage.JobFailed, storage.JobCancelled} {
			j := mustJob(t, s, "dev", getSpec("./A"))
			j.State, j.Status, j.DoneAt = final, 500, time.Now()
			check(t, "UpdateJob to "+string(final), s.UpdateJob(bg, j))
			stored, _ := s.GetJob(bg, j.ID)

			retry := *j
			retry.State, retry.Status, retry.Error = storage.JobSent, 200, "late"
			wantErr(t, "UpdateJob after "+string(final), s.UpdateJob(bg, &retry), storage.ErrConflict)
			got, err := s.GetJob(bg, j.ID)
			check(t, "GetJob", err)
			checkJob(t, got, stored)
		}
	}},
	{"UpdateUnknownIsErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateJob(bg, &storage.Job{ID: 987654, DeviceID: "x", State: storage.JobSent})
		wantErr(t, "UpdateJob", err, storage.ErrNotFound)
	}},
	{"CancelMovesQueuedOrSentJobsToCancelledOnce", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		queued := mustJob(t, s, "dev", getSpec("./A"))
		sent := mustJob(t, s, "dev", getSpec("./B"))
		sent.State, sent.SessionID = storage.JobSent, "S1"
		check(t, "UpdateJob", s.UpdateJob(bg, sent))
		for _, j := range []*storage.Job{queued, sent} {
			before := time.Now()
			got, err := s.CancelJob(bg, j.ID)
			check(t, "CancelJob", err)
			if got.State != storage.JobCancelled || got.ID != j.ID || got.DeviceID != "dev" {
				t.Errorf("CancelJob returned %+v", got)
			}
			between(t, "DoneAt", got.DoneAt, before, time.Now())
			stored, err := s.GetJob(bg, j.ID)
			check(t, "GetJob", err)
			checkJob(t, stored, got)
			_, err = s.CancelJob(bg, j.ID)
			wantErr(t, "second CancelJob", err, storage.ErrConflict)
			upd := *stored
			upd.State = storage.JobDone
			wantErr(t, "UpdateJob of cancelled job", s.UpdateJob(bg, &upd), storage.ErrConflict)
		}
		done := mustJob(t, s, "dev", getSpec("./C"))
		done.State = storage.JobDone
		check(t, "UpdateJob", s.UpdateJob(bg, done))
		_, err := s.CancelJob(bg, done.ID)
		wantErr(t, "CancelJob of done job", err, storage.ErrConflict)
		_, err = s.CancelJob(bg, 987654)
		wantErr(t, "CancelJob of unknown job", err, storage.ErrNotFound)
	}},
	{"ConcurrentTerminalUpdatesLetExactlyOneWin", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		const workers = 16
		for round := range 3 {
			j := mustJob(t, s, "dev", getSpec("./A"))
			var wg sync.WaitGroup
			errs := make([]error, workers)
			start := make(chan struct{})
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if w%2 == 0 {
						_, errs[w] = s.CancelJob(bg, j.ID)
						return
					}
					mine := *j
					mine.State, mine.Status, mine.Attempts = storage.JobDone, 200, w
					errs[w] = s.UpdateJob(bg, &mine)
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, storage.ErrConflict):
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d writers moved the job to a terminal state, want exactly 1", round, wins)
			}
		}
	}},
	{"ListFiltersByDeviceAndStateAndPagesByID", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		var aIDs, bIDs, aQueued []int64
		for i := range 12 {
			dev := "a"
			if i%3 == 2 {
				dev = "b"
			}
			j := mustJob(t, s, dev, getSpec("./X"))
			if dev == "a" && i%2 == 1 {
				j.State = storage.JobDone
				check(t, "UpdateJob", s.UpdateJob(bg, j))
			}
			if dev == "a" {
				aIDs = append(aIDs, j.ID)
				if j.State == storage.JobQueued {
					aQueued = append(aQueued, j.ID)
				}
			} else {
				bIDs = append(bIDs, j.ID)
			}
		}
		list := func(f storage.JobFilter) []int64 {
			t.Helper()
			js, err := s.ListJobs(bg, f)
			check(t, "ListJobs", err)
			return jobIDs(js)
		}
		deepEqual(t, "device a", list(storage.JobFilter{DeviceID: "a"}), aIDs)
		deepEqual(t, "device b", list(storage.JobFilter{DeviceID: "b"}), bIDs)
		deepEqual(t, "device a queued", list(storage.JobFilter{DeviceID: "a", States: []storage.JobState{storage.JobQueued}}), aQueued)
		all := list(storage.JobFilter{})
		if len(all) != 12 {
			t.Fatalf("all jobs: %d, want 12", len(all))
		}
		both := list(storage.JobFilter{States: []storage.JobState{storage.JobQueued, storage.JobDone}})
		deepEqual(t, "queued or done", both, all)
		var paged []int64
		after := int64(0)
		for range 10 {
			page := list(storage.JobFilter{DeviceID: "a", AfterID: after, Limit: 3})
			if len(page) > 3 {
				t.Fatalf("page of %d, limit 3", len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1]
		}
		deepEqual(t, "paged device a", paged, aIDs)
		if _, err := s.ListJobs(bg, storage.JobFilter{States: []storage.JobState{"bogus"}}); err == nil {
			t.Error("ListJobs accepted state \"bogus\"")
		}
	}},
	{"PendingIsQueuedPlusSentInAnotherSessionInIDOrder", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		mk := func(dev string, st storage.JobState, session string) int64 {
			j := mustJob(t, s, dev, getSpec("./X"))
			if st != storage.JobQueued {
				j.State, j.SessionID = st, session
				check(t, "UpdateJob", s.UpdateJob(bg, j))
			}
			return j.ID
		}
		q1 := mk("a", storage.JobQueued, "")
		s1 := mk("a", storage.JobSent, "S1")
		b1 := mk("b", storage.JobQueued, "")
		s2 := mk("a", storage.JobSent, "S2")
		mk("a", storage.JobDone, "S1")
		q2 := mk("a", storage.JobQueued, "")
		mk("a", storage.JobCancelled, "")
		mk("a", storage.JobFailed, "S2")
		pending := func(dev, session string) []int64 {
			t.Helper()
			js, err := s.PendingJobs(bg, dev, session)
			check(t, "PendingJobs", err)
			for _, j := range js {
				if j.DeviceID != dev {
					t.Errorf("PendingJobs(%q) returned a job of %q", dev, j.DeviceID)
				}
			}
			return jobIDs(js)
		}
		deepEqual(t, "pending in S1", pending("a", "S1"), []int64{q1, s2, q2})
		deepEqual(t, "pending in S2", pending("a", "S2"), []int64{q1, s1, q2})
		deepEqual(t, "pending in a new session", pending("a", "S3"), []int64{q1, s1, s2, q2})
		deepEqual(t, "pending of b", pending("b", "S1"), []int64{b1})
		if got := pending("nobody", "S1"); len(got) != 0 {
			t.Errorf("pending of unknown device = %v", got)
		}
	}},
	{"CountCountsByState", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		for i := range 5 {
			j := mustJob(t, s, []string{"a", "b"}[i%2], getSpec("./X"))
			if i < 2 {
				j.State = storage.JobSent
				check(t, "UpdateJob", s.UpdateJob(bg, j))
			}
		}
		for st, want := range map[storage.JobState]int{storage.JobQueued: 3, storage.JobSent: 2, storage.JobDone: 0} {
			n, err := s.CountJobs(bg, st)
			check(t, "CountJobs", err)
			if n != want {
				t.Errorf("CountJobs(%s) = %d, want %d", st, n, want)
			}
		}
	}},
}
