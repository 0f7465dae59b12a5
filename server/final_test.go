package server_test

import (
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// TestEngine_ReplyToANonFinalMessageIsStatusesAndNextMessageOnly:
// OMA-TS-DM_Protocol-V1_2 §6 (multiple messages per package): while the
// device's package goes on (no Final), the server answers each message with
// its Statuses and Alert 1222, without Final and without any new command;
// queued commands go out once the device's package is complete, in a Final
// message.
func TestEngine_ReplyToANonFinalMessageIsStatusesAndNextMessageOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
	d := newDevice(h.e, "basic")
	pkg1 := d.pkg1(syncml.AlertClientInitiatedMgmt)
	r := d.post(t, d.message(false, pkg1[0]))
	if r.Final {
		t.Error("reply to a non-final message is Final")
	}
	for _, c := range commands(r) {
		if a, ok := c.(*syncml.Alert); !ok || a.Data != syncml.AlertNextMessage {
			t.Errorf("reply to a non-final message carries %s", c.CommandName())
		}
	}
	if len(commands(r)) != 1 {
		t.Errorf("reply carries %v, want Alert 1222 alone", names(commands(r)))
	}
	if j := h.job(t, id); j.State != storage.JobQueued {
		t.Fatalf("job %s before the device's package was complete", j.State)
	}
	r = d.post(t, d.message(true, append(d.answer(r, nil, nil), pkg1[1])...))
	if !r.Final || len(commands(r)) != 1 || commands(r)[0].CommandName() != "Get" {
		t.Fatalf("reply to the package's last message: Final %v, %v", r.Final, names(commands(r)))
	}
}
