package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
)

const ctlTestToken = "ctl-test-token"

// ctlServer starts the API on 127.0.0.1:0 over a fresh SQLite store.
func ctlServer(t *testing.T) (url string, st storage.Store) {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "ctl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h, err := handler.New(handler.Options{Store: s, Token: ctlTestToken})
	if err != nil {
		t.Fatal(err)
	}
	log := &requestLog{more: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		log.add(r.Method + " " + r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, loggedStore{Store: s, log: log}
}

// loggedStore is the store of a ctlServer with the log of the requests its
// API has answered, so a fake device can wait for the request that queued
// its job instead of polling the store.
type loggedStore struct {
	storage.Store
	log *requestLog
}

// requestLog is the "METHOD path" of every request a test server answered.
type requestLog struct {
	mu   sync.Mutex
	seen []string
	more chan struct{} // closed (and replaced) when a request is added
}

func (l *requestLog) add(req string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, req)
	close(l.more)
	l.more = make(chan struct{})
}

// waitServed waits until the API over st has answered a request for which
// match is true (at any time since it started). It reports false, with a
// test error, when none came: the timer only bounds a hang. It may run in
// a goroutine of its own.
func waitServed(t *testing.T, st storage.Store, match func(req string) bool) bool {
	ls, ok := st.(loggedStore)
	if !ok {
		t.Error("store of no ctlServer")
		return false
	}
	l := ls.log
	hang := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		for _, req := range l.seen {
			if match(req) {
				l.mu.Unlock()
				return true
			}
		}
		more := l.more
		l.mu.Unlock()
		select {
		case <-more:
		case <-hang:
			t.Error("the API never answered the awaited request")
			return false
		}
	}
}

// queuedFor matches the request that queued a job (or operation) for device.
func queuedFor(device string) func(string) bool {
	return func(req string) bool { return strings.HasPrefix(req, "POST /api/v1/devices/"+device+"/") }
}

// runCtl runs `omadm ctl args…` in process.
func runCtl(t *testing.T, url string, args ...string) (string, string, error) {
	t.Helper()
	return runCtlWith(t, &ctlOptions{reportPoll: defaultReportPoll}, url, args...)
}

