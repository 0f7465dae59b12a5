package handler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
)

// TestOperations_QueueTheParametersAndTheExecAsOneSequence: a FUMO or LAWMO
// operation is one job, a Sequence of the parameter Replaces and the Exec,
// so the Exec never runs after a Replace failed (OMA-TS-DM_Protocol-V1_2
// §6: Sequence members run in order; Atomic may not hold an Exec, per the
// RepPro Atomic content model). Bad requests are 400 naming the field.
func TestOperations_QueueTheParametersAndTheExecAsOneSequence(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	tests := []struct {
		name, path, body string
		children         []string // URIs of the Sequence's members; one = a lone Exec
	}{
		{"fumo", "/api/v1/devices/d1/fumo", `{"pkg_url":"http://fw.example/2.bin","correlator":"c1"}`,
			[]string{"./FwUpdate/Default/DownloadAndUpdate/PkgURL", "./FwUpdate/Default/DownloadAndUpdate"}},
		{"fumo update alone", "/api/v1/devices/d1/fumo", `{"operation":"update","node":"./FwUpdate/Main/"}`,
			[]string{"./FwUpdate/Main/Update"}},
		{"lawmo wipe", "/api/v1/devices/d1/lawmo", `{"operation":"wipe","wipe_items":["1","2"],"notify_user":true}`,
			[]string{"./LAWMO/LAWMOConfig/NotifyUser", "./LAWMO/Operations/Wipe"}},
		{"lawmo lock", "/api/v1/devices/d1/lawmo", `{"operation":"FullyLock"}`, []string{"./LAWMO/Operations/FullyLock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", tc.path, tc.body)
			if st != http.StatusCreated {
				t.Fatalf("%d %s", st, b)
			}
			var j api.Job
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatal(err)
			}
			exec := j.Spec
			if len(tc.children) == 1 {
				if j.Command != "Exec" || j.Spec.Items[0].URI != tc.children[0] {
					t.Fatalf("job %+v", j.Spec)
				}
			} else {
				if j.Command != "Sequence" || len(j.Spec.Children) != 2 || j.Spec.Children[0].Command != "Replace" ||
					j.Spec.Children[0].Items[0].URI != tc.children[0] || j.Spec.Children[1].Items[0].URI != tc.children[1] {
					t.Fatalf("job %+v", j.Spec)
				}
				exec = j.Spec.Children[1]
			}
			if exec.Command != "Exec" || exec.Correlator == "" {
				t.Fatalf("exec %+v: want an Exec with a correlator", exec)
			}
		})
	}
	bad := []struct{ name, path, body, msg string }{
		{"fumo without url", "/api/v1/devices/d1/fumo", `{}`, "pkg_url"},
		{"fumo update with url", "/api/v1/devices/d1/fumo", `{"operation":"Update","pkg_url":"http://x"}`, "pkg_url"},
		{"fumo unknown op", "/api/v1/devices/d1/fumo", `{"operation":"reboot","pkg_url":"http://x"}`, "operation"},
		{"fumo relative node", "/api/v1/devices/d1/fumo", `{"node":"FwUpdate","pkg_url":"http://x"}`, "node"},
		{"lawmo unknown op", "/api/v1/devices/d1/lawmo", `{"operation":"reboot"}`, "operation"},
		{"lawmo items on lock", "/api/v1/devices/d1/lawmo", `{"operation":"lock","wipe_items":["1"]}`, "wipe_items"},
		{"lawmo item path", "/api/v1/devices/d1/lawmo", `{"operation":"wipe","wipe_items":["1/../x"]}`, "wipe_items[0]"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", tc.path, tc.body)
			wantError(t, st, b, 400, tc.msg)
		})
	}
	st, b := e.do(t, "POST", "/api/v1/devices/nope/lawmo", `{"operation":"lock"}`)
	wantError(t, st, b, 404, "unknown device")
}

