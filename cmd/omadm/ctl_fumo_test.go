package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
)

// fakeFUMODevice plays the device for `ctl fumo`: it answers the Replace
// and the Exec (execStatus) and, unless result is 0, reports the result
// with the Exec's correlator.
func fakeFUMODevice(t *testing.T, st storage.Store, device string, execStatus int, result fumo.Result) {
	ctx := context.Background()
	go func() {
		for range 500 {
			js, err := st.ListJobs(ctx, storage.JobFilter{DeviceID: device, States: []storage.JobState{storage.JobQueued}})
			if err == nil && len(js) > 0 && js[len(js)-1].Spec.Command == "Exec" {
				for _, j := range js {
					switch j.Spec.Command {
					case "Replace":
						finishJob(t, st, j.ID, storage.JobDone, 200)
					case "Exec":
						if execStatus >= 300 {
							finishJob(t, st, j.ID, storage.JobFailed, execStatus)
							return
						}
						finishJob(t, st, j.ID, storage.JobDone, execStatus)
						if result != 0 {
							st.AddEvent(ctx, &storage.Event{DeviceID: device, Kind: "generic-alert", Type: fumo.AlertDownloadAndUpdate,
								Source: "./FwUpdate/Default", Format: "int", Data: strconv.Itoa(int(result)), Correlator: j.Spec.Correlator})
						}
					}
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

func TestCtl_FUMOQueuesTheUpdateAndWaitsForTheReport(t *testing.T) {
	reportPoll = 20 * time.Millisecond
	url, st := ctlServer(t)
	for _, d := range []string{"ok", "bad", "refuses", "silent"} {
		if _, _, err := runCtl(t, url, "device", "add", d, "--username", "u", "--password", "p"); err != nil {
			t.Fatal(err)
		}
	}
	var ee *exitError

	fakeFUMODevice(t, st, "ok", 202, fumo.ResultSuccessful)
	out, _, err := runCtl(t, url, "fumo", "ok", "http://fw.example/v2.bin", "--wait", "10s", "-o", "json", "--correlator", "c-ok")
	if err != nil {
		t.Fatalf("fumo: %v\n%s", err, out)
	}
	var got asyncOutcome
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Result != 200 || !got.Successful ||
		got.Correlator != "c-ok" || got.ExecStatus != 202 || got.Operation != "DownloadAndUpdate" {
		t.Fatalf("outcome %+v (%v)\n%s", got, err, out)
	}
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "ok"})
	if len(js) != 2 || js[0].Spec.Items[0].URI != "./FwUpdate/Default/DownloadAndUpdate/PkgURL" ||
		js[0].Spec.Items[0].Data != "http://fw.example/v2.bin" || js[1].Spec.Items[0].URI != "./FwUpdate/Default/DownloadAndUpdate" ||
		js[1].Spec.Correlator != "c-ok" {
		t.Fatalf("queued jobs %+v", js)
	}

	fakeFUMODevice(t, st, "bad", 202, fumo.ResultUpdateFailed)
	out, _, err = runCtl(t, url, "fumo", "bad", "http://fw.example/v2.bin", "--wait", "10s")
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(err.Error(), "410 firmware update failed") ||
		!strings.Contains(out, `"result": 410`) {
		t.Fatalf("failed update: %v\n%s", err, out)
	}

	fakeFUMODevice(t, st, "refuses", 405, 0)
	_, _, err = runCtl(t, url, "fumo", "refuses", "http://fw.example/v2.bin", "--wait", "10s")
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(err.Error(), "refused the Exec") {
		t.Fatalf("refused Exec: %v", err)
	}

	fakeFUMODevice(t, st, "silent", 202, 0)
	out, _, err = runCtl(t, url, "fumo", "silent", "http://fw.example/v2.bin", "--wait", "500ms", "-o", "table")
	if !errors.As(err, &ee) || ee.code != exitJobTimeout || !strings.Contains(err.Error(), "no report") ||
		!strings.Contains(out, "DownloadAndUpdate") || !strings.Contains(out, "202") {
		t.Fatalf("no report: %v\n%s", err, out)
	}

	// Without --wait: the jobs and the correlator to look for.
	out, errOut, err := runCtl(t, url, "fumo", "ok", "--op", "update", "--node", "./FwUpdate/Main/")
	if err != nil || !strings.Contains(out, `"uri": "./FwUpdate/Main/Update"`) || !strings.Contains(errOut, "correlator fumo-") {
		t.Fatalf("update without wait: %v\n%s\n%s", err, out, errOut)
	}

	for _, bad := range [][]string{
		{"fumo", "ok"},
		{"fumo", "ok", "http://x", "--op", "update"},
		{"fumo", "ok", "http://x", "--op", "reboot"},
		{"fumo", "ok", "http://x", "--node", "FwUpdate"},
	} {
		if _, _, err := runCtl(t, url, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
