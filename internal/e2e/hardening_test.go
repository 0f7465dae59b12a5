package e2e_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// TestE2E_HostileHeadersGetASyncMLAnswerNeverA5xx: over real HTTP, a device
// whose MaxMsgSize leaves no room for any reply gets the SyncHdr Status,
// Alert 1223 and Final (OMA-TS-DM_Protocol-V1_2 §10: session abort, either
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
