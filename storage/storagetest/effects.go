package storagetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// effectsTests check storage.WriteEffects, through the backend's
// EffectsWriter when it has one, against the individual methods it stands
// for, inside and outside a batch.
var effectsTests = []test{
	{"ManyRecordsInOneEffectsGetAscendingIDsInTheirOrder", func(t *testing.T, s storage.Store) {
		// As many records as a write-behind batch carries: a backend may
		// insert them with one statement, and the IDs must still ascend in
		// the order given, each record under its own ID.
		mustDevice(t, s, "many-a")
		mustDevice(t, s, "many-b")
		e := &storage.Effects{TraceKeep: 100}
		for i := range 20 {
			id := []string{"many-a", "many-b"}[i%2]
			e.Events = append(e.Events, &storage.Event{DeviceID: id, SessionID: "S", Kind: "k", Data: strconv.Itoa(i)})
			e.Traces = append(e.Traces, &storage.TraceEntry{DeviceID: id, SessionID: "S", Direction: "in",
				MsgID: strconv.Itoa(i), ContentType: "x", Body: []byte("body " + strconv.Itoa(i))})
		}
		check(t, "WriteEffects", storage.WriteEffects(bg, s, e))
		for i := 1; i < len(e.Events); i++ {
			if e.Events[i].ID <= e.Events[i-1].ID || e.Traces[i].ID <= e.Traces[i-1].ID {
				t.Fatalf("IDs do not ascend at %d: events %d, %d; traces %d, %d", i,
					e.Events[i-1].ID, e.Events[i].ID, e.Traces[i-1].ID, e.Traces[i].ID)
			}
		}
		evs, err := s.ListEvents(bg, "many-b", 0, 100)
		check(t, "ListEvents", err)
		ts, err := s.ListTraces(bg, "many-b", "", 100)
		check(t, "ListTraces", err)
		if len(evs) != 10 || len(ts) != 10 {
			t.Fatalf("device many-b: %d events, %d traces, want 10 each", len(evs), len(ts))
		}
		want := map[int64]string{}
		for i, ev := range e.Events {
			want[ev.ID] = strconv.Itoa(i)
		}
		for _, ev := range evs {
			if want[ev.ID] != ev.Data {
				t.Errorf("event %d has data %q, want %q", ev.ID, ev.Data, want[ev.ID])
			}
		}
		for i, tr := range e.Traces {
			want[tr.ID] = "body " + strconv.Itoa(i)
		}
		for _, tr := range ts {
			if want[tr.ID] != string(tr.Body) {
				t.Errorf("trace %d has body %q, want %q", tr.ID, tr.Body, want[tr.ID])
			}
		}
	}},
	{"WriteEffectsStoresEverythingAndReportsJobGuards", func(t *testing.T, s storage.Store) {
		for _, inBatch := range []bool{false, true} {
			id := "eff-plain"
			if inBatch {
				id = "eff-batch"
			}
			d := mustDevice(t, s, id)
			open := mustJob(t, s, id, getSpec("./A"))
			done := mustJob(t, s, id, getSpec("./B"))
			if _, err := s.CancelJob(bg, done.ID); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
			d.ClientNonce = []byte("next")
			d.LastSeen = at
			open.State, open.Status, open.DoneAt = storage.JobDone, 200, at
			open.Results = []storage.ResultItem{{URI: "./A", Format: "chr", Data: "v"}}
			gone := &storage.Job{ID: 1 << 40, DeviceID: id, State: storage.JobDone}
			doneCopy := *done
			doneCopy.State = storage.JobDone
			e := &storage.Effects{
				Device: d,
				Jobs:   []*storage.Job{open, &doneCopy, gone},
				Nodes:  []storage.TreeNode{{DeviceID: id, URI: "./A", Format: "chr", Value: "v", UpdatedAt: at}},
				Events: []*storage.Event{{DeviceID: id, SessionID: "1", Kind: "session-start", CreatedAt: at},
					{DeviceID: id, SessionID: "1", Kind: "session-end"}},
				Traces: []*storage.TraceEntry{{DeviceID: id, SessionID: "1", Direction: "in", MsgID: "1", ContentType: "x", Body: []byte{0, 1}},
					{DeviceID: id, SessionID: "1", Direction: "out", MsgID: "1", ContentType: "x", Body: []byte("<a/>"), CreatedAt: at}},
			}
			write := func(st storage.Store) error { return storage.WriteEffects(bg, st, e) }
			var err error
			if inBatch {
				err = storage.InBatch(bg, s, write)
			} else {
				err = write(s)
			}
			check(t, "WriteEffects", err)
			if len(e.JobErrs) != 3 || e.JobErrs[0] != nil || !errors.Is(e.JobErrs[1], storage.ErrConflict) ||
				!errors.Is(e.JobErrs[2], storage.ErrNotFound) {
				t.Fatalf("JobErrs = %v, want [nil ErrConflict ErrNotFound]", e.JobErrs)
			}
			got, err := s.GetDevice(bg, id)
			check(t, "GetDevice", err)
			if string(got.ClientNonce) != "next" || !got.LastSeen.Equal(at) {
				t.Errorf("device not updated: nonce %q last seen %v", got.ClientNonce, got.LastSeen)
			}
			j, err := s.GetJob(bg, open.ID)
			check(t, "GetJob", err)
			if j.State != storage.JobDone || j.Status != 200 || len(j.Results) != 1 || !j.DoneAt.Equal(at) {
				t.Errorf("job not updated: %+v", j)
			}
			if j, _ := s.GetJob(bg, done.ID); j.State != storage.JobCancelled {
				t.Errorf("cancelled job became %s", j.State)
			}
			nodes, err := s.ListTreeNodes(bg, id, "")
			check(t, "ListTreeNodes", err)
			if len(nodes) != 1 || nodes[0].Value != "v" {
				t.Errorf("tree nodes %+v", nodes)
			}
			evs, err := s.ListEvents(bg, id, 0, 10)
			check(t, "ListEvents", err)
			if len(evs) != 2 || evs[0].ID != e.Events[0].ID || evs[1].ID != e.Events[1].ID || evs[0].ID >= evs[1].ID ||
				!evs[0].CreatedAt.Equal(at) || e.Events[1].CreatedAt.IsZero() {
				t.Errorf("events %+v, ids %d %d", evs, e.Events[0].ID, e.Events[1].ID)
			}
			trs, err := s.ListTraces(bg, id, "", 10)
			check(t, "ListTraces", err)
			if len(trs) != 2 || trs[0].ID != e.Traces[0].ID || trs[1].ID != e.Traces[1].ID || string(trs[0].Body) != "\x00\x01" ||
				e.Traces[0].CreatedAt.IsZero() {
				t.Errorf("traces %+v", trs)
			}
		}
	}},
	{"WriteEffectsStoresNothingWhenAGuardRefuses", func(t *testing.T, s storage.Store) {
		_, batcher := s.(storage.Batcher)
		_, writer := s.(storage.EffectsWriter)
		if !batcher && !writer {
			t.Skip("a store without batches writes effects one by one (not atomic)")
		}
		for _, tc := range []struct {
			name string
			want error
			mod  func(e *storage.Effects, cancelled *storage.Job)
		}{
			{"guarded job cancelled", storage.ErrGuard, func(e *storage.Effects, c *storage.Job) {
				e.Jobs = append([]*storage.Job{c}, e.Jobs...)
				e.Guarded = 1
			}},
			{"two guarded jobs, the second cancelled", storage.ErrGuard, func(e *storage.Effects, c *storage.Job) {
				e.Jobs = append(e.Jobs, c)
				e.Guarded = 2
			}},
			{"session version moved", storage.ErrConflict, func(e *storage.Effects, _ *storage.Job) { e.Session.Version = 7 }},
			{"device gone", storage.ErrNotFound, func(e *storage.Effects, _ *storage.Job) { e.Device = newDevice("gone-" + e.Session.SessionID) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := "g-" + tc.name[:6]
				d := mustDevice(t, s, id)
				sess := &storage.Session{DeviceID: id, SessionID: tc.name[:6], Token: "tok-" + tc.name[:6], State: []byte("s1")}
				check(t, "SaveSession", s.SaveSession(bg, sess))
				open := mustJob(t, s, id, getSpec("./A"))
				cancelled := mustJob(t, s, id, getSpec("./B"))
				if _, err := s.CancelJob(bg, cancelled.ID); err != nil {
					t.Fatal(err)
				}
				c := *cancelled
				c.State = storage.JobSent
				open.State = storage.JobSent
				sess.State = []byte("s2")
				d.ClientNonce = []byte("changed")
				e := &storage.Effects{Session: sess, Device: d, Jobs: []*storage.Job{open},
					Events: []*storage.Event{{DeviceID: id, SessionID: sess.SessionID, Kind: "x"}},
					Traces: []*storage.TraceEntry{{DeviceID: id, SessionID: sess.SessionID, Direction: "in", MsgID: "1", ContentType: "x"}}}
				tc.mod(e, &c)
				version := e.Session.Version
				if err := storage.WriteEffects(bg, s, e); !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if e.Session.Version != version {
					t.Errorf("session version moved to %d in memory", e.Session.Version)
				}
				got, err := s.GetSession(bg, id, sess.SessionID)
				check(t, "GetSession", err)
				if string(got.State) != "s1" || got.Version != 1 {
					t.Errorf("session changed: %q v%d", got.State, got.Version)
				}
				if dv, _ := s.GetDevice(bg, id); string(dv.ClientNonce) == "changed" {
					t.Error("device changed")
				}
				if j, _ := s.GetJob(bg, open.ID); j.State != storage.JobQueued {
					t.Errorf("job became %s", j.State)
				}
				if evs, _ := s.ListEvents(bg, id, 0, 10); len(evs) != 0 {
					t.Errorf("events stored: %d", len(evs))
				}
				if trs, _ := s.ListTraces(bg, id, "", 10); len(trs) != 0 {
					t.Errorf("traces stored: %d", len(trs))
				}
			})
		}
	}},
	{"WriteEffectsOnMissingDeviceFails", func(t *testing.T, s storage.Store) {
		for _, contact := range []bool{false, true} {
			err := storage.WriteEffects(bg, s, &storage.Effects{Device: newDevice("nobody"), DeviceContact: contact})
			if !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("DeviceContact %v: err = %v, want ErrNotFound", contact, err)
			}
		}
	}},
	{"DeviceContactKeepsTheStoredLabelsAndDevInfoUnlessAsked", func(t *testing.T, s storage.Store) {
		for _, devInfo := range []bool{false, true} {
			id := "contact-" + strconv.FormatBool(devInfo)
			d := newDevice(id)
			d.DevInfo = map[string]string{"./DevInfo/Mod": "M1"}
			d.Labels = map[string]string{"site": "a"}
			check(t, "CreateDevice", s.CreateDevice(bg, d))
			d, err := s.GetDevice(bg, id)
			check(t, "GetDevice", err)
			// The API relabels the device while a DM message holds its copy.
			_, err = s.UpdateLabels(bg, []string{id}, map[string]string{"site": "b"}, nil)
			check(t, "UpdateLabels", err)
			seen := time.Unix(1_700_000_000, 0).UTC()
			d.LastSeen, d.ServerNonce, d.ClientNonce = seen, []byte("server-nonce"), []byte("client-nonce")
			d.DevInfo = map[string]string{"./DevInfo/Mod": "M2"}
			check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Device: d, DeviceContact: true, DeviceInfo: devInfo}))
			got, err := s.GetDevice(bg, id)
			check(t, "GetDevice", err)
			if !got.LastSeen.Equal(seen) || string(got.ServerNonce) != "server-nonce" || string(got.ClientNonce) != "client-nonce" {
				t.Fatalf("DeviceInfo %v: last seen %v, nonces %q %q; want %v, server-nonce, client-nonce",
					devInfo, got.LastSeen, got.ServerNonce, got.ClientNonce, seen)
			}
			if _, ok := s.(storage.DeviceContactWriter); !ok {
				continue // the store writes the whole copy (UpdateDevice)
			}
			wantMod := map[bool]string{false: "M1", true: "M2"}[devInfo]
			if got.DevInfo["./DevInfo/Mod"] != wantMod || got.Labels["site"] != "b" {
				t.Fatalf("DeviceInfo %v: DevInfo %v, labels %v; want model %s and the API's label site=b",
					devInfo, got.DevInfo, got.Labels, wantMod)
			}
		}
	}},
}

