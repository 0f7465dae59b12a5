package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lines returns the non-header lines of a table output, first column only.
func firstColumn(out string) []string {
	var ids []string
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i == 0 || l == "" {
			continue
		}
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

func TestCtl_InventoryImportListLabelGroup(t *testing.T) {
	url, st := ctlServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.ndjson")
	var b strings.Builder
	for _, r := range []string{
		`{"id":"IMEI:35-1","username":"u1","password":"p","server_password":"s","labels":{"env":"prod","site":"Paris, FR"}}`,
		`{"id":"IMEI:35-2","username":"u2","password":"p","server_password":"s","labels":{"env":"prod"}}`,
		`{"id":"IMEI:36-3","username":"u3","password":"p","server_password":"s","labels":{"env":"dev"}}`,
		`{"id":"IMEI:35-1","username":"u1","password":"p","server_password":"s"}`,
		`{"id":"MAC:4","username":"u4","password":"p"}`,
	} {
		b.WriteString(r + "\n")
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtl(t, url, "device", "import", file)
	if err == nil || !strings.Contains(err.Error(), "2 of 5 records were not imported") {
		t.Fatalf("import: err %v, want 2 of 5 refused", err)
	}
	if !strings.Contains(out, "imported 3 devices, 2 records refused") || !strings.Contains(out, "already exists") ||
		!strings.Contains(out, "server_password") {
		t.Fatalf("import output:\n%s", out)
	}
	if n, _ := st.CountDevices(context.Background()); n != 3 {
		t.Fatalf("%d devices stored, want 3", n)
	}

	list := func(args ...string) ([]string, string) {
		t.Helper()
		out, errOut, err := runCtl(t, url, append([]string{"device", "list"}, args...)...)
		if err != nil {
			t.Fatalf("device list %q: %v", args, err)
		}
		return firstColumn(out), errOut
	}
	if ids, _ := list("-q", "label.env=prod"); strings.Join(ids, " ") != "IMEI:35-1 IMEI:35-2" {
		t.Errorf("-q label.env=prod: %q", ids)
	}
	if ids, _ := list("-q", `label.site="Paris, FR"`); strings.Join(ids, " ") != "IMEI:35-1" {
		t.Errorf("quoted value: %q", ids)
	}
	if ids, _ := list("--sort", "-id"); strings.Join(ids, " ") != "IMEI:36-3 IMEI:35-2 IMEI:35-1" {
		t.Errorf("--sort -id: %q", ids)
	}
	ids, more := list("--limit", "2")
	if len(ids) != 2 || !strings.Contains(more, "--cursor ") {
		t.Errorf("--limit 2: %q, stderr %q", ids, more)
	}
	if ids, _ := list("--limit", "1", "--all"); len(ids) != 3 {
		t.Errorf("--limit 1 --all: %q", ids)
	}
	if _, _, err := runCtl(t, url, "device", "list", "-q", "colour=red"); err == nil || !strings.Contains(err.Error(), `"colour=red"`) {
		t.Errorf("bad selector: %v", err)
	}

	// Labels of one device, then of a selection.
	out, _, err = runCtl(t, url, "device", "label", "IMEI:36-3", "ring=canary", "env-")
	if err != nil || !strings.Contains(out, "ring=canary") || strings.Contains(out, "env=dev") {
		t.Fatalf("device label: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "device", "label", "-q", "label.env=prod", "ring=1")
	if err != nil || !strings.Contains(out, "matched 2 devices, changed 2") {
		t.Fatalf("device label -q: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "device", "label", "IMEI:36-3", "oops"); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
		t.Errorf("bad label argument: %v", err)
	}

	// Groups.
	if _, _, err := runCtl(t, url, "group", "create", "pilot", "--description", "first wave"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCtl(t, url, "group", "create", "prod", "-q", "label.env=prod"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCtl(t, url, "group", "add", "pilot", "IMEI:35-1", "IMEI:36-3")
	if err != nil || !strings.Contains(out, "added 2 devices to pilot") {
		t.Fatalf("group add: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "group", "add", "pilot", "ghost"); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("add unknown device: %v", err)
	}
	out, _, err = runCtl(t, url, "group", "members", "pilot")
	if err != nil || strings.Join(firstColumn(out), " ") != "IMEI:35-1 IMEI:36-3" {
		t.Fatalf("members: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "group", "members", "prod", "-q", "label.site")
	if err != nil || strings.Join(firstColumn(out), " ") != "IMEI:35-1" {
		t.Fatalf("dynamic members with a filter: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "group", "list")
	if err != nil || !strings.Contains(out, "pilot") || !strings.Contains(out, "dynamic") || !strings.Contains(out, "label.env=prod") {
		t.Fatalf("group list: %v\n%s", err, out)
	}
	if ids, _ := list("-q", "group=pilot,label.ring=1"); strings.Join(ids, " ") != "IMEI:35-1" {
		t.Errorf("group and label: %q", ids)
	}
	out, _, err = runCtl(t, url, "group", "remove", "pilot", "IMEI:36-3")
	if err != nil || !strings.Contains(out, "removed 1 devices from pilot") {
		t.Fatalf("group remove: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "-o", "json", "group", "get", "pilot")
	if err != nil || !strings.Contains(out, `"description": "first wave"`) {
		t.Fatalf("group get: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "group", "delete", "pilot"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCtl(t, url, "group", "get", "pilot"); err == nil || !strings.Contains(err.Error(), "pilot") {
		t.Errorf("get a deleted group: %v", err)
	}
}
