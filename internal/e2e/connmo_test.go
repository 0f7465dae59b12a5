package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

func sendJSON(t *testing.T, method, url string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// A connectivity profile stored through the API and applied to a device
// through an operation (mo connmo): the server sends it as one Atomic of
// Adds (OMA-TS-DM_Protocol-V1_2 §6.6.3), the operation ends with the
// Atomic's status, and the server reads the provisioned access point back
// with a Get. Applying it again without replace fails as a whole (418 inside
// the Atomic: nothing changes); with replace it deletes and re-adds in the
// same Atomic and the device has the new values.
func TestE2E_ConnectivityProfileAppliedAndReadBack(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		base := diagAPI(t, st, n)
		// Profiles are shared by the store's users: this run's has its own name.
		name := "corp-" + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, a.ID())
		t.Cleanup(func() { _ = st.DeleteProfile(context.Background(), name) })
		nap, px := "./ConnMO/NAP/"+name, "./ConnMO/Proxy/"+name

		var p api.Profile
		if code := sendJSON(t, "POST", base+"/profiles", api.ProfileRequest{Name: name, Kind: "apn", Settings: map[string]string{
			"apn": "corp.example", "auth_type": "CHAP", "username": "fleet", "password": "s3cret", "proxy_addr": "10.1.2.3", "proxy_port": "3128"}}, &p); code != 201 {
			t.Fatalf("POST /profiles: %d", code)
		}
		if p.Settings["password"] != "********" {
			t.Fatalf("the API showed the password: %+v", p)
		}
		var bad api.Error
		if code := sendJSON(t, "POST", base+"/profiles", api.ProfileRequest{Name: "w", Kind: "wifi", Settings: map[string]string{"ssid": "x", "passphrase": "short"}}, &bad); code != 400 || !strings.Contains(bad.Error, "passphrase") {
			t.Fatalf("bad profile: %d %q", code, bad.Error)
		}

		apply := func(params map[string]any) api.Operation {
			t.Helper()
			var op api.Operation
			if code := sendJSON(t, "POST", base+"/devices/"+a.ID()+"/operations", api.OperationRequest{MO: "connmo", Params: params}, &op); code != 201 {
				t.Fatalf("POST operation: %d %+v", code, op)
			}
			return op
		}
		op := apply(map[string]any{"profile": name})
		j := job(t, st, op.Job)
		if j.Spec.Command != "Atomic" || len(j.Spec.Children) != 1 || j.Spec.Children[0].Command != "Add" {
			t.Fatalf("job %+v", j.Spec)
		}
		a.session(t)
		done := n.waitState(t, op.ID, storage.OpSucceeded)
		if done.ExecStatus != 200 {
			t.Fatalf("done %+v", done)
		}
		if got := a.Value(nap + "/AuthInfo/AuthSecret"); got != "s3cret" {
			t.Fatalf("device AuthSecret %q", got)
		}
		if applied, err := a.ConnMO().Sync(context.Background()); !applied || err != nil {
			t.Fatalf("the device did not see a change: %v %v", applied, err)
		}

		// Read back through the server.
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: []storage.JobItem{
			{URI: nap + "/Addr"}, {URI: nap + "/AddrType"}, {URI: px + "/Ports/1/PortNbr"},
			{URI: px + "/ConRefs/1/ConRef"}}})
		a.session(t)
		gj := job(t, st, get)
		want := map[string]string{nap + "/Addr": "corp.example", nap + "/AddrType": "APN",
			px + "/Ports/1/PortNbr": "3128", px + "/ConRefs/1/ConRef": nap}
		if gj.State != storage.JobDone || len(gj.Results) != len(want) {
			t.Fatalf("Get job %s %+v", gj.State, gj.Results)
		}
		for _, r := range gj.Results {
			if want[r.URI] != r.Data {
				t.Errorf("read back %s = %q, want %q", r.URI, r.Data, want[r.URI])
			}
		}

		// The profile changes; applying it again without replace fails whole.
		if code := sendJSON(t, "PUT", base+"/profiles/"+name, api.ProfileRequest{Kind: "apn", Settings: map[string]string{
			"apn": "corp2.example", "auth_type": "CHAP", "username": "fleet", "password": "********", "proxy_addr": "10.1.2.3", "proxy_port": "3128"}}, nil); code != 200 {
			t.Fatalf("PUT: %d", code)
		}
		again := apply(map[string]any{"profile": name})
		a.session(t)
		failed := n.waitState(t, again.ID, storage.OpFailed)
		if !strings.Contains(failed.Error, "Atomic") {
			t.Fatalf("failed %+v", failed)
		}
		if got := a.Value(nap + "/Addr"); got != "corp.example" {
			t.Fatalf("a failed change set changed the device: Addr %q", got)
		}
		repl := apply(map[string]any{"profile": name, "replace": true})
		a.session(t)
		n.waitState(t, repl.ID, storage.OpSucceeded)
		if got, sec := a.Value(nap+"/Addr"), a.Value(nap+"/AuthInfo/AuthSecret"); got != "corp2.example" || sec != "s3cret" {
			t.Fatalf("after replace Addr %q secret %q", got, sec)
		}
	})
}

// An apply of a profile that does not exist is refused before anything is
// queued, naming the parameter.
func TestE2E_ApplyOfUnknownProfileIsRefused(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startOpsNode(t, st, newClock())
		a := newAgent(t, st, n.url, enc)
		_, _, err := n.m.Create(context.Background(), &fleet.Request{DeviceID: a.ID(), MO: "connmo", Params: map[string]any{"profile": "nope"}})
		var fe *fleet.FieldError
		if !asFieldError(err, &fe) || fe.Field != "params.profile" {
			t.Fatalf("err %v, want a field error on params.profile", err)
		}
	})
}

func asFieldError(err error, fe **fleet.FieldError) bool {
	e, ok := err.(*fleet.FieldError)
	if ok {
		*fe = e
	}
	return ok
}
