package handler_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/storage"
)

func TestProfiles_CRUDHidesSecretsAndNamesBadFields(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		substr                   string
	}{
		{"missing kind", "POST", "/api/v1/profiles", `{"name":"p","settings":{"apn":"a"}}`, 400, "kind"},
		{"bad node name", "POST", "/api/v1/profiles", `{"name":"a/b","kind":"apn","settings":{"apn":"a"}}`, 400, "name"},
		{"unknown setting", "POST", "/api/v1/profiles", `{"name":"p","kind":"apn","settings":{"apn":"a","ssid":"x"}}`, 400, "settings.ssid"},
		{"unknown field", "POST", "/api/v1/profiles", `{"name":"p","kind":"apn","colour":"red"}`, 400, "colour"},
		{"unknown profile", "GET", "/api/v1/profiles/nope", "", 404, "nope"},
		{"update of unknown", "PUT", "/api/v1/profiles/nope", `{"kind":"apn","settings":{"apn":"a"}}`, 404, "nope"},
		{"delete of unknown", "DELETE", "/api/v1/profiles/nope", "", 404, "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, tc.method, tc.path, tc.body)
			wantError(t, st, b, tc.status, tc.substr)
		})
	}
	st, b := e.do(t, "POST", "/api/v1/profiles", `{"name":"office","kind":"wifi","settings":{"ssid":"Office","passphrase":"correct horse"}}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	if p := decodeInto[api.Profile](t, b); p.Settings["passphrase"] != "********" || p.Settings["ssid"] != "Office" {
		t.Fatalf("created %+v", p)
	}
	st, b = e.do(t, "POST", "/api/v1/profiles", `{"name":"office","kind":"apn","settings":{"apn":"a"}}`)
	wantError(t, st, b, http.StatusConflict, "office")
	st, b = e.do(t, "PUT", "/api/v1/profiles/office", `{"name":"other","kind":"wifi","settings":{"ssid":"O"}}`)
	wantError(t, st, b, http.StatusBadRequest, "renamed")
	// A secret sent back as shown keeps its stored value.
	if st, b = e.do(t, "PUT", "/api/v1/profiles/office", `{"kind":"wifi","settings":{"ssid":"Office 2","passphrase":"********"}}`); st != 200 {
		t.Fatalf("update: %d %s", st, b)
	}
	p, err := e.store.GetProfile(context.Background(), "office")
	if err != nil || p.Settings["passphrase"] != "correct horse" || p.Settings["ssid"] != "Office 2" {
		t.Fatalf("stored %+v %v", p, err)
	}
	if st, b = e.do(t, "GET", "/api/v1/profiles", ""); st != 200 || len(decodeInto[api.ProfileList](t, b).Profiles) != 1 {
		t.Fatalf("list: %d %s", st, b)
	}
	if st, _ = e.do(t, "DELETE", "/api/v1/profiles/office", ""); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
}

func TestDiagnostics_ListsOnlyDiagMonReportsAndRefusesOthers(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	ctx := context.Background()
	rep := diagmon.Report{ResultCode: diagmon.ResultSuccessful, Identifier: "Memory", Readings: diagmon.Readings{{Name: "total_kb", Value: "1"}}}
	for _, ev := range []*storage.Event{
		{DeviceID: "d1", Kind: "generic-alert", Type: "org.openmobilealliance.dm.firmwareupdate.update", Data: "200"},
		{DeviceID: "d1", Kind: "generic-alert", Type: diagmon.AlertOperationComplete, Data: string(rep.Marshal())},
		{DeviceID: "d1", Kind: "generic-alert", Type: diagmon.AlertOperationComplete, Data: "<ResultCode>oops"},
	} {
		if err := e.store.AddEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	st, b := e.do(t, "GET", "/api/v1/devices/d1/diagnostics", "")
	l := decodeInto[api.DiagnosticList](t, b)
	if st != 200 || len(l.Diagnostics) != 2 || !l.Diagnostics[0].Successful || l.Diagnostics[1].Error == "" || l.Diagnostics[1].Successful {
		t.Fatalf("list %d %+v", st, l)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/diagnostics?limit=1", "")
	if l = decodeInto[api.DiagnosticList](t, b); st != 200 || len(l.Diagnostics) != 1 || l.Next == "" {
		t.Fatalf("page %d %+v", st, l)
	}
	st, b = e.do(t, "GET", "/api/v1/devices/d1/diagnostics/1", "")
	wantError(t, st, b, http.StatusNotFound, "no diagnostics report")
	st, b = e.do(t, "GET", "/api/v1/devices/d1/diagnostics?kind=alarm", "")
	wantError(t, st, b, http.StatusBadRequest, "kind")
	st, b = e.do(t, "GET", "/api/v1/devices/nope/diagnostics", "")
	if st != http.StatusNotFound {
		t.Fatalf("unknown device: %d %s", st, b)
	}
}
