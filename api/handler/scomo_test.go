package handler_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// GET shows the latest reading of the SCOMO Inventory from the tree cache
// (nodes older than the Inventory node are from an earlier reading and
// ignored); POST queues the Get (?list=StructData) that makes one.
func TestSCOMOInventory_ShowsTheLatestReadingAndQueuesANewOne(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "d1")
	st, b := e.do(t, "GET", "/api/v1/devices/d1/scomo/inventory", "")
	if inv := decodeInto[api.SCOMOInventory](t, b); st != 200 || inv.ReadAt != nil || inv.Deployed == nil || len(inv.Deployed) != 0 {
		t.Fatalf("never read: %d %s", st, b)
	}
	old, now := time.Unix(1000, 0).UTC(), time.Unix(2000, 0).UTC()
	n := func(uri, v string, at time.Time) storage.TreeNode {
		return storage.TreeNode{DeviceID: "d1", URI: uri, Value: v, UpdatedAt: at}
	}
	dep := "./SCM/Inventory/Deployed/"
	e.store.PutTreeNodes(context.Background(), []storage.TreeNode{
		n("./SCM/Inventory", "", now), n(dep+"old/ID", "old", old),
		n(dep+"a/ID", "a", now), n(dep+"a/Version", "3", now), n(dep+"a/State", "10", now), n(dep+"a/Status", "40", now),
		n("./SCM/Inventory/Delivered/p/PkgID", "p", now), n("./SCM/Inventory/Delivered/p/State", "20", now),
	})
	st, b = e.do(t, "GET", "/api/v1/devices/d1/scomo/inventory?node=./SCM", "")
	inv := decodeInto[api.SCOMOInventory](t, b)
	if st != 200 || inv.ReadAt == nil || !inv.ReadAt.Equal(now) || len(inv.Deployed) != 1 || len(inv.Delivered) != 1 {
		t.Fatalf("inventory %d %s", st, b)
	}
	if c := inv.Deployed[0]; c.ID != "a" || c.Version != "3" || c.State != "inactive" || c.Status != 40 {
		t.Errorf("deployed %+v", c)
	}
	if p := inv.Delivered[0]; p.PkgID != "p" || p.State != "installed" {
		t.Errorf("delivered %+v", p)
	}

	st, b = e.do(t, "POST", "/api/v1/devices/d1/scomo/inventory", `{"node":"./SCM"}`)
	if j := decodeInto[api.Job](t, b); st != http.StatusCreated || j.Command != "Get" || j.Spec.Items[0].URI != "./SCM/Inventory?list=StructData" {
		t.Fatalf("POST: %d %s", st, b)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"GET", "/api/v1/devices/nosuch/scomo/inventory", "", 404, "nosuch"},
		{"GET", "/api/v1/devices/d1/scomo/inventory?node=SCOMO", "", 400, "node"},
		{"POST", "/api/v1/devices/d1/scomo/inventory", `{"node":"./A/../B"}`, 400, "node"},
		{"POST", "/api/v1/devices/d1/scomo/inventory", `{"nod":"./A"}`, 400, "nod"},
	} {
		st, b := e.do(t, tc.method, tc.path, tc.body)
		wantError(t, st, b, tc.status, tc.field)
	}
}
