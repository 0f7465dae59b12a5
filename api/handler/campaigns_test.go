package handler_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/omadm/omadm/api"
)

func TestCampaigns_CreateRejectsBadRequestsNamingTheField(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	tests := []struct{ name, body, msg string }{
		{"unknown top-level field", `{"template":{"mo":"exec","node":"./X"},"target":{"all":true},"colour":"red"}`, `"colour"`},
		{"unknown policy field", `{"template":{"mo":"exec","node":"./X"},"target":{"all":true},"policy":{"max_inflight":3}}`, `"max_inflight"`},
		{"unknown target field", `{"template":{"mo":"exec","node":"./X"},"target":{"everything":true}}`, `"everything"`},
		{"no target", `{"template":{"mo":"exec","node":"./X"},"target":{}}`, "target"},
		{"missing parameter", `{"template":{"mo":"fumo"},"target":{"all":true}}`, "template.params.pkg_url"},
		{"bad wave", `{"template":{"mo":"exec","node":"./X"},"target":{"all":true},"policy":{"waves":["5%","x"]}}`, "policy.waves[1]"},
		{"bad duration", `{"template":{"mo":"exec","node":"./X","timeout":"soon"},"target":{"all":true}}`, "template.timeout"},
		{"bad gate", `{"template":{"mo":"exec","node":"./X"},"target":{"all":true},"policy":{"wave_gate":"maybe"}}`, "policy.wave_gate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.do(t, "POST", "/api/v1/campaigns", tc.body)
			wantError(t, st, b, http.StatusBadRequest, tc.msg)
		})
	}
	st, b := e.do(t, "GET", "/api/v1/campaigns", "")
	if l := decodeInto[api.CampaignList](t, b); st != 200 || len(l.Campaigns) != 0 {
		t.Fatalf("refused requests left campaigns: %d %s", st, b)
	}
}

func TestCampaigns_CreateGetDevicesAndSteer(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.addDevice(t, fmt.Sprintf("d%d", i))
	}
	st, b := e.do(t, "POST", "/api/v1/campaigns", `{"name":"fw","template":{"mo":"fumo","params":{"pkg_url":"http://fw.example/2.bin"},"timeout":"2h"},
		"target":{"devices":["d3","d1","d4","d0","d2"]},"policy":{"waves":["40%"],"max_failures":1,"wave_wait":"1h"}}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	c := decodeInto[api.Campaign](t, b)
	if c.State != "running" || c.Total != 5 || fmt.Sprint(c.Waves) != "[2 5]" || c.Counts["pending"] != 5 || c.Wave != 1 ||
		c.Template.Timeout != "2h0m0s" || c.Target.Count != 5 || c.Policy.WaveWait != "1h0m0s" {
		t.Fatalf("created %+v", c)
	}
	path := "/api/v1/campaigns/" + strconv.FormatInt(c.ID, 10)
	st, b = e.do(t, "GET", path, "")
	if got := decodeInto[api.Campaign](t, b); st != 200 || got.ID != c.ID || got.Counts["pending"] != 5 {
		t.Fatalf("get: %d %s", st, b)
	}
	// Devices in rollout order, two per page.
	var seen []string
	for cursor := ""; ; {
		st, b = e.do(t, "GET", path+"/devices?limit=2&cursor="+cursor, "")
		if st != 200 {
			t.Fatalf("devices: %d %s", st, b)
		}
		page := decodeInto[api.CampaignDeviceList](t, b)
		for _, d := range page.Devices {
			seen = append(seen, d.Device+"="+d.State)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(seen) != "[d3=pending d1=pending d4=pending d0=pending d2=pending]" {
		t.Fatalf("devices %v", seen)
	}
	st, b = e.do(t, "GET", path+"/devices?state=succeeded", "")
	if page := decodeInto[api.CampaignDeviceList](t, b); st != 200 || len(page.Devices) != 0 {
		t.Fatalf("filtered devices: %d %s", st, b)
	}
	st, b = e.do(t, "GET", path+"/devices?state=done", "")
	wantError(t, st, b, 400, "done")

	steps := []struct {
		verb, body string
		status     int
		state, msg string
	}{
		{"resume", "", 409, "", "running"},
		{"pause", `{"reason":"checking the first devices"}`, 200, "paused", ""},
		{"pause", "", 409, "", "paused"},
		{"resume", "", 200, "running", ""},
		{"cancel", "", 200, "cancelled", ""},
		{"cancel", "", 409, "", "cancelled"},
		{"resume", "", 409, "", "cancelled"},
	}
	for _, s := range steps {
		st, b = e.do(t, "POST", path+"/"+s.verb, s.body)
		if s.status != 200 {
			wantError(t, st, b, s.status, s.msg)
			continue
		}
		got := decodeInto[api.Campaign](t, b)
		if st != 200 || got.State != s.state {
			t.Fatalf("%s: %d %s, want %s", s.verb, st, b, s.state)
		}
		if s.verb == "pause" && got.Reason != "checking the first devices" {
			t.Fatalf("pause reason %q", got.Reason)
		}
		if s.verb == "cancel" && (got.Counts["cancelled"] != 5 || got.Done != 5 || got.DoneAt == nil) {
			t.Fatalf("cancelled campaign %+v", got)
		}
	}
	st, b = e.do(t, "GET", "/api/v1/campaigns?state=cancelled", "")
	if l := decodeInto[api.CampaignList](t, b); st != 200 || len(l.Campaigns) != 1 {
		t.Fatalf("list cancelled: %d %s", st, b)
	}
	for _, p := range []string{"/api/v1/campaigns/999", "/api/v1/campaigns/999/devices"} {
		st, b = e.do(t, "GET", p, "")
		wantError(t, st, b, 404, "unknown campaign 999")
	}
	st, b = e.do(t, "POST", "/api/v1/campaigns/999/pause", "")
	wantError(t, st, b, 404, "unknown campaign 999")
	st, b = e.do(t, "GET", "/api/v1/campaigns/x", "")
	wantError(t, st, b, 400, "not a campaign id")
}