// TestDevices_RefuseIdentifiersWithControlOrFormatCharacters: device ids,
// usernames, label keys and values and correlators are identifiers an
// operator reads in logs and the console; control and format characters
// (bidi overrides, zero-width characters) would let two different ones look
// alike, so the API refuses them with a 400 naming the field.
func TestDevices_RefuseIdentifiersWithControlOrFormatCharacters(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	tests := []struct{ name, method, path, body, field string }{
		{"id with rtl override", "POST", "/api/v1/devices", `{"id":"IMEI:1\u202e23","username":"u","password":"p"}`, "id"},
		{"id with zero-width space", "POST", "/api/v1/devices", `{"id":"IMEI:1\u200b23","username":"u","password":"p"}`, "id"},
		{"id with bom", "POST", "/api/v1/devices", `{"id":"\ufeffIMEI:123","username":"u","password":"p"}`, "id"},
		{"username with isolate", "POST", "/api/v1/devices", `{"id":"IMEI:9","username":"u\u2067x","password":"p"}`, "username"},
		{"label key with zero-width joiner", "POST", "/api/v1/devices", `{"id":"IMEI:9","username":"u","password":"p","labels":{"a\u200db":"x"}}`, "labels"},
		{"label value with override", "PATCH", "/api/v1/devices/d1", `{"labels":{"site":"x\u202dy"}}`, "labels"},
		{"username update with control", "PATCH", "/api/v1/devices/d1", `{"username":"u\u0007"}`, "username"},
		{"correlator with override", "POST", "/api/v1/devices/d1/jobs", `{"command":"Exec","correlator":"c\u202e1","items":[{"uri":"./X"}]}`, "correlator"},
		{"operation correlator", "POST", "/api/v1/devices/d1/lawmo", `{"operation":"lock","correlator":"\u200bc"}`, "correlator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, tc.method, tc.path, tc.body)
			wantError(t, st, b, 400, tc.field)
		})
	}
}

