package server_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func fwResults(g *syncml.Get) []syncml.Item {
	return []syncml.Item{{Source: &syncml.Location{LocURI: g.Items[0].Target.LocURI},
		Meta: &syncml.Meta{Format: "chr", Type: "text/plain"}, Data: syncml.TextData("v-" + g.Items[0].Target.LocURI)}}
}

func TestEngine_SendsQueueInOrderAndStoresStatusesAndResults(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	get := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
	rep := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/X", Format: "int", Data: "7"}}})
	del := h.addJob(t, storage.JobSpec{Command: "Delete", Items: []storage.JobItem{{URI: "./Vendor/Y"}}})
	ex := h.addJob(t, storage.JobSpec{Command: "Exec", Correlator: "c1", Items: []storage.JobItem{{URI: "./FUMO/1/Update"}}})
	cp := h.addJob(t, storage.JobSpec{Command: "Copy", Items: []storage.JobItem{{URI: "./A", Source: "./B"}}})

	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	cmds := commands(r)
	if got, want := names(cmds), []string{"Get", "Replace", "Delete", "Exec", "Copy"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	if !r.Final {
		t.Error("pkg2 not final")
	}
	rp := cmds[1].(*syncml.Replace)
	if it := rp.Items[0]; it.Target.LocURI != "./Vendor/X" || it.Meta.Format != "int" || it.Data.String() != "7" {
		t.Errorf("replace item %+v", it)
	}
	if e := cmds[3].(*syncml.Exec); e.Correlator != "c1" {
		t.Errorf("exec correlator %q", e.Correlator)
	}
	if c := cmds[4].(*syncml.Copy); c.Items[0].Source.LocURI != "./B" {
		t.Errorf("copy source %+v", c.Items[0].Source)
	}
	ids := map[string]bool{}
	for _, c := range r.Body {
		if ids[c.ID()] {
			t.Errorf("CmdID %s used twice", c.ID())
		}
		ids[c.ID()] = true
	}
	for _, id := range []int64{get, rep, del, ex, cp} {
		if j := h.job(t, id); j.State != storage.JobSent || j.Attempts != 1 || j.SessionID != "1" {
			t.Errorf("job %d after send: %+v", id, j)
		}
	}

	r = d.post(t, d.message(true, d.answer(r, func(c syncml.Command) syncml.StatusCode {
		switch c.CommandName() {
		case "Delete":
			return syncml.StatusNotFound
		case "Exec":
			return syncml.StatusAccepted
		}
		return syncml.StatusOK
	}, fwResults)...))
	if len(commands(r)) != 0 || !r.Final {
		t.Fatalf("pkg4: %v final=%v, want status-only final", names(commands(r)), r.Final)
	}
	want := map[int64]struct {
		state  storage.JobState
		status int
	}{get: {storage.JobDone, 200}, rep: {storage.JobDone, 200}, del: {storage.JobFailed, 404}, ex: {storage.JobDone, 202}, cp: {storage.JobDone, 200}}
	for id, w := range want {
		j := h.job(t, id)
		if j.State != w.state || j.Status != w.status || j.DoneAt.IsZero() {
			t.Errorf("job %d: state %s status %d, want %s %d", id, j.State, j.Status, w.state, w.status)
		}
	}
	if j := h.job(t, get); len(j.Results) != 1 || j.Results[0].URI != "./DevDetail/FwV" || j.Results[0].Data != "v-./DevDetail/FwV" || j.Results[0].Format != "chr" {
		t.Errorf("get results %+v", j.Results)
	}
	nodes, _ := h.store.ListTreeNodes(context.Background(), devID, "./DevDetail")
	if len(nodes) != 1 || nodes[0].Value != "v-./DevDetail/FwV" {
		t.Errorf("tree cache %+v", nodes)
	}
	var jobUpdates int
	for _, u := range h.updates() {
		if u.Kind == "job" {
			jobUpdates++
		}
	}
	if jobUpdates != 10 {
		t.Errorf("job updates = %d, want 10 (5 sent + 5 finished)", jobUpdates)
	}
}

func TestEngine_AtomicAndSequenceStoreMemberStatuses(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	at := h.addJob(t, storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{
		{Command: "Add", Items: []storage.JobItem{{URI: "./A/1", Data: "x"}}},
		{Command: "Replace", Items: []storage.JobItem{{URI: "./A/2", Data: "y"}}},
	}})
	seq := h.addJob(t, storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{
		{Command: "Get", Items: []storage.JobItem{{URI: "./B"}}},
		{Command: "Exec", Items: []storage.JobItem{{URI: "./C"}}},
	}})
	bad := h.addJob(t, storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{
		{Command: "Get", Items: []storage.JobItem{{URI: "./B"}}},
	}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Atomic", "Sequence"}) {
		t.Fatalf("commands %v", got)
	}
	if j := h.job(t, bad); j.State != storage.JobFailed || !strings.Contains(j.Error, "not allowed inside Atomic") {
		t.Errorf("invalid atomic job %+v", j)
	}
	d.post(t, d.message(true, d.answer(r, func(c syncml.Command) syncml.StatusCode {
		switch c.CommandName() {
		case "Atomic":
			return syncml.StatusAtomicFailed
		case "Add":
			return syncml.StatusAtomicRollbackOK
		case "Replace":
			return syncml.StatusNotFound
		}
		return syncml.StatusOK
	}, fwResults)...))
	if j := h.job(t, at); j.State != storage.JobFailed || j.Status != 507 || !reflect.DeepEqual(j.ChildStatus, []int{216, 404}) {
		t.Errorf("atomic job: %s %d %v", j.State, j.Status, j.ChildStatus)
	}
	if j := h.job(t, seq); j.State != storage.JobDone || !reflect.DeepEqual(j.ChildStatus, []int{200, 200}) || len(j.Results) != 1 || j.Results[0].URI != "./B" {
		t.Errorf("sequence job: %s %v %+v", j.State, j.ChildStatus, j.Results)
	}
}

