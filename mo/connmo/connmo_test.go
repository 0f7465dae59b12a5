package connmo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/syncml"
)

const srv = "srv"

func install(t *testing.T, tree *dmtree.Tree, dir string, apply func(context.Context, string) error) *connmo.Object {
	t.Helper()
	o, err := connmo.Install(tree, connmo.DefaultNode, connmo.Config{Servers: []string{srv}, Dir: dir, Apply: apply})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// apply writes a plan the way a server's Atomic does, as the server.
func apply(t *testing.T, tree *dmtree.Tree, p *connmo.Plan) {
	t.Helper()
	for _, u := range p.Delete {
		if err := tree.Delete(srv, u); err != nil {
			t.Fatalf("Delete %s: %v", u, err)
		}
	}
	for _, it := range p.Add {
		if err := tree.Add(srv, it.URI, dmtree.Value{Format: it.Format, Type: it.Type, Data: []byte(it.Data)}); err != nil {
			t.Fatalf("Add %s: %v", it.URI, err)
		}
	}
}

func get(t *testing.T, tree *dmtree.Tree, uri string) string {
	t.Helper()
	rs, err := tree.Get(srv, uri)
	if err != nil {
		t.Fatalf("Get %s: %v", uri, err)
	}
	return string(rs[0].Data)
}

func TestConnMO_ProfilesProvisionAccessPointsAndTheHookGetsThem(t *testing.T) {
	tree := dmtree.New(nil)
	var got []string
	obj := install(t, tree, t.TempDir(), func(_ context.Context, c string) error { got = append(got, c); return nil })
	if applied, err := obj.Sync(context.Background()); applied || err != nil {
		t.Fatalf("Sync with nothing changed = %v, %v", applied, err)
	}
	apn, err := connmo.Apply("./ConnMO", "corp", connmo.KindAPN, map[string]string{"apn": "corp.example", "auth_type": "CHAP",
		"username": "u", "password": "secret", "proxy_addr": "10.0.0.8", "proxy_port": "8080"}, false)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, tree, apn)
	wifi, err := connmo.Apply("./ConnMO", "office", connmo.KindWiFi, map[string]string{"ssid": "Office", "passphrase": "correct horse"}, false)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, tree, wifi)
	for uri, want := range map[string]string{
		"./ConnMO/NAP/corp/Addr": "corp.example", "./ConnMO/NAP/corp/AddrType": "APN",
		"./ConnMO/NAP/corp/Bearer/BearerType": "GSM-GPRS", "./ConnMO/Proxy/corp/Ports/1/PortNbr": "8080",
		"./ConnMO/Proxy/corp/ConRefs/1/ConRef": "./ConnMO/NAP/corp", "./ConnMO/Proxy/corp/AddrType": "IPV4",
		"./ConnMO/NAP/office/Addr": "Office", "./ConnMO/NAP/office/Ext/WLAN/SecMode": "wpa2-psk",
		"./ConnMO/NAP/office/Bearer/BearerType": "WLAN",
	} {
		if v := get(t, tree, uri); v != want {
			t.Errorf("%s = %q, want %q", uri, v, want)
		}
	}
	// OMA-TS-DM_TND-V1_2 §7 (DDF AccessType): a secret without Get is never read back.
	if _, err := tree.Get(srv, "./ConnMO/NAP/office/Ext/WLAN/Passphrase"); syncml.StatusOf(err) != syncml.StatusCommandNotAllowed {
		t.Fatalf("Get Passphrase: %v, want 405", err)
	}
	if typ, err := tree.Get(srv, "./ConnMO/NAP/corp?prop=Type"); err != nil || string(typ[0].Data) != connmo.NAPMOID {
		t.Fatalf("NAP Type %v %v", typ, err)
	}
	applied, err := obj.Sync(context.Background())
	if !applied || err != nil || len(got) != 1 {
		t.Fatalf("Sync = %v, %v; hook ran %d times", applied, err, len(got))
	}
	for _, line := range []string{"NAP/corp/AuthInfo/AuthSecret=secret", "NAP/office/Ext/WLAN/Passphrase=correct horse", "Proxy/corp/Addr=10.0.0.8"} {
		if !strings.Contains(got[0], line+"\n") && !strings.HasSuffix(got[0], line) {
			t.Errorf("hook content lacks %q:\n%s", line, got[0])
		}
	}
	if applied, _ := obj.Sync(context.Background()); applied {
		t.Fatal("applied again with nothing changed")
	}
}

func TestConnMO_FailedHookIsRetriedAndARestartDoesNotReapply(t *testing.T) {
	tree := dmtree.New(nil)
	dir := t.TempDir()
	fail := true
	calls := 0
	hook := func(context.Context, string) error {
		calls++
		if fail {
			return errors.New("radio busy")
		}
		return nil
	}
	obj := install(t, tree, dir, hook)
	p, _ := connmo.Apply("./ConnMO", "x", connmo.KindAPN, map[string]string{"apn": "a"}, false)
	apply(t, tree, p)
	if _, err := obj.Sync(context.Background()); err == nil {
		t.Fatal("a failed hook was not reported")
	}
	fail = false
	if applied, err := obj.Sync(context.Background()); !applied || err != nil {
		t.Fatalf("retry = %v, %v", applied, err)
	}
	obj2 := install(t, tree, dir, hook)
	if applied, _ := obj2.Sync(context.Background()); applied || calls != 2 {
		t.Fatalf("after restart applied=%v calls=%d", applied, calls)
	}
}

func TestApply_RefusesBadProfiles(t *testing.T) {
	for _, tc := range []struct {
		name, kind, field string
		s                 map[string]string
	}{
		{"a/b", connmo.KindAPN, "name", map[string]string{"apn": "x"}},
		{"p", "satellite", "kind", nil},
		{"p", connmo.KindAPN, "settings.apn", map[string]string{}},
		{"p", connmo.KindAPN, "settings.ssid", map[string]string{"apn": "x", "ssid": "y"}},
		{"p", connmo.KindAPN, "settings.auth_type", map[string]string{"apn": "x", "username": "u"}},
		{"p", connmo.KindWiFi, "settings.passphrase", map[string]string{"ssid": "s", "passphrase": "short"}},
		{"p", connmo.KindWiFi, "settings.security", map[string]string{"ssid": "s", "security": "wep"}},
		{"p", connmo.KindWiFi, "settings.proxy_port", map[string]string{"ssid": "s", "security": "open", "proxy_addr": "p", "proxy_port": "70000"}},
	} {
		_, err := connmo.Apply("./ConnMO", tc.name, tc.kind, tc.s, false)
		var fe *connmo.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s/%s %v: error %v, want one naming %s", tc.name, tc.kind, tc.s, err, tc.field)
		}
	}
}
