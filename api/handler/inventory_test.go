package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/storage"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seedFleet stores devices straight into the store (DevInfo and LastSeen
// are what devices report; the API cannot set them).
func (e *env) seedFleet(t *testing.T) {
	t.Helper()
	for i, d := range []*storage.Device{
		{ID: "IMEI:35-1", Labels: map[string]string{"env": "prod"}, DevInfo: map[string]string{"./DevInfo/Mod": "X200", "./DevInfo/Man": "Acme"}, LastSeen: time.Now().Add(-time.Hour)},
		{ID: "IMEI:35-2", Labels: map[string]string{"env": "prod", "site": "Paris, FR"}, DevInfo: map[string]string{"./DevInfo/Mod": "Z9"}, LastSeen: time.Now().Add(-10 * 24 * time.Hour)},
		{ID: "IMEI:36-3", Labels: map[string]string{"env": "dev"}, DevInfo: map[string]string{"./DevInfo/Mod": "X200"}},
		{ID: "MAC:4", DevInfo: map[string]string{"./DevInfo/Mod": "X200", "./DevDetail/FwV": "2.1"}, LastSeen: time.Now().Add(-2 * time.Hour)},
	} {
		d.AuthScheme, d.Username, d.Password, d.CreatedAt = "md5", "u", "p", t0.Add(time.Duration(4-i)*time.Hour)
		if err := e.store.CreateDevice(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
}

func listIDs(t *testing.T, e *env, query string) ([]string, api.DeviceList) {
	t.Helper()
	st, b := e.do(t, "GET", "/api/v1/devices?"+query, "")
	if st != http.StatusOK {
		t.Fatalf("GET /devices?%s: %d %s", query, st, b)
	}
	l := decodeInto[api.DeviceList](t, b)
	var ids []string
	for _, d := range l.Devices {
		ids = append(ids, d.ID)
	}
	return ids, l
}

func TestAPI_UnknownQueryParameterIs400NamingItOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "dev1")
	for _, rt := range e.h.Routes() {
		path := strings.NewReplacer("{id}", "dev1", "{jobid}", "1", "{opid}", "1", "{name}", "g").Replace(rt.Pattern)
		st, b := e.do(t, rt.Method, path+"?bogus_param=1", "")
		wantError(t, st, b, http.StatusBadRequest, `unknown query parameter "bogus_param"`)
	}
	// A route without parameters says so; one with parameters lists them.
	st, b := e.do(t, "GET", "/api/v1/devices/dev1?limit=5", "")
	wantError(t, st, b, http.StatusBadRequest, "takes no query parameters")
	st, b = e.do(t, "GET", "/api/v1/devices?lable=env=prod", "")
	wantError(t, st, b, http.StatusBadRequest, `unknown query parameter "lable"`)
	wantError(t, st, b, http.StatusBadRequest, "label")
	if _, err := e.store.GetDevice(context.Background(), "dev1"); err != nil {
		t.Fatalf("a refused DELETE still deleted the device: %v", err)
	}
}

