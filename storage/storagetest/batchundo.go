package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// batchUndoTests check that a failed batch leaves every kind of record as it
// was, whatever the batch wrote: creations, updates in place and deletions
// (DeleteDevice's cascade included) of every interface of the Store.
var batchUndoTests = []test{
	{"FailedBatchLeavesEveryRecordAsItWas", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		seedAll(t, s)
		before := dumpAll(t, s)
		err := b.Batch(bg, func(tx storage.Store) error {
			writeAll(t, tx)
			return errBoom
		})
		wantErr(t, "Batch", err, errBoom)
		after := dumpAll(t, s)
		for i := range max(len(before), len(after)) {
			var x, y string
			if i < len(before) {
				x = before[i]
			}
			if i < len(after) {
				y = after[i]
			}
			if x != y {
				t.Errorf("after the rolled-back batch:\n got %s\nwant %s", y, x)
			}
		}
	}},
	{"SucceededBatchKeepsEveryWrite", func(t *testing.T, s storage.Store) {
		b := batcher(t, s)
		seedAll(t, s)
		before := dumpAll(t, s)
		check(t, "Batch", b.Batch(bg, func(tx storage.Store) error {
			writeAll(t, tx)
			return nil
		}))
		if after := dumpAll(t, s); slices.Equal(before, after) {
			t.Fatal("a committed batch changed nothing")
		}
		if _, err := s.GetDevice(bg, "u1"); err == nil {
			t.Error("device u1, deleted in the batch, is still there")
		}
	}},
}

// seedAll stores a little of everything, around device u1.
func seedAll(t *testing.T, s storage.Store) {
	t.Helper()
	d := newDevice("u1")
	d.Labels = map[string]string{"site": "a"}
	check(t, "CreateDevice", s.CreateDevice(bg, d))
	mustDevice(t, s, "u2")
	mustJob(t, s, "u1", getSpec("./A"))
	sent := mustJob(t, s, "u1", getSpec("./B"))
	sent.State, sent.SessionID = storage.JobSent, "s1"
	check(t, "UpdateJob", s.UpdateJob(bg, sent))
	mustJob(t, s, "u2", getSpec("./C"))
	check(t, "SaveSession", s.SaveSession(bg, &storage.Session{DeviceID: "u1", SessionID: "s1", Token: "tok1", State: []byte("st")}))
	check(t, "SaveSession", s.SaveSession(bg, &storage.Session{DeviceID: "u2", SessionID: "s2", Token: "tok2", Closed: true}))
	if cs, ok := s.(storage.ChunkStore); ok {
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{{DeviceID: "u1", SessionID: "s1", Seq: 0, Data: []byte("c0")}}))
	}
	check(t, "AddEvent", s.AddEvent(bg, &storage.Event{DeviceID: "u1", Kind: "generic-alert", Correlator: "c1"}))
	check(t, "AddEvent", s.AddEvent(bg, &storage.Event{DeviceID: "u2", Kind: "session-start"}))
	check(t, "PutTreeNodes", s.PutTreeNodes(bg, []storage.TreeNode{{DeviceID: "u1", URI: "./A", Value: "1"}, {DeviceID: "u2", URI: "./B", Value: "2"}}))
	for i := range 3 {
		check(t, "AddTrace", s.AddTrace(bg, &storage.TraceEntry{DeviceID: "u1", SessionID: "s1", Direction: "in", MsgID: fmt.Sprint(i), Body: []byte("body")}))
	}
	check(t, "AddTrace", s.AddTrace(bg, &storage.TraceEntry{DeviceID: "u2", SessionID: "s2", Direction: "out", MsgID: "1", Body: []byte("x")}))
	newOp(t, s, "u1", "c1", time.Now().Add(time.Hour))
	newOp(t, s, "u2", "c2", time.Now().Add(time.Hour))
	c := &storage.Campaign{Name: "fw", Spec: []byte(`{"mo":"fumo"}`)}
	check(t, "CreateCampaign", s.CreateCampaign(bg, c))
	check(t, "AddCampaignDevices", s.AddCampaignDevices(bg, c.ID, []storage.CampaignDevice{{DeviceID: "u1", Seq: 0}, {DeviceID: "u2", Seq: 2}}))
	check(t, "CreateGroup", s.CreateGroup(bg, &storage.Group{Name: "g1"}))
	_, err := s.AddGroupMembers(bg, "g1", []string{"u1"})
	check(t, "AddGroupMembers", err)
	check(t, "CreateProfile", s.CreateProfile(bg, &storage.Profile{Name: "p1", Kind: "apn", Settings: map[string]string{"apn": "a"}}))
	check(t, "CreateAPIToken", s.CreateAPIToken(bg, &storage.APIToken{Name: "t1", Prefix: "omadm_t1", Hash: tokenHash("t1")}))
}

