package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

func TestAgent_RequestsNextMessageWhenServerPackageIsNotFinal(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, false, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "one")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, syncml.StatusOK, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{
		"Alert 1201 | Replace | Final",
		"Status 0 SyncHdr 200 | Status 2 Replace 200 | Alert 1222",
		"Status 0 SyncHdr 200 | Status 2 Get 200 | Results 2 | Final",
	}
	for i, w := range want {
		if got := summary(srv.got[i]); got != w {
			t.Fatalf("message %d = %q\nwant        %q", i+1, got, w)
		}
	}
}

func TestAgent_SplitsItsPackageUnderServerMaxMsgSize(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			for i := 0; i < 40; i++ {
				mustAdd(t, tr, fmt.Sprintf("./Vendor/Leaf%02d", i), strings.Repeat("v", 60))
			}
			srv := &scripted{t: t, enc: enc, maxMsg: 1500}
			var gets []syncml.Command
			for i := 0; i < 40; i++ {
				gets = append(gets, &syncml.Get{Items: []syncml.Item{target(fmt.Sprintf("./Vendor/Leaf%02d", i))}})
			}
			next := func(t *testing.T, got *syncml.Message) *syncml.Message {
				if got.Final {
					return srv.reply(got, true, syncml.StatusOK)
				}
				return srv.reply(got, false, syncml.StatusOK, &syncml.Alert{Data: syncml.AlertNextMessage})
			}
			srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, gets...) }}
			for i := 0; i < 40; i++ {
				srv.steps = append(srv.steps, next)
			}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.Encoding = enc })
			res, err := c.Run(context.Background(), client.Trigger{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.MessagesSent < 4 {
				t.Fatalf("package not split: %d messages", res.MessagesSent)
			}
			seen := map[string]bool{}
			for i, m := range srv.got[1:] {
				if n := len(srv.reqs[i+1].Body); n > 1500 {
					t.Fatalf("message %d is %d bytes > MaxMsgSize", i+2, n)
				}
				if (i+2 == len(srv.got)) != m.Final {
					t.Fatalf("message %d Final = %v", i+2, m.Final)
				}
				for _, r := range results(m) {
					for _, it := range r.Items {
						seen[it.Source.LocURI] = true
					}
				}
			}
			if len(seen) != 40 {
				t.Fatalf("got %d distinct Results, want 40", len(seen))
			}
		})
	}
}

// chunks splits data into n-byte chunks as a server sends a large object.
func chunks(uri, format string, data []byte, n int) [][]syncml.Command {
	var out [][]syncml.Command
	for off := 0; off < len(data); off += n {
		end := min(off+n, len(data))
		it := syncml.Item{Target: &syncml.Location{LocURI: uri}, Data: &syncml.Data{Value: data[off:end]}, MoreData: end < len(data)}
		it.Meta = &syncml.Meta{Format: format}
		if off == 0 {
			it.Meta.Size = int64(len(data))
		}
		out = append(out, []syncml.Command{&syncml.Replace{Items: []syncml.Item{it}}})
	}
	return out
}

func TestAgent_ReceivesA1MBObjectInChunks(t *testing.T) {
	tr := newTree(t)
	raw := bytes.Repeat([]byte{0, 1, 2, 3, 250, 251, 252}, (1<<20)/7+1)[:1<<20]
	b64 := []byte(base64.StdEncoding.EncodeToString(raw))
	parts := chunks("./Vendor/Name", "b64", b64, 40<<10)
	srv := &scripted{t: t}
	for i, p := range parts {
		final := i == len(parts)-1
		srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
			if i > 0 {
				want := "Status 0 SyncHdr 200 | Status 2 Replace 213 | Alert 1222"
				if s := summary(got); s != want {
					t.Fatalf("answer to chunk %d = %q, want %q", i, s, want)
				}
			}
			hdr := syncml.StatusCode(syncml.StatusOK)
			if i == 0 {
				hdr = syncml.StatusAuthAccepted
			}
			return srv.reply(got, final, hdr, p...)
		})
	}
	srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
		if s := summary(got); s != "Status 0 SyncHdr 200 | Status 2 Replace 200 | Final" {
			t.Fatalf("answer to last chunk = %q", s)
		}
		return srv.reply(got, true, syncml.StatusOK)
	})
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	rs, err := tr.Get("", "./Vendor/Name")
	if err != nil || !bytes.Equal(rs[0].Data, raw) {
		t.Fatalf("stored object differs (err %v, %d bytes)", err, len(rs[0].Data))
	}
}

