package e2e_test

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// TestE2E_HostileHeadersGetASyncMLAnswerNeverA5xx: over real HTTP, a device
// whose MaxMsgSize leaves no room for any reply gets the SyncHdr Status,
// Alert 1223 and Final (OMA-TS-DM_Protocol-V1_2 §8.1: session abort, either
// side, any time), and a SyncHdr whose device id carries a bidi override
// gets a SyncHdr Status 400; both are HTTP 200 with a SyncML body and no
// ERROR log line.
func TestE2E_HostileHeadersGetASyncMLAnswerNeverA5xx(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		logs := &logBuffer{}
		n := startNode(t, st, withLogs(logs))
		id := "IMEI:" + strconv.Itoa(100000+rand.IntN(900000)) + "11111111"
		if err := st.CreateDevice(context.Background(), &storage.Device{ID: id, AuthScheme: "basic", Username: "h", Password: "h-secret", ServerPassword: "srv"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.DeleteDevice(context.Background(), id) })
		jid := queue(t, st, id, storage.JobSpec{Command: "Get", Items: item("./DevInfo/Mod")})
		msg := func(devID string, maxMsg int64) []byte {
			m := &syncml.Message{Final: true, Header: syncml.Header{
				VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "9D", MsgID: "1",
				Target: syncml.Location{LocURI: n.url}, Source: syncml.Location{LocURI: devID, LocName: "h"},
				Cred: auth.MakeCred(syncml.AuthBasic, "h", "h-secret", nil), Meta: &syncml.Meta{MaxMsgSize: maxMsg},
			}, Body: []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}}}
			body, err := syncml.Encode(m, enc)
			if err != nil {
				t.Fatal(err)
			}
			return body
		}

		t.Run("MaxMsgSize too small for any reply", func(t *testing.T) {
			code, body := post(t, n.url, enc.ContentType(), msg(id, 64))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 with a SyncML answer", code)
			}
			r := decodeReply(t, body)
			if len(r.Body) != 2 || !r.Final {
				t.Fatalf("reply %d commands, Final %v", len(r.Body), r.Final)
			}
			if a, ok := r.Body[1].(*syncml.Alert); !ok || a.Data != syncml.AlertSessionAbort {
				t.Fatalf("reply %s, want Alert 1223", r.Body[1].CommandName())
			}
			if j := job(t, st, jid); j.State != storage.JobQueued {
				t.Errorf("job %s, want queued for the next session", j.State)
			}
		})
		t.Run("device id with a bidi override", func(t *testing.T) {
			code, body := post(t, n.url, enc.ContentType(), msg(id[:8]+"\u202e"+id[8:], 0))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 with a SyncML answer", code)
			}
			if s := headerStatus(t, decodeReply(t, body)); s != syncml.StatusBadRequest {
				t.Fatalf("SyncHdr status %s, want 400", s)
			}
		})
		if out := logs.since(0); strings.Contains(out, "level=ERROR") {
			t.Errorf("ERROR logged:\n%s", out)
		}
	})
}

// Refused messages are logged at most once per kind per interval (the
// engine's AuthLimits.LogEvery, the handler's LogEvery): a peer cannot fill
// the disk with log lines by repeating a bad message. Each is still
// answered and counted.
func TestE2E_RefusedMessagesLogOneLinePerKind(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		logs := &logBuffer{}
		n := startNode(t, st, withLogs(logs), func(so *server.Options, ho *dmhttp.HandlerOptions) {
			so.AuthLimits.LogEvery, ho.LogEvery = time.Hour, time.Hour // nothing is due again within the test
		})
		id := "IMEI:" + strconv.Itoa(100000+rand.IntN(900000)) + "22222222"
		if err := st.CreateDevice(context.Background(), &storage.Device{ID: id, AuthScheme: "basic", Username: "h", Password: "h-secret"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.DeleteDevice(context.Background(), id) })
		msg := func(devID, msgID string) []byte {
			body, err := forger{id: devID, user: "h", enc: enc}.message("4", 1, auth.MakeCred(syncml.AuthBasic, "h", "h-secret", nil),
				&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt})
			if err != nil {
				t.Fatal(err)
			}
			if msgID != "1" {
				m, _, _ := syncml.Decode(body, enc.ContentType(), nil)
				m.Header.MsgID = msgID
				body, _ = syncml.Encode(m, enc)
			}
			return body
		}
		kinds := []struct {
			line, url, ct string
			body          []byte
		}{
			{"dm message rejected: malformed", n.url, enc.ContentType(), []byte("<SyncML><SyncHdr>")},
			{"dm request rejected: content type", n.url, "text/plain", msg(id, "1")},
			{"dm request rejected: body too large", n.url, enc.ContentType(), make([]byte, server.DefaultMaxMsgSize+1)},
			{"dm message rejected: header lacks device id", n.url, enc.ContentType(), msg(id, "x")},
			{"dm message rejected: device id or SessionID", n.url, enc.ContentType(), msg(id+"\u200b", "1")},
			{"dm message rejected: unknown, expired or closed session token", n.url + "?s=00112233445566778899aabbccddeeff", enc.ContentType(), msg(id, "1")},
		}
		for _, k := range kinds {
			for range 20 {
				post(t, k.url, k.ct, k.body)
			}
		}
		out := logs.since(0)
		for _, k := range kinds {
			if c := strings.Count(out, k.line); c != 1 {
				t.Errorf("%q logged %d times for 20 messages, want once", k.line, c)
			}
		}
		if t.Failed() {
			t.Logf("log:\n%s", out)
		}
	})
}

