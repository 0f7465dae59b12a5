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

// noLODevice is a scripted device without large-object support, over real
// HTTP: it answers every command 200, chunks included, the way a device that
// never looks at MoreData does, and says so in ./DevDetail/LrgObj only when
// asked.
type noLODevice struct {
	t      *testing.T
	id     string
	enc    syncml.Encoding
	url    string
	msgID  int
	maxMsg int64
}

func (d *noLODevice) send(final bool, cmds ...syncml.Command) *syncml.Message {
	d.t.Helper()
	d.msgID++
	m := &syncml.Message{Final: final, Body: cmds, Header: syncml.Header{
		VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "7C", MsgID: strconv.Itoa(d.msgID),
		Target: syncml.Location{LocURI: d.url}, Source: syncml.Location{LocURI: d.id, LocName: "lo"},
		Cred: auth.MakeCred(syncml.AuthBasic, "lo", "lo-secret", nil),
		Meta: &syncml.Meta{MaxMsgSize: d.maxMsg},
	}}
	b, err := syncml.Encode(m, d.enc)
	if err != nil {
		d.t.Fatal(err)
	}
	code, body := post(d.t, d.url, d.enc.ContentType(), b)
	if code != http.StatusOK {
		d.t.Fatalf("HTTP %d: %s", code, body)
	}
	r := decodeReply(d.t, body)
	if r.Header.RespURI != "" {
		d.url = r.Header.RespURI
	}
	return r
}

// answerAll answers every command of r with code.
func answerAll(r *syncml.Message, code syncml.StatusCode) []syncml.Command {
	out := []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: r.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK}}
	for _, c := range r.Body {
		switch c := c.(type) {
		case *syncml.Status:
			continue
		case *syncml.Alert:
			if c.Data == syncml.AlertNextMessage {
				continue
			}
		}
		out = append(out, &syncml.Status{CmdID: strconv.Itoa(len(out) + 1), MsgRef: r.Header.MsgID, CmdRef: c.ID(), Cmd: c.CommandName(), Data: code})
	}
	return out
}

// TestE2E_DeviceWithoutLargeObjectSupportFailsTheJob: OMA-TS-DM_Protocol-V1_2
// §8 (large objects): every non-last chunk is answered 213 (Chunked item
// accepted). A device that answers the first chunk 200 does not reassemble
// objects; the job must end failed with a reason saying so, not "done 200",
// and no further chunk goes out.
func TestE2E_DeviceWithoutLargeObjectSupportFailsTheJob(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		id := "IMEI:" + strconv.Itoa(100000+rand.IntN(900000)) + "00000000"
		if err := st.CreateDevice(context.Background(), &storage.Device{ID: id, AuthScheme: "basic", Username: "lo", Password: "lo-secret", ServerPassword: "srv"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.DeleteDevice(context.Background(), id) })
		payload := strings.Repeat("0123456789abcdef", 512) // 8 KiB
		jid := queue(t, st, id, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/Blob", Format: "chr", Data: payload, HasData: true}}})
		d := &noLODevice{t: t, id: id, enc: enc, url: n.url, maxMsg: 2000}
		r := d.send(true, &syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
			&syncml.Replace{CmdID: "2", Items: []syncml.Item{{Source: &syncml.Location{LocURI: "./DevInfo/DevId"},
				Meta: &syncml.Meta{Format: "chr"}, Data: syncml.TextData(id)}}})
		chunks := 0
		for _, c := range r.Body {
			if rep, ok := c.(*syncml.Replace); ok && len(rep.Items) == 1 && rep.Items[0].MoreData {
				chunks++
			}
		}
		if chunks != 1 || r.Final {
			t.Fatalf("package 2 carries %d chunks, Final %v: want the first chunk of the object, not Final", chunks, r.Final)
		}
		// The device answers the chunk 200, as if it were the whole value,
		// and ends its package.
		r = d.send(true, answerAll(r, syncml.StatusOK)...)
		for _, c := range r.Body {
			if _, ok := c.(*syncml.Status); !ok {
				t.Errorf("after the refused chunk the server sent %s", c.CommandName())
			}
		}
		if !r.Final {
			t.Error("the server's last message is not Final")
		}
		j := job(t, st, jid)
		if j.State != storage.JobFailed || !strings.Contains(j.Error, "213") || !strings.Contains(j.Error, "large objects") {
			t.Fatalf("job %s %d %q: want failed, naming the missing 213 and large objects", j.State, j.Status, j.Error)
		}
	})
}