func TestAgent_LargeObjectErrors(t *testing.T) {
	tests := []struct {
		name  string
		parts func() [][]syncml.Command
		want  string // agent's answer to the last server message
	}{
		{
			name: "size mismatch is 424",
			parts: func() [][]syncml.Command {
				p := chunks("./Vendor/Name", "chr", bytes.Repeat([]byte("a"), 1500), 500)
				p[0][0].(*syncml.Replace).Items[0].Meta.Size = 1800
				p[2][0].(*syncml.Replace).Items[0].MoreData = false
				return p
			},
			want: "Status 0 SyncHdr 200 | Status 2 Replace 424 | Final",
		},
		{
			name: "object over MaxObjSize is 413",
			parts: func() [][]syncml.Command {
				return chunks("./Vendor/Name", "chr", bytes.Repeat([]byte("a"), 3000), 1000)[:1]
			},
			want: "Status 0 SyncHdr 200 | Status 2 Replace 413 | Alert 1222",
		},
		{
			name: "new command before the last chunk sends 1225",
			parts: func() [][]syncml.Command {
				p := chunks("./Vendor/Name", "chr", bytes.Repeat([]byte("a"), 1500), 500)
				return [][]syncml.Command{p[0], {&syncml.Get{Items: []syncml.Item{target("./Vendor/Color")}}}}
			},
			want: "Status 0 SyncHdr 200 | Alert 1225 | Status 2 Get 200 | Results 2 | Final",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			parts := tc.parts()
			for i, p := range parts {
				last := i == len(parts)-1
				srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
					hdr := syncml.StatusCode(syncml.StatusOK)
					if i == 0 {
						hdr = syncml.StatusAuthAccepted
					}
					final := last
					for _, c := range p {
						for _, it := range syncml.ItemsOf(c) {
							if it.MoreData {
								final = false
							}
						}
					}
					return srv.reply(got, final, hdr, p...)
				})
			}
			srv.steps = append(srv.steps, func(t *testing.T, got *syncml.Message) *syncml.Message {
				if s := summary(got); s != tc.want {
					t.Fatalf("answer = %q\nwant     %q", s, tc.want)
				}
				return srv.reply(got, true, syncml.StatusOK)
			}, func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) })
			c := newAgent(t, tr, srv, func(c *client.Config) { c.MaxObjSize = 2000 })
			_, _ = c.Run(context.Background(), client.Trigger{})
			if len(srv.got) < len(parts)+1 {
				t.Fatalf("agent stopped after %d messages", len(srv.got))
			}
			if v := value(t, tr, "./Vendor/Name"); v != "acme" {
				t.Fatalf("partial object was committed: %d bytes", len(v))
			}
		})
	}
}

func TestAgent_SendsA1MBResultInChunks(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			raw := bytes.Repeat([]byte{9, 8, 7, 0, 255}, (1<<20)/5+1)[:1<<20]
			if err := tr.Add("", "./Vendor/Blob", dmtree.Value{Format: "bin", Type: "application/octet-stream", Data: raw}); err != nil {
				t.Fatal(err)
			}
			const limit = 64 << 10
			srv := &scripted{t: t, enc: enc, maxMsg: limit}
			var got []byte
			var size int64
			srv.steps = []step{func(t *testing.T, m *syncml.Message) *syncml.Message {
				return srv.reply(m, true, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Blob")}})
			}}
			collect := func(t *testing.T, m *syncml.Message) *syncml.Message {
				more := false
				for _, r := range results(m) {
					it := r.Items[0]
					if it.Meta != nil && it.Meta.Size > 0 {
						if size != 0 {
							t.Fatalf("Size repeated on a later chunk")
						}
						size = it.Meta.Size
					}
					got = append(got, it.Data.Value...)
					more = it.MoreData
				}
				if m.Final {
					return srv.reply(m, true, syncml.StatusOK)
				}
				if more {
					return srv.reply(m, false, syncml.StatusOK, &syncml.Status{MsgRef: m.Header.MsgID, CmdRef: "3", Cmd: "Results", Data: 213})
				}
				return srv.reply(m, false, syncml.StatusOK, &syncml.Alert{Data: syncml.AlertNextMessage})
			}
			for i := 0; i < 60; i++ {
				srv.steps = append(srv.steps, collect)
			}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.Encoding = enc })
			res, err := c.Run(context.Background(), client.Trigger{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for i, r := range srv.reqs {
				if len(r.Body) > limit {
					t.Fatalf("message %d is %d bytes", i+1, len(r.Body))
				}
			}
			if enc == syncml.EncodingXML {
				if got, err = base64.StdEncoding.DecodeString(string(got)); err != nil {
					t.Fatalf("reassembled b64: %v", err)
				}
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("reassembled %d bytes, want %d identical", len(got), len(raw))
			}
			if size == 0 || res.MessagesSent < 17 {
				t.Fatalf("Size %d, %d messages", size, res.MessagesSent)
			}
		})
	}
}