func TestDevices_FilterBySelectorAndParameters(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"IMEI:35-1", "IMEI:35-2", "IMEI:36-3", "MAC:4"}},
		{"q=" + url.QueryEscape("label.env=prod"), []string{"IMEI:35-1", "IMEI:35-2"}},
		{"label=env=prod&label=site=" + url.QueryEscape("Paris, FR"), []string{"IMEI:35-2"}},
		{"label=site", []string{"IMEI:35-2"}},
		{"model=X200", []string{"IMEI:35-1", "IMEI:36-3", "MAC:4"}},
		{"model=X200&man=Acme", []string{"IMEI:35-1"}},
		{"fwv=2.1", []string{"MAC:4"}},
		{"id_prefix=IMEI:35", []string{"IMEI:35-1", "IMEI:35-2"}},
		{"q=" + url.QueryEscape("model=X200,seen<24h"), []string{"IMEI:35-1", "MAC:4"}},
		{"q=" + url.QueryEscape("seen>7d"), []string{"IMEI:35-2", "IMEI:36-3"}},
		{"q=" + url.QueryEscape("seen=never"), []string{"IMEI:36-3"}},
		{"q=" + url.QueryEscape("id^=IMEI:") + "&model=X200", []string{"IMEI:35-1", "IMEI:36-3"}},
		{"sort=last_seen", []string{"IMEI:36-3", "IMEI:35-2", "MAC:4", "IMEI:35-1"}},
		{"sort=last_seen&order=desc", []string{"IMEI:35-1", "MAC:4", "IMEI:35-2", "IMEI:36-3"}},
		{"sort=created", []string{"MAC:4", "IMEI:36-3", "IMEI:35-2", "IMEI:35-1"}},
		{"sort=id&order=desc&model=X200", []string{"MAC:4", "IMEI:36-3", "IMEI:35-1"}},
	} {
		got, _ := listIDs(t, e, tc.query)
		if !slices.Equal(got, tc.want) {
			t.Errorf("?%s: got %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestDevices_CursorPagesTheSameQuery(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	base := "sort=last_seen&order=desc&limit=1&model=X200"
	var got []string
	cursor := ""
	for range 10 {
		ids, page := listIDs(t, e, base+"&cursor="+url.QueryEscape(cursor))
		got = append(got, ids...)
		if page.Next != "" {
			t.Errorf("a page ordered by last_seen has the by-ID cursor next=%q", page.Next)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if want := []string{"IMEI:35-1", "MAC:4", "IMEI:36-3"}; !slices.Equal(got, want) {
		t.Fatalf("pages: %q, want %q", got, want)
	}
	// The default order also gives the older ?after= cursor.
	_, page := listIDs(t, e, "limit=2")
	if page.Next != "IMEI:35-2" || page.NextCursor == "" {
		t.Fatalf("next=%q next_cursor=%q", page.Next, page.NextCursor)
	}
	ids, _ := listIDs(t, e, "limit=2&cursor="+url.QueryEscape(page.NextCursor))
	ids2, _ := listIDs(t, e, "limit=2&after="+url.QueryEscape(page.Next))
	if !slices.Equal(ids, []string{"IMEI:36-3", "MAC:4"}) || !slices.Equal(ids, ids2) {
		t.Fatalf("cursor page %q, after page %q", ids, ids2)
	}
}

func TestDevices_BadFilterOrCursorIs400NamingIt(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	_, page := listIDs(t, e, "limit=1&model=X200")
	for _, tc := range []struct{ query, want string }{
		{"q=" + url.QueryEscape("model=X200,colour=red"), `"colour=red"`},
		{"q=" + url.QueryEscape("seen<soon"), `"seen<soon"`},
		{"label=" + url.QueryEscape("bad key=x"), "label key"},
		{"cursor=garbage", "cursor"},
		{"cursor=" + url.QueryEscape(page.NextCursor) + "&model=Z9", "another filter"},
		{"cursor=" + url.QueryEscape(page.NextCursor) + "&model=X200&sort=created", "cursor"},
		{"sort=name", "sort"},
		{"order=up", "order"},
		{"limit=0", "limit"},
		{"group=nope", `unknown group "nope"`},
		{"after=x&sort=created", "after"},
	} {
		st, b := e.do(t, "GET", "/api/v1/devices?"+tc.query, "")
		wantError(t, st, b, http.StatusBadRequest, tc.want)
	}
}

func TestLabels_PatchOneDevice(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	st, b := e.do(t, "PATCH", "/api/v1/devices/IMEI:35-2/labels", `{"set":{"env":"staging","ring":"1"},"remove":["site","absent"]}`)
	if st != http.StatusOK {
		t.Fatalf("patch labels: %d %s", st, b)
	}
	if d := decodeInto[api.Device](t, b); fmt.Sprint(d.Labels) != "map[env:staging ring:1]" {
		t.Fatalf("labels after patch: %v", d.Labels)
	}
	if ids, _ := listIDs(t, e, "label=env=staging"); !slices.Equal(ids, []string{"IMEI:35-2"}) {
		t.Fatalf("search after patch: %q", ids)
	}
	many := map[string]string{}
	for i := range api.MaxLabels {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"IMEI:35-2", `{}`, 400, "nothing to change"},
		{"IMEI:35-2", `{"set":{"a b":"x"}}`, 400, "label key"},
		{"IMEI:35-2", `{"set":{"-a":"x"}}`, 400, "label key"},
		{"IMEI:35-2", `{"set":{"a":"x\u0000"}}`, 400, "value of label"},
		{"IMEI:35-2", `{"set":{"a":"` + strings.Repeat("v", 257) + `"}}`, 400, "value of label"},
		{"IMEI:35-2", `{"set":{"a":"x"},"remove":["a"]}`, 400, "both set and removed"},
		{"IMEI:35-2", `{"remove":["a,b"]}`, 400, "label key"},
		{"IMEI:35-2", `{"set":` + mustJSON(t, many) + `}`, 400, "more than 64"},
		{"IMEI:35-2", `{"sett":{"a":"b"}}`, 400, "sett"},
		{"nope", `{"set":{"a":"b"}}`, 404, "nope"},
	} {
		st, b := e.do(t, "PATCH", "/api/v1/devices/"+tc.path+"/labels", tc.body)
		wantError(t, st, b, tc.status, tc.want)
	}
}

func TestLabels_BulkBySelector(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	st, b := e.do(t, "POST", "/api/v1/devices/labels", `{"q":"model=X200","set":{"ring":"canary"}}`)
	if st != http.StatusOK {
		t.Fatalf("bulk: %d %s", st, b)
	}
	if r := decodeInto[api.BulkLabelResult](t, b); r.Matched != 3 || r.Changed != 3 {
		t.Fatalf("bulk result %+v, want 3 matched and changed", r)
	}
	st, b = e.do(t, "POST", "/api/v1/devices/labels", `{"q":"model=X200","set":{"ring":"canary"}}`)
	if r := decodeInto[api.BulkLabelResult](t, b); st != 200 || r.Matched != 3 || r.Changed != 0 {
		t.Fatalf("repeat: %d %+v, want 3 matched, 0 changed", st, r)
	}
	if ids, _ := listIDs(t, e, "label=ring=canary"); !slices.Equal(ids, []string{"IMEI:35-1", "IMEI:36-3", "MAC:4"}) {
		t.Fatalf("after bulk: %q", ids)
	}
	st, b = e.do(t, "POST", "/api/v1/devices/labels", `{"remove":["ring"],"all":true}`)
	if r := decodeInto[api.BulkLabelResult](t, b); st != 200 || r.Matched != 4 || r.Changed != 3 {
		t.Fatalf("remove from all: %d %+v", st, r)
	}
	st, b = e.do(t, "POST", "/api/v1/devices/labels", `{"set":{"a":"b"}}`)
	wantError(t, st, b, 400, "all")
	st, b = e.do(t, "POST", "/api/v1/devices/labels", `{"q":"colour=red","set":{"a":"b"}}`)
	wantError(t, st, b, 400, "colour=red")
}

func TestGroups_StaticAndDynamic(t *testing.T) {
	e := newEnv(t)
	e.seedFleet(t)
	st, b := e.do(t, "POST", "/api/v1/groups", `{"name":"pilot","description":"first wave"}`)
	if st != http.StatusCreated || decodeInto[api.Group](t, b).Dynamic {
		t.Fatalf("create static: %d %s", st, b)
	}
	st, b = e.do(t, "POST", "/api/v1/groups", `{"name":"x200-prod","selector":"model=X200,label.env=prod"}`)
	if st != http.StatusCreated || !decodeInto[api.Group](t, b).Dynamic {
		t.Fatalf("create dynamic: %d %s", st, b)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"name":"pilot"}`, "already exists"},
		{`{"name":"bad name"}`, "group name"},
		{`{"name":"d","selector":"colour=red"}`, "colour=red"},
		{`{"name":"d","selector":"group=nope"}`, "nope"},
		{`{"name":"d","selector":"group=d"}`, "itself"},
	} {
		st, b := e.do(t, "POST", "/api/v1/groups", tc.body)
		if !strings.Contains(string(b), tc.want) || st < 400 {
			t.Errorf("create %s: %d %s, want an error about %q", tc.body, st, b, tc.want)
		}
	}
	st, b = e.do(t, "PATCH", "/api/v1/groups/pilot/members", `{"add":["MAC:4","IMEI:35-1","IMEI:35-2"]}`)
	if r := decodeInto[api.MembersResult](t, b); st != 200 || r.Added != 3 {
		t.Fatalf("add members: %d %s", st, b)
	}
	st, b = e.do(t, "PATCH", "/api/v1/groups/pilot/members", `{"add":["IMEI:36-3","ghost"]}`)
	wantError(t, st, b, http.StatusNotFound, "ghost")
	st, b = e.do(t, "PATCH", "/api/v1/groups/pilot/members", `{"remove":["IMEI:35-2"]}`)
	if r := decodeInto[api.MembersResult](t, b); st != 200 || r.Removed != 1 {
		t.Fatalf("remove members: %d %s", st, b)
	}
	st, b = e.do(t, "PATCH", "/api/v1/groups/x200-prod/members", `{"add":["MAC:4"]}`)
	wantError(t, st, b, http.StatusBadRequest, "dynamic")
	st, b = e.do(t, "PATCH", "/api/v1/groups/nope/members", `{"add":["MAC:4"]}`)
	wantError(t, st, b, http.StatusNotFound, "nope")

	members := func(name, query string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 10 {
			st, b := e.do(t, "GET", "/api/v1/groups/"+name+"/members?limit=1&cursor="+url.QueryEscape(cursor)+query, "")
			if st != 200 {
				t.Fatalf("members of %s: %d %s", name, st, b)
			}
			l := decodeInto[api.DeviceList](t, b)
			for _, d := range l.Devices {
				ids = append(ids, d.ID)
			}
			if cursor = l.NextCursor; cursor == "" {
				break
			}
		}
		return ids
	}
	if got := members("pilot", ""); !slices.Equal(got, []string{"IMEI:35-1", "MAC:4"}) {
		t.Errorf("pilot members: %q", got)
	}
	if got := members("pilot", "&label=env=prod"); !slices.Equal(got, []string{"IMEI:35-1"}) {
		t.Errorf("pilot members with env=prod: %q", got)
	}
	if got := members("x200-prod", ""); !slices.Equal(got, []string{"IMEI:35-1"}) {
		t.Errorf("x200-prod members: %q", got)
	}
	if ids, _ := listIDs(t, e, "group=x200-prod"); !slices.Equal(ids, []string{"IMEI:35-1"}) {
		t.Errorf("devices in x200-prod: %q", ids)
	}
	st, b = e.do(t, "GET", "/api/v1/groups?limit=1", "")
	if l := decodeInto[api.GroupList](t, b); st != 200 || len(l.Groups) != 1 || l.Next != "pilot" {
		t.Fatalf("list groups: %d %s", st, b)
	}
	st, b = e.do(t, "GET", "/api/v1/groups/pilot", "")
	if g := decodeInto[api.Group](t, b); st != 200 || g.Description != "first wave" {
		t.Fatalf("get group: %d %s", st, b)
	}
	// Deleting a device drops its membership.
	if st, _ := e.do(t, "DELETE", "/api/v1/devices/MAC:4", ""); st != http.StatusNoContent {
		t.Fatalf("delete device: %d", st)
	}
	if got := members("pilot", ""); !slices.Equal(got, []string{"IMEI:35-1"}) {
		t.Errorf("pilot members after device delete: %q", got)
	}
	if st, _ := e.do(t, "DELETE", "/api/v1/groups/pilot", ""); st != http.StatusNoContent {
		t.Fatalf("delete group: %d", st)
	}
	st, b = e.do(t, "GET", "/api/v1/groups/pilot", "")
	wantError(t, st, b, http.StatusNotFound, "pilot")
	st, b = e.do(t, "GET", "/api/v1/groups/pilot/members", "")
	wantError(t, st, b, http.StatusNotFound, "pilot")
}

func TestImport_ReportsEachBadRecordWithItsLine(t *testing.T) {
	rec := func(id string) string {
		return `{"id":"` + id + `","username":"u","password":"p","server_password":"sp","labels":{"batch":"b1"}}`
	}
	for _, tc := range []struct {
		name, body string
		imported   int
		errs       []api.ImportError
	}{
		{"ndjson", rec("a") + "\n\n" + rec("b") + "\n" + `{"id":"c","username":"u","password":"p"}` + "\n" +
			rec("a") + "\n" + `{"id":"d",` + "\n" + `{"id":"e","username":"u","password":"p","server_password":"s","colour":"red"}` + "\r\n" + rec("f"), 3,
			[]api.ImportError{{Line: 4, Record: 3, ID: "c", Error: "server_password"}, {Line: 5, Record: 4, ID: "a", Error: "already exists"},
				{Line: 6, Record: 5, Error: "not a device record"}, {Line: 7, Record: 6, Error: "colour"}}},
		{"array", "[\n " + rec("a") + ",\n " + rec("b") + ",\n {\"id\":\"\"},\n" + rec("a") + "]\n", 2,
			[]api.ImportError{{Line: 4, Record: 3, Error: "id"}, {Line: 5, Record: 4, ID: "a", Error: "already exists"}}},
		{"empty-array", "[]", 0, nil},
		{"labels-checked", `{"id":"x","username":"u","password":"p","server_password":"s","labels":{"bad key":"v"}}`, 0,
			[]api.ImportError{{Line: 1, Record: 1, ID: "x", Error: "label key"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			st, b := e.do(t, "POST", "/api/v1/devices/import", tc.body)
			if st != http.StatusOK {
				t.Fatalf("import: %d %s", st, b)
			}
			r := decodeInto[api.ImportResult](t, b)
			if r.Imported != tc.imported || r.Failed != len(tc.errs) || len(r.Errors) != len(tc.errs) {
				t.Fatalf("result %+v, want %d imported and %d errors", r, tc.imported, len(tc.errs))
			}
			for i, want := range tc.errs {
				got := r.Errors[i]
				if got.Line != want.Line || got.Record != want.Record || got.ID != want.ID || !strings.Contains(got.Error, want.Error) {
					t.Errorf("error %d: %+v, want %+v", i, got, want)
				}
			}
			if tc.imported > 0 {
				if ids, _ := listIDs(t, e, "label=batch=b1"); len(ids) != tc.imported {
					t.Errorf("imported devices found by label: %q", ids)
				}
				d, err := e.store.GetDevice(context.Background(), "a")
				if err != nil || d.PasswordHash == "" || d.ServerPassword != "sp" {
					t.Errorf("imported device a: %+v, %v", d, err)
				}
			}
		})
	}
}

func TestImport_UnreadableBodyIs400SayingHowFarItGot(t *testing.T) {
	rec := `{"id":"a","username":"u","password":"p","server_password":"sp"}`
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "empty body"},
		{"array-not-closed", "[" + rec, "not closed"},
		{"array-garbage-between", "[" + rec + " x]", "want , or ]"},
		{"after-array", "[" + rec + "] {}", "after the JSON array"},
		{"record-too-long", `{"id":"` + strings.Repeat("x", api.MaxImportRecordLen) + `"}`, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			st, b := e.do(t, "POST", "/api/v1/devices/import", tc.body)
			wantError(t, st, b, http.StatusBadRequest, tc.want)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImport_SeveralBatchesReportEveryRecordInOrder(t *testing.T) {
	// More records than one storage batch: batches are stored while the
	// next is read, and every result still lands in the report, in record
	// order (a repeated ID in a later batch, a bad record between them).
	handler.SetImportBatch(t, 2000)
	const n = 4500
	var body strings.Builder
	var want []api.ImportError
	imported := 0
	for i := 1; i <= n; i++ {
		switch {
		case i == 2100:
			body.WriteString(`{"id":"d5","username":"u","password":"p","server_password":"s"}` + "\n")
			want = append(want, api.ImportError{Line: i, Record: i, ID: "d5", Error: "already exists"})
		case i == 3000:
			body.WriteString(`{"id":"x"}` + "\n")
			want = append(want, api.ImportError{Line: i, Record: i, ID: "x", Error: "username"})
		case i == 4400:
			body.WriteString(`{"id":"d4100","username":"u","password":"p","server_password":"s"}` + "\n")
			want = append(want, api.ImportError{Line: i, Record: i, ID: "d4100", Error: "already exists"})
		default:
			fmt.Fprintf(&body, `{"id":"d%d","username":"u","password":"p","server_password":"s"}`+"\n", i)
			imported++
		}
	}
	e := newEnv(t)
	st, b := e.do(t, "POST", "/api/v1/devices/import", body.String())
	if st != http.StatusOK {
		t.Fatalf("import: %d %s", st, b)
	}
	r := decodeInto[api.ImportResult](t, b)
	if r.Imported != imported || r.Failed != len(want) || len(r.Errors) != len(want) {
		t.Fatalf("result %d imported, %d failed, errors %+v; want %d imported, %d failed", r.Imported, r.Failed, r.Errors, imported, len(want))
	}
	for i, w := range want {
		got := r.Errors[i]
		if got.Line != w.Line || got.Record != w.Record || got.ID != w.ID || !strings.Contains(got.Error, w.Error) {
			t.Errorf("error %d: %+v, want %+v", i, got, w)
		}
	}
	if _, err := e.store.GetDevice(context.Background(), fmt.Sprintf("d%d", n)); err != nil {
		t.Errorf("last record not stored: %v", err)
	}
}
