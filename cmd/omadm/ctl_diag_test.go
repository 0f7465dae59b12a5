package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/storage"
)

func TestCtl_DiagRunQueuesTheFunctionAndListShowReadTheReports(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "a", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtl(t, url, "diag", "run", "a", "battery")
	if err != nil {
		t.Fatalf("diag run: %v\n%s", err, out)
	}
	var op api.Operation
	if err := json.Unmarshal([]byte(out), &op); err != nil || op.MO != "diagmon" || op.Operation != "Battery" {
		t.Fatalf("run printed %q (%v)", out, err)
	}
	ctx := context.Background()
	js, _ := st.ListJobs(ctx, storage.JobFilter{DeviceID: "a"})
	if len(js) != 1 || js[0].Spec.Command != "Exec" || js[0].Spec.Items[0].URI != "./DiagMon/Functions/Battery/Operations/Start" {
		t.Fatalf("queued %+v", js)
	}
	ok := diagmon.Report{ResultCode: diagmon.ResultSuccessful, Identifier: "Battery", Readings: diagmon.Readings{{Name: "capacity_percent", Value: "81"}}}
	failed := diagmon.Report{ResultCode: diagmon.ResultClientError, Identifier: "LogTail", Message: "open /x.log: no such file"}
	for _, e := range []*storage.Event{
		{DeviceID: "a", Kind: "generic-alert", Type: diagmon.AlertOperationComplete, Format: "xml", Data: string(ok.Marshal()), Correlator: op.Correlator},
		{DeviceID: "a", Kind: "generic-alert", Type: "urn:oma:at:lawmo:1.0:OperationComplete", Format: "int", Data: "1200"},
		{DeviceID: "a", Kind: "generic-alert", Type: diagmon.AlertOperationComplete, Format: "xml", Data: string(failed.Marshal())},
	} {
		if err := st.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err = runCtl(t, url, "diag", "list", "a")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, "1200 successful") || !strings.Contains(out, "1400 client error: the function failed: open /x.log") {
		t.Fatalf("diag list: %v\n%s", err, out)
	}
	var l api.DiagnosticList
	out, _, _ = runCtl(t, url, "diag", "list", "a", "--function", "battery", "-o", "json")
	if err := json.Unmarshal([]byte(out), &l); err != nil || len(l.Diagnostics) != 1 {
		t.Fatalf("filtered list %q", out)
	}
	out, _, err = runCtl(t, url, "diag", "show", "a", strconv.FormatInt(l.Diagnostics[0].Event, 10))
	if err != nil || !strings.Contains(out, "capacity_percent") || !strings.Contains(out, "81") {
		t.Fatalf("diag show: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"diag", "run", "a", "radio"}, {"diag", "show", "a", "x"}, {"diag", "show", "a", "2"}, {"diag", "list", "a", "--kind", "alarm"}} {
		if _, _, err := runCtl(t, url, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestCtl_ProfileAddListShowApply(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "a", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtl(t, url, "profile", "add", "corp", "--kind", "apn", "--set", "apn=corp.example", "--set", "auth_type=PAP",
		"--set", "username=u", "--set", "password=pw")
	if err != nil || !strings.Contains(out, `"password": "********"`) {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "profile", "add", "bad", "--kind", "wifi", "--set", "ssid=x", "--set", "passphrase=1"); err == nil ||
		!strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("bad profile: %v", err)
	}
	if out, _, err = runCtl(t, url, "profile", "list"); err != nil || !strings.Contains(out, "apn=corp.example") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, _, err = runCtl(t, url, "profile", "apply", "a", "corp"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "a"})
	if len(js) != 1 || js[0].Spec.Command != "Atomic" {
		t.Fatalf("queued %+v", js)
	}
	if _, _, err := runCtl(t, url, "profile", "rm", "corp"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCtl(t, url, "profile", "show", "corp"); err == nil {
		t.Fatal("show after rm: no error")
	}
}
