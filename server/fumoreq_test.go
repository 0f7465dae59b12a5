package server_test

import (
	"testing"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM-FUMO-V1_0, client-initiated firmware update: the server answers
// the device's (or user's) request alert with 200 when it updates the device
// in this session and 202 when it accepts the request for later. The answer
// is a SyncML Status inside the reply, never an HTTP status.
func TestServer_AnswersFirmwareUpdateRequestsWith200Or202(t *testing.T) {
	exec := func(uri string) *storage.JobSpec {
		return &storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: uri}}}
	}
	tests := []struct {
		name   string
		typ    string
		source string // FUMO node the request names ("" = all firmware)
		job    *storage.JobSpec
		want   syncml.StatusCode
	}{
		{"device request, nothing queued", fumo.AlertDeviceRequest, "./FwUpdate/Default", nil, syncml.StatusAccepted},
		{"device request, update of that node queued", fumo.AlertDeviceRequest, "./FwUpdate/Default", exec("./FwUpdate/Default/DownloadAndUpdate"), syncml.StatusOK},
		{"user request, download of that node queued", fumo.AlertUserRequest, "./FwUpdate/Default", exec("./FwUpdate/Default/Download"), syncml.StatusOK},
		{"device request, update of another node queued", fumo.AlertDeviceRequest, "./FwUpdate/Default", exec("./FwUpdate/Modem/Update"), syncml.StatusAccepted},
		{"device request, only a Get queued", fumo.AlertDeviceRequest, "./FwUpdate/Default", &storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./FwUpdate/Default/State"}}}, syncml.StatusAccepted},
		{"relative and ./ URIs name the same node", fumo.AlertDeviceRequest, "FwUpdate/Default/", exec("./FwUpdate/Default/Update"), syncml.StatusOK},
		{"request for all firmware, any update queued", fumo.AlertDeviceRequest, "", exec("./FUMO/x/Update"), syncml.StatusOK},
		{"update inside a Sequence", fumo.AlertDeviceRequest, "./FwUpdate/Default", &storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{*exec("./FwUpdate/Default/Update")}}, syncml.StatusOK},
		{"other generic alert", "com.example.battery", "./Battery", nil, syncml.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			if tc.job != nil {
				h.addJob(t, *tc.job)
			}
			d := newDevice(h.e, "md5")
			it := syncml.Item{Meta: &syncml.Meta{Type: tc.typ, Format: "chr"}, Data: syncml.TextData("")}
			if tc.source != "" {
				it.Source = &syncml.Location{LocURI: tc.source}
			}
			cmds := append(d.pkg1(syncml.AlertClientInitiatedMgmt), &syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Items: []syncml.Item{it}})
			r := d.post(t, d.message(true, cmds...))
			st := statusFor(r, "3")
			if st == nil {
				t.Fatalf("no Status for the alert: %v", r.Body)
			}
			if st.Data != tc.want {
				t.Errorf("Status %d for the request, want %d", st.Data, tc.want)
			}
		})
	}
}