// writeAll writes through tx (a batch's Store) to every kind of record
// seedAll stored, and ends by deleting device u1 with all it has.
func writeAll(t *testing.T, tx storage.Store) {
	t.Helper()
	do := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s inside the batch: %v", what, err)
		}
	}
	ctx := bg
	do("CreateDevice", tx.CreateDevice(ctx, newDevice("u3")))
	d2, err := tx.GetDevice(ctx, "u2")
	do("GetDevice", err)
	if d2 != nil {
		d2.NotifyAddr = "udp://127.0.0.1:9"
		do("UpdateDevice", tx.UpdateDevice(ctx, d2))
	}
	_, err = tx.UpdateLabels(ctx, []string{"u1", "u2"}, map[string]string{"site": "b", "new": "1"}, nil)
	do("UpdateLabels", err)
	_, err = tx.ImportDevices(ctx, []*storage.Device{newDevice("u4"), newDevice("u2")})
	do("ImportDevices", err)

	jobs, err := tx.ListJobs(ctx, storage.JobFilter{})
	do("ListJobs", err)
	do("CreateJob", tx.CreateJob(ctx, &storage.Job{DeviceID: "u2", Spec: getSpec("./D")}))
	for _, j := range jobs {
		if j.DeviceID == "u2" {
			j.State, j.Status, j.DoneAt = storage.JobDone, 200, time.Now()
			do("UpdateJob", tx.UpdateJob(ctx, j))
		} else if j.State == storage.JobSent {
			_, err := tx.CancelJob(ctx, j.ID)
			do("CancelJob", err)
		}
	}
	_, err = tx.DeleteJobsBefore(ctx, time.Now().Add(time.Hour))
	do("DeleteJobsBefore", err)

	ss, err := tx.GetSession(ctx, "u2", "s2")
	do("GetSession", err)
	if ss != nil {
		ss.State, ss.Token = []byte("changed"), "tok2b"
		do("SaveSession", tx.SaveSession(ctx, ss))
	}
	do("SaveSession new", tx.SaveSession(ctx, &storage.Session{DeviceID: "u2", SessionID: "s3", Token: "tok3"}))
	if cs, ok := tx.(storage.ChunkStore); ok {
		do("AppendChunks", cs.AppendChunks(ctx, []*storage.Chunk{
			{DeviceID: "u1", SessionID: "s1", Seq: 1, Data: []byte("c1")},
			{DeviceID: "u2", SessionID: "s3", Seq: 0, Data: []byte("x")},
		}))
		do("DeleteChunks", cs.DeleteChunks(ctx, "u2", "s3"))
	}
	_, err = tx.DeleteClosedSessionsBefore(ctx, time.Now().Add(time.Hour), 10)
	do("DeleteClosedSessionsBefore", err)

	do("AddEvent", tx.AddEvent(ctx, &storage.Event{DeviceID: "u2", Kind: "session-end"}))
	_, err = tx.DeleteEventsBefore(ctx, time.Now().Add(time.Hour))
	do("DeleteEventsBefore", err)
	do("AddEvent", tx.AddEvent(ctx, &storage.Event{DeviceID: "u2", Kind: "late"}))

	do("PutTreeNodes", tx.PutTreeNodes(ctx, []storage.TreeNode{{DeviceID: "u2", URI: "./B", Value: "3"}, {DeviceID: "u2", URI: "./C", Value: "4"}}))
	do("DeleteTreeNodes", tx.DeleteTreeNodes(ctx, "u1", ""))

	do("AddTrace", tx.AddTrace(ctx, &storage.TraceEntry{DeviceID: "u2", SessionID: "s2", Direction: "in", MsgID: "2", Body: []byte("y")}))
	do("PruneTraces", tx.PruneTraces(ctx, 1))
	_, err = storage.PruneDeviceTraces(ctx, tx, "u2", 0)
	do("PruneDeviceTraces", err)

	ops, err := tx.ListOperations(ctx, storage.OperationFilter{})
	do("ListOperations", err)
	for _, op := range ops {
		op.State = storage.OpAccepted
		do("TransitionOperation", tx.TransitionOperation(ctx, op, storage.OpQueued))
	}
	j := &storage.Job{DeviceID: "u2", Spec: getSpec("./E")}
	do("CreateJob", tx.CreateJob(ctx, j))
	do("CreateOperation", tx.CreateOperation(ctx, &storage.Operation{DeviceID: "u2", MO: "exec", Name: "X", Node: "./X", Correlator: "c3", JobID: j.ID}))

	cs, err := tx.ListCampaigns(ctx, storage.CampaignFilter{})
	do("ListCampaigns", err)
	for _, c := range cs {
		do("LeaseCampaign", tx.LeaseCampaign(ctx, c.ID, "node-1", time.Now(), time.Now().Add(time.Minute)))
		c.State = storage.CampaignRunning
		do("UpdateCampaign", tx.UpdateCampaign(ctx, c))
		do("AddCampaignDevices", tx.AddCampaignDevices(ctx, c.ID, []storage.CampaignDevice{{DeviceID: "u3", Seq: 1}}))
		ds, err := tx.ListCampaignDevices(ctx, storage.CampaignDeviceFilter{CampaignID: c.ID})
		do("ListCampaignDevices", err)
		if len(ds) > 0 {
			ds[0].State = storage.TargetNotified
			do("TransitionCampaignDevice", tx.TransitionCampaignDevice(ctx, ds[0]))
		}
		_, err = tx.SetCampaignDevices(ctx, c.ID, storage.TargetSkipped, "stopped", time.Now(), storage.TargetPending)
		do("SetCampaignDevices", err)
		_, err = tx.SyncCampaignDevices(ctx, c.ID, time.Now())
		do("SyncCampaignDevices", err)
		do("ReleaseCampaign", tx.ReleaseCampaign(ctx, c.ID, "node-1"))
	}
	c := &storage.Campaign{Name: "second", Spec: []byte(`{}`)}
	do("CreateCampaign", tx.CreateCampaign(ctx, c))
	do("DeleteCampaign", tx.DeleteCampaign(ctx, c.ID))

	do("CreateGroup", tx.CreateGroup(ctx, &storage.Group{Name: "g2"}))
	_, err = tx.AddGroupMembers(ctx, "g1", []string{"u2", "u3"})
	do("AddGroupMembers", err)
	_, err = tx.RemoveGroupMembers(ctx, "g1", []string{"u2"})
	do("RemoveGroupMembers", err)
	do("DeleteGroup", tx.DeleteGroup(ctx, "g2"))

	do("UpdateProfile", tx.UpdateProfile(ctx, &storage.Profile{Name: "p1", Kind: "apn", Settings: map[string]string{"apn": "b"}}))
	do("CreateProfile", tx.CreateProfile(ctx, &storage.Profile{Name: "p2", Kind: "wifi"}))
	do("DeleteProfile", tx.DeleteProfile(ctx, "p2"))

	toks, err := tx.ListAPITokens(ctx, true)
	do("ListAPITokens", err)
	for _, tk := range toks {
		do("TouchAPIToken", tx.TouchAPIToken(ctx, tk.ID, time.Now()))
		_, err := tx.RevokeAPIToken(ctx, tk.ID)
		do("RevokeAPIToken", err)
	}
	do("CreateAPIToken", tx.CreateAPIToken(ctx, &storage.APIToken{Name: "t2", Prefix: "omadm_t2", Hash: tokenHash("t2")}))

	do("DeleteDevice", tx.DeleteDevice(ctx, "u1"))
}

