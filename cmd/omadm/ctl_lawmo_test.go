package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/storage"
)

// fakeLAWMODevice answers the queued operation job of device and reports
// result for the Exec with its correlator.
func fakeLAWMODevice(t *testing.T, st storage.Store, device string, result lawmo.Result) {
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
		exec := answerOperation(t, st, js[len(js)-1], 202)
		st.AddEvent(ctx, &storage.Event{DeviceID: device, Kind: "generic-alert", Type: lawmo.AlertOperationComplete,
			Source: exec.Items[0].URI, Format: "int", Data: strconv.Itoa(int(result)), Correlator: exec.Correlator})
	}()
}

func TestCtl_LAWMOQueuesTheOperationAndWaitsForTheReport(t *testing.T) {
	fast := &ctlOptions{reportPoll: 20 * time.Millisecond}
	url, st := ctlServer(t)
	for _, d := range []string{"a", "b"} {
		if _, _, err := runCtlWith(t, fast, url, "device", "add", d, "--username", "u", "--password", "p"); err != nil {
			t.Fatal(err)
		}
	}
	fakeLAWMODevice(t, st, "a", lawmo.ResultWipeListSuccessful)
	out, _, err := runCtlWith(t, fast, url, "lawmo", "a", "wipe", "--wipe-item", "2", "--notify-user", "--wait", "120s", "-o", "json")
	if err != nil {
		t.Fatalf("lawmo wipe: %v\n%s", err, out)
	}
	var got asyncOutcome
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Result != 1202 || !got.Successful || got.Operation != "Wipe" {
		t.Fatalf("outcome %+v (%v)", got, err)
	}
	// One job: the parameter Replace and the Exec in a Sequence.
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "a"})
	if len(js) != 1 || js[0].Spec.Command != "Sequence" || len(js[0].Spec.Children) != 2 {
		t.Fatalf("queued %+v", js)
	}
	rep, exec := js[0].Spec.Children[0], js[0].Spec.Children[1]
	if len(rep.Items) != 2 || rep.Items[0].URI != "./LAWMO/LAWMOConfig/NotifyUser" ||
		rep.Items[1].URI != "./LAWMO/AvailableWipeList/2/ToBeWiped" || exec.Items[0].URI != "./LAWMO/Operations/Wipe" {
		t.Fatalf("queued %+v", js[0].Spec)
	}

	fakeLAWMODevice(t, st, "b", lawmo.ResultFullyLockFailed)
	var ee *exitError
	out, _, err = runCtlWith(t, fast, url, "lawmo", "b", "lock", "--wait", "120s", "-o", "table")
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(out, "1402 fully lock failed") {
		t.Fatalf("failed lock: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"lawmo", "a", "reboot"}, {"lawmo", "a", "lock", "--wipe-item", "1"}, {"lawmo", "a", "lock", "--node", "LAWMO"}} {
		if _, _, err := runCtlWith(t, fast, url, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