// Over WBXML a device can send strings that are not UTF-8 and values with
// NUL bytes (STR_I bytes are not checked; OPAQUE under Format chr). What it
// sends is stored, never a 500 that loses the message: a value that is not
// text is kept whole as binary (base64, Format bin), names are made valid
// text, and a SessionID that is not valid text is refused with 400.
func TestE2E_DeviceBytesThatAreNotTextAreStoredNotA500(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			enc := syncml.EncodingWBXML
			st := b.open(t)
			logs := &logBuffer{}
			n := startNode(t, st, withLogs(logs))
			a := newAgent(t, st, n.url, enc, withAuth(sim.AuthBasic))
			c := a.Credentials()
			f := forger{id: a.ID(), user: c.Username, enc: enc}
			cred := auth.MakeCred(syncml.AuthBasic, c.Username, c.Password, nil)
			get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item("./DevDetail/FwV")})
			bin := []byte("v\xff\x00\xfe")

			body, err := f.message("1", 1, cred,
				&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
				&syncml.Replace{CmdID: "2", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/Mod"},
					Meta: &syncml.Meta{Format: "chr"}, Data: &syncml.Data{Kind: syncml.DataOpaque, Value: bin}}}},
				&syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Correlator: "c\xfe", Items: []syncml.Item{{
					Source: &syncml.Location{LocURI: "./x\xff"}, Meta: &syncml.Meta{Type: "t\xff", Format: "chr", Mark: "m\xfe"},
					Data: &syncml.Data{Kind: syncml.DataOpaque, Value: bin}}}})
			if err != nil {
				t.Fatal(err)
			}
			r := mustSend(t, n.url, enc, body, "")
			var g *syncml.Get
			for _, cmd := range r.msg.Body {
				if x, ok := cmd.(*syncml.Get); ok {
					g = x
				}
			}
			if r.httpStatus != http.StatusOK || r.hdr.Data != syncml.StatusOK || g == nil {
				t.Fatalf("package 1: HTTP %d, status %d, Get %v", r.httpStatus, r.hdr.Data, g != nil)
			}
			body, err = f.message("1", 2, cred,
				&syncml.Status{CmdID: "1", MsgRef: r.msg.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK},
				&syncml.Status{CmdID: "2", MsgRef: r.msg.Header.MsgID, CmdRef: g.CmdID, Cmd: "Get", Data: syncml.StatusOK},
				&syncml.Results{CmdID: "3", MsgRef: r.msg.Header.MsgID, CmdRef: g.CmdID, Items: []syncml.Item{{
					Source: &syncml.Location{LocURI: "./DevDetail/FwV"}, Meta: &syncml.Meta{Format: "chr"},
					Data: &syncml.Data{Kind: syncml.DataOpaque, Value: bin}}}})
			if err != nil {
				t.Fatal(err)
			}
			if r := mustSend(t, n.url, enc, body, ""); r.httpStatus != http.StatusOK || r.hdr.Data != syncml.StatusOK {
				t.Fatalf("package 3: HTTP %d, status %d", r.httpStatus, r.hdr.Data)
			}
			want := base64.StdEncoding.EncodeToString(bin)
			if j := job(t, st, get); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != want || j.Results[0].Format != "bin" {
				t.Errorf("job %s, results %+v; want done with %s as bin", j.State, j.Results, want)
			}
			if d, _ := st.GetDevice(context.Background(), a.ID()); d.DevInfo["./DevInfo/Mod"] != want {
				t.Errorf("DevInfo Mod %q, want %q", d.DevInfo["./DevInfo/Mod"], want)
			}
			if ev := events(t, n, a.ID()); ev["generic-alert"] != 1 {
				t.Errorf("events %v, want the generic alert stored", ev)
			}

			body, err = f.message("\xff1", 1, cred, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt})
			if err != nil {
				t.Fatal(err)
			}
			if code, out := post(t, n.url, enc.ContentType(), body); code != http.StatusOK || headerStatus(t, decodeReply(t, out)) != syncml.StatusBadRequest {
				t.Errorf("SessionID that is not UTF-8: HTTP %d, want 200 with a SyncHdr Status 400", code)
			}
			if out := logs.since(0); strings.Contains(out, "level=ERROR") {
				t.Errorf("ERROR logged:\n%s", out)
			}
		})
	}
}
