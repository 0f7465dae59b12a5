package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// TestEngine_LargeObjectJobFailsUnlessEveryChunkIsAccepted: OMA-TS-DM_Protocol-V1_2
// §8 (large objects): the receiver answers every non-last chunk 213 and the
// last one with the object's real status, 424 when the reassembled size
// differs from Meta Size. A device answering a non-last chunk otherwise (200:
// it does not do large objects) or reporting 424 did not get the object: the
// job fails with a reason naming what happened, never "done 200".
func TestEngine_LargeObjectJobFailsUnlessEveryChunkIsAccepted(t *testing.T) {
	tests := []struct {
		name string
		// answer is the device's status for chunk i (last: the final chunk).
		answer func(i int, last bool) syncml.StatusCode
		want   storage.JobState
		reason string
	}{
		{"all chunks accepted", func(_ int, last bool) syncml.StatusCode {
			if last {
				return syncml.StatusOK
			}
			return syncml.StatusChunkAccepted
		}, storage.JobDone, ""},
		{"device without large objects answers 200", func(int, bool) syncml.StatusCode { return syncml.StatusOK },
			storage.JobFailed, "instead of 213"},
		{"second chunk refused with 500", func(i int, last bool) syncml.StatusCode {
			if i == 1 {
				return syncml.StatusCommandFailed
			}
			return syncml.StatusChunkAccepted
		}, storage.JobFailed, "instead of 213"},
		{"reassembled size mismatch", func(_ int, last bool) syncml.StatusCode {
			if last {
				return syncml.StatusSizeMismatch
			}
			return syncml.StatusChunkAccepted
		}, storage.JobFailed, "Size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			payload := strings.Repeat("0123456789abcdef", 400)
			id := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/Blob", Format: "chr", Data: payload, HasData: true}}})
			d := newDevice(h.e, "basic")
			d.maxMsg = 2000
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			for i := 0; ; i++ {
				if i > 20 {
					t.Fatal("object never ended")
				}
				cmds := commands(r)
				if len(cmds) == 0 {
					break // the server stopped sending chunks
				}
				rep, ok := cmds[0].(*syncml.Replace)
				if !ok {
					t.Fatalf("message %d carries %v", i, names(cmds))
				}
				last := !rep.Items[0].MoreData
				code := tc.answer(i, last)
				ans := d.answer(r, func(syncml.Command) syncml.StatusCode { return code }, nil)
				if last {
					d.post(t, d.message(true, ans...))
					break
				}
				r = d.post(t, d.message(false, append(ans, &syncml.Alert{CmdID: "9", Data: syncml.AlertNextMessage})...))
			}
			j := h.job(t, id)
			if j.State != tc.want || !strings.Contains(j.Error, tc.reason) {
				t.Fatalf("job %s %d %q, want %s with %q", j.State, j.Status, j.Error, tc.want, tc.reason)
			}
		})
	}
}

// TestEngine_RefusesObjectsTheDeviceCannotTake: OMA-TS-DM_Protocol-V1_2 §7
// (size limits, large objects): an object larger than the device's
// MaxObjSize is never sent; neither is one that needs chunks when
// ./DevDetail/LrgObj says the device has no large-object support. The job
// fails before anything goes out, with the reason on it.
func TestEngine_RefusesObjectsTheDeviceCannotTake(t *testing.T) {
	tests := []struct {
		name   string
		maxObj int64
		lrgObj string
		reason string
	}{
		{"larger than MaxObjSize", 1000, "", "exceeds the device's MaxObjSize 1000"},
		{"needs chunks but LrgObj is false", 0, "false", "does not support large objects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			if tc.lrgObj != "" {
				if err := h.store.PutTreeNodes(context.Background(), []storage.TreeNode{{DeviceID: devID, URI: "./DevDetail/LrgObj", Format: "bool", Value: tc.lrgObj}}); err != nil {
					t.Fatal(err)
				}
			}
			id := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/Blob", Data: strings.Repeat("a", 5000), HasData: true}}})
			d := newDevice(h.e, "basic")
			d.maxMsg = 2000
			m := d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)
			if tc.maxObj > 0 {
				m.Header.Meta.MaxObjSize = tc.maxObj
			}
			r := d.post(t, m)
			if cmds := commands(r); len(cmds) != 0 {
				t.Fatalf("sent %v", names(cmds))
			}
			if j := h.job(t, id); j.State != storage.JobFailed || !strings.Contains(j.Error, tc.reason) {
				t.Fatalf("job %s %q, want failed with %q", j.State, j.Error, tc.reason)
			}
		})
	}
}

// TestEngine_SequenceJobFailsWhenAMemberFails: OMA-TS-DM_RepPro-V1_2
// (Sequence): the Sequence itself is answered 200 once started; members
// skipped after a failure are 215. The job is the whole group: it fails,
// naming the member that failed and that the rest did not run.
func TestEngine_SequenceJobFailsWhenAMemberFails(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{
		{Command: "Replace", Items: []storage.JobItem{{URI: "./LAWMO/AvailableWipeList/9/ToBeWiped", Format: "bool", Data: "true", HasData: true}}},
		{Command: "Exec", Correlator: "c1", Items: []storage.JobItem{{URI: "./LAWMO/Operations/Wipe"}}},
	}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	d.post(t, d.message(true, d.answer(r, func(c syncml.Command) syncml.StatusCode {
		switch c.CommandName() {
		case "Replace":
			return syncml.StatusNotFound
		case "Exec":
			return syncml.StatusNotExecuted
		}
		return syncml.StatusOK
	}, nil)...))
	j := h.job(t, id)
	if j.State != storage.JobFailed || !strings.Contains(j.Error, "member 1 (Replace) answered 404") || !strings.Contains(j.Error, "not executed") {
		t.Fatalf("job %s %q %v", j.State, j.Error, j.ChildStatus)
	}
}
