package server_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// OMA-TS-SyncML_RepPro-V1_2, response status codes 505 (DTD version not
// supported) and 513 (Protocol version not supported): a message in a
// version the server does not speak is answered with the code on the
// SyncHdr Status, listing the supported versions as Items, every command
// gets the same code, and the reply is written in a version we speak.
func TestEngine_RejectsUnsupportedVersionsWith505Or513(t *testing.T) {
	tests := []struct {
		name      string
		dtd       string
		proto     string
		want      syncml.StatusCode
		wantItems []string
		wantDTD   string
	}{
		{"VerDTD 2.0", "2.0", "DM/1.2", syncml.StatusDTDNotSupported, []string{"1.2", "1.1"}, "1.2"},
		{"no VerDTD", "", "DM/1.2", syncml.StatusDTDNotSupported, []string{"1.2", "1.1"}, "1.2"},
		{"VerDTD checked before VerProto", "1.0", "DM/9.9", syncml.StatusDTDNotSupported, []string{"1.2", "1.1"}, "1.2"},
		{"VerProto DM/2.0", "1.2", "DM/2.0", syncml.StatusProtocolNotSupported, []string{"DM/1.2", "DM/1.1"}, "1.2"},
		{"SyncML DS message", "1.1", "SyncML/1.1", syncml.StatusProtocolNotSupported, []string{"DM/1.2", "DM/1.1"}, "1.1"},
		{"no VerProto", "1.2", "", syncml.StatusProtocolNotSupported, []string{"DM/1.2", "DM/1.1"}, "1.2"},
	}
	for _, tt := range tests {
		for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
			t.Run(tt.name+"/"+enc.String(), func(t *testing.T) {
				h := newHarness(t, nil)
				h.addDevice(t, "md5")
				d := newDevice(h.e, "md5")
				d.enc = enc
				m := d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)
				m.Header.VerDTD, m.Header.VerProto = tt.dtd, tt.proto
				r := d.post(t, m)
				hs := hdrStatus(t, r)
				if hs.Data != tt.want {
					t.Fatalf("SyncHdr status %d, want %d", hs.Data, tt.want)
				}
				var items []string
				for _, it := range hs.Items {
					items = append(items, it.Data.String())
				}
				if len(items) != len(tt.wantItems) || items[0] != tt.wantItems[0] || items[1] != tt.wantItems[1] {
					t.Errorf("supported versions %q, want %q", items, tt.wantItems)
				}
				for _, ref := range []string{"1", "2"} {
					if s := statusFor(r, ref); s == nil || s.Data != tt.want {
						t.Errorf("command %s: status %+v, want %d", ref, s, tt.want)
					}
				}
				if r.Header.VerDTD != tt.wantDTD || (r.Header.VerProto != syncml.VerProto12 && r.Header.VerProto != syncml.VerProto11) {
					t.Errorf("reply header %s / %s, want a version we speak (VerDTD %s)", r.Header.VerDTD, r.Header.VerProto, tt.wantDTD)
				}
				if len(commands(r)) != 0 || !r.Final {
					t.Errorf("reply carries commands %v (final %v): a refused message must not start a session", names(commands(r)), r.Final)
				}
				if dev := h.device(t); !dev.LastSeen.IsZero() {
					t.Errorf("device marked seen by a refused message")
				}
			})
		}
	}
}

// OMA-TS-DM_RepPro-V1_1 / V1_2, SyncHdr: a DM 1.1 device (VerDTD 1.1,
// VerProto DM/1.1, namespace SYNCML:SYNCML1.1, WBXML public id 0x0FD3) is
// served in its own dialect for the whole session.
func TestEngine_ServesDM11DeviceInItsDialect(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
			d := newDevice(h.e, "md5")
			d.enc = enc
			dm11 := func(m *syncml.Message) *syncml.Message {
				m.Header.VerDTD, m.Header.VerProto = syncml.VerDTD11, syncml.VerProto11
				return m
			}
			body, err := syncml.Encode(dm11(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)), enc)
			if err != nil {
				t.Fatal(err)
			}
			if enc == syncml.EncodingXML && !bytes.Contains(body, []byte(`xmlns="SYNCML:SYNCML1.1"`)) {
				t.Fatalf("the device's message is not in the 1.1 namespace: %s", body)
			}
			r := d.postRaw(t, body)
			for i := 0; i < 2; i++ {
				if r.Header.VerDTD != syncml.VerDTD11 || r.Header.VerProto != syncml.VerProto11 {
					t.Fatalf("reply %d header %s / %s, want 1.1 / DM/1.1", i, r.Header.VerDTD, r.Header.VerProto)
				}
				switch enc {
				case syncml.EncodingXML:
					if !bytes.Contains(d.lastBody, []byte(`<SyncML xmlns="SYNCML:SYNCML1.1">`)) {
						t.Errorf("reply %d not in the SyncML 1.1 namespace: %.120s", i, d.lastBody)
					}
				case syncml.EncodingWBXML:
					if !bytes.HasPrefix(d.lastBody[1:], []byte{0x9F, 0x53}) { // mb_u_int32 0x0FD3
						t.Errorf("reply %d public id bytes % x, want 9f 53 (SyncML 1.1)", i, d.lastBody[:4])
					}
				}
				if i == 1 {
					break
				}
				if st := hdrStatus(t, r); !st.Data.Success() {
					t.Fatalf("authentication failed: %d", st.Data)
				}
				r = d.post(t, dm11(d.message(true, d.answer(r, nil, func(g *syncml.Get) []syncml.Item {
					return []syncml.Item{{Source: &syncml.Location{LocURI: g.Items[0].Target.LocURI}, Data: syncml.TextData("Model 1")}}
				})...)))
			}
			if j := h.job(t, id); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != "Model 1" {
				t.Errorf("job %s %+v, want done with the result", j.State, j.Results)
			}
		})
	}
}

