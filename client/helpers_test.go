package client_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

const (
	testServerID  = "test.dm.server"
	testServerURL = "http://127.0.0.1/dm"
	testTLSURL    = "https://127.0.0.1/dm"
	testDeviceID  = "IMEI:493005100592800"
)

// step is one server turn of a lock-step script: it sees the agent's decoded
// message and returns the server's answer.
type step func(t *testing.T, got *syncml.Message) *syncml.Message

// scripted is a raw DM server that answers with exact, scripted messages.
type scripted struct {
	t       *testing.T
	enc     syncml.Encoding
	steps   []step
	got     []*syncml.Message
	reqs    []*client.Request
	msgID   int
	maxMsg  int64
	replyCT string
	// sign, when set, gives the x-syncml-hmac header of each reply body.
	sign func(body []byte) string
}

func (s *scripted) RoundTrip(_ context.Context, req *client.Request) (*client.Response, error) {
	s.t.Helper()
	m, _, err := syncml.Decode(req.Body, req.ContentType, nil)
	if err != nil {
		s.t.Fatalf("agent sent an undecodable message: %v\n%s", err, req.Body)
	}
	s.got = append(s.got, m)
	s.reqs = append(s.reqs, req)
	if len(s.steps) == 0 {
		return nil, errors.New("script: no more steps")
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	reply := st(s.t, m)
	if reply == nil {
		return nil, errors.New("script: server silent")
	}
	b, err := syncml.Encode(reply, s.enc)
	if err != nil {
		s.t.Fatalf("encoding scripted reply: %v", err)
	}
	ct := s.enc.ContentType()
	if s.replyCT != "" {
		ct = s.replyCT
	}
	// As the HTTP binding reports it: an https exchange went over TLS.
	resp := &client.Response{ContentType: ct, Body: b, SecureSession: strings.HasPrefix(req.URL, "https:")}
	if s.sign != nil {
		resp.HMAC = s.sign(b)
	}
	return resp, nil
}

// CheckRespURI applies the HTTP binding's rules (client.RespURIChecker).
func (s *scripted) CheckRespURI(cur, next string) error { return dmhttp.CheckRespURI(cur, next) }

// reply builds a server message answering got: Status 212 for its SyncHdr
// (unless hdr is given) followed by cmds, with CmdIDs numbered in order.
func (s *scripted) reply(got *syncml.Message, final bool, hdr syncml.StatusCode, cmds ...syncml.Command) *syncml.Message {
	s.msgID++
	if hdr == 0 {
		hdr = syncml.StatusAuthAccepted
	}
	m := &syncml.Message{
		Header: syncml.Header{
			VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12,
			SessionID: got.Header.SessionID, MsgID: strconv.Itoa(s.msgID),
			Target: syncml.Location{LocURI: got.Header.Source.LocURI},
			Source: syncml.Location{LocURI: got.Header.Target.LocURI},
		},
		Final: final,
	}
	if s.maxMsg > 0 {
		m.Header.Meta = &syncml.Meta{MaxMsgSize: s.maxMsg}
	}
	m.Body = append(m.Body, &syncml.Status{MsgRef: got.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: hdr})
	m.Body = append(m.Body, cmds...)
	for i, c := range m.Body {
		setID(c, strconv.Itoa(i+1))
	}
	return m
}

func setID(c syncml.Command, id string) {
	switch c := c.(type) {
	case *syncml.Status:
		c.CmdID = id
	case *syncml.Add:
		c.CmdID = id
	case *syncml.Replace:
		c.CmdID = id
	case *syncml.Delete:
		c.CmdID = id
	case *syncml.Get:
		c.CmdID = id
	case *syncml.Copy:
		c.CmdID = id
	case *syncml.Exec:
		c.CmdID = id
	case *syncml.Alert:
		c.CmdID = id
	case *syncml.Atomic:
		c.CmdID = id
	case *syncml.Sequence:
		c.CmdID = id
	}
}

// summary renders the agent's message compactly for exact comparisons:
// "Status 0 SyncHdr 212 | Status 2 Add 200 | Results 3 | Alert 1222".
func summary(m *syncml.Message) string {
	var parts []string
	for _, c := range m.Body {
		switch c := c.(type) {
		case *syncml.Status:
			p := fmt.Sprintf("Status %s %s %d", c.CmdRef, c.Cmd, int(c.Data))
			for _, it := range c.Items {
				p += " [" + it.Data.String() + "]"
			}
			parts = append(parts, p)
		case *syncml.Results:
			p := "Results " + c.CmdRef
			for _, it := range c.Items {
				if it.MoreData {
					p += " more"
				}
			}
			parts = append(parts, p)
		case *syncml.Alert:
			parts = append(parts, fmt.Sprintf("Alert %d", int(c.Data)))
		default:
			parts = append(parts, c.CommandName())
		}
	}
	if m.Final {
		parts = append(parts, "Final")
	}
	return strings.Join(parts, " | ")
}

// newTree is a device tree with DevInfo, an open ./Vendor subtree and a
// ./Secret node only another server may read.
func newTree(t *testing.T) *dmtree.Tree {
	t.Helper()
	tr := dmtree.New(&dmtree.Options{RootACL: "Add=*&Get=*&Replace=*&Delete=*&Exec=*"})
	for _, kv := range [][2]string{
		{"DevId", testDeviceID}, {"Man", "omadm"}, {"Mod", "test"}, {"DmV", "1.2"}, {"Lang", "en-US"},
	} {
		mustAdd(t, tr, "./DevInfo/"+kv[0], kv[1])
	}
	mustAdd(t, tr, "./Vendor/Name", "acme")
	mustAdd(t, tr, "./Vendor/Color", "blue")
	mustAdd(t, tr, "./Secret/Pin", "1234")
	if err := tr.Replace("", "./Secret?prop=ACL", dmtree.Value{Data: []byte("Get=other&Replace=other")}); err != nil {
		t.Fatalf("setting ACL: %v", err)
	}
	return tr
}

func mustAdd(t *testing.T, tr *dmtree.Tree, uri, v string) {
	t.Helper()
	if err := tr.Add("", uri, dmtree.Value{Format: "chr", Type: "text/plain", Data: []byte(v)}); err != nil {
		t.Fatalf("Add %s: %v", uri, err)
	}
}

func value(t *testing.T, tr *dmtree.Tree, uri string) string {
	t.Helper()
	rs, err := tr.Get("", uri)
	if err != nil {
		return "<" + strconv.Itoa(int(syncml.StatusOf(err))) + ">"
	}
	if len(rs) != 1 {
		t.Fatalf("Get %s: %d results", uri, len(rs))
	}
	return string(rs[0].Data)
}

// instant is a Clock whose waits end at once, so retry tests do not sleep.
type instant struct{ waits []time.Duration }

func (c *instant) Now() time.Time { return time.Unix(1700000000, 0) }
func (c *instant) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- time.Unix(1700000000, 0)
	return ch
}

// newAgent builds a client on tree with the scripted server as transport.
func newAgent(t *testing.T, tr *dmtree.Tree, srv client.Transport, mod func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{
		Tree:      client.DMTree(tr),
		Account:   client.Account{ServerID: testServerID, ServerURL: testServerURL},
		DeviceID:  testDeviceID,
		Transport: srv,
		Clock:     &instant{},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

func item(target, data string) syncml.Item {
	return syncml.Item{Target: &syncml.Location{LocURI: target}, Data: syncml.TextData(data)}
}

func target(uri string) syncml.Item {
	return syncml.Item{Target: &syncml.Location{LocURI: uri}}
}

// results returns the Results commands of m.
func results(m *syncml.Message) []*syncml.Results {
	var out []*syncml.Results
	for _, c := range m.Body {
		if r, ok := c.(*syncml.Results); ok {
			out = append(out, r)
		}
	}
	return out
}
