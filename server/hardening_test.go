package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/syncml"
)

// TestEngine_RefusesDeviceIDsWithControlOrFormatCharacters: a SyncHdr
// Source whose device id carries control (Cc) or format (Cf) characters —
// bidi overrides, zero-width characters — is answered with a SyncHdr Status
// 400 (OMA-TS-DM_RepPro-V1_2 status 400: the request could not be
// performed due to malformed syntax), never looked up or stored.
func TestEngine_RefusesDeviceIDsWithControlOrFormatCharacters(t *testing.T) {
	for _, id := range []string{
		"IMEI:4930051005928\u202e00", // right-to-left override
		"IMEI:49300510059\u200b2800", // zero-width space
		"\ufeffIMEI:493005100592800", // byte order mark
		"IMEI:49300510\u2066059280",  // left-to-right isolate
		"IMEI:4930051005\x07928",     // bell
	} {
		t.Run(strconv.QuoteToASCII(id), func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			d := newDevice(h.e, "basic")
			d.id = id
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if st := hdrStatus(t, r); st.Data != syncml.StatusBadRequest {
				t.Fatalf("SyncHdr status %d, want 400", st.Data)
			}
			if len(commands(r)) != 0 {
				t.Fatalf("reply carries %v", names(commands(r)))
			}
		})
	}
}

// TestEngine_CapsTheValuesADeviceStores: the DevInfo (and any other node) a
// device pushes with its own Replace is stored within server.MaxDeviceKeys
// keys and server.MaxDeviceValueLen bytes per value; the rest is dropped,
// counted in omadm_server_device_values_dropped_total, and the session goes
// on (the Replace still gets 200, OMA-TS-DM_Protocol-V1_2 §8.3 package 1).
func TestEngine_CapsTheValuesADeviceStores(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	d := newDevice(h.e, "basic")
	var items []syncml.Item
	for i := range server.MaxDeviceKeys + 20 {
		items = append(items, syncml.Item{Source: &syncml.Location{LocURI: "./DevInfo/Ext/K" + strconv.Itoa(i)},
			Meta: &syncml.Meta{Format: "chr"}, Data: syncml.TextData("v")})
	}
	items = append([]syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/Big"}, Meta: &syncml.Meta{Format: "chr"},
		Data: syncml.TextData(strings.Repeat("x", server.MaxDeviceValueLen+1))}}, items...)
	r := d.post(t, d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
		&syncml.Replace{CmdID: "2", Items: items}))
	if st := statusFor(r, "2"); st == nil || st.Data != syncml.StatusOK {
		t.Fatalf("Replace status %+v", st)
	}
	dev := h.device(t)
	if len(dev.DevInfo) != server.MaxDeviceKeys {
		t.Errorf("%d DevInfo keys stored, want %d", len(dev.DevInfo), server.MaxDeviceKeys)
	}
	if _, ok := dev.DevInfo["./DevInfo/Big"]; ok {
		t.Error("a value over the cap was stored")
	}
	nodes, err := h.store.ListTreeNodes(context.Background(), devID, "./DevInfo")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) > server.MaxDeviceKeys {
		t.Errorf("%d tree nodes stored", len(nodes))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.e.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "omadm_server_device_values_dropped_total" {
			if got := mf.GetMetric()[0].GetCounter().GetValue(); got != 21 {
				t.Errorf("dropped counter %v, want 21", got)
			}
			return
		}
	}
	t.Error("no omadm_server_device_values_dropped_total metric")
}
