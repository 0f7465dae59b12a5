package handler_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
)

const testToken = "s3cret-token"

type fakeNotifier struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeNotifier) Notify(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, id)
	return f.err
}

type env struct {
	srv   *httptest.Server
	store *memStore
	notif *fakeNotifier
	h     *handler.Handler
	// served receives the path of every request the handler has finished
	// (dropped when nobody reads): a test waits on it instead of polling.
	served chan string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: newMemStore(), notif: &fakeNotifier{}}
	h, err := handler.New(handler.Options{Store: e.store, Notifier: e.notif, Token: testToken, MaxBody: 64 << 10, Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	e.served = make(chan string, 64)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // binds 127.0.0.1:0
		h.ServeHTTP(w, r)
		select {
		case e.served <- r.URL.Path:
		default:
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request with the test token and returns status and body.
func (e *env) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return e.doToken(t, method, path, body, testToken)
}

func (e *env) doToken(t *testing.T, method, path, body, token string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decodeInto[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func wantError(t *testing.T, status int, body []byte, wantStatus int, wantSubstr string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d (body %s)", status, wantStatus, body)
	}
	e := decodeInto[api.Error](t, body)
	if !strings.Contains(e.Error, wantSubstr) {
		t.Fatalf("error %q does not mention %q", e.Error, wantSubstr)
	}
}

func (e *env) addDevice(t *testing.T, id string) {
	t.Helper()
	st, b := e.do(t, "POST", "/api/v1/devices", `{"id":"`+id+`","username":"u","password":"p","notify_addr":"udp://127.0.0.1:9"}`)
	if st != http.StatusCreated {
		t.Fatalf("create %s: %d %s", id, st, b)
	}
}

func TestAPI_RejectsMissingOrWrongTokenOnEveryProtectedRoute(t *testing.T) {
	e := newEnv(t)
	for _, rt := range e.h.Routes() {
		if rt.Public {
			continue
		}
		path := strings.NewReplacer("{id}", "dev1", "{jobid}", "1").Replace(rt.Pattern)
		for _, tok := range []string{"", "wrong", testToken + "x"} {
			st, b := e.doToken(t, rt.Method, path, "", tok)
			wantError(t, st, b, http.StatusUnauthorized, "token")
		}
	}
}

func TestAPI_PublicRoutesNeedNoToken(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		st, b := e.doToken(t, "GET", path, "", "")
		if st != 200 || decodeInto[api.Health](t, b).Status != "ok" {
			t.Fatalf("%s: %d %s", path, st, b)
		}
	}
	st, b := e.doToken(t, "GET", "/api/v1/openapi.json", "", "")
	if st != 200 || !json.Valid(b) {
		t.Fatalf("openapi: %d", st)
	}
}

func TestAPI_UnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	e := newEnv(t)
	st, b := e.do(t, "GET", "/api/v1/nothing", "")
	wantError(t, st, b, http.StatusNotFound, "no such API route")
	st, b = e.do(t, "PUT", "/api/v1/devices", "")
	wantError(t, st, b, http.StatusMethodNotAllowed, "not allowed")
}

func TestDevices_CreateRejectsInvalidInput(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "dup")
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"empty body", ``, 400, "empty body"},
		{"not JSON", `{"id":`, 400, "bad JSON"},
		{"unknown field", `{"id":"a","username":"u","password":"p","pasword":"x"}`, 400, "unknown field"},
		{"trailing data", `{"id":"a","username":"u","password":"p"} {}`, 400, "trailing"},
		{"empty id", `{"id":"","username":"u","password":"p"}`, 400, "id: must not be empty"},
		{"control char id", `{"id":"a\u0001","username":"u","password":"p"}`, 400, "id:"},
		{"unknown auth", `{"id":"a","username":"u","password":"p","auth":"x509"}`, 400, "unknown scheme"},
		{"missing password", `{"id":"a","username":"u"}`, 400, "password: must not be empty"},
		{"bad notify addr", `{"id":"a","username":"u","password":"p","notify_addr":"tcp://x:1"}`, 400, "notify_addr"},
		{"bad udp port", `{"id":"a","username":"u","password":"p","notify_addr":"udp://h:0"}`, 400, "port"},
		{"duplicate", `{"id":"dup","username":"u","password":"p"}`, 409, "already exists"},
		{"too large", `{"id":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", "/api/v1/devices", tc.body)
			wantError(t, st, b, tc.status, tc.msg)
		})
	}
}

func TestDevices_CreateGeneratesServerPasswordOnceAndHidesSecrets(t *testing.T) {
	e := newEnv(t)
	st, b := e.do(t, "POST", "/api/v1/devices", `{"id":"IMEI:1","username":"u","password":"devpw","auth":"hmac","labels":{"site":"lab"}}`)
	if st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	c := decodeInto[api.DeviceCreated](t, b)
	if len(c.ServerPassword) < 20 || c.Auth != "hmac" || c.Labels["site"] != "lab" || c.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", c)
	}
	d, _ := e.store.GetDevice(context.Background(), "IMEI:1")
	if d.ServerPassword != c.ServerPassword {
		t.Fatalf("stored server password differs from the one returned")
	}
	_, b = e.do(t, "GET", "/api/v1/devices/IMEI:1", "")
	for _, secret := range []string{c.ServerPassword, "devpw", "server_password"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("GET shows secret %q: %s", secret, b)
		}
	}
	// A supplied server password is not echoed.
	_, b = e.do(t, "POST", "/api/v1/devices", `{"id":"IMEI:2","username":"u","password":"p","server_password":"given-sp"}`)
	if bytes.Contains(b, []byte("given-sp")) {
		t.Fatalf("supplied server password echoed: %s", b)
	}
	if d, _ := e.store.GetDevice(context.Background(), "IMEI:2"); d.AuthScheme != "md5" {
		t.Fatalf("default auth = %q, want md5", d.AuthScheme)
	}
}

func TestDevices_ListPagesWithCursor(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"d3", "d1", "d5", "d2", "d4"} {
		e.addDevice(t, id)
	}
	var got []string
	after := ""
	for range 10 { // bounded
		st, b := e.do(t, "GET", "/api/v1/devices?limit=2&after="+after, "")
		if st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		page := decodeInto[api.DeviceList](t, b)
		for _, d := range page.Devices {
			got = append(got, d.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if strings.Join(got, ",") != "d1,d2,d3,d4,d5" {
		t.Fatalf("paged ids = %v", got)
	}
	st, b := e.do(t, "GET", "/api/v1/devices?limit=0", "")
	wantError(t, st, b, 400, "limit")
	st, b = e.do(t, "GET", "/api/v1/devices?limit=5000", "")
	wantError(t, st, b, 400, "limit")
}

func TestDevices_PatchChangesOnlyGivenFieldsAndDeleteRemoves(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	st, b := e.do(t, "PATCH", "/api/v1/devices/d1", `{"labels":{"a":"b"},"password":"new"}`)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	d, _ := e.store.GetDevice(context.Background(), "d1")
	if d.PasswordHash != auth.UserHash("u", "new") || d.Labels["a"] != "b" || d.NotifyAddr != "udp://127.0.0.1:9" || d.Username != "u" {
		t.Fatalf("after patch: %+v", d)
	}
	st, b = e.do(t, "PATCH", "/api/v1/devices/d1", `{"notify_addr":""}`)
	if st != 200 || decodeInto[api.Device](t, b).NotifyAddr != "" {
		t.Fatalf("clearing notify_addr: %d %s", st, b)
	}
	st, b = e.do(t, "PATCH", "/api/v1/devices/d1", `{"auth":"none"}`)
	wantError(t, st, b, 400, "unknown scheme")
	st, b = e.do(t, "PATCH", "/api/v1/devices/zz", `{"labels":{}}`)
	wantError(t, st, b, 404, "unknown device")
	if st, b = e.do(t, "DELETE", "/api/v1/devices/d1", ""); st != 204 {
		t.Fatalf("delete: %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1", "")
	wantError(t, st, b, 404, `unknown device "d1"`)
	st, b = e.do(t, "DELETE", "/api/v1/devices/d1", "")
	wantError(t, st, b, 404, "unknown device")
}

func TestJobs_CreateRejectsInvalidCommands(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	tests := []struct{ name, body, msg string }{
		{"unknown command", `{"command":"Fetch","items":[{"uri":"./A"}]}`, "unknown command"},
		{"no items", `{"command":"Get"}`, "needs at least one item"},
		{"absolute uri", `{"command":"Get","items":[{"uri":"/A"}]}`, "relative"},
		{"dotdot uri", `{"command":"Get","items":[{"uri":"./A/../B"}]}`, "segments are not allowed"},
		{"trailing slash", `{"command":"Get","items":[{"uri":"./A/"}]}`, "trailing"},
		{"root with slash", `{"command":"Get","items":[{"uri":"./"}]}`, "never"},
		{"unknown prop", `{"command":"Get","items":[{"uri":"./A?prop=Colour"}]}`, "unknown property"},
		{"unknown format", `{"command":"Replace","items":[{"uri":"./A","format":"str","data":"x"}]}`, "unknown format"},
		{"bad int", `{"command":"Replace","items":[{"uri":"./A","format":"int","data":"12x"}]}`, "32-bit"},
		{"int overflow", `{"command":"Replace","items":[{"uri":"./A","format":"int","data":"4294967296"}]}`, "32-bit"},
		{"bad bool", `{"command":"Replace","items":[{"uri":"./A","format":"bool","data":"yes"}]}`, "true or false"},
		{"bad b64", `{"command":"Replace","items":[{"uri":"./A","format":"b64","data":"!!"}]}`, "base64"},
		{"data on get", `{"command":"Get","items":[{"uri":"./A","data":"x"}]}`, "takes no data"},
		{"copy without source", `{"command":"Copy","items":[{"uri":"./A"}]}`, "source"},
		{"set on get", `{"command":"Get","set":true,"items":[{"uri":"./A"}]}`, "set"},
		{"get inside atomic", `{"command":"Atomic","children":[{"command":"Get","items":[{"uri":"./A"}]}]}`, "not allowed inside Atomic"},
		{"nested atomic", `{"command":"Atomic","children":[{"command":"Atomic","children":[{"command":"Delete","items":[{"uri":"./A"}]}]}]}`, "not allowed inside Atomic"},
		{"empty sequence", `{"command":"Sequence"}`, "at least one child"},
		{"alert code", `{"command":"Alert","alert":{"code":1200,"text":"hi"}}`, "not a UI alert code"},
		{"alert no text", `{"command":"Alert","alert":{"code":1100}}`, "alert.text"},
		{"choice without choices", `{"command":"Alert","alert":{"code":1103,"text":"pick"}}`, "choice"},
		{"input type", `{"command":"Alert","alert":{"code":1102,"text":"t","input_type":"X"}}`, "input_type"},
		{"child error names path", `{"command":"Sequence","children":[{"command":"Get","items":[{"uri":"./A"}]},{"command":"Replace","items":[{"uri":"./B","format":"int","data":"x"}]}]}`, "children[1].items[0].data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", "/api/v1/devices/d1/jobs", tc.body)
			wantError(t, st, b, 400, tc.msg)
		})
	}
	st, b := e.do(t, "POST", "/api/v1/devices/nope/jobs", `{"command":"Get","items":[{"uri":"./A"}]}`)
	wantError(t, st, b, 404, "unknown device")
	if n, _ := e.store.CountJobs(context.Background(), storage.JobQueued); n != 0 {
		t.Fatalf("%d jobs stored from invalid requests", n)
	}
}

func TestJobs_CreateListGetCancel(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	fixture, err := os.ReadFile("testdata/jobs.json")
	if err != nil {
		t.Fatal(err)
	}
	var reqs []json.RawMessage
	if err := json.Unmarshal(fixture, &reqs); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range reqs {
		st, b := e.do(t, "POST", "/api/v1/devices/d1/jobs", string(r))
		if st != 201 {
			t.Fatalf("create %s: %d %s", r, st, b)
		}
		j := decodeInto[api.Job](t, b)
		if j.State != "queued" || j.Device != "d1" || j.ID == 0 || j.Results == nil || j.SentAt != nil {
			t.Fatalf("new job = %+v", j)
		}
		ids = append(ids, j.ID)
	}
	st, b := e.do(t, "GET", "/api/v1/jobs/"+itoa(ids[0]), "")
	j := decodeInto[api.Job](t, b)
	if st != 200 || j.Command != "Get" || j.URI != "./DevInfo/Mod" {
		t.Fatalf("get job: %d %s", st, b)
	}
	// The stored spec keeps <Data/> for an empty Replace value.
	sj, _ := e.store.GetJob(context.Background(), ids[1])
	if sj.Spec.Command != "Replace" || !sj.Spec.Items[0].HasData {
		t.Fatalf("stored spec = %+v", sj.Spec)
	}
	// Complete one job as the engine would, then list by state with paging.
	sj.State, sj.Status = storage.JobDone, 200
	sj.Results = []storage.ResultItem{{URI: "./A", Format: "chr", Type: "text/plain", Data: "v"}}
	if err := e.store.UpdateJob(context.Background(), sj); err != nil {
		t.Fatal(err)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/jobs?state=done", "")
	jl := decodeInto[api.JobList](t, b)
	if st != 200 || len(jl.Jobs) != 1 || jl.Jobs[0].Status != 200 || jl.Jobs[0].Results[0].Data != "v" {
		t.Fatalf("done jobs: %s", b)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/jobs?limit=2", "")
	jl = decodeInto[api.JobList](t, b)
	if st != 200 || len(jl.Jobs) != 2 || jl.Next != itoa(ids[1]) {
		t.Fatalf("first page: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/devices/d1/jobs?limit=100&after="+jl.Next, "")
	if n := len(decodeInto[api.JobList](t, b).Jobs); n != len(ids)-2 {
		t.Fatalf("second page has %d jobs, want %d", n, len(ids)-2)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/jobs?state=running", "")
	wantError(t, st, b, 400, "unknown state")

	// Cancel: queued → cancelled; again → 409; done → 409; unknown → 404.
	st, b = e.do(t, "POST", "/api/v1/jobs/"+itoa(ids[0])+"/cancel", "")
	if st != 200 || decodeInto[api.Job](t, b).State != "cancelled" {
		t.Fatalf("cancel: %d %s", st, b)
	}
	st, b = e.do(t, "POST", "/api/v1/jobs/"+itoa(ids[0])+"/cancel", "")
	wantError(t, st, b, 409, "already cancelled")
	st, b = e.do(t, "POST", "/api/v1/jobs/"+itoa(ids[1])+"/cancel", "")
	wantError(t, st, b, 409, "already done")
	st, b = e.do(t, "POST", "/api/v1/jobs/999/cancel", "")
	wantError(t, st, b, 404, "unknown job 999")
	st, b = e.do(t, "GET", "/api/v1/jobs/abc", "")
	wantError(t, st, b, 400, "not a job id")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestNotify_SendsPackage0OrExplainsWhyNot(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	st, b := e.do(t, "POST", "/api/v1/devices/d1/notify", "")
	if st != 200 || !decodeInto[api.NotifyResult](t, b).Sent || len(e.notif.calls) != 1 {
		t.Fatalf("notify: %d %s calls=%v", st, b, e.notif.calls)
	}
	// A job with notify: true queues and notifies.
	st, b = e.do(t, "POST", "/api/v1/devices/d1/jobs", `{"command":"Get","items":[{"uri":"./DevInfo/Mod"}],"notify":true}`)
	if st != 201 || len(e.notif.calls) != 2 {
		t.Fatalf("job with notify: %d %s", st, b)
	}
	// A failing sender: 502 on notify, a warning on the job (which is still queued).
	e.notif.err = errors.New("network unreachable")
	st, b = e.do(t, "POST", "/api/v1/devices/d1/notify", "")
	wantError(t, st, b, 502, "network unreachable")
	st, b = e.do(t, "POST", "/api/v1/devices/d1/jobs", `{"command":"Get","items":[{"uri":"./A"}],"notify":true}`)
	if j := decodeInto[api.Job](t, b); st != 201 || !strings.Contains(j.Warning, "network unreachable") {
		t.Fatalf("job with failed notify: %d %s", st, b)
	}
	// No address: 422 and no job.
	e.do(t, "PATCH", "/api/v1/devices/d1", `{"notify_addr":""}`)
	st, b = e.do(t, "POST", "/api/v1/devices/d1/notify", "")
	wantError(t, st, b, 422, "no notify_addr")
	st, b = e.do(t, "POST", "/api/v1/devices/d1/jobs", `{"command":"Get","items":[{"uri":"./A"}],"notify":true}`)
	wantError(t, st, b, 422, "no notify_addr")
	st, b = e.do(t, "POST", "/api/v1/devices/zz/notify", "")
	wantError(t, st, b, 404, "unknown device")
}

func TestTreeEventsTraces_ShowWhatTheEngineStored(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	e.addDevice(t, "d2")
	ctx := context.Background()
	_ = e.store.PutTreeNodes(ctx, []storage.TreeNode{
		{DeviceID: "d1", URI: "./DevInfo/Mod", Format: "chr", Value: "X1"},
		{DeviceID: "d1", URI: "./DevDetail/FwV", Format: "chr", Value: "1.0"},
		{DeviceID: "d2", URI: "./DevInfo/Mod", Format: "chr", Value: "other"},
	})
	for i := range 3 {
		_ = e.store.AddEvent(ctx, &storage.Event{DeviceID: "d1", Kind: "generic-alert", Data: "e" + itoa(int64(i))})
	}
	_ = e.store.AddEvent(ctx, &storage.Event{DeviceID: "d2", Kind: "session-start"})
	_ = e.store.AddTrace(ctx, &storage.TraceEntry{DeviceID: "d1", SessionID: "1", Direction: "in", Body: []byte{0x02, 0xa4}, Decoded: "<SyncML/>"})
	_ = e.store.AddTrace(ctx, &storage.TraceEntry{DeviceID: "d1", SessionID: "2", Direction: "out", Body: []byte("<SyncML/>")})

	_, b := e.do(t, "GET", "/api/v1/devices/d1/tree?prefix=./DevInfo", "")
	tr := decodeInto[api.Tree](t, b)
	if len(tr.Nodes) != 1 || tr.Nodes[0].Value != "X1" {
		t.Fatalf("tree: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/devices/d1/events?limit=2", "")
	el := decodeInto[api.EventList](t, b)
	if len(el.Events) != 2 || el.Next == "" {
		t.Fatalf("events page 1: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/devices/d1/events?after="+el.Next, "")
	if el2 := decodeInto[api.EventList](t, b); len(el2.Events) != 1 || el2.Next != "" {
		t.Fatalf("events page 2: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/events", "")
	if n := len(decodeInto[api.EventList](t, b).Events); n != 4 {
		t.Fatalf("all events: %d", n)
	}
	st, b := e.do(t, "GET", "/api/v1/events?after=-1", "")
	wantError(t, st, b, 400, "after")
	_, b = e.do(t, "GET", "/api/v1/devices/d1/traces?session=1", "")
	tl := decodeInto[api.TraceList](t, b)
	if len(tl.Traces) != 1 || !bytes.Equal(tl.Traces[0].Body, []byte{0x02, 0xa4}) || tl.Traces[0].Decoded != "<SyncML/>" || tl.Traces[0].Direction != "in" {
		t.Fatalf("traces: %s", b)
	}
	for _, p := range []string{"tree", "events", "traces"} {
		st, b := e.do(t, "GET", "/api/v1/devices/zz/"+p, "")
		wantError(t, st, b, 404, "unknown device")
	}
}

// readEvent reads one SSE event (skipping comments) with its event name and data.
func readEvent(t *testing.T, r *bufio.Reader) (string, string) {
	t.Helper()
	var ev, data string
	for range 100 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && data != "":
			return ev, data
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatal("no event in 100 lines")
	return "", ""
}

func TestStream_DeliversUpdatesWithHeartbeatsAndEndsOnDisconnect(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/events/stream?device=d1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	// The opening comment proves the subscription is registered.
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}
	// Updates of another device are filtered out; the job created via the API arrives.
	e.h.Hub().Publish(api.Update{Kind: api.UpdateEvent, Device: "d2", Event: &api.Event{Kind: "x"}})
	st, b := e.do(t, "POST", "/api/v1/devices/d1/jobs", `{"command":"Get","items":[{"uri":"./DevInfo/Mod"}]}`)
	if st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	ev, data := readEvent(t, r)
	u := decodeInto[api.Update](t, []byte(data))
	if ev != "job" || u.Kind != "job" || u.Job == nil || u.Job.URI != "./DevInfo/Mod" || u.Seq == 0 {
		t.Fatalf("event %q data %s", ev, data)
	}
	e.h.Hub().Publish(api.Update{Kind: api.UpdateSession, Device: "d1", Session: &api.Session{ID: "1", State: "ended"}})
	if ev, _ := readEvent(t, r); ev != "session" {
		t.Fatalf("second event %q", ev)
	}
	// Heartbeat comments arrive while idle (Heartbeat is 50 ms in tests).
	sawHeartbeat := false
	for range 20 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ": heartbeat") {
			sawHeartbeat = true
			break
		}
	}
	if !sawHeartbeat {
		t.Fatal("no heartbeat")
	}
	cancel()
	// The stream's handler returns once it sees the disconnect; by then its
	// subscription is gone. The timer only bounds a hang.
	hang := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case p := <-e.served:
			done = p == "/api/v1/events/stream"
		case <-hang:
			t.Fatal("stream handler still running after the client disconnected")
		}
	}
	if n := e.h.Hub().Subscribers(); n != 0 {
		t.Fatalf("%d subscriptions left after the client disconnected", n)
	}
}

func TestStream_RejectsUnknownKinds(t *testing.T) {
	e := newEnv(t)
	st, b := e.do(t, "GET", "/api/v1/events/stream?kinds=job,bogus", "")
	wantError(t, st, b, 400, "unknown kind")
}

func TestHub_DropsSubscriberThatFallsBehind(t *testing.T) {
	h := handler.NewHub()
	ch, lagged, cancel := h.Subscribe()
	defer cancel()
	for range 1000 {
		h.Publish(api.Update{Kind: api.UpdateJob})
	}
	n := 0
	for range ch {
		n++
	}
	if !lagged() || n == 0 || n >= 1000 || h.Subscribers() != 0 {
		t.Fatalf("lagged=%v received=%d subscribers=%d", lagged(), n, h.Subscribers())
	}
}

func TestOpenAPI_DocumentsEveryRouteAndNothingElse(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	served := map[string]bool{}
	for _, rt := range e.h.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		served[key] = true
		raw, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s is served but not documented", key)
			continue
		}
		var op map[string]json.RawMessage
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if _, ok := op["responses"]; !ok {
			t.Errorf("%s has no responses", key)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !served[m+" "+p] {
				t.Errorf("%s %s is documented but not served", m, p)
			}
		}
	}
}
