package e2e_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
	"github.com/omadm/omadm/transport/wsp"
)

// wtpCounter counts the WTP PDUs a transport sent and received by type.
type wtpCounter struct {
	mu   sync.Mutex
	sent map[wsp.PDUType]int
	recv map[wsp.PDUType]int
}

func (c *wtpCounter) trace(sent bool, b []byte) {
	pdus, err := wsp.DecodeWTP(b)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sent == nil {
		c.sent, c.recv = map[wsp.PDUType]int{}, map[wsp.PDUType]int{}
	}
	for _, p := range pdus {
		if sent {
			c.sent[p.Type]++
		} else {
			c.recv[p.Type]++
		}
	}
}

// overWSP makes the agent post through the WAP gateway: WSP over WTP to
// Kannel's UDP 9201, which fetches the server URL over HTTP.
func overWSP(t *testing.T, a *agent) *wtpCounter {
	t.Helper()
	c := &wtpCounter{}
	tp, err := wsp.New(wsp.Options{Gateway: fmt.Sprintf("127.0.0.1:%d", kannel.WSPCOPort), Trace: c.trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Close() })
	a.route.tp = tp
	return c
}

// Whole DM sessions between the agent and the server through a real WAP
// gateway (Kannel 1.4.5): the agent speaks connection-oriented WSP over
// WTP, Kannel forwards each Post to the server's HTTP handler. Messages of
// several KiB take WTP segmentation in both directions; the multi-message
// packages and a large object spanning 64 KiB messages keep the DM rules
// (OMA-TS-DM_Protocol-V1_2 §6, §7) across the gateway.
func TestE2E_SessionsThroughAWAPGateway(t *testing.T) {
	kannel.Start(t, kannel.Options{WAPBox: true})
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		st := b.open(t)
		t.Run("MultiMessage", func(t *testing.T) {
			n := startNode(t, st, func(o *server.Options, _ *dmhttp.HandlerOptions) { o.MaxMsgSize = 6 << 10 })
			a := newAgent(t, st, n.url, enc, withMaxMsgSize(3<<10))
			c := overWSP(t, a)
			value := strings.Repeat("v", 400)
			var adds, gets []int64
			for i := range 20 {
				uri := fmt.Sprintf("%s/W%02d", sim.SettingsRoot, i)
				adds = append(adds, queue(t, st, a.ID(), storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: uri, Data: value}}}))
				gets = append(gets, queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item(uri)}))
			}
			res := a.session(t)
			if res.MessagesReceived < 3 || res.MessagesSent < 3 {
				t.Errorf("session of %d server and %d device messages", res.MessagesReceived, res.MessagesSent)
			}
			for i := range adds {
				if j := job(t, st, adds[i]); j.State != storage.JobDone {
					t.Errorf("Add %d: %s %d", i, j.State, j.Status)
				}
				if j := job(t, st, gets[i]); j.State != storage.JobDone || len(j.Results) != 1 || j.Results[0].Data != value {
					t.Errorf("Get %d: %s %d", i, j.State, j.Status)
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.sent[wsp.PDUSegInvoke] == 0 || c.recv[wsp.PDUSegResult] == 0 {
				t.Errorf("no segmentation seen: sent %v, received %v", c.sent, c.recv)
			}
		})
		t.Run("LargeObject", func(t *testing.T) {
			n := startNode(t, st)
			a := newAgent(t, st, n.url, enc)
			overWSP(t, a)
			blob := make([]byte, 150<<10)
			if _, err := rand.Read(blob); err != nil {
				t.Fatal(err)
			}
			uri := sim.SettingsRoot + "/WBlob"
			add := queue(t, st, a.ID(), storage.JobSpec{Command: "Add", Items: []storage.JobItem{{URI: uri, Format: "b64",
				Type: "application/octet-stream", Data: base64.StdEncoding.EncodeToString(blob)}}})
			a.session(t)
			if j := job(t, st, add); j.State != storage.JobDone {
				t.Fatalf("Add of 150 KiB: %s %d %s", j.State, j.Status, j.Error)
			}
			if rs, err := a.Tree().Get("", uri); err != nil || len(rs) != 1 || !bytes.Equal(rs[0].Data, blob) {
				t.Fatalf("device holds %d bytes (%v)", lenData(rs), err)
			}
			get := queue(t, st, a.ID(), storage.JobSpec{Command: "Get", Items: item(uri)})
			a.session(t)
			j := job(t, st, get)
			if j.State != storage.JobDone || len(j.Results) != 1 {
				t.Fatalf("Get of 150 KiB: %s %d %s", j.State, j.Status, j.Error)
			}
			if got, err := base64.StdEncoding.DecodeString(j.Results[0].Data); err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("server got %d bytes back (%v)", len(got), err)
			}
		})
	})
}
