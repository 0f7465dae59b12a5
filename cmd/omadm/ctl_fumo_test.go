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

// fakeFUMODevice plays the device for `ctl fumo`: it answers the job's
// Replace 200 and its Exec execStatus and, unless result is 0, reports the
// result with the Exec's correlator.
func fakeFUMODevice(t *testing.T, st storage.Store, device string, execStatus int, result fumo.Result) {
	ctx := context.Background()
	go func() {
		if !waitServed(t, st, queuedFor(device)) {
			return
		}
		js, err := st.ListJobs(ctx, storage.JobFilter{DeviceID: device, States: []storage.JobState{storage.JobQueued}})
		if err != nil || len(js) == 0 {
			t.Errorf("no queued job for %s: %v", device, err)
			return
		}
		exec := answerOperation(t, st, js[len(js)-1], execStatus)
		if execStatus < 300 && result != 0 {
			st.AddEvent(ctx, &storage.Event{DeviceID: device, Kind: "generic-alert", Type: fumo.AlertDownloadAndUpdate,
				Source: "./FwUpdate/Default", Format: "int", Data: strconv.Itoa(int(result)), Correlator: exec.Correlator})
		}
	}()
}

// answerOperation finishes an operation job (a lone Exec, or a Sequence
// whose parameters the device accepts) as the engine would, with
// execStatus for the Exec, and returns the Exec's spec.
func answerOperation(t *testing.T, st storage.Store, j *storage.Job, execStatus int) storage.JobSpec {
	t.Helper()
	exec := j.Spec
	state := storage.JobDone
	if execStatus >= 300 {
		state = storage.JobFailed
	}
	if n := len(j.Spec.Children); n > 0 {
		exec = j.Spec.Children[n-1]
		child := make([]int, n)
		for i := range child {
			child[i] = 200
		}
		child[n-1] = execStatus
		j.State, j.Status, j.ChildStatus, j.DoneAt = state, 200, child, time.Now()
		if err := st.UpdateJob(context.Background(), j); err != nil {
			t.Error(err)
		}
		return exec
	}
	finishJob(t, st, j.ID, state, execStatus)
	return exec
}

func TestCtl_FUMOQueuesTheUpdateAndWaitsForTheReport(t *testing.T) {
	fast := &ctlOptions{reportPoll: 20 * time.Millisecond}
	url, st := ctlServer(t)
	for _, d := range []string{"ok", "bad", "refuses", "silent"} {
		if _, _, err := runCtlWith(t, fast, url, "device", "add", d, "--username", "u", "--password", "p"); err != nil {
			t.Fatal(err)
		}
	}
	var ee *exitError

	fakeFUMODevice(t, st, "ok", 202, fumo.ResultSuccessful)
	out, _, err := runCtlWith(t, fast, url, "fumo", "ok", "http://fw.example/v2.bin", "--wait", "120s", "-o", "json", "--correlator", "c-ok")
	if err != nil {
		t.Fatalf("fumo: %v\n%s", err, out)
	}
	var got asyncOutcome
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Result != 200 || !got.Successful ||
		got.Correlator != "c-ok" || got.ExecStatus != 202 || got.Operation != "DownloadAndUpdate" {
		t.Fatalf("outcome %+v (%v)\n%s", got, err, out)
	}
	// One job: the PkgURL Replace and the Exec in a Sequence.
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "ok"})
	if len(js) != 1 || js[0].Spec.Command != "Sequence" || len(js[0].Spec.Children) != 2 {
		t.Fatalf("queued jobs %+v", js)
	}
	rep, exec := js[0].Spec.Children[0], js[0].Spec.Children[1]
	if rep.Command != "Replace" || rep.Items[0].URI != "./FwUpdate/Default/DownloadAndUpdate/PkgURL" || rep.Items[0].Data != "http://fw.example/v2.bin" ||
		exec.Command != "Exec" || exec.Items[0].URI != "./FwUpdate/Default/DownloadAndUpdate" || exec.Correlator != "c-ok" {
		t.Fatalf("queued job %+v", js[0].Spec)
	}

	fakeFUMODevice(t, st, "bad", 202, fumo.ResultUpdateFailed)
	out, _, err = runCtlWith(t, fast, url, "fumo", "bad", "http://fw.example/v2.bin", "--wait", "120s")
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(err.Error(), "410 firmware update failed") ||
		!strings.Contains(out, `"result": 410`) {
		t.Fatalf("failed update: %v\n%s", err, out)
	}

	fakeFUMODevice(t, st, "refuses", 405, 0)
	_, _, err = runCtlWith(t, fast, url, "fumo", "refuses", "http://fw.example/v2.bin", "--wait", "120s")
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(err.Error(), "refused the Exec") {
		t.Fatalf("refused Exec: %v", err)
	}

	fakeFUMODevice(t, st, "silent", 202, 0)
	out, _, err = runCtlWith(t, fast, url, "fumo", "silent", "http://fw.example/v2.bin", "--wait", "500ms", "-o", "table")
	if !errors.As(err, &ee) || ee.code != exitJobTimeout || !strings.Contains(err.Error(), "no report") ||
		!strings.Contains(out, "DownloadAndUpdate") || !strings.Contains(out, "202") {
		t.Fatalf("no report: %v\n%s", err, out)
	}

	// Without --wait: the jobs and the correlator to look for.
	out, errOut, err := runCtlWith(t, fast, url, "fumo", "ok", "--op", "update", "--node", "./FwUpdate/Main/")
	if err != nil || !strings.Contains(out, `"uri": "./FwUpdate/Main/Update"`) || !strings.Contains(errOut, "correlator fumo-") {
		t.Fatalf("update without wait: %v\n%s\n%s", err, out, errOut)
	}

	for _, bad := range [][]string{
		{"fumo", "ok"},
		{"fumo", "ok", "http://x", "--op", "update"},
		{"fumo", "ok", "http://x", "--op", "reboot"},
		{"fumo", "ok", "http://x", "--node", "FwUpdate"},
	} {
		if _, _, err := runCtlWith(t, fast, url, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