func TestEngine_UIAlertCarriesOptionsTextChoicesAndStoresAnswer(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1103, Text: "Pick one",
		MaxDT: 30, Default: "2", Choices: []string{"Red", "Green"}}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	cmds := commands(r)
	if len(cmds) != 1 {
		t.Fatalf("commands %v", names(cmds))
	}
	a := cmds[0].(*syncml.Alert)
	var items []string
	for _, it := range a.Items {
		items = append(items, it.Data.String())
	}
	if a.Data != syncml.AlertSingleChoice || !reflect.DeepEqual(items, []string{"MAXDT=30&DR=2", "Pick one", "Red", "Green"}) {
		t.Fatalf("alert %d items %q", a.Data, items)
	}
	ans := &syncml.Status{CmdID: "2", MsgRef: r.Header.MsgID, CmdRef: a.CmdID, Cmd: "Alert", Data: syncml.StatusOK,
		Items: []syncml.Item{{Data: syncml.TextData("2")}}}
	d.post(t, d.message(true, &syncml.Status{CmdID: "1", MsgRef: r.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 200}, ans))
	if j := h.job(t, id); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != "2" {
		t.Errorf("ui job %+v", j)
	}
}

func TestEngine_SetSemanticsFallsBackToReplaceInSameSession(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Add", Set: true, Items: []storage.JobItem{{URI: "./Vendor/Cfg", Data: "on"}}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Add"}) {
		t.Fatalf("pkg2 %v", got)
	}
	r = d.post(t, d.message(true, d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusAlreadyExists }, nil)...))
	cmds := commands(r)
	if got := names(cmds); !reflect.DeepEqual(got, []string{"Replace"}) {
		t.Fatalf("after 418: %v, want Replace", got)
	}
	if it := cmds[0].(*syncml.Replace).Items[0]; it.Target.LocURI != "./Vendor/Cfg" || it.Data.String() != "on" {
		t.Errorf("fallback item %+v", it)
	}
	if j := h.job(t, id); j.State != storage.JobSent {
		t.Errorf("job finished before the fallback answered: %+v", j)
	}
	r = d.post(t, d.message(true, d.answer(r, nil, nil)...))
	if j := h.job(t, id); j.State != storage.JobDone || j.Status != 200 || j.Attempts != 2 {
		t.Errorf("job %+v", j)
	}
	if len(commands(r)) != 0 || !r.Final {
		t.Errorf("session did not end: %v", names(commands(r)))
	}
}

func TestEngine_GenericAlertsAndClientEventsAreStoredAsEvents(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	cmds := append(d.pkg1(syncml.AlertClientInitiatedMgmt),
		&syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Correlator: "abc123", Items: []syncml.Item{{
			Source: &syncml.Location{LocURI: "./FUMO/x"},
			Meta:   &syncml.Meta{Type: "org.openmobilealliance.dm.firmwareupdate.update", Format: "int", Mark: "critical"},
			Data:   syncml.TextData("200")}}},
		&syncml.Alert{CmdID: "4", Data: syncml.AlertClientEvent, Items: []syncml.Item{{
			Meta: &syncml.Meta{Type: "com.microsoft/MDM/LoginStatus", Format: "chr"}, Data: syncml.TextData("user")}}},
		&syncml.Alert{CmdID: "5", Data: syncml.AlertDisplay},
	)
	r := d.post(t, d.message(true, cmds...))
	for ref, want := range map[string]syncml.StatusCode{"3": 200, "4": 200, "5": syncml.StatusOptionalNotSupported} {
		if s := statusFor(r, ref); s == nil || s.Data != want {
			t.Errorf("status for %s = %+v, want %d", ref, s, want)
		}
	}
	h.e.Flush(context.Background())
	evs, _ := h.store.ListEvents(context.Background(), devID, 0, 10)
	var got []storage.Event
	for _, e := range evs {
		if e.Kind == "generic-alert" || e.Kind == "client-event" {
			got = append(got, *e)
		}
	}
	if len(got) != 2 {
		t.Fatalf("events %+v", got)
	}
	g := got[0]
	if g.Kind != "generic-alert" || g.Source != "./FUMO/x" || g.Type != "org.openmobilealliance.dm.firmwareupdate.update" ||
		g.Mark != "critical" || g.Data != "200" || g.Correlator != "abc123" || g.Format != "int" {
		t.Errorf("generic alert event %+v", g)
	}
	if got[1].Kind != "client-event" || got[1].Data != "user" {
		t.Errorf("client event %+v", got[1])
	}
}

func TestEngine_SessionAbortEndsSessionAndKeepsJobsForResend(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	d := newDevice(h.e, "basic")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	r := d.post(t, d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertSessionAbort}))
	if len(commands(r)) != 0 || !r.Final || statusFor(r, "1").Data != 200 {
		t.Fatalf("abort reply %v", names(commands(r)))
	}
	pend, _ := h.store.PendingJobs(context.Background(), devID, "2")
	if len(pend) != 1 || pend[0].ID != id {
		t.Errorf("job not pending for the next session: %+v", pend)
	}
	// The next session resends it.
	d2 := newDevice(h.e, "basic")
	d2.sessionID = "2"
	r = d2.post(t, d2.message(true, d2.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Get"}) {
		t.Errorf("next session sends %v", got)
	}
	if j := h.job(t, id); j.Attempts != 2 || j.SessionID != "2" {
		t.Errorf("job %+v", j)
	}
}
