package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"github.com/omadm/omadm/auth"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func TestEngine_AnswersInDeviceEncodingAndSendsBinaryPerEncoding(t *testing.T) {
	raw := make([]byte, 5000)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	tests := []struct {
		name       string
		enc        syncml.Encoding
		wantFormat string
		want       []byte // transmitted bytes
	}{
		{"xml sends b64 text", syncml.EncodingXML, "b64", []byte(b64)},
		{"wbxml sends opaque bin", syncml.EncodingWBXML, "bin", raw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			id := h.addJob(t, storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: "./Vendor/Blob", Format: "bin", Data: b64}}})
			d := newDevice(h.e, "md5")
			d.enc, d.maxMsg = tc.enc, 2500
			body, _ := syncml.Encode(d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...), tc.enc)
			out, err := h.e.Handle(context.Background(), &server.Inbound{Body: body, ContentType: tc.enc.ContentType(), Addr: dmhttp.RequestAddressing(dmURL), SecureSession: dmhttp.SecureURL(dmURL)})
			if err != nil {
				t.Fatal(err)
			}
			if out.ContentType != tc.enc.ContentType() {
				t.Fatalf("reply content type %q", out.ContentType)
			}
			r, _, err := syncml.Decode(out.Body, out.ContentType, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.url, d.lastOut, d.lastBody = r.Header.RespURI, r, out.Body
			if n, _ := auth.ChalNonce(hdrStatus(t, r).Chal); n != nil {
				d.nonce = n // md5 authenticates every message over plain HTTP
			}
			var got []byte
			for i := 0; i < 20; i++ {
				if int64(len(d.lastBody)) > d.maxMsg {
					t.Fatalf("message of %d bytes over %d", len(d.lastBody), d.maxMsg)
				}
				add := commands(r)[0].(*syncml.Add)
				it := add.Items[0]
				if it.Meta == nil || it.Meta.Format != tc.wantFormat {
					t.Fatalf("chunk meta %+v, want format %s", it.Meta, tc.wantFormat)
				}
				got = append(got, it.Data.Value...)
				if !it.MoreData {
					break
				}
				r = d.post(t, d.message(false, append(d.answer(r, func(syncml.Command) syncml.StatusCode { return 213 }, nil),
					&syncml.Alert{CmdID: "9", Data: syncml.AlertNextMessage})...))
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("reassembled %d bytes, want %d", len(got), len(tc.want))
			}
			d.post(t, d.message(true, d.answer(r, nil, nil)...))
			if j := h.job(t, id); j.State != storage.JobDone {
				t.Errorf("job %s %d", j.State, j.Status)
			}
			h.e.Flush(context.Background())
			tr, _ := h.store.ListTraces(context.Background(), devID, "1", 1)
			if len(tr) != 1 || !strings.Contains(api.TraceFrom(tr[0]).Decoded, "<SyncHdr>") {
				t.Errorf("trace has no decoded XML view")
			}
		})
	}
}

func TestEngine_FailsJobsThatCanNeverBeSent(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	big := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./X", Data: string(bytes.Repeat([]byte("a"), 3000))}}})
	bad := h.addJob(t, storage.JobSpec{Command: "Frobnicate", Items: []storage.JobItem{{URI: "./X"}}})
	ok := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Y"}}})
	d := newDevice(h.e, "basic")
	m := d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...)
	m.Header.Meta = &syncml.Meta{MaxObjSize: 1000}
	r := d.post(t, m)
	if got := names(commands(r)); len(got) != 1 || got[0] != "Get" {
		t.Fatalf("sent %v", got)
	}
	for _, id := range []int64{big, bad} {
		if j := h.job(t, id); j.State != storage.JobFailed || j.Error == "" {
			t.Errorf("job %d: %s %q", id, j.State, j.Error)
		}
	}
	if j := h.job(t, ok); j.State != storage.JobSent {
		t.Errorf("get job %s", j.State)
	}
}
