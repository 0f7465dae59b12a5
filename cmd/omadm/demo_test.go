package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
)

func TestDemo_RunsTheScenarioAndReachesReady(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := runDemo(ctx, demoConfig{data: t.TempDir(), listen: "127.0.0.1:0", devices: 3, logLevel: "error",
		stepTimeout: 20 * time.Second, noWait: true}, &out, io.Discard)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`(?m)^  Console: +http://127\.0\.0\.1:\d+/ui/$`).MatchString(out.String()) {
		t.Errorf("no Console line with the /ui/ URL:\n%s", out.String())
	}
	for _, want := range []string{
		"enrolled 3 simulated devices", "./DevInfo/Man", "-> 200 OK (done)",
		"507 Atomic failed", "216 Atomic roll back OK", "(rolled back)",
		`alert 1103 "When should the security update be installed?"`, `device answered: 200 OK: the user chose 2 "Tonight"`,
		"Alert 1226", "API token:", "ctl device list", "ready",
		"firmwareupdate.downloadandupdate correlator fw-1: result 200 (successful)", "now 2.0.0-demo", "State = 100", "ctl fumo IMEI:",
		"scomo:1.0:OperationComplete correlator sw-1: result 1200 (successful)", `deployed: hello "Hello" version 1.0.0-demo, active`,
		"ctl scomo install IMEI:",
		"Diagnostics (DiagMon)", "result 1200 (successful), correlator diagmon-demo", "available_percent",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemo_RejectsADeviceCountOutOfRange(t *testing.T) {
	err := runDemo(context.Background(), demoConfig{devices: 0, listen: "127.0.0.1:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--devices") {
		t.Fatalf("err = %v", err)
	}
}

func TestDemo_UIAnswerSaysWhatTheUserDid(t *testing.T) {
	alert := func(code int, choices ...string) api.JobRequest {
		return api.JobRequest{Command: "Alert", Alert: &api.UIAlert{Code: code, Text: "?", Choices: choices}}
	}
	res := func(data ...string) []api.ResultItem {
		var r []api.ResultItem
		for _, d := range data {
			r = append(r, api.ResultItem{Data: d})
		}
		return r
	}
	for _, tc := range []struct {
		name string
		job  api.Job
		want string
	}{
		{"confirmed", api.Job{State: "done", Status: 200, Spec: alert(1101)}, "200 OK: the user said yes"},
		{"rejected", api.Job{State: "done", Status: 304, Spec: alert(1101)}, "the user said no"},
		{"cancelled", api.Job{State: "done", Status: 214, Spec: alert(1102)}, "the user cancelled"},
		{"text typed", api.Job{State: "done", Status: 200, Spec: alert(1102), Results: res("42")}, `the user typed "42"`},
		{"one choice", api.Job{State: "done", Status: 200, Spec: alert(1103, "a", "b"), Results: res("2")}, `the user chose 2 "b"`},
		{"several choices", api.Job{State: "done", Status: 200, Spec: alert(1104, "a", "b", "c"), Results: res("1", "3")}, `the user chose 1 "a", 3 "c"`},
		{"choice out of range", api.Job{State: "done", Status: 200, Spec: alert(1103, "a"), Results: res("7")}, `the user chose "7"`},
		{"still queued", api.Job{State: "queued", Spec: alert(1101)}, "nothing (queued"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := uiAnswer(&tc.job); !strings.Contains(got, tc.want) {
				t.Fatalf("uiAnswer = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