// OMA-TS-SyncML_RepPro-V1_2, Status element type and status 406: a command
// OMA DM does not define (here a DS Sync) gets a Status of its own, 406
// Optional feature not supported, and the rest of the message is processed.
func TestEngine_AnswersDSCommandWith406AndProcessesTheRest(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			d := newDevice(h.e, "md5")
			d.enc = enc
			cmds := append(d.pkg1(syncml.AlertClientInitiatedMgmt),
				&syncml.Unknown{Name: "Sync", CmdID: "3", DS: true, Code: syncml.StatusOptionalNotSupported})
			r := d.post(t, d.message(true, cmds...))
			if st := hdrStatus(t, r); !st.Data.Success() {
				t.Fatalf("SyncHdr status %d", st.Data)
			}
			for ref, want := range map[string]syncml.StatusCode{"1": 200, "2": 200, "3": syncml.StatusOptionalNotSupported} {
				if s := statusFor(r, ref); s == nil || s.Data != want {
					t.Errorf("command %s: status %+v, want %d", ref, s, want)
				}
			}
			if s := statusFor(r, "3"); s != nil && s.Cmd != "Sync" {
				t.Errorf("Status names command %q, want Sync", s.Cmd)
			}
			if dev := h.device(t); dev.DevInfo["./DevInfo/Man"] != "Acme" {
				t.Errorf("DevInfo of the same message not stored: %v", dev.DevInfo)
			}
		})
	}
}

// WBXML 1.3 §5.8.4.6: OPAQUE is a transport form. A device that answers a
// Get of a chr leaf in OPAQUE (as libdmclient does) has the value stored and
// shown as that text, Format chr, not as base64 binary.
func TestEngine_StoresOpaqueChrResultAsText(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	id := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}})
	d := newDevice(h.e, "md5")
	d.enc = syncml.EncodingWBXML
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	ans := d.answer(r, nil, func(g *syncml.Get) []syncml.Item {
		return []syncml.Item{{Source: &syncml.Location{LocURI: g.Items[0].Target.LocURI},
			Meta: &syncml.Meta{Format: "chr", Type: "text/plain"},
			Data: &syncml.Data{Kind: syncml.DataOpaque, Value: []byte("Model 1")}}} // written as OPAQUE
	})
	body, err := syncml.EncodeWBXML(d.message(true, ans...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, append([]byte{0xC3, 7}, "Model 1"...)) {
		t.Fatal("the Results value is not sent as OPAQUE")
	}
	d.postRaw(t, body)
	j := h.job(t, id)
	if j.State != storage.JobDone || len(j.Results) != 1 {
		t.Fatalf("job %s %+v", j.State, j.Results)
	}
	if got := j.Results[0]; got.Data != "Model 1" || got.Format != "chr" {
		t.Errorf("stored result %+v, want Data \"Model 1\" Format chr", got)
	}
	nodes, err := h.store.ListTreeNodes(context.Background(), devID, "./DevInfo/Mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Value != "Model 1" || nodes[0].Format != "chr" {
		t.Errorf("tree cache %+v, want Model 1 / chr", nodes)
	}
}

// OMA-TS-SyncML_RepPro-V1_2, Status element type: a Status is never
// answered, also when it held an element DM does not define and did not
// decode; a DM command holding an unknown element gets 400 on its own.
func TestEngine_FailedCommandsGet400AndAFailedStatusNoAnswer(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "md5")
	d := newDevice(h.e, "md5")
	m := d.message(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
		&syncml.Replace{CmdID: "2", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/Man"}, Data: syncml.TextData("Acme")}}},
		&syncml.Status{CmdID: "3", MsgRef: "1", CmdRef: "7", Cmd: "Get", Data: syncml.StatusOK})
	body, err := syncml.EncodeXML(m)
	if err != nil {
		t.Fatal(err)
	}
	// An element no DTD defines, inside the Replace's Item and inside the Status.
	body = bytes.Replace(body, []byte("<Data>Acme</Data>"), []byte("<Frob/><Data>Acme</Data>"), 1)
	body = bytes.Replace(body, []byte("<Cmd>Get</Cmd>"), []byte("<Cmd>Get</Cmd><Frob/>"), 1)
	if bytes.Count(body, []byte("<Frob/>")) != 2 {
		t.Fatalf("test message not built: %s", body)
	}
	r := d.postRaw(t, body)
	if st := hdrStatus(t, r); !st.Data.Success() {
		t.Fatalf("SyncHdr status %d", st.Data)
	}
	if s := statusFor(r, "2"); s == nil || s.Data != syncml.StatusBadRequest || s.Cmd != "Replace" {
		t.Errorf("Replace holding <Frob>: status %+v, want 400", s)
	}
	if s := statusFor(r, "3"); s != nil {
		t.Errorf("the Status that did not decode was answered: %+v", s)
	}
	if s := statusFor(r, "1"); s == nil || s.Data != syncml.StatusOK {
		t.Errorf("Alert: %+v, want 200", s)
	}
}
