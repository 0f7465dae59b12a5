package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

func scomoReport(t *testing.T, st *memstore.Store, corr string) scomo.Outcome {
	t.Helper()
	evs, err := st.ListEvents(context.Background(), "IMEI:42", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Correlator == corr {
			o, ok, err := scomo.ParseAlert(e.Type, e.Source, e.Data)
			if !ok || err != nil {
				t.Fatalf("event %+v: %v %v", e, ok, err)
			}
			return o
		}
	}
	t.Fatalf("no report with correlator %s among %d events", corr, len(evs))
	return scomo.Outcome{}
}

// --scomo with --scomo-dir and --scomo-hook against the real server: an
// install the server asks for is unpacked into the directory, the hook runs
// and --once reports it; a remove whose hook fails reports 1408
// (OMA-TS-DM-SCOMO-V1_0 §8.7).
func TestAgent_SCOMOInstallsIntoTheDirectoryAndRunsTheHook(t *testing.T) {
	pkgsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("payload")) }))
	defer pkgsrv.Close()
	st, url := realServer(t)
	ctx := context.Background()
	apps := filepath.Join(t.TempDir(), "apps")
	out := filepath.Join(t.TempDir(), "hooks.log")
	t.Setenv("OUT", out)
	t.Setenv("FAIL_REMOVE", "1")
	args := []string{"--state", t.TempDir(), "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
		"--scomo", "./SCOMO", "--scomo-dir", apps,
		"--scomo-hook", `echo "$1 $2 $SCOMO_ID" >> "$OUT"; if [ "$1" = remove ] && [ -n "$FAIL_REMOVE" ]; then exit 3; fi`, "--once"}
	queue := func(specs ...storage.JobSpec) {
		for _, j := range specs {
			if err := st.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
				t.Fatal(err)
			}
		}
	}
	queue(storage.JobSpec{Command: "Add", Items: []storage.JobItem{
		{URI: "./SCOMO/Download/app1", Format: "node"},
		{URI: "./SCOMO/Download/app1/PkgID", Format: "chr", Data: "app1"},
		{URI: "./SCOMO/Download/app1/PkgURL", Format: "chr", Data: pkgsrv.URL + "/app1"}}},
		storage.JobSpec{Command: "Exec", Correlator: "inst-1", Items: []storage.JobItem{{URI: "./SCOMO/Download/app1/Operations/DownloadInstall"}}})
	var stdout, stderr syncBuf
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if o := scomoReport(t, st, "inst-1"); o.Result != scomo.ResultSuccessful || o.Identifier != "app1" {
		t.Errorf("install report %+v", o)
	}
	if b, err := os.ReadFile(filepath.Join(apps, "app1", "package")); err != nil || string(b) != "payload" {
		t.Errorf("installed package %q %v", b, err)
	}
	queue(storage.JobSpec{Command: "Exec", Correlator: "rm-1", Items: []storage.JobItem{{URI: "./SCOMO/Inventory/Deployed/app1/Operations/Remove"}}})
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, stderr.String())
	}
	if o := scomoReport(t, st, "rm-1"); o.Result != scomo.ResultRemoveFailed {
		t.Errorf("remove report %+v, want 1408", o)
	}
	log, _ := os.ReadFile(out)
	if got := string(log); got != "install app1 app1\nremove app1 app1\n" {
		t.Errorf("hooks ran:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(apps, "app1")); err != nil {
		t.Errorf("a failed remove deleted the component: %v", err)
	}
}

func TestAgent_SCOMOFlagsNeedTheNode(t *testing.T) {
	for _, flag := range [][]string{{"--scomo-hook", "true"}, {"--scomo-dir", t.TempDir()}, {"--scomo-types", "application/x-tar"}} {
		var stdout, stderr syncBuf
		args := append([]string{"--state", t.TempDir(), "--server", "http://127.0.0.1:1/dm"}, flag...)
		code := run(context.Background(), append(args, "--once"), nil, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "need --scomo") {
			t.Errorf("%s without --scomo: exit %d, stderr %q", flag[0], code, stderr.String())
		}
	}
}