// TestOperations_RESTLifecycle: POST /devices/{id}/operations answers 201
// with the operation and its Location; GET and the device's list show it;
// its job carries it; cancel ends it (its queued job cancelled) and a second
// cancel is a 409; the event stream carries each state change.
func TestOperations_RESTLifecycle(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/events/stream?device=d1&kinds=operation", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}

	st, b := e.do(t, "POST", "/api/v1/devices/d1/operations",
		`{"mo":"lawmo","operation":"wipe","params":{"wipe_items":["1"],"notify_user":false},"timeout":"10m","correlator":"w1"}`)
	if st != http.StatusCreated {
		t.Fatalf("%d %s", st, b)
	}
	op := decodeInto[api.Operation](t, b)
	if op.ID == 0 || op.State != "queued" || op.Operation != "Wipe" || op.MO != "lawmo" || op.Correlator != "w1" ||
		op.Params["wipe_items"] != "1" || op.Deadline == nil || op.Deadline.Sub(op.CreatedAt) < 9*time.Minute {
		t.Fatalf("created %s", b)
	}
	ev, data := readEvent(t, r)
	if u := decodeInto[api.Update](t, []byte(data)); ev != "operation" || u.Operation == nil || u.Operation.ID != op.ID || u.Operation.State != "queued" {
		t.Fatalf("stream %q %s", ev, data)
	}
	path := "/api/v1/operations/" + strconv.FormatInt(op.ID, 10)
	st, b = e.do(t, "GET", path, "")
	if got := decodeInto[api.Operation](t, b); st != 200 || got.ID != op.ID || got.Job != op.Job {
		t.Fatalf("GET %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/jobs/"+strconv.FormatInt(op.Job, 10), "")
	if j := decodeInto[api.Job](t, b); st != 200 || j.Operation == nil || j.Operation.ID != op.ID || j.Command != "Sequence" {
		t.Fatalf("GET job %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/operations?state=queued,accepted", "")
	if l := decodeInto[api.OperationList](t, b); st != 200 || len(l.Operations) != 1 || l.Operations[0].ID != op.ID {
		t.Fatalf("list %d %s", st, b)
	}

	st, b = e.do(t, "POST", path+"/cancel", "")
	if got := decodeInto[api.Operation](t, b); st != 200 || got.State != "cancelled" {
		t.Fatalf("cancel %d %s", st, b)
	}
	if ev, data := readEvent(t, r); !strings.Contains(data, `"state":"cancelled"`) || ev != "operation" {
		t.Fatalf("stream %q %s", ev, data)
	}
	st, b = e.do(t, "GET", "/api/v1/jobs/"+strconv.FormatInt(op.Job, 10), "")
	if j := decodeInto[api.Job](t, b); j.State != "cancelled" {
		t.Fatalf("job after cancel %d %s", st, b)
	}
	st, b = e.do(t, "POST", path+"/cancel", "")
	wantError(t, st, b, 409, "already cancelled")
	st, b = e.do(t, "GET", "/api/v1/devices/d1/operations?state=queued", "")
	if l := decodeInto[api.OperationList](t, b); st != 200 || len(l.Operations) != 0 {
		t.Fatalf("queued after cancel: %s", b)
	}
}

// TestOperations_RefuseBadRequests: 400 naming the field, 404 for an
// unknown device or operation, 409 for a correlator already used.
func TestOperations_RefuseBadRequests(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"no mo", "POST", "/api/v1/devices/d1/operations", `{}`, 400, "mo"},
		{"unknown mo", "POST", "/api/v1/devices/d1/operations", `{"mo":"nosuchmo"}`, 400, "mo"},
		{"unknown operation", "POST", "/api/v1/devices/d1/operations", `{"mo":"lawmo","operation":"reboot"}`, 400, "operation"},
		{"missing parameter", "POST", "/api/v1/devices/d1/operations", `{"mo":"fumo"}`, 400, "params.pkg_url"},
		{"unknown parameter", "POST", "/api/v1/devices/d1/operations", `{"mo":"lawmo","operation":"lock","params":{"x":1}}`, 400, "params.x"},
		{"bad timeout", "POST", "/api/v1/devices/d1/operations", `{"mo":"lawmo","operation":"lock","timeout":"soon"}`, 400, "timeout"},
		{"negative timeout", "POST", "/api/v1/devices/d1/operations", `{"mo":"lawmo","operation":"lock","timeout":"-1s"}`, 400, "timeout"},
		{"exec without node", "POST", "/api/v1/devices/d1/operations", `{"mo":"exec"}`, 400, "node"},
		{"unknown field", "POST", "/api/v1/devices/d1/operations", `{"mo":"exec","node":"./X","colour":"red"}`, 400, "colour"},
		{"unknown device", "POST", "/api/v1/devices/nope/operations", `{"mo":"lawmo","operation":"lock"}`, 404, "unknown device"},
		{"unknown device list", "GET", "/api/v1/devices/nope/operations", ``, 404, "unknown device"},
		{"bad state filter", "GET", "/api/v1/devices/d1/operations?state=done", ``, 400, "state"},
		{"unknown operation id", "GET", "/api/v1/operations/999", ``, 404, "unknown operation"},
		{"bad operation id", "GET", "/api/v1/operations/x", ``, 400, "opid"},
		{"cancel unknown", "POST", "/api/v1/operations/999/cancel", ``, 404, "unknown operation"},
		{"notify without address", "POST", "/api/v1/devices/bare/operations", `{"mo":"lawmo","operation":"lock","notify":true}`, 422, "notify_addr"},
	}
	st, b := e.do(t, "POST", "/api/v1/devices", `{"id":"bare","username":"u","password":"p"}`)
	if st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, tc.method, tc.path, tc.body)
			wantError(t, st, b, tc.status, tc.msg)
		})
	}
	if st, b := e.do(t, "POST", "/api/v1/devices/d1/operations", `{"mo":"exec","node":"./Vendor/Reboot","correlator":"c1"}`); st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	st, b = e.do(t, "POST", "/api/v1/devices/d1/operations", `{"mo":"exec","node":"./Vendor/Reboot","correlator":"c1"}`)
	wantError(t, st, b, 409, "correlator")
}
