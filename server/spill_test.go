package server_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func TestEngine_StatusesBeyondDeviceMaxMsgSizeSpreadOverSeveralMessages(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.ContentType(), func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			get := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
			d := newDevice(h.e, "basic")
			d.enc = enc
			d.maxMsg = 1200
			const n = 60
			cmds := []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}}
			for i := 2; i <= n; i++ {
				cmds = append(cmds, &syncml.Replace{CmdID: strconv.Itoa(i), Items: []syncml.Item{{
					Source: &syncml.Location{LocURI: fmt.Sprintf("./DevInfo/Ext/N%d", i)}, Data: syncml.TextData("v")}}})
			}
			r := d.post(t, d.message(true, cmds...))
			got := map[string]int{}
			msgs := 1
			var final *syncml.Message
			for range n { // bounded: every reply carries at least one Status
				if len(d.lastBody) > int(d.maxMsg) {
					t.Fatalf("reply of %d bytes exceeds MaxMsgSize %d", len(d.lastBody), d.maxMsg)
				}
				for _, c := range r.Body {
					if s, ok := c.(*syncml.Status); ok && s.CmdRef != "0" && s.MsgRef == "1" {
						got[s.CmdRef]++
					}
				}
				if r.Final {
					final = r
					break
				}
				if cs := commands(r); len(cs) != 0 {
					t.Fatalf("non-final reply carries commands %v before every Status is out", names(cs))
				}
				// What a device does on a non-final server message: Status
				// for the header and Alert 1222, no Final (OMA-TS-DM_Protocol-V1_2 §6.2).
				r = d.post(t, d.message(false,
					&syncml.Status{CmdID: "1", MsgRef: r.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK},
					&syncml.Alert{CmdID: "2", Data: syncml.AlertNextMessage}))
				msgs++
			}
			if msgs < 3 {
				t.Fatalf("statuses came in %d message(s): the test does not exercise spreading", msgs)
			}
			if final == nil {
				t.Fatal("the server never finished its package")
			}
			for i := 1; i <= n; i++ {
				if c := got[strconv.Itoa(i)]; c != 1 {
					t.Errorf("Status for command %d received %d times, want once", i, c)
				}
			}
			if cs := commands(final); len(cs) != 1 || cs[0].CommandName() != "Get" {
				t.Fatalf("final reply commands %v, want the queued Get", names(cs))
			}
			r = d.post(t, d.message(true, d.answer(final, nil, fwResults)...))
			if j := h.job(t, get); j.State != storage.JobDone {
				t.Errorf("job %s, want done", j.State)
			}
			if !r.Final || len(commands(r)) != 0 {
				t.Errorf("session did not end: %v", names(commands(r)))
			}
		})
	}
}

// TestEngine_MaxMsgSizeTooSmallForAnyReplyEndsTheSessionCleanly: a device
// whose MaxMsgSize leaves no room even for the SyncHdr Status gets the
// smallest message that ends a session — that Status, Alert 1223 and Final
// (OMA-TS-DM_Protocol-V1_2 §8.1, session abort) — never a transport error
// (which the HTTP binding turns into a 5xx). Its jobs stay queued. (This
// test used to expect Handle to fail.)
func TestEngine_MaxMsgSizeTooSmallForAnyReplyEndsTheSessionCleanly(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
	d := newDevice(h.e, "basic")
	d.maxMsg = 100
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	if !r.Final || len(r.Body) != 2 || !hdrStatus(t, r).Data.Success() {
		t.Fatalf("reply %v, Final %v: want the SyncHdr Status and Alert 1223", names(r.Body), r.Final)
	}
	if a, ok := r.Body[1].(*syncml.Alert); !ok || a.Data != syncml.AlertSessionAbort {
		t.Fatalf("second command %s, want Alert 1223", r.Body[1].CommandName())
	}
	if j := h.job(t, id); j.State != storage.JobQueued {
		t.Fatalf("job %s, want still queued", j.State)
	}
}

func inbound(d *device, body []byte) *server.Inbound {
	return &server.Inbound{Body: body, ContentType: d.enc.ContentType(), Addr: dmhttp.RequestAddressing(d.url), SecureSession: dmhttp.SecureURL(d.url), RemoteAddr: "127.0.0.1:1"}
}

func TestEngine_MemberStatusesAfterTheGroupStatusInALaterMessageAreMatched(t *testing.T) {
	for _, group := range []string{"Atomic", "Sequence"} {
		t.Run(group, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			id := h.addJob(t, storage.JobSpec{Command: group, Children: []storage.JobSpec{
				{Command: "Replace", Items: []storage.JobItem{{URI: "./A", Data: "1"}}},
				{Command: "Delete", Items: []storage.JobItem{{URI: "./B"}}},
			}})
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			all := d.answer(r, func(c syncml.Command) syncml.StatusCode {
				if c.CommandName() == "Delete" {
					return syncml.StatusNotFound
				}
				return syncml.StatusOK
			}, nil)
			// all = [SyncHdr status, group status, member 1, member 2]: the
			// group's own Status goes first, its members' in the next message.
			if len(all) != 4 {
				t.Fatalf("answer has %d statuses, want 4", len(all))
			}
			r2 := d.post(t, d.message(false, all[:2]...))
			if r2.Final {
				t.Fatal("server closed its package while the device's continues")
			}
			if j := h.job(t, id); j.State.Terminal() {
				t.Fatalf("job finalised (%s) before its member statuses arrived", j.State)
			}
			hdr := &syncml.Status{CmdID: "1", MsgRef: r2.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK}
			d.post(t, d.message(true, append([]syncml.Command{hdr}, all[2:]...)...))
			j := h.job(t, id)
			// A failed member fails a Sequence job (OMA-TS-DM_Protocol-V1_2
			// §6: the Sequence's own 200 only says it started).
			want := storage.JobDone
			if group == "Sequence" {
				want = storage.JobFailed
			}
			if j.State != want || len(j.ChildStatus) != 2 || j.ChildStatus[0] != 200 || j.ChildStatus[1] != 404 {
				t.Fatalf("job %s child statuses %v, want %s [200 404]", j.State, j.ChildStatus, want)
			}
		})
	}
}