func TestAgent_RetriesThenFailsWhenServerStopsAnswering(t *testing.T) {
	tr := newTree(t)
	calls := 0
	clk := &instant{}
	dead := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
		calls++
		return nil, errors.New("connection refused")
	})
	c := newAgent(t, tr, dead, func(c *client.Config) {
		c.Clock = clk
		c.Retry = client.RetryPolicy{Attempts: 4, Backoff: 100, MaxBackoff: 250}
	})
	c.QueueAlert(client.GenericAlert("", "./FUMO/1", "org.openmobilealliance.dm.firmwareupdate.update", "int", "critical", "200"))
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrTransport) || res.State != client.StateFailed {
		t.Fatalf("err = %v state %s", err, res.State)
	}
	if calls != 4 || fmt.Sprint(clk.waits) != "[100ns 200ns 250ns]" {
		t.Fatalf("calls %d waits %v", calls, clk.waits)
	}
	if c.PendingAlerts() != 1 {
		t.Fatalf("undelivered generic alert not re-queued")
	}
}

func TestAgent_MalformedServerMessageEndsSessionAndLeavesTreeUnchanged(t *testing.T) {
	bodies := map[string][]byte{
		"garbage":          []byte("this is not SyncML"),
		"truncated XML":    []byte(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>x</LocURI></Target><Source><LocURI>y</LocURI></Source></SyncHdr><SyncBody><Replace><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/Name</LocURI></Target><Data>evil</Data></Item></Replace>`),
		"wrong session id": nil,
		"truncated WBXML":  {0x03, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6c},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			tr := newTree(t)
			tp := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
				if body == nil {
					m, _, _ := syncml.Decode(req.Body, req.ContentType, nil)
					s := &scripted{t: t}
					r := s.reply(m, true, 0, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "evil")}})
					r.Header.SessionID = "FFFFF"
					b, _ := syncml.EncodeXML(r)
					return &client.Response{ContentType: syncml.ContentTypeXML, Body: b}, nil
				}
				return &client.Response{ContentType: "", Body: body}, nil
			})
			c := newAgent(t, tr, tp, nil)
			res, err := c.Run(context.Background(), client.Trigger{})
			if !errors.Is(err, client.ErrProtocol) || res.State != client.StateFailed {
				t.Fatalf("err = %v state %s", err, res.State)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "acme" {
				t.Fatalf("tree changed: %q", v)
			}
		})
	}
}

func TestAgent_QueuedGenericAlertsGoInPackageOne(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message {
		return srv.reply(got, true, 0,
			&syncml.Status{MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: 200},
			&syncml.Status{MsgRef: "1", CmdRef: "3", Cmd: "Alert", Data: 202},
			&syncml.Status{MsgRef: "1", CmdRef: "4", Cmd: "Alert", Data: 200})
	}}
	c := newAgent(t, tr, srv, nil)
	c.QueueAlert(client.GenericAlert("corr-1", "./FUMO/1", "org.openmobilealliance.dm.firmwareupdate.update", "int", "critical", "200"))
	res, err := c.Run(context.Background(), client.Trigger{Alerts: []*syncml.Alert{client.ClientEvent("com.example/Login", "chr", "user")}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := summary(srv.got[0]); got != "Alert 1201 | Replace | Alert 1226 | Alert 1224 | Final" {
		t.Fatalf("pkg1 = %q", got)
	}
	ga := srv.got[0].Body[2].(*syncml.Alert)
	if ga.Correlator != "corr-1" || ga.Items[0].Meta.Mark != "critical" || ga.Items[0].Source.LocURI != "./FUMO/1" {
		t.Fatalf("generic alert = %+v", ga)
	}
	if c.PendingAlerts() != 0 || len(res.ServerStatuses) != 3 {
		t.Fatalf("pending %d, statuses %d", c.PendingAlerts(), len(res.ServerStatuses))
	}
}

func TestAgent_AsyncExecIsReportedByGenericAlertInPackageThree(t *testing.T) {
	tr := newTree(t)
	mustAdd(t, tr, "./FUMO/1/Update", "")
	var c *client.Client
	err := tr.Mount("./FUMO/1/Update", dmtree.ExecFunc(func(ctx context.Context, uri string, data []byte, corr string) (syncml.StatusCode, error) {
		c.QueueAlert(client.GenericAlert(corr, "./FUMO/1", "org.openmobilealliance.dm.firmwareupdate.update", "int", "", "200"))
		return syncml.StatusAccepted, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0, &syncml.Exec{Correlator: "job-7", Items: []syncml.Item{target("./FUMO/1/Update")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, syncml.StatusOK)
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, syncml.StatusOK, &syncml.Status{MsgRef: got.Header.MsgID, CmdRef: "2", Cmd: "Alert", Data: 200})
		},
	}
	c = newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := summary(srv.got[1]); got != "Status 0 SyncHdr 200 | Status 2 Exec 202 | Alert 1226 | Final" &&
		got != "Status 0 SyncHdr 200 | Status 2 Exec 202 | Final" {
		t.Fatalf("pkg3 = %q", got)
	}
	var corr string
	for _, m := range srv.got[1:] {
		for _, cmd := range m.Body {
			if a, ok := cmd.(*syncml.Alert); ok && a.Data == syncml.AlertGeneric {
				corr = a.Correlator
			}
		}
	}
	if corr != "job-7" {
		t.Fatalf("no 1226 with the Exec correlator was sent")
	}
}

// A server package of statuses only ends the session (OMA-TS-DM_Protocol-V1_2 §8): an
// alert queued meanwhile (an asynchronous Exec that finished during the
// session) is not sent after it, which the server would refuse as a message
// of an ended session, but in package 1 of the next session.
func TestAgent_AlertQueuedAfterTheLastCommandsWaitsForTheNextSession(t *testing.T) {
	tr := newTree(t)
	var c *client.Client
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			c.QueueAlert(client.GenericAlert("late", "./FUMO/1", "org.openmobilealliance.dm.firmwareupdate.update", "int", "", "200"))
			return srv.reply(got, true, syncml.StatusOK)
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, syncml.StatusOK, &syncml.Status{MsgRef: got.Header.MsgID, CmdRef: "3", Cmd: "Alert", Data: 200})
		},
	}
	c = newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(srv.got) != 1 || c.PendingAlerts() != 1 {
		t.Fatalf("first session sent %d messages, %d alerts pending; want 1 and 1", len(srv.got), c.PendingAlerts())
	}
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if got := summary(srv.got[1]); got != "Alert 1201 | Replace | Alert 1226 | Final" || c.PendingAlerts() != 0 {
		t.Fatalf("second session pkg1 = %q, pending %d", got, c.PendingAlerts())
	}
}

func TestAgent_AsksForTheNextMessageOnlyWhenItHasNothingElseToSend(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, false, 0, &syncml.Get{Items: []syncml.Item{target("./Vendor/Name")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, false, syncml.StatusOK, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Color", "red")}})
		},
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	c := newAgent(t, tr, srv, nil)
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{
		"Alert 1201 | Replace | Final",
		// Results answer the message: no Alert 1222, and no Final while the
		// server's package is open.
		"Status 0 SyncHdr 200 | Status 2 Get 200 | Results 2",
		// Only statuses: ask for more.
		"Status 0 SyncHdr 200 | Status 2 Replace 200 | Alert 1222",
		// The server closed its package with statuses only: the session ends
		// without a bare SyncHdr Status.
	}
	if len(srv.got) != len(want) {
		t.Fatalf("agent sent %d messages, want %d", len(srv.got), len(want))
	}
	for i, w := range want {
		if got := summary(srv.got[i]); got != w {
			t.Fatalf("message %d = %q\nwant        %q", i+1, got, w)
		}
	}
}
