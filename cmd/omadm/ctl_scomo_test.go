package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// install queues one operation whose job Adds the package node with its
// parameters and Execs its DownloadInstall (OMA-TS-DM-SCOMO-V1_0 §5);
// remove, activate and deactivate Exec the component's Operations.
func TestCtl_SCOMOQueuesOperationsFromTheDescriptor(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "a", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		cmd  string // the first command of the job
		exec string
	}{
		{[]string{"install", "a", "maps", "http://p/maps.tgz", "--name", "Maps"}, "Add", "./SCOMO/Download/maps/Operations/DownloadInstall"},
		{[]string{"install", "a", "maps", "http://p/maps.tgz", "--inactive", "--node", "./SCM"}, "Add", "./SCM/Download/maps/Operations/DownloadInstallInactive"},
		{[]string{"install", "a", "maps", "http://p/maps.tgz", "--download-only"}, "Add", "./SCOMO/Download/maps/Operations/Download"},
		{[]string{"remove", "a", "maps"}, "Exec", "./SCOMO/Inventory/Deployed/maps/Operations/Remove"},
		{[]string{"remove", "a", "maps", "--delivered"}, "Exec", "./SCOMO/Inventory/Delivered/maps/Operations/Remove"},
		{[]string{"activate", "a", "maps"}, "Exec", "./SCOMO/Inventory/Deployed/maps/Operations/Activate"},
		{[]string{"deactivate", "a", "maps"}, "Exec", "./SCOMO/Inventory/Deployed/maps/Operations/Deactivate"},
	} {
		out, _, err := runCtl(t, url, append([]string{"scomo"}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, out)
		}
		var jobs []api.Job
		if err := json.Unmarshal([]byte(out), &jobs); err != nil || len(jobs) != 1 {
			t.Fatalf("%v: %v\n%s", tc.args, err, out)
		}
		j := jobs[0]
		spec, exec := j.Spec, j.Spec
		if spec.Command == "Sequence" {
			spec, exec = spec.Children[0], spec.Children[1]
		}
		if spec.Command != tc.cmd || exec.Command != "Exec" || exec.Items[0].URI != tc.exec || exec.Correlator == "" || j.Operation == nil {
			t.Errorf("%v: job %+v", tc.args, j.Spec)
		}
	}
	for _, bad := range [][]string{
		{"scomo", "install", "a", "x/y", "http://p"},
		{"scomo", "install", "a", "x", "http://p", "--inactive", "--download-only"},
		{"scomo", "remove", "a"},
		{"scomo", "activate", "nosuch", "x"},
	} {
		if _, _, err := runCtl(t, url, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "a"})
	if len(js) != 7 {
		t.Errorf("%d jobs, want 7 (refused requests queue nothing)", len(js))
	}
}

// inventory shows the components of the latest reading of the device's
// Inventory only: a component removed since an earlier reading is gone.
func TestCtl_SCOMOInventoryShowsTheLatestReading(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "a", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCtl(t, url, "scomo", "inventory", "a")
	if err != nil || !strings.Contains(errOut, "never read") {
		t.Fatalf("unread inventory: %v %q", err, errOut)
	}
	old, now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	node := func(uri, v string, at time.Time) storage.TreeNode {
		return storage.TreeNode{DeviceID: "a", URI: uri, Value: v, UpdatedAt: at}
	}
	dep := "./SCOMO/Inventory/Deployed/"
	st.PutTreeNodes(context.Background(), []storage.TreeNode{
		node(dep+"gone/ID", "gone", old),
		node("./SCOMO/Inventory", "", now),
		node(dep+"maps/ID", "maps", now), node(dep+"maps/Name", "Maps", now), node(dep+"maps/Version", "2.1", now),
		node(dep+"maps/State", "20", now), node(dep+"maps/Status", "10", now),
		node("./SCOMO/Inventory/Delivered/fonts/PkgID", "fonts", now), node("./SCOMO/Inventory/Delivered/fonts/State", "10", now),
	})
	out, _, err := runCtl(t, url, "scomo", "inventory", "a", "-o", "table")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "maps") || !strings.Contains(out, "2.1") || !strings.Contains(out, "active") ||
		!strings.Contains(out, "fonts") || strings.Contains(out, "gone") {
		t.Errorf("inventory:\n%s", out)
	}
	out, _, err = runCtl(t, url, "scomo", "inventory", "a", "--refresh")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := st.ListJobs(context.Background(), storage.JobFilter{DeviceID: "a"})
	if len(js) != 1 || js[0].Spec.Command != "Get" || js[0].Spec.Items[0].URI != "./SCOMO/Inventory?list=StructData" {
		t.Errorf("refresh queued %+v", js)
	}
	_ = out
}
