package sim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func TestScriptedDevice_RunsManagementSessionsAgainstTheRealServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth string
		enc  syncml.Encoding
	}{
		{"md5 xml", sim.AuthMD5, syncml.EncodingXML},
		{"md5 wbxml", sim.AuthMD5, syncml.EncodingWBXML},
		{"basic xml", sim.AuthBasic, syncml.EncodingXML},
		{"hmac xml", sim.AuthHMAC, syncml.EncodingXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			ctx := context.Background()
			id := "IMEI:35" + strings.Repeat("1", 13)
			if err := srv.store.CreateDevice(ctx, &storage.Device{ID: id, AuthScheme: tc.auth, Username: "u", Password: "p",
				ServerPassword: "sp"}); err != nil {
				t.Fatal(err)
			}
			d, err := sim.NewScriptedDevice(sim.ScriptedOptions{ServerURL: srv.url, DeviceID: id, Username: "u", Password: "p",
				Auth: tc.auth, Encoding: tc.enc, Transport: newTransport(t), MaxMsgSize: 16 << 10, GetValue: "fw-7"})
			if err != nil {
				t.Fatal(err)
			}
			for n := range 3 {
				var jobs []*storage.Job
				for _, spec := range []storage.JobSpec{
					{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}},
					{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/X", Data: fmt.Sprint(n)}}},
				} {
					j := &storage.Job{DeviceID: id, Spec: spec}
					if err := srv.store.CreateJob(ctx, j); err != nil {
						t.Fatal(err)
					}
					jobs = append(jobs, j)
				}
				res, err := d.Session(ctx, fmt.Sprintf("%x", n+1))
				if err != nil {
					t.Fatalf("session %d: %v", n, err)
				}
				if res.Commands != 2 {
					t.Errorf("session %d answered %d commands, want 2", n, res.Commands)
				}
				for _, j := range jobs {
					got, err := srv.store.GetJob(ctx, j.ID)
					if err != nil {
						t.Fatal(err)
					}
					if got.State != storage.JobDone {
						t.Errorf("session %d: %s job %s, want done", n, got.Spec.Command, got.State)
					}
					if got.Spec.Command == "Get" && (len(got.Results) != 1 || got.Results[0].Data != "fw-7" || got.Results[0].URI != "./DevDetail/FwV") {
						t.Errorf("session %d: Get results %+v", n, got.Results)
					}
				}
			}
		})
	}
}

func TestNewScriptedDevice_RejectsIncompleteOptions(t *testing.T) {
	tr := client.Transport(nil)
	for _, tc := range []struct {
		name string
		o    sim.ScriptedOptions
	}{
		{"no server", sim.ScriptedOptions{DeviceID: "d", Transport: tr}},
		{"no transport", sim.ScriptedOptions{ServerURL: "http://127.0.0.1/dm", DeviceID: "d"}},
		{"unknown auth", sim.ScriptedOptions{ServerURL: "http://127.0.0.1/dm", DeviceID: "d", Auth: "x", Transport: nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sim.NewScriptedDevice(tc.o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