// dumpAll reads back every record, one line each, in a stable order.
func dumpAll(t *testing.T, s storage.Store) []string {
	t.Helper()
	var out []string
	add := func(what string, v any) { out = append(out, fmt.Sprintf("%s %+v", what, v)) }
	ds, err := s.ListDevices(bg, "", 1000)
	check(t, "ListDevices", err)
	for _, d := range ds {
		add("device", *d)
	}
	js, err := s.ListJobs(bg, storage.JobFilter{Limit: 1000})
	check(t, "ListJobs", err)
	for _, j := range js {
		add("job", *j)
	}
	for _, d := range ds {
		for _, sid := range []string{"s1", "s2", "s3"} {
			if ss, err := s.GetSession(bg, d.ID, sid); err == nil {
				add("session", *ss)
			}
			if cs, ok := s.(storage.ChunkStore); ok {
				data, n, err := cs.ReadChunks(bg, d.ID, sid)
				check(t, "ReadChunks", err)
				add("chunks "+d.ID+"/"+sid, fmt.Sprint(n, string(data)))
			}
		}
		for _, tok := range []string{"tok1", "tok2", "tok2b", "tok3"} {
			if ss, err := s.GetSessionByToken(bg, tok); err == nil {
				add("token "+tok, ss.DeviceID+"/"+ss.SessionID)
			}
		}
		ns, err := s.ListTreeNodes(bg, d.ID, "")
		check(t, "ListTreeNodes", err)
		add("tree "+d.ID, ns)
		trs, err := s.ListTraces(bg, d.ID, "", 1000)
		check(t, "ListTraces", err)
		for _, tr := range trs {
			add("trace", *tr)
		}
	}
	evs, err := s.ListEvents(bg, "", 0, 1000)
	check(t, "ListEvents", err)
	for _, e := range evs {
		add("event", *e)
	}
	ops, err := s.ListOperations(bg, storage.OperationFilter{Limit: 1000})
	check(t, "ListOperations", err)
	for _, op := range ops {
		add("operation", *op)
	}
	cs, err := s.ListCampaigns(bg, storage.CampaignFilter{})
	check(t, "ListCampaigns", err)
	for _, c := range cs {
		add("campaign", *c)
		cds, err := s.ListCampaignDevices(bg, storage.CampaignDeviceFilter{CampaignID: c.ID})
		check(t, "ListCampaignDevices", err)
		for _, cd := range cds {
			add("campaign device", *cd)
		}
	}
	gs, err := s.ListGroups(bg, "", 1000)
	check(t, "ListGroups", err)
	for _, g := range gs {
		add("group", *g)
		if !g.Dynamic() {
			add("members "+g.Name, QueryAllIDs(t, s, storage.DeviceQuery{Group: g.Name}, 100))
		}
	}
	ps, err := s.ListProfiles(bg, "", 1000)
	check(t, "ListProfiles", err)
	for _, p := range ps {
		add("profile", *p)
	}
	toks, err := s.ListAPITokens(bg, true)
	check(t, "ListAPITokens", err)
	for _, tk := range toks {
		add("api token", *tk)
	}
	return out
}
