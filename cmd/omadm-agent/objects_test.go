package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/storage"
)

// --diagmon and --connmo against the real server, with --once: a diagnostic
// of the machine's memory and of a missing log file are reported before
// the agent exits (1200 with readings, 1400 naming the file); a profile the
// server applies is handed to --connmo-apply, once.
func TestAgent_DiagMonReportsAndConnMOAppliesThroughItsCommand(t *testing.T) {
	st, url := realServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	out := filepath.Join(dir, "applied.txt")
	t.Setenv("OUT", out)
	state := t.TempDir()
	args := []string{"--state", state, "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
		"--diagmon", "./DiagMon", "--diagmon-storage", dir, "--diagmon-log", filepath.Join(dir, "missing.log"),
		"--connmo", "./ConnMO", "--connmo-apply", `cat >> "$OUT"`, "--once"}
	plan, err := connmo.Apply("./ConnMO", "office", connmo.KindWiFi, map[string]string{"ssid": "Office", "security": "open"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []storage.JobSpec{
		{Command: "Exec", Correlator: "mem-1", Items: []storage.JobItem{{URI: "./DiagMon/Functions/Memory/Operations/Start"}}},
		fleet.ChangeSet(plan),
	} {
		if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr syncBuf
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: storage.JobSpec{Command: "Exec", Correlator: "log-1",
		Items: []storage.JobItem{{URI: "./DiagMon/Functions/LogTail/Operations/Start"}}}}); err != nil {
		t.Fatal(err)
	}
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, stderr.String())
	}
	evs, err := st.ListEvents(ctx, "IMEI:42", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*diagmon.Report{}
	for _, e := range evs {
		if r, ok, err := diagmon.ParseAlert(e.Type, e.Data); ok && err == nil {
			got[e.Correlator] = r
		}
	}
	if r := got["mem-1"]; r == nil || r.ResultCode != diagmon.ResultSuccessful || len(r.Readings) != 4 {
		t.Errorf("memory report %+v", r)
	}
	if r := got["log-1"]; r == nil || r.ResultCode != diagmon.ResultClientError || !strings.Contains(r.Message, "missing.log") {
		t.Errorf("log report %+v", r)
	}
	b, _ := os.ReadFile(out)
	if s := string(b); strings.Count(s, "NAP/office/Addr=Office\n") != 1 {
		t.Errorf("--connmo-apply got:\n%s", s)
	}
}

func TestAgent_ObjectFlagsNeedTheirNode(t *testing.T) {
	for _, args := range [][]string{
		{"--diagmon-log", "/var/log/x"},
		{"--connmo-apply", "true"},
		{"--diagmon", "./DiagMon", "--diagmon-log-bytes", "0"},
	} {
		a := append([]string{"--state", t.TempDir(), "--once"}, args...)
		if _, err := parseFlags(a, &syncBuf{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
