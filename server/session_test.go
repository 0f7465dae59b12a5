package server_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func TestEngine_ExactDuplicateGetsStoredReplyOtherReplaysAreRejected(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	d := newDevice(h.e, "")
	d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)) // 407: nothing stored
	d.scheme = "basic"
	body, _ := syncml.Encode(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), d.enc)
	d.postRaw(t, body)
	first := d.lastBody
	if len(commands(d.lastOut)) != 1 {
		t.Fatalf("pkg2 %v", names(commands(d.lastOut)))
	}

	d.postRaw(t, body) // the device lost our answer and resends the same bytes
	if !bytes.Equal(d.lastBody, first) {
		t.Error("duplicate did not get the stored reply")
	}

	tests := []struct {
		name  string
		msgID int
	}{{"replayed MsgID with other content", 2}, {"old MsgID", 1}, {"MsgID gap beyond the rejected attempts", 9}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertNextMessage})
			m.Header.MsgID = strconv.Itoa(tc.msgID)
			r := d.post(t, m)
			if st := hdrStatus(t, r); st.Data != syncml.StatusBadRequest {
				t.Errorf("header status %v, want 400", st.Data)
			}
			if len(commands(r)) != 0 {
				t.Errorf("rejected message got commands %v", names(commands(r)))
			}
		})
	}
}

func TestEngine_UnknownSessionTokenIsRejected(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	d.url = dmURL + "?s=bogus"
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if st := hdrStatus(t, r); st.Data != syncml.StatusNotFound {
		t.Fatalf("header status %v, want 404", st.Data)
	}
	if _, err := h.store.GetSession(context.Background(), devID, "1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a session was stored: %v", err)
	}
}

func TestEngine_SecondEngineSharingTheStoreContinuesTheSession(t *testing.T) {
	a := newHarness(t, nil)
	b := newHarness(t, a.store)
	a.addDevice(t, "md5")
	id := a.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
	d := newDevice(a.e, "md5")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if len(commands(r)) != 1 {
		t.Fatalf("pkg2 %v", names(commands(r)))
	}
	d.e = b.e // message 2 goes to the other node
	r = d.post(t, d.message(true, d.answer(r, nil, fwResults)...))
	if hdrStatus(t, r).Data != syncml.StatusOK || !r.Final {
		t.Fatalf("node B reply %+v", r)
	}
	if j := a.job(t, id); j.State != storage.JobDone || len(j.Results) != 1 {
		t.Errorf("job %+v", j)
	}
}

func TestEngine_MalformedBodyIsA400Error(t *testing.T) {
	h := newHarness(t, nil)
	for _, body := range [][]byte{[]byte("<SyncML><SyncHdr>"), []byte("hello"), {0x03, 0x01}} {
		_, err := h.e.Handle(context.Background(), &server.Inbound{Body: body, Addr: dmhttp.RequestAddressing(dmURL), SecureSession: dmhttp.SecureURL(dmURL)})
		if syncml.StatusOf(err) != syncml.StatusBadRequest {
			t.Errorf("Handle(%q) error %v, want 400", body, err)
		}
	}
	big := bytes.Repeat([]byte("x"), server.DefaultMaxMsgSize+1)
	if _, err := h.e.Handle(context.Background(), &server.Inbound{Body: big}); syncml.StatusOf(err) != syncml.StatusEntityTooLarge {
		t.Errorf("oversized body error %v, want 413", err)
	}
}

// TestEngine_CommandsThatDoNotFitWaitForTheNextPackage: OMA-TS-DM_Protocol-V1_2
// §8 (multiple messages per package): the server puts Final in every
// message except large-object chunks and "next message" replies, and sends
// no new command before it has the statuses of the previous ones. Commands
// that do not fit the device's MaxMsgSize go in the next package, after the
// device answered this one. (This test used to expect one package of 12
// commands over several non-final messages.)
func TestEngine_CommandsThatDoNotFitWaitForTheNextPackage(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	var ids []int64
	for i := range 12 {
		ids = append(ids, h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{
			{URI: "./Vendor/Node" + strconv.Itoa(i), Data: strings.Repeat("v", 100)}}}))
	}
	d := newDevice(h.e, "basic")
	d.maxMsg = 1500
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	seen, packages := 0, 0
	for ; ; packages++ {
		if packages > 20 {
			t.Fatal("session never ended")
		}
		if int64(len(d.lastBody)) > d.maxMsg {
			t.Fatalf("message of %d bytes exceeds MaxMsgSize %d", len(d.lastBody), d.maxMsg)
		}
		if !r.Final {
			t.Fatalf("message %s with %d commands is not Final", r.Header.MsgID, len(commands(r)))
		}
		n := len(commands(r))
		if n == 0 {
			break
		}
		seen += n
		r = d.post(t, d.message(true, d.answer(r, nil, nil)...))
	}
	if seen != 12 || packages < 2 {
		t.Fatalf("sent %d commands in %d packages, want 12 in several", seen, packages)
	}
	for _, id := range ids {
		if j := h.job(t, id); j.State != storage.JobDone {
			t.Errorf("job %d %s", id, j.State)
		}
	}
}

