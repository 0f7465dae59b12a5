//go:build unix

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/storage"
)

// The agent process stops while --scomo-hook installs a component: at its
// next start it runs the saved install again (the tree and the operation
// are in --state) and reports it once, with the Exec's correlator.
func TestAgent_SCOMORestartDuringAnInstallRunsItAgainAndReportsOnce(t *testing.T) {
	pkgsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("payload")) }))
	defer pkgsrv.Close()
	st, url := realServer(t)
	fifo := filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no fifo: %v", err)
	}
	t.Setenv("FIFO", fifo)
	t.Setenv("BLOCK", "1")
	apps := filepath.Join(t.TempDir(), "apps")
	args := []string{"--state", t.TempDir(), "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5",
		"--scomo", "./SCOMO", "--scomo-dir", apps,
		"--scomo-hook", `if [ "$1" = install ] && [ -n "$BLOCK" ]; then echo started > "$FIFO"; exec sleep 600; fi`, "--once"}
	bg := context.Background()
	for _, j := range []storage.JobSpec{
		{Command: "Add", Items: []storage.JobItem{
			{URI: "./SCOMO/Download/app1", Format: "node"},
			{URI: "./SCOMO/Download/app1/PkgID", Format: "chr", Data: "app1"},
			{URI: "./SCOMO/Download/app1/PkgURL", Format: "chr", Data: pkgsrv.URL + "/app1"}}},
		{Command: "Exec", Correlator: "inst-r", Items: []storage.JobItem{{URI: "./SCOMO/Download/app1/Operations/DownloadInstall"}}},
	} {
		if err := st.CreateJob(bg, &storage.Job{DeviceID: "IMEI:42", Spec: j}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(bg)
	exited := make(chan int, 1)
	var stdout, stderr syncBuf
	go func() { exited <- run(ctx, args, nil, &stdout, &stderr) }()
	f, err := os.Open(fifo) // returns once the hook opened it for writing
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(f)
	f.Close()
	stop() // the agent stops while the hook installs
	select {
	case <-exited:
	case <-time.After(60 * time.Second): // bounds a hang only
		t.Fatal("the agent did not stop")
	}
	reports := func() int {
		evs, _ := st.ListEvents(bg, "IMEI:42", 0, 1000)
		n := 0
		for _, e := range evs {
			if e.Correlator == "inst-r" {
				n++
			}
		}
		return n
	}
	if n := reports(); n != 0 {
		t.Fatalf("%d reports before the restart", n)
	}

	t.Setenv("BLOCK", "")
	if code := run(bg, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("second run exit %d\n%s", code, stderr.String())
	}
	if o := scomoReport(t, st, "inst-r"); o.Result != scomo.ResultSuccessful || o.Identifier != "app1" {
		t.Errorf("report %+v", o)
	}
	if n := reports(); n != 1 {
		t.Errorf("%d reports, want 1", n)
	}
	if b, err := os.ReadFile(filepath.Join(apps, "app1", "package")); err != nil || string(b) != "payload" {
		t.Errorf("installed package %q %v", b, err)
	}
}
