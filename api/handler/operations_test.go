package handler_test

import (
	"encoding/json"
	"net/http"
	"testing"

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