func TestEngine_SendsLargeObjectInChunks(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	payload := strings.Repeat("0123456789abcdef", 400) // 6400 bytes
	id := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./FUMO/1/Download/PkgData", Format: "b64", Data: payload}}})
	d := newDevice(h.e, "basic")
	d.maxMsg = 2000
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	var got strings.Builder
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("object never completed")
		}
		if int64(len(d.lastBody)) > d.maxMsg {
			t.Fatalf("chunk message of %d bytes exceeds %d", len(d.lastBody), d.maxMsg)
		}
		cmds := commands(r)
		if len(cmds) != 1 {
			t.Fatalf("chunk message %d carries %v", i, names(cmds))
		}
		it := cmds[0].(*syncml.Replace).Items[0]
		if (i == 0) != (it.Meta != nil && it.Meta.Size == int64(len(payload))) {
			t.Errorf("chunk %d Meta %+v: Size belongs on the first chunk only", i, it.Meta)
		}
		got.Write(it.Data.Value)
		if !it.MoreData {
			if !r.Final {
				t.Error("last chunk message not final")
			}
			break
		}
		if r.Final {
			t.Error("chunk message with MoreData is final")
		}
		ans := d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusChunkAccepted }, nil)
		r = d.post(t, d.message(false, append(ans, &syncml.Alert{CmdID: "9", Data: syncml.AlertNextMessage})...))
	}
	if got.String() != payload {
		t.Fatalf("reassembled %d bytes, want %d", got.Len(), len(payload))
	}
	d.post(t, d.message(true, d.answer(r, nil, nil)...))
	if j := h.job(t, id); j.State != storage.JobDone || j.Status != 200 {
		t.Errorf("job %+v", j)
	}
}

func TestEngine_ReassemblesLargeResultsFromDevice(t *testing.T) {
	tests := []struct {
		name     string
		declared int64
		want     storage.JobState
		status   syncml.StatusCode
	}{
		{"sizes match", 3000, storage.JobDone, syncml.StatusOK},
		{"size mismatch", 2999, storage.JobFailed, syncml.StatusSizeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Big"}}})
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			get := commands(r)[0].(*syncml.Get)
			getMsg := r.Header.MsgID
			data := strings.Repeat("z", 3000)
			chunks := []string{data[:1000], data[1000:2000], data[2000:]}
			for i, c := range chunks {
				it := syncml.Item{Source: &syncml.Location{LocURI: "./Big"}, Data: syncml.TextData(c), MoreData: i < len(chunks)-1}
				if i == 0 {
					it.Meta = &syncml.Meta{Format: "chr", Size: tc.declared}
				}
				var cmds []syncml.Command
				cmds = append(cmds, &syncml.Status{CmdID: "1", MsgRef: r.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 200})
				if i == 0 {
					cmds = append(cmds, &syncml.Status{CmdID: "2", MsgRef: r.Header.MsgID, CmdRef: get.CmdID, Cmd: "Get", Data: 200})
				}
				cmds = append(cmds, &syncml.Results{CmdID: "3", MsgRef: getMsg, CmdRef: get.CmdID, Items: []syncml.Item{it}})
				last := i == len(chunks)-1
				r = d.post(t, d.message(last, cmds...))
				st := statusFor(r, "3")
				switch {
				case !last && (st == nil || st.Data != syncml.StatusChunkAccepted):
					t.Fatalf("chunk %d status %+v, want 213", i, st)
				case !last && (r.Final || len(commands(r)) != 1 || commands(r)[0].(*syncml.Alert).Data != syncml.AlertNextMessage):
					t.Fatalf("chunk %d reply %v final=%v, want Alert 1222", i, names(commands(r)), r.Final)
				case last && tc.status != syncml.StatusOK && (st == nil || st.Data != tc.status):
					t.Fatalf("last chunk status %+v, want %d", st, tc.status)
				}
			}
			j := h.job(t, id)
			if j.State != tc.want {
				t.Fatalf("job %s %d %q", j.State, j.Status, j.Error)
			}
			if tc.want == storage.JobDone && (len(j.Results) != 1 || j.Results[0].Data != data) {
				t.Errorf("results %d", len(j.Results))
			}
		})
	}
}

