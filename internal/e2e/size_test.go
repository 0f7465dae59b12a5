package e2e_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

func TestE2E_MultiMessagePackagesInBothDirections(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		// The server accepts 6 KiB messages; the device 3 KiB.
		n := startNode(t, st, func(o *server.Options, _ *dmhttp.HandlerOptions) { o.MaxMsgSize = 6 << 10 })
		a := newAgent(t, st, n.url, enc, withMaxMsgSize(3<<10))
		var mu sync.Mutex
		nextMsgReplies := 0
		var wrong []string
		a.route.after = func(n int, resp *client.Response) error {
			m, _, err := syncml.Decode(resp.Body, resp.ContentType, nil)
			if err != nil {
				return err
			}
			next, cmds := false, 0
			for _, c := range m.Body {
				switch c := c.(type) {
				case *syncml.Status:
				case *syncml.Alert:
					if c.Data == syncml.AlertNextMessage {
						next = true
					} else {
						cmds++
					}
				default:
					cmds++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case next && (cmds > 0 || m.Final):
				wrong = append(wrong, fmt.Sprintf("message %d: next-message reply with %d commands, Final %v", n, cmds, m.Final))
			case next:
				nextMsgReplies++
			case !m.Final:
				wrong = append(wrong, fmt.Sprintf("message %d: not Final, %d commands", n, cmds))
			}
			return nil
		}
		value := strings.Repeat("v", 400)
		var adds, gets []int64
		for i := range 30 {
			uri := fmt.Sprintf("%s/K%02d", sim.SettingsRoot, i)
			adds = append(adds, queue(t, st, a.ID(), storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: uri, Data: value}}}))
		}
		for i := range 30 {
			gets = append(gets, queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item(fmt.Sprintf("%s/K%02d", sim.SettingsRoot, i))}))
		}
		res := a.session(t)
		if res.MessagesReceived < 4 || res.MessagesSent < 4 {
			t.Errorf("30 Adds and 30 Gets of 400 bytes went in %d server and %d device messages", res.MessagesReceived, res.MessagesSent)
		}
		for i, id := range adds {
			if j := job(t, st, id); j.State != storage.JobDone {
				t.Errorf("Add %d: %s %d", i, j.State, j.Status)
			}
		}
		for i, id := range gets {
			j := job(t, st, id)
			if j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != value {
				t.Errorf("Get %d: %s %d, %d results", i, j.State, j.Status, len(j.Results))
			}
		}
		// OMA-TS-DM_Protocol-V1_2 §6 (multiple messages per package): the
		// device's package of Results spans messages and the server asks
		// for each next one with Alert 1222 (no Final, no command); every
		// other server message is Final, so the device never needs to ask.
		// (This test used to expect the device's 1222: the server then
		// spread its commands over non-final messages.)
		mu.Lock()
		defer mu.Unlock()
		if nextMsgReplies == 0 {
			t.Error("the server never asked for the device's next message (Alert 1222)")
		}
		if len(wrong) > 0 {
			t.Errorf("server messages breaking the Final rule: %v", wrong)
		}
		for _, c := range res.AlertsSent {
			if c == syncml.AlertNextMessage {
				t.Error("the device asked for the next message: a server message with commands was not Final")
			}
		}
	})
}

func TestE2E_OneMegabyteObjectInBothDirections(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		n := startNode(t, st)
		a := newAgent(t, st, n.url, enc)
		blob := make([]byte, 1<<20)
		if _, err := rand.Read(blob); err != nil {
			t.Fatal(err)
		}
		uri := sim.SettingsRoot + "/Blob"
		add := queue(t, st, a.ID(), storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: uri, Format: "b64",
			Type: "application/octet-stream", Data: base64.StdEncoding.EncodeToString(blob)}}})
		res := a.session(t)
		if j := job(t, st, add); j.State != storage.JobDone {
			t.Fatalf("Add of 1 MiB: %s %d %s", j.State, j.Status, j.Error)
		}
		if res.MessagesReceived < 16 {
			t.Errorf("1 MiB arrived in %d messages of at most 64 KiB", res.MessagesReceived)
		}
		rs, err := a.Tree().Get("", uri)
		if err != nil || len(rs) != 1 || !bytes.Equal(rs[0].Data, blob) {
			t.Fatalf("device holds %d bytes (%v), want the 1 MiB object", lenData(rs), err)
		}
		if rs[0].Format != dmtree.FormatBin {
			t.Errorf("stored as %q", rs[0].Format)
		}
		get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item(uri)})
		res = a.session(t)
		j := job(t, st, get)
		if j.State != storage.JobDone || len(j.Results) != 1 {
			t.Fatalf("Get of 1 MiB: %s %d %s", j.State, j.Status, j.Error)
		}
		got, err := base64.StdEncoding.DecodeString(j.Results[0].Data)
		if err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("server stored %d bytes (format %q, %v), want the 1 MiB object", len(got), j.Results[0].Format, err)
		}
		if res.MessagesSent < 16 {
			t.Errorf("1 MiB went up in %d messages", res.MessagesSent)
		}
	})
}

func lenData(rs []dmtree.Result) int {
	if len(rs) == 0 {
		return 0
	}
	return len(rs[0].Data)
}