// runCtlWith runs `omadm ctl args…` in process with o's settings, e.g. a
// shorter reportPoll.
func runCtlWith(t *testing.T, o *ctlOptions, url string, args ...string) (string, string, error) {
	t.Helper()
	cmd := o.command()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	full := append([]string{"--server", url, "--token", ctlTestToken}, args...)
	cmd.SetArgs(full)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

// finishJob completes a job as the engine would once the device answered.
func finishJob(t *testing.T, st storage.Store, id int64, state storage.JobState, status int, results ...storage.ResultItem) {
	t.Helper()
	j, err := st.GetJob(context.Background(), id)
	if err != nil {
		t.Error(err)
		return
	}
	j.State, j.Status, j.Results = state, status, results
	j.DoneAt = time.Now()
	if err := st.UpdateJob(context.Background(), j); err != nil {
		t.Error(err)
	}
}

func TestCtl_DeviceAddListShowRm(t *testing.T) {
	url, _ := ctlServer(t)
	out, _, err := runCtl(t, url, "device", "add", "IMEI:1", "--username", "u", "--password", "p", "--auth", "hmac",
		"--notify-addr", "udp://127.0.0.1:9", "--label", "site=lab")
	if err != nil || !strings.Contains(out, "server password (shown once): ") || !strings.Contains(out, "hmac") {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, _, err := runCtl(t, url, "device", "add", "IMEI:2", "--username", "u", "--password", "p", "--server-password", "sp"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCtl(t, url, "device", "list")
	if err != nil || !strings.Contains(out, "IMEI:1") || !strings.Contains(out, "IMEI:2") || !strings.HasPrefix(out, "ID") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "device", "show", "IMEI:1", "-o", "json")
	var d map[string]any
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d["notify_addr"] != "udp://127.0.0.1:9" {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if strings.Contains(out, "password") {
		t.Fatalf("show leaks a password field: %s", out)
	}
	if _, _, err := runCtl(t, url, "device", "rm", "IMEI:1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCtl(t, url, "device", "show", "IMEI:1")
	if err == nil || !strings.Contains(err.Error(), `not found: unknown device "IMEI:1"`) {
		t.Fatalf("show removed: %v", err)
	}
	_, _, err = runCtl(t, url, "device", "add", "IMEI:3", "--username", "u")
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("missing --password: %v", err)
	}
}

func TestCtl_GetWaitsForResultsAndPrintsJobJSON(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	go func() {
		// The "engine": finish the first job once it exists.
		if waitServed(t, st, queuedFor("d1")) {
			finishJob(t, st, 1, storage.JobDone, 200, storage.ResultItem{URI: "./DevInfo/Mod", Format: "chr", Type: "text/plain", Data: "X1"})
		}
	}()
	out, _, err := runCtl(t, url, "get", "d1", "./DevInfo/Mod", "--wait", "120s")
	if err != nil {
		t.Fatalf("get --wait: %v\n%s", err, out)
	}
	var j struct {
		ID      int64
		Device  string
		Command string
		URI     string
		State   string
		Status  int
		Results []struct{ URI, Format, Type, Data string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("output is not one JSON job: %v\n%s", err, out)
	}
	if j.ID != 1 || j.Device != "d1" || j.Command != "Get" || j.URI != "./DevInfo/Mod" || j.State != "done" || j.Status != 200 ||
		len(j.Results) != 1 || j.Results[0].Data != "X1" || j.Results[0].Format != "chr" {
		t.Fatalf("job = %+v", j)
	}
}

func TestCtl_WaitExitsNonZeroOnFailureAndTimeout(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	go func() {
		if waitServed(t, st, queuedFor("d1")) {
			finishJob(t, st, 1, storage.JobFailed, 405)
		}
	}()
	out, _, err := runCtl(t, url, "replace", "d1", "./DevInfo/Mod", "x", "--wait", "120s")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitJobFailed || !strings.Contains(err.Error(), "status 405") || !strings.Contains(out, `"state": "failed"`) {
		t.Fatalf("failed job: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "add", "d1", "./Vendor/X", "5", "--format", "int", "--wait", "200ms")
	if !errors.As(err, &ee) || ee.code != exitJobTimeout || !strings.Contains(err.Error(), "still queued") {
		t.Fatalf("timed out job: %v\n%s", err, out)
	}
	// The queued Add carries its format and value.
	out, _, err = runCtl(t, url, "job", "d1", "2")
	if err != nil || !strings.Contains(out, `"format": "int"`) || !strings.Contains(out, `"data": "5"`) {
		t.Fatalf("job: %v\n%s", err, out)
	}
	_, _, err = runCtl(t, url, "job", "other", "2")
	if err == nil || !strings.Contains(err.Error(), "belongs to device") {
		t.Fatalf("job of another device: %v", err)
	}
}

func TestCtl_JobCommandsQueueListAndCancel(t *testing.T) {
	url, _ := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"add", "d1", "./Vendor/Dir"},
		{"replace", "d1", "./Vendor/Flag", "true", "--format", "bool", "--set"},
		{"delete", "d1", "./Vendor/Old"},
		{"exec", "d1", "./FUMO/P/Update", "--correlator", "c1"},
		{"get", "d1", "./DevInfo/Mod", "./DevInfo/Man"},
	} {
		if out, _, err := runCtl(t, url, args...); err != nil || !strings.Contains(out, `"state": "queued"`) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, _, err := runCtl(t, url, "jobs", "d1")
	if err != nil || strings.Count(out, "queued") != 5 || !strings.Contains(out, "Exec") {
		t.Fatalf("jobs: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "cancel", "3")
	if err != nil || !strings.Contains(out, `"state": "cancelled"`) {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	_, _, err = runCtl(t, url, "cancel", "3")
	if err == nil || !strings.Contains(err.Error(), "already cancelled") {
		t.Fatalf("second cancel: %v", err)
	}
	_, _, err = runCtl(t, url, "cancel", "other-device", "4")
	if err == nil || !strings.Contains(err.Error(), "belongs to device") {
		t.Fatalf("cancel with the wrong device: %v", err)
	}
	out, _, err = runCtl(t, url, "cancel", "d1", "4")
	if err != nil || !strings.Contains(out, `"state": "cancelled"`) {
		t.Fatalf("cancel d1 4: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "jobs", "d1", "--state", "cancelled", "-o", "json")
	var js []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js) != 2 {
		t.Fatalf("jobs --state: %v\n%s", err, out)
	}
	_, _, err = runCtl(t, url, "replace", "d1", "./A", "notanint", "--format", "int")
	if err == nil || !strings.Contains(err.Error(), "32-bit") {
		t.Fatalf("invalid value: %v", err)
	}
	_, _, err = runCtl(t, url, "get", "nope", "./A")
	if err == nil || !strings.Contains(err.Error(), `unknown device "nope"`) {
		t.Fatalf("unknown device: %v", err)
	}
	_, _, err = runCtl(t, url, "notify", "d1")
	if err == nil || !strings.Contains(err.Error(), "no notify_addr") {
		t.Fatalf("notify without address: %v", err)
	}
	_, _, err = runCtl(t, url, "get", "d1", "./A", "--notify")
	if err == nil || !strings.Contains(err.Error(), "no notify_addr") {
		t.Fatalf("get --notify without address: %v", err)
	}
}

func TestCtl_TreeEventsTraceShowStoredData(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "d1", "--username", "u", "--password", "p"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = st.PutTreeNodes(ctx, []storage.TreeNode{{DeviceID: "d1", URI: "./DevInfo/Mod", Format: "chr", Value: "X1"}})
	_ = st.AddEvent(ctx, &storage.Event{DeviceID: "d1", Kind: "generic-alert", Type: "org.openmobilealliance.dm.firmwareupdate.update", Data: "200"})
	_ = st.AddTrace(ctx, &storage.TraceEntry{DeviceID: "d1", SessionID: "7", Direction: "in", MsgID: "1", ContentType: "application/vnd.syncml.dm+xml", Body: []byte("<SyncML/>"), Decoded: "<SyncML>decoded</SyncML>"})

	out, _, err := runCtl(t, url, "tree", "d1", "./DevInfo")
	if err != nil || !strings.Contains(out, "./DevInfo/Mod") || !strings.Contains(out, "X1") {
		t.Fatalf("tree: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "events")
	if err != nil || !strings.Contains(out, "generic-alert") || !strings.Contains(out, "firmwareupdate") {
		t.Fatalf("events: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "events", "d1", "-o", "json")
	if err != nil || !json.Valid([]byte(out)) {
		t.Fatalf("events json: %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "trace", "d1")
	if err != nil || !strings.Contains(out, "device → server") || !strings.Contains(out, "<SyncML>decoded</SyncML>") {
		t.Fatalf("trace: %v\n%s", err, out)
	}
}

func TestCtl_ExplainsConnectionAndTokenProblems(t *testing.T) {
	url, _ := ctlServer(t)
	cmd := newCtlCmd()
	cmd.SetArgs([]string{"--server", url, "--token", "wrong", "device", "list"})
	cmd.SetOut(new(bytes.Buffer))
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "unauthorized: invalid API token") {
		t.Fatalf("bad token: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	_, _, err = runCtl(t, dead, "device", "list")
	if err == nil || !strings.Contains(err.Error(), "cannot reach omadm server at "+dead) {
		t.Fatalf("unreachable: %v", err)
	}
	_, _, err = runCtl(t, url, "device", "list", "-o", "xml")
	if err == nil || !strings.Contains(err.Error(), "want table, json or yaml") {
		t.Fatalf("bad -o: %v", err)
	}
}

func TestCtl_ReadsTokenFromEnvironmentOrDataDir(t *testing.T) {
	url, _ := ctlServer(t)
	run := func() error {
		cmd := newCtlCmd()
		cmd.SetArgs([]string{"device", "list"})
		cmd.SetOut(new(bytes.Buffer))
		return cmd.Execute()
	}
	t.Setenv("OMADM_SERVER", url)
	t.Setenv("OMADM_API_TOKEN", ctlTestToken)
	if err := run(); err != nil {
		t.Fatalf("token from env: %v", err)
	}
	t.Setenv("OMADM_API_TOKEN", "")
	t.Chdir(t.TempDir())
	if err := run(); err == nil || !strings.Contains(err.Error(), "no API token") {
		t.Fatalf("no token anywhere: %v", err)
	}
	if err := os.MkdirAll(defaultDataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(defaultDataDir, tokenFileName), []byte(ctlTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(); err != nil {
		t.Fatalf("token from %s: %v", tokenFileName, err)
	}
}

func TestCtl_DeviceSetChangesOnlyTheFieldsGiven(t *testing.T) {
	url, st := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "IMEI:5", "--username", "u", "--password", "p", "--server-password", "sp",
		"--label", "site=lab"); err != nil {
		t.Fatal(err)
	}
	show := func(t *testing.T) *storage.Device {
		t.Helper()
		d, err := st.GetDevice(context.Background(), "IMEI:5")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	out, _, err := runCtl(t, url, "device", "set", "IMEI:5", "--notify-addr", "udp://127.0.0.1:2948", "--label", "site=hq", "--label", "rack=4")
	if err != nil || !strings.Contains(out, "udp://127.0.0.1:2948") || !strings.Contains(out, "rack=4,site=hq") {
		t.Fatalf("set notify and labels: %v\n%s", err, out)
	}
	d := show(t)
	if d.NotifyAddr != "udp://127.0.0.1:2948" || d.Username != "u" || d.PasswordHash != auth.UserHash("u", "p") || d.ServerPassword != "sp" || d.AuthScheme != "md5" {
		t.Fatalf("after notify/labels: %+v", d)
	}
	if _, _, err := runCtl(t, url, "device", "set", "IMEI:5", "--username", "u2", "--password", "p2", "--server-password", "sp2", "--auth", "hmac"); err != nil {
		t.Fatal(err)
	}
	d = show(t)
	if d.Username != "u2" || d.PasswordHash != auth.UserHash("u2", "p2") || d.ServerPassword != "sp2" || d.AuthScheme != "hmac" || d.NotifyAddr != "udp://127.0.0.1:2948" {
		t.Fatalf("after credentials: %+v", d)
	}
	if out, _, err := runCtl(t, url, "-o", "json", "device", "set", "IMEI:5", "--auth", "basic"); err != nil || !strings.Contains(out, `"auth": "basic"`) {
		t.Fatalf("json output: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing to change", []string{"IMEI:5"}, "nothing to change"},
		{"username without password", []string{"IMEI:5", "--username", "x"}, "go together"},
		{"unknown auth", []string{"IMEI:5", "--auth", "plain"}, `--auth "plain"`},
		{"label without value", []string{"IMEI:5", "--label", "site"}, "key=value"},
		{"bad notify address", []string{"IMEI:5", "--notify-addr", "tcp://x"}, "notify"},
		{"unknown device", []string{"IMEI:404", "--notify-addr", "udp://127.0.0.1:9"}, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := show(t)
			_, _, err := runCtl(t, url, append([]string{"device", "set"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if after := show(t); after.NotifyAddr != before.NotifyAddr || after.AuthScheme != before.AuthScheme || after.Username != before.Username {
				t.Fatalf("device changed by a refused set: %+v", after)
			}
		})
	}
}

func TestCtl_NotifyWithoutAddressPointsAtDeviceSet(t *testing.T) {
	url, _ := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "IMEI:6", "--username", "u", "--password", "p", "--server-password", "sp"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"notify", "IMEI:6"}, {"get", "IMEI:6", "./DevInfo/Mod", "--notify"}} {
		_, _, err := runCtl(t, url, args...)
		if err == nil || !strings.Contains(err.Error(), "omadm ctl device set IMEI:6 --notify-addr") || strings.Contains(err.Error(), "PATCH") {
			t.Fatalf("%v: error %v does not point at `omadm ctl device set`", args, err)
		}
	}
}

func TestCtl_JobsWithoutDeviceSearchesTheFleet(t *testing.T) {
	url, st := ctlServer(t)
	for _, d := range []string{"d1", "d2"} {
		if _, _, err := runCtl(t, url, "device", "add", d, "--username", "u-"+d, "--password", "p"); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"d1", "d2", "d1"} {
		if _, _, err := runCtl(t, url, "get", d, "./DevInfo/Mod"); err != nil {
			t.Fatal(err)
		}
	}
	finishJob(t, st, 2, storage.JobFailed, 404)
	finishJob(t, st, 3, storage.JobDone, 200)

	out, _, err := runCtl(t, url, "jobs", "-o", "json")
	var js []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js) != 3 {
		t.Fatalf("jobs (all devices): %v\n%s", err, out)
	}
	out, _, err = runCtl(t, url, "jobs", "--state", "failed", "-o", "json")
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js) != 1 || js[0]["device"] != "d2" || js[0]["status"] != float64(404) {
		t.Fatalf("jobs --state failed: %v\n%s", err, out)
	}
	out, errOut, err := runCtl(t, url, "jobs", "--limit", "2")
	if err != nil || !strings.Contains(out, "d2") || !strings.Contains(errOut, "more: --after 2") {
		t.Fatalf("jobs --limit 2: %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = runCtl(t, url, "jobs", "--after", "2", "-o", "json")
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js) != 1 || js[0]["id"] != float64(3) {
		t.Fatalf("jobs --after 2: %v\n%s", err, out)
	}
	if _, _, err = runCtl(t, url, "jobs", "--state", "lost"); err == nil || !strings.Contains(err.Error(), "unknown state") {
		t.Fatalf("unknown state: %v", err)
	}
	if _, _, err = runCtl(t, url, "jobs", ""); err == nil || !strings.Contains(err.Error(), "empty device ID") {
		t.Fatalf("empty device ID: %v", err)
	}
}
