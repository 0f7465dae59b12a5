package server_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-DM_StdObj-V1_2 §5.3: FwV, SwV and HwV live in DevDetail, which
// package 1 does not carry; the value a Get returns is kept with the device
// so the fleet search can select by firmware.
// engineStores are the stores the engine tests of this file run on
// (PostgreSQL when OMADM_TEST_POSTGRES is set).
var engineStores = []struct {
	name string
	open func(testing.TB) storage.Store
}{
	{"memstore", func(testing.TB) storage.Store { return nil }},
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func TestEngine_KeepsReportedFirmwareVersionForSearch(t *testing.T) {
	// On SQLite a message that changes no DevInfo stores only the device's
	// contact fields; this one changes DevInfo and must store it.
	for _, st := range engineStores {
		t.Run(st.name, func(t *testing.T) {
			h := newHarness(t, st.open(t))
			h.addDevice(t, "basic")
			h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
			h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Vendor/Other"}}})
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			d.post(t, d.message(true, d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusOK }, fwResults)...))

			ctx := context.Background()
			ds, _, err := h.store.QueryDevices(ctx, storage.DeviceQuery{DevInfo: map[string]string{"./DevDetail/FwV": "v-./DevDetail/FwV"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 {
				t.Fatalf("search by reported FwV found %d devices, want 1", len(ds))
			}
			if _, ok := ds[0].DevInfo["./Vendor/Other"]; ok {
				t.Errorf("a vendor node's value was kept with the device: %v", ds[0].DevInfo)
			}
		})
	}
}

// Labels belong to the API: a session that stores its device (here with a
// reported firmware version) keeps the labels the API set between two of
// its messages. (A change between a message's read and its write is the
// store's to keep: storagetest's DeviceContact test.)
func TestEngine_SessionKeepsLabelsSetBetweenItsMessages(t *testing.T) {
	for _, st := range engineStores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, st.open(t))
			h.addDevice(t, "basic")
			h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if _, err := h.store.UpdateLabels(ctx, []string{devID}, map[string]string{"site": "b"}, nil); err != nil {
				t.Fatal(err)
			}
			d.post(t, d.message(true, d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusOK }, fwResults)...))
			got, err := h.store.GetDevice(ctx, devID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Labels["site"] != "b" || got.DevInfo["./DevDetail/FwV"] != "v-./DevDetail/FwV" {
				t.Fatalf("after the session: labels %v, DevInfo %v; want site=b and the reported FwV", got.Labels, got.DevInfo)
			}
		})
	}
}