func TestEngine_ReassemblesChunkedGenericAlert(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	meta := &syncml.Meta{Type: "org.example.report", Format: "chr", Size: 10}
	r := d.post(t, d.message(false, append(d.pkg1(syncml.AlertClientInitiatedMgmt),
		&syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./R"}, Meta: meta, Data: syncml.TextData("01234"), MoreData: true}}})...))
	if st := statusFor(r, "3"); st == nil || st.Data != syncml.StatusChunkAccepted {
		t.Fatalf("first chunk status %+v", st)
	}
	r = d.post(t, d.message(true, &syncml.Status{CmdID: "1", MsgRef: "1", CmdRef: "0", Cmd: "SyncHdr", Data: 200},
		&syncml.Alert{CmdID: "2", Data: syncml.AlertGeneric, Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./R"}, Meta: &syncml.Meta{Type: "org.example.report", Format: "chr"}, Data: syncml.TextData("56789")}}}))
	if st := statusFor(r, "2"); st == nil || st.Data != syncml.StatusOK || !r.Final {
		t.Fatalf("last chunk status %+v", st)
	}
	h.e.Flush(context.Background())
	evs, _ := h.store.ListEvents(context.Background(), devID, 0, 10)
	var data []string
	for _, e := range evs {
		if e.Kind == "generic-alert" {
			data = append(data, e.Data)
		}
	}
	if !reflect.DeepEqual(data, []string{"0123456789"}) {
		t.Errorf("events %q", data)
	}
}

// conflictStore makes every SaveSession lose the optimistic-concurrency race,
// as when another node handled the same message first.
type conflictStore struct{ storage.Store }

func (conflictStore) SaveSession(context.Context, *storage.Session) error { return storage.ErrConflict }

func TestEngine_LostSessionRaceStoresNothingAndAsksForRetry(t *testing.T) {
	base := newHarness(t, nil)
	base.addDevice(t, "basic")
	id := base.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./X"}}})
	h := newHarness(t, conflictStore{base.store})
	d := newDevice(h.e, "basic")
	body, _ := syncml.Encode(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), d.enc)
	_, err := h.e.Handle(context.Background(), &server.Inbound{Body: body, ContentType: syncml.ContentTypeXML, Addr: dmhttp.RequestAddressing(dmURL), SecureSession: dmhttp.SecureURL(dmURL)})
	if syncml.StatusOf(err) != syncml.StatusServiceUnavailable {
		t.Fatalf("error %v, want 503", err)
	}
	if j := base.job(t, id); j.State != storage.JobQueued {
		t.Errorf("job %s after a lost race", j.State)
	}
	h.e.Flush(context.Background())
	if tr, _ := base.store.ListTraces(context.Background(), devID, "", 10); len(tr) != 0 {
		t.Errorf("%d traces stored", len(tr))
	}
	if dev := base.device(t); len(dev.DevInfo) != 0 {
		t.Errorf("device updated: %+v", dev.DevInfo)
	}
}

func TestEngine_InterruptedIncomingObjectIsDroppedWithAlert1225(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	chunk := &syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./R"},
		Meta: &syncml.Meta{Type: "t", Format: "chr", Size: 10}, Data: syncml.TextData("01234"), MoreData: true}}}
	d.post(t, d.message(false, append(d.pkg1(syncml.AlertClientInitiatedMgmt), chunk)...))
	r := d.post(t, d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientEvent, Items: []syncml.Item{{
		Meta: &syncml.Meta{Type: "x", Format: "chr"}, Data: syncml.TextData("e")}}}))
	var got *syncml.Alert
	for _, c := range commands(r) {
		if a, ok := c.(*syncml.Alert); ok && a.Data == syncml.AlertNoEndOfData {
			got = a
		}
	}
	if got == nil || len(got.Items) != 1 || got.Items[0].Source == nil || got.Items[0].Source.LocURI != "./R" {
		t.Fatalf("reply %v: want Alert 1225 naming ./R", names(commands(r)))
	}
	h.e.Flush(context.Background())
	evs, _ := h.store.ListEvents(context.Background(), devID, 0, 10)
	for _, e := range evs {
		if e.Kind == "generic-alert" {
			t.Errorf("partial object stored as event: %+v", e)
		}
	}
}
