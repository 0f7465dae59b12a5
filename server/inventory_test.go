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
func TestEngine_KeepsReportedFirmwareVersionForSearch(t *testing.T) {
	// On SQLite a message that changes no DevInfo stores only the device's
	// contact fields; this one changes DevInfo and must store it.
	stores := []struct {
		name string
		open func(testing.TB) storage.Store
	}{
		{"memstore", func(testing.TB) storage.Store { return nil }},
		{"sqlite", openSQLite},
	}
	for _, st := range stores {
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