// readTests check storage.ReadMessage and storage.GetJobs, through the
// backend's MessageReader when it has one.
var readTests = []test{
	{"ReadMessageReadsDeviceSessionAndQueueLikeTheSingleMethods", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "rm")
		sess := &storage.Session{DeviceID: "rm", SessionID: "5", Token: "tok-rm", State: []byte{1, 2}}
		check(t, "SaveSession", s.SaveSession(bg, sess))
		j1 := mustJob(t, s, "rm", getSpec("./A"))
		j2 := mustJob(t, s, "rm", getSpec("./B"))
		for _, tc := range []struct {
			name                      string
			r                         storage.MessageRead
			wantDev, wantSess, wantNF bool
			pending                   int
		}{
			{"by session id", storage.MessageRead{DeviceID: "rm", SessionID: "5", Pending: true}, true, true, false, 2},
			{"by token", storage.MessageRead{DeviceID: "rm", SessionID: "5", Token: "tok-rm"}, true, true, false, 0},
			{"unknown session", storage.MessageRead{DeviceID: "rm", SessionID: "6", Pending: true}, true, false, true, 2},
			{"unknown token", storage.MessageRead{DeviceID: "rm", SessionID: "5", Token: "nope"}, true, false, true, 0},
			{"unknown device", storage.MessageRead{DeviceID: "none", SessionID: "5"}, false, false, true, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.r
				check(t, "ReadMessage", storage.ReadMessage(bg, s, &r))
				if tc.wantDev != (r.DeviceErr == nil && r.Device != nil && r.Device.ID == "rm") {
					t.Errorf("device %v, err %v", r.Device, r.DeviceErr)
				}
				if !tc.wantDev && !errors.Is(r.DeviceErr, storage.ErrNotFound) {
					t.Errorf("device err %v, want ErrNotFound", r.DeviceErr)
				}
				if tc.wantSess && (r.SessionErr != nil || r.Session.Version != 1 || string(r.Session.State) != "\x01\x02") {
					t.Errorf("session %+v, err %v", r.Session, r.SessionErr)
				}
				if tc.wantSess && r.SessionErr == nil {
					one, err := s.GetSession(bg, "rm", "5")
					check(t, "GetSession", err)
					deepEqual(t, "session read with the message", r.Session, one)
				}
				if tc.wantDev && r.DeviceErr == nil {
					one, err := s.GetDevice(bg, "rm")
					check(t, "GetDevice", err)
					deepEqual(t, "device read with the message", r.Device, one)
				}
				if tc.wantDev && tc.wantNF && !errors.Is(r.SessionErr, storage.ErrNotFound) {
					t.Errorf("session err %v, want ErrNotFound", r.SessionErr)
				}
				if r.PendingErr != nil || len(r.PendingJobs) != tc.pending {
					t.Errorf("pending %d jobs (err %v), want %d", len(r.PendingJobs), r.PendingErr, tc.pending)
				}
			})
		}
		jobs, err := storage.GetJobs(bg, s, []int64{j2.ID, 1 << 40, j1.ID})
		check(t, "GetJobs", err)
		if len(jobs) != 2 || jobs[0].ID+jobs[1].ID != j1.ID+j2.ID || jobs[0].Spec.Command != "Get" {
			t.Errorf("GetJobs = %+v", jobs)
		}
	}},
}
