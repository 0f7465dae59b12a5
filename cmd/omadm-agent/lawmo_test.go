package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

func lawmoReport(t *testing.T, st *memstore.Store, corr string) lawmo.Outcome {
	t.Helper()
	evs, err := st.ListEvents(context.Background(), "IMEI:42", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Correlator == corr {
			o, ok, err := lawmo.ParseAlert(e.Type, e.Source, e.Data)
			if !ok || err != nil {
				t.Fatalf("event %+v: %v %v", e, ok, err)
			}
			return o
		}
	}
	t.Fatalf("no report with correlator %s among %d events", corr, len(evs))
	return lawmo.Outcome{}
}

// --lawmo with shell hooks against the real server: a lock, then a wipe of
// the list item the server marked, each reported before --once exits.
func TestAgent_LAWMOLocksAndWipesThroughItsCommands(t *testing.T) {
	st, url := realServer(t)
	out := filepath.Join(t.TempDir(), "hooks.log")
	t.Setenv("OUT", out)
	ctx := context.Background()
	queueJobs := func(specs ...storage.JobSpec) {
		for _, j := range specs {
			if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
				t.Fatal(err)
			}
		}
	}
	state := t.TempDir()
	args := []string{"--state", state, "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
		"--lawmo", "./LAWMO", "--lawmo-wipe-list", "SD card, Contacts",
		"--lawmo-lock", `echo "lock $1 notify=$LAWMO_NOTIFY_USER" >> "$OUT"`,
		"--lawmo-wipe", `echo "wipe $*" >> "$OUT"`, "--once"}

	queueJobs(
		storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./LAWMO/LAWMOConfig/NotifyUser", Format: "bool", Data: "true"}}},
		storage.JobSpec{Command: "Exec", Correlator: "lock-1", Items: []storage.JobItem{{URI: "./LAWMO/Operations/FullyLock"}}})
	var stdout, stderr syncBuf
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if o := lawmoReport(t, st, "lock-1"); o.Op != lawmo.OpFullyLock || o.Result != lawmo.ResultSuccessful {
		t.Errorf("lock report %+v", o)
	}

	queueJobs(
		storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./LAWMO/AvailableWipeList/2/ToBeWiped", Format: "bool", Data: "true"}}},
		storage.JobSpec{Command: "Exec", Correlator: "wipe-1", Items: []storage.JobItem{{URI: "./LAWMO/Operations/Wipe"}}},
		storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./LAWMO/State"}}},
		storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./LAWMO/Operations/FactoryReset"}}})
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, stderr.String())
	}
	if o := lawmoReport(t, st, "wipe-1"); o.Op != lawmo.OpWipe || o.Result != lawmo.ResultWipeListSuccessful {
		t.Errorf("wipe report %+v", o)
	}
	log, _ := os.ReadFile(out)
	if got := string(log); got != "lock fully-locked notify=true\nwipe Contacts\n" {
		t.Errorf("hooks ran:\n%s", got)
	}
	js, _ := st.ListJobs(ctx, storage.JobFilter{DeviceID: "IMEI:42"})
	for _, j := range js {
		switch {
		case j.Spec.Command == "Get" && (len(j.Results) != 1 || j.Results[0].Data != "10"):
			t.Errorf("Get State: %+v", j.Results)
		case j.Spec.Command == "Exec" && strings.HasSuffix(j.Spec.Items[0].URI, "FactoryReset") && j.Status != 406:
			t.Errorf("FactoryReset without a command: status %d, want 406", j.Status)
		}
	}
}

func TestAgent_LAWMOFlagsNeedTheNode(t *testing.T) {
	var stderr syncBuf
	code := run(context.Background(), []string{"--state", t.TempDir(), "--once", "--lawmo-wipe", "true"}, nil, &syncBuf{}, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--lawmo") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
