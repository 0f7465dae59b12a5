package server_test

import (
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// TestRules_APIAndEngineAgreeOnWhatCanBeSent: one rule set
// (storage.ValidateJobSpec) decides both what the API queues and what the
// engine sends, so a job the API accepts always goes out and one it refuses
// never does, even when stored by other means. Group contents follow
// OMA-TS-DM_RepPro-V1_2 (DM usage of the RepPro commands): Atomic holds Add,
// Alert, Copy, Delete, Replace; Sequence holds Add, Replace, Delete, Copy,
// Get, Exec, Alert; no group nests in another.
func TestRules_APIAndEngineAgreeOnWhatCanBeSent(t *testing.T) {
	get := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./A"}}}
	rep := storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./A", Data: "1"}}}
	exec := storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./X/Run"}}}
	del := storage.JobSpec{Command: "Delete", Items: []storage.JobItem{{URI: "./B"}}}
	seq := func(c ...storage.JobSpec) storage.JobSpec { return storage.JobSpec{Command: "Sequence", Children: c} }
	atomic := func(c ...storage.JobSpec) storage.JobSpec { return storage.JobSpec{Command: "Atomic", Children: c} }
	tests := []struct {
		name string
		spec storage.JobSpec
		ok   bool
	}{
		{"get", get, true},
		{"replace", rep, true},
		{"exec", exec, true},
		{"sequence of replace and exec", seq(rep, exec), true},
		{"atomic of replace and delete", atomic(rep, del), true},
		{"get inside atomic", atomic(get), false},
		{"exec inside atomic", atomic(rep, exec), false},
		{"atomic inside atomic", atomic(atomic(rep)), false},
		{"sequence inside atomic", atomic(seq(rep)), false},
		{"sequence inside sequence", seq(seq(rep)), false},
		{"atomic inside sequence", seq(atomic(rep)), false},
		{"empty sequence", seq(), false},
		{"exec with two items", storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./X"}, {URI: "./Y"}}}, false},
		{"copy without source", storage.JobSpec{Command: "Copy", Items: []storage.JobItem{{URI: "./A"}}}, false},
		{"item without uri", storage.JobSpec{Command: "Get", Items: []storage.JobItem{{}}}, false},
		{"uri with dot dot", storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./A/../B"}}}, false},
		{"int that is not", storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./A", Format: "int", Data: "x"}}}, false},
		{"non-UI alert code", storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1200, Text: "hi"}}, false},
		{"choice alert without choices", storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1103, Text: "pick"}}, false},
		{"display alert", storage.JobSpec{Command: "Alert", Alert: &storage.UIAlert{Code: 1100, Text: "hi"}}, true},
		{"correlator on a get", storage.JobSpec{Command: "Get", Correlator: "c", Items: []storage.JobItem{{URI: "./A"}}}, false},
		{"unknown command", storage.JobSpec{Command: "Frobnicate", Items: []storage.JobItem{{URI: "./A"}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := api.JobFrom(&storage.Job{Spec: tc.spec}).Spec
			_, apiErr := api.ValidateJobRequest(&req)

			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			id := h.addJob(t, tc.spec)
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			j := h.job(t, id)
			sent := j.State == storage.JobSent && len(commands(r)) == 1
			if (apiErr == nil) != tc.ok || sent != tc.ok {
				t.Fatalf("API error %v, engine sent %v (job %s %q): want both ok=%v", apiErr, sent, j.State, j.Error, tc.ok)
			}
			if !sent && j.State != storage.JobFailed {
				t.Fatalf("a job the engine does not send is %s, want failed", j.State)
			}
		})
	}
}
