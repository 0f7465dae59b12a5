package e2e_test

import (
	"testing"

	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func TestE2E_QueuedCommandsReachTheDeviceAndResultsComeBack(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		newLeaf := sim.SettingsRoot + "/Ringtone"
		tests := []struct {
			name       string
			spec       storage.JobSpec
			wantStatus syncml.StatusCode
			wantKids   []int
		}{
			{"Get reads a DevInfo leaf", storage.JobSpec{Command: "Get", Items: item("./DevInfo/Man")}, syncml.StatusOK, nil},
			{"Replace changes a setting", storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "900"}}}, syncml.StatusOK, nil},
			{"Add creates a leaf", storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: newLeaf, Format: "chr", Data: "chime"}}}, syncml.StatusOK, nil},
			{"Delete removes a leaf", storage.JobSpec{Command: "Delete", Items: item(sim.APNURI)}, syncml.StatusOK, nil},
			{"Exec runs a node", storage.JobSpec{Command: "Exec", Items: item(sim.RebootURI)}, syncml.StatusOK, nil},
			{"Atomic applies all members", storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{
				{Command: "Replace", Items: []storage.JobItem{{URI: sim.TelemetryURI, Format: "bool", Data: "false"}}},
				{Command: "Add", Items: []storage.JobItem{{URI: sim.SettingsRoot + "/Volume", Format: "int", Data: "7"}}},
			}}, syncml.StatusOK, []int{200, 200}},
			{"Atomic with a refused member rolls back", storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{
				{Command: "Replace", Items: []storage.JobItem{{URI: sim.PollIntervalURI, Format: "int", Data: "1"}}},
				{Command: "Replace", Items: []storage.JobItem{{URI: "./DevInfo/Man", Data: "x"}}},
			}}, syncml.StatusAtomicFailed, []int{216, 425}},
		}
		ids := make([]int64, len(tests))
		for i, tc := range tests {
			ids[i] = queue(t, st, a.ID(), tc.spec)
		}
		res := a.session(t)
		if len(res.Commands) < len(tests) {
			t.Errorf("device executed %d commands, want at least %d", len(res.Commands), len(tests))
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				j := job(t, st, ids[i])
				if j.Status != int(tc.wantStatus) {
					t.Fatalf("status %d, want %d (%s, %s)", j.Status, tc.wantStatus, j.State, j.Error)
				}
				wantState := storage.JobDone
				if !tc.wantStatus.Success() {
					wantState = storage.JobFailed
				}
				if j.State != wantState {
					t.Errorf("state %s, want %s", j.State, wantState)
				}
				if tc.wantKids != nil && !equalInts(j.ChildStatus, tc.wantKids) {
					t.Errorf("member statuses %v, want %v", j.ChildStatus, tc.wantKids)
				}
			})
		}
		// Results and effects on the device.
		if j := job(t, st, ids[0]); len(j.Results) != 1 || j.Results[0].Data != a.Identity().Man || j.Results[0].URI != "./DevInfo/Man" {
			t.Errorf("Get results %+v", j.Results)
		}
		for uri, want := range map[string]string{
			sim.PollIntervalURI: "900", newLeaf: "chime", sim.APNURI: "", sim.TelemetryURI: "false", sim.SettingsRoot + "/Volume": "7",
			"./DevInfo/Man": a.Identity().Man,
		} {
			if got := a.Value(uri); got != want {
				t.Errorf("device %s = %q, want %q", uri, got, want)
			}
		}
		if a.Reboots() != 1 {
			t.Errorf("Exec ran %d times", a.Reboots())
		}
		// The server's tree cache learned the Get result.
		nodes, err := st.ListTreeNodes(t.Context(), a.ID(), "./DevInfo/Man")
		if err != nil || len(nodes) == 0 || nodes[0].Value != a.Identity().Man {
			t.Errorf("tree cache %+v, %v", nodes, err)
		}
		// A second session has nothing left to do.
		if res := a.session(t); len(res.Commands) != 0 {
			t.Errorf("second session executed %d commands", len(res.Commands))
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
