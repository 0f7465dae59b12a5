package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// A server copying a 4 MiB leaf 60 times cannot fill the device: the tree's
// budget (--tree-max-bytes, default 32 MiB) refuses what does not fit with
// 420 Device full (OMA-TS-SyncML_RepPro-V1_2 §10), so the state
// directory stays far below 128 MB and the agent's memory below 400 MB. Real
// agent against the real server engine over HTTP on 127.0.0.1; the 4 MiB
// value arrives as a large object in chunks (the agent accepts 64 KiB
// messages), so reassembly is covered too.
func TestAgent_TreeBudgetBoundsStateAgainstRepeatedCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 4 MiB values around")
	}
	st, url := realServer(t)
	ctx := context.Background()
	const copies = 60
	big := strings.Repeat("v", 4<<20)
	specs := []storage.JobSpec{
		{Command: "Add", Items: []storage.JobItem{{URI: "./Vendor/Big", Format: "chr", Data: big}}},
		// The creator rule gave the server Add, Delete and Replace on
		// ./Vendor; Copy also needs Get on its source (OMA-TS-DM_TND-V1_2, ACL).
		{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor?prop=ACL", Data: "Add=srv.test&Delete=srv.test&Get=srv.test&Replace=srv.test"}}},
	}
	for i := range copies {
		specs = append(specs, storage.JobSpec{Command: "Copy", Items: []storage.JobItem{{URI: "./Vendor/C" + strconv.Itoa(i), Source: "./Vendor/Big"}}})
	}
	var jobs []*storage.Job
	for _, s := range specs {
		j := &storage.Job{DeviceID: "IMEI:42", Spec: s}
		if err := st.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	big = ""
	state := t.TempDir()
	var stdout, stderr syncBuf
	args := []string{"--state", state, "--server", url, "--server-id", "srv.test", "--device-id", "IMEI:42",
		"--username", "dev", "--password", "pw", "--server-password", "srvpw", "--auth", "md5", "--once"}
	if code := run(ctx, args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	counts := map[int]int{}
	for _, j := range jobs[2:] {
		got, err := st.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		counts[got.Status]++
	}
	for _, j := range jobs[:2] {
		if got, _ := st.GetJob(ctx, j.ID); got.Status != int(syncml.StatusOK) {
			t.Fatalf("%s: status %d (%s)", got.Spec.Command, got.Status, got.Error)
		}
	}
	// 32 MiB hold the source, the standard objects and at most 7 copies;
	// every other Copy is refused with 420.
	if ok := counts[200]; ok < 1 || ok > 7 || ok+counts[int(syncml.StatusDeviceFull)] != copies {
		t.Fatalf("Copy statuses %v, want 1-7×200 and the rest 420", counts)
	}
	var size int64
	err := filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state directory %d bytes, Go runtime Sys %d bytes", size, ms.Sys)
	if size >= 128<<20 {
		t.Errorf("state directory holds %d bytes, want < 128 MiB", size)
	}
	if ms.Sys >= 400<<20 {
		t.Errorf("process took %d bytes from the OS, want < 400 MiB", ms.Sys)
	}
}
