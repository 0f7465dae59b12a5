package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

func mustCampaign(t *testing.T, s storage.Store, n int) *storage.Campaign {
	t.Helper()
	c := &storage.Campaign{Name: "fw 2.0", Spec: []byte(`{"mo":"fumo"}`)}
	check(t, "CreateCampaign", s.CreateCampaign(bg, c))
	ds := make([]storage.CampaignDevice, n)
	for i := range ds {
		ds[i] = storage.CampaignDevice{DeviceID: fmt.Sprintf("d%03d", i), Seq: i}
	}
	if n > 0 {
		check(t, "AddCampaignDevices", s.AddCampaignDevices(bg, c.ID, ds))
	}
	return c
}

func seqs(ds []*storage.CampaignDevice) []int {
	out := []int{}
	for _, d := range ds {
		out = append(out, d.Seq)
	}
	return out
}

var campaignTests = []test{
	{"CreateReadsBackAndListsByState", func(t *testing.T, s storage.Store) {
		a := mustCampaign(t, s, 0)
		if a.ID == 0 || a.Version != 1 || a.State != storage.CampaignCreating || a.CreatedAt.IsZero() {
			t.Fatalf("created %+v: want an ID, version 1, state creating, CreatedAt", a)
		}
		got, err := s.GetCampaign(bg, a.ID)
		check(t, "GetCampaign", err)
		if got.Name != a.Name || string(got.Spec) != string(a.Spec) || got.State != a.State || got.Version != 1 {
			t.Fatalf("read back %+v, want %+v", got, a)
		}
		checkTime(t, "CreatedAt", got.CreatedAt, a.CreatedAt)
		b := mustCampaign(t, s, 0)
		b.State = storage.CampaignRunning
		check(t, "UpdateCampaign", s.UpdateCampaign(bg, b))
		cases := []struct {
			name string
			f    storage.CampaignFilter
			want int
		}{
			{"all", storage.CampaignFilter{}, 2},
			{"running", storage.CampaignFilter{States: []storage.CampaignState{storage.CampaignRunning}}, 1},
			{"after", storage.CampaignFilter{AfterID: a.ID}, 1},
			{"limit", storage.CampaignFilter{Limit: 1}, 1},
		}
		for _, tc := range cases {
			cs, err := s.ListCampaigns(bg, tc.f)
			check(t, tc.name, err)
			if len(cs) != tc.want {
				t.Errorf("%s: %d campaigns, want %d", tc.name, len(cs), tc.want)
			}
		}
		_, err = s.GetCampaign(bg, b.ID+100)
		wantErr(t, "GetCampaign of an unknown id", err, storage.ErrNotFound)
	}},
	{"UpdateIsConditionalOnVersion", func(t *testing.T, s storage.Store) {
		c := mustCampaign(t, s, 0)
		stale := *c
		c.State, c.Wave, c.FailAck, c.Reason = storage.CampaignPaused, 2, 3, "5 failures"
		c.WaveDoneAt = time.Now()
		check(t, "UpdateCampaign", s.UpdateCampaign(bg, c))
		if c.Version != 2 {
			t.Fatalf("version after update %d, want 2", c.Version)
		}
		stale.State = storage.CampaignCancelled
		wantErr(t, "update from a stale version", s.UpdateCampaign(bg, &stale), storage.ErrConflict)
		got, err := s.GetCampaign(bg, c.ID)
		check(t, "GetCampaign", err)
		if got.State != storage.CampaignPaused || got.Wave != 2 || got.FailAck != 3 || got.Reason != "5 failures" || got.Version != 2 {
			t.Fatalf("stored %+v", got)
		}
		checkTime(t, "WaveDoneAt", got.WaveDoneAt, c.WaveDoneAt)
		gone := *c
		gone.ID += 100
		wantErr(t, "update of an unknown campaign", s.UpdateCampaign(bg, &gone), storage.ErrNotFound)
	}},
	{"LeaseGoesToOneOwnerUntilItExpires", func(t *testing.T, s storage.Store) {
		c := mustCampaign(t, s, 0)
		t0 := time.Now().UTC()
		check(t, "first lease", s.LeaseCampaign(bg, c.ID, "node-a", t0, t0.Add(time.Minute)))
		wantErr(t, "lease held by another", s.LeaseCampaign(bg, c.ID, "node-b", t0.Add(time.Second), t0.Add(time.Minute)), storage.ErrConflict)
		check(t, "renewal", s.LeaseCampaign(bg, c.ID, "node-a", t0.Add(time.Second), t0.Add(2*time.Minute)))
		check(t, "lease after expiry", s.LeaseCampaign(bg, c.ID, "node-b", t0.Add(3*time.Minute), t0.Add(4*time.Minute)))
		got, err := s.GetCampaign(bg, c.ID)
		check(t, "GetCampaign", err)
		if got.LeaseOwner != "node-b" {
			t.Fatalf("lease owner %q, want node-b", got.LeaseOwner)
		}
		check(t, "release by a non-holder", s.ReleaseCampaign(bg, c.ID, "node-a"))
		wantErr(t, "lease still held", s.LeaseCampaign(bg, c.ID, "node-a", t0.Add(3*time.Minute), t0.Add(5*time.Minute)), storage.ErrConflict)
		check(t, "release", s.ReleaseCampaign(bg, c.ID, "node-b"))
		check(t, "lease after release", s.LeaseCampaign(bg, c.ID, "node-a", t0.Add(3*time.Minute), t0.Add(5*time.Minute)))
		wantErr(t, "lease of an unknown campaign", s.LeaseCampaign(bg, c.ID+100, "node-a", t0, t0), storage.ErrNotFound)
	}},
	{"ConcurrentLeasesHaveOneWinner", func(t *testing.T, s storage.Store) {
		c := mustCampaign(t, s, 0)
		t0 := time.Now().UTC()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.LeaseCampaign(bg, c.ID, fmt.Sprintf("node-%d", i), t0, t0.Add(time.Minute))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("lease: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d nodes got the lease, want 1", won)
		}
	}},
	{"DevicesListByStateSeqRangeAndNotifyDue", func(t *testing.T, s storage.Store) {
		c := mustCampaign(t, s, 10)
		err := s.AddCampaignDevices(bg, c.ID, []storage.CampaignDevice{{DeviceID: "x", Seq: 3}})
		wantErr(t, "a taken seq", err, storage.ErrExists)
		ds, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID, Limit: 100})
		check(t, "ListCampaignDevices", err)
		if len(ds) != 10 || ds[0].State != storage.TargetPending || ds[0].Version != 1 || ds[9].DeviceID != "d009" {
			t.Fatalf("listed %d devices, first %+v", len(ds), ds[0])
		}
		due := time.Now().UTC().Truncate(time.Microsecond)
		d := ds[2]
		d.State, d.OperationID, d.Notifies, d.NextNotify = storage.TargetNotified, 7, 1, due
		check(t, "TransitionCampaignDevice", s.TransitionCampaignDevice(bg, d))
		d5 := ds[5]
		d5.State, d5.NextNotify = storage.TargetNotified, due.Add(time.Hour)
		check(t, "TransitionCampaignDevice", s.TransitionCampaignDevice(bg, d5))
		cases := []struct {
			name string
			f    storage.CampaignDeviceFilter
			want []int
		}{
			{"range", storage.CampaignDeviceFilter{FromSeq: 3, BelowSeq: 6}, []int{3, 4, 5}},
			{"pending in range", storage.CampaignDeviceFilter{States: []storage.TargetState{storage.TargetPending}, BelowSeq: 4}, []int{0, 1, 3}},
			{"notified", storage.CampaignDeviceFilter{States: storage.TargetOpen}, []int{2, 5}},
			{"notify due", storage.CampaignDeviceFilter{NotifyDue: due}, []int{2}},
			{"limit", storage.CampaignDeviceFilter{Limit: 2}, []int{0, 1}},
		}
		for _, tc := range cases {
			tc.f.CampaignID = c.ID
			got, err := s.ListCampaignDevices(bg, tc.f)
			check(t, tc.name, err)
			deepEqual(t, tc.name, seqs(got), tc.want)
		}
		got, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID, FromSeq: 2, BelowSeq: 3})
		check(t, "read back", err)
		if g := got[0]; g.OperationID != 7 || g.Notifies != 1 || g.Version != 2 || !sameTime(g.NextNotify, due) {
			t.Fatalf("stored %+v", g)
		}
		counts, err := s.CountCampaignDevices(bg, c.ID, 0, 0)
		check(t, "CountCampaignDevices", err)
		deepEqual(t, "counts", counts, map[storage.TargetState]int{storage.TargetPending: 8, storage.TargetNotified: 2})
		counts, err = s.CountCampaignDevices(bg, c.ID, 0, 5)
		check(t, "CountCampaignDevices range", err)
		deepEqual(t, "counts in range", counts, map[storage.TargetState]int{storage.TargetPending: 4, storage.TargetNotified: 1})
		counts, err = s.CountCampaignDevices(bg, c.ID, 3, 0, storage.TargetOpen...)
		check(t, "CountCampaignDevices of the open states", err)
		deepEqual(t, "open counts from 3", counts, map[storage.TargetState]int{storage.TargetNotified: 1})
		counts, err = s.CountCampaignDevices(bg, c.ID, 0, 0, storage.TargetFailures...)
		check(t, "CountCampaignDevices of the failures", err)
		deepEqual(t, "failure counts", counts, map[storage.TargetState]int{})
	}},
	{"DeviceTransitionIsConditionalOnVersion", func(t *testing.T, s storage.Store) {
		c := mustCampaign(t, s, 2)
		ds, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		stale := *ds[0]
		ds[0].State = storage.TargetNotified
		check(t, "first transition", s.TransitionCampaignDevice(bg, ds[0]))
		stale.State = storage.TargetSkipped
		wantErr(t, "transition from a stale version", s.TransitionCampaignDevice(bg, &stale), storage.ErrConflict)
		gone := *ds[1]
		gone.Seq = 99
		wantErr(t, "transition of an unknown device", s.TransitionCampaignDevice(bg, &gone), storage.ErrNotFound)
		// Of several nodes moving one device from one version, one wins.
		var wg sync.WaitGroup
		wins := make(chan int, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := *ds[1]
				d.State, d.OperationID = storage.TargetNotified, int64(i+1)
				if err := s.TransitionCampaignDevice(bg, &d); err == nil {
					wins <- i
				} else if !errors.Is(err, storage.ErrConflict) {
					t.Errorf("transition: %v", err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		if n := len(wins); n != 1 {
			t.Fatalf("%d concurrent transitions won, want 1", n)
		}
	}},
	{"InABatchAFailedDeviceTransitionUndoesTheOperation", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "d000")
		c := mustCampaign(t, s, 1)
		ds, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		stale := *ds[0]
		ds[0].State = storage.TargetSkipped
		check(t, "TransitionCampaignDevice", s.TransitionCampaignDevice(bg, ds[0]))
		if _, ok := s.(storage.Batcher); !ok {
			t.Skip("the store has no atomic batches")
		}
		err = storage.InBatch(bg, s, func(in storage.Store) error {
			j := &storage.Job{DeviceID: "d000", Spec: storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./X"}}}}
			if err := in.CreateJob(bg, j); err != nil {
				return err
			}
			stale.State, stale.OperationID = storage.TargetNotified, j.ID
			return in.TransitionCampaignDevice(bg, &stale)
		})
		wantErr(t, "batch with a stale device", err, storage.ErrConflict)
		jobs, err := s.ListJobs(bg, storage.JobFilter{DeviceID: "d000"})
		check(t, "ListJobs", err)
		if len(jobs) != 0 {
			t.Fatalf("the failed batch left %d jobs", len(jobs))
		}
	}},
	{"SyncFollowsOperationsAndSetMovesByState", func(t *testing.T, s storage.Store) {
		for i := range 4 {
			mustDevice(t, s, fmt.Sprintf("d%03d", i))
		}
		c := mustCampaign(t, s, 5)
		ds, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		ops := make([]*storage.Operation, 4)
		for i := range 4 {
			ops[i] = newOp(t, s, ds[i].DeviceID, fmt.Sprintf("c%d", i), time.Time{})
			ds[i].State, ds[i].OperationID = storage.TargetNotified, ops[i].ID
			check(t, "TransitionCampaignDevice", s.TransitionCampaignDevice(bg, ds[i]))
		}
		done := time.Now().UTC().Truncate(time.Microsecond)
		move := func(op *storage.Operation, st storage.OpState, msg string) {
			from := op.State
			op.State, op.Error = st, msg
			if st.Terminal() {
				op.DoneAt = done
			}
			check(t, "TransitionOperation", s.TransitionOperation(bg, op, from))
		}
		move(ops[1], storage.OpSent, "")
		move(ops[2], storage.OpFailed, "the device refused the Exec")
		move(ops[3], storage.OpSucceeded, "")
		n, err := s.SyncCampaignDevices(bg, c.ID, done)
		check(t, "SyncCampaignDevices", err)
		if n != 3 {
			t.Fatalf("synced %d devices, want 3", n)
		}
		got, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		want := []storage.TargetState{storage.TargetNotified, storage.TargetInProgress, storage.TargetFailed, storage.TargetSucceeded, storage.TargetPending}
		for i, w := range want {
			if got[i].State != w {
				t.Errorf("device %d: %s, want %s", i, got[i].State, w)
			}
		}
		if got[2].Error != "the device refused the Exec" || !sameTime(got[2].DoneAt, done) {
			t.Errorf("failed device: error %q done %v", got[2].Error, got[2].DoneAt)
		}
		if n, err := s.SyncCampaignDevices(bg, c.ID, done); err != nil || n != 0 {
			t.Fatalf("second sync: %d, %v; want 0", n, err)
		}
		check(t, "DeleteDevice", s.DeleteDevice(bg, "d000"))
		n, err = s.SyncCampaignDevices(bg, c.ID, done)
		check(t, "SyncCampaignDevices", err)
		if n != 1 {
			t.Fatalf("sync after a device deletion changed %d, want 1 (skipped)", n)
		}
		n, err = s.SetCampaignDevices(bg, c.ID, storage.TargetCancelled, "campaign cancelled", done, storage.TargetPending)
		check(t, "SetCampaignDevices", err)
		if n != 1 {
			t.Fatalf("cancelled %d pending devices, want 1", n)
		}
		counts, err := s.CountCampaignDevices(bg, c.ID, 0, 0)
		check(t, "CountCampaignDevices", err)
		deepEqual(t, "counts", counts, map[storage.TargetState]int{storage.TargetSkipped: 1, storage.TargetInProgress: 1,
			storage.TargetFailed: 1, storage.TargetSucceeded: 1, storage.TargetCancelled: 1})
		check(t, "DeleteCampaign", s.DeleteCampaign(bg, c.ID))
		left, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		if len(left) != 0 {
			t.Fatalf("%d devices left after DeleteCampaign", len(left))
		}
	}},
}
