package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// chunk is the first chunk of a large object: Meta Size and MoreData.
func chunk(uri, data string, size int64) syncml.Item {
	it := item(uri, data)
	it.Meta = &syncml.Meta{Size: size}
	it.MoreData = true
	return it
}

func TestAgent_ChunkedItemInsideAtomicOrSequenceIsRefused(t *testing.T) {
	tests := []struct {
		name string
		cmd  syncml.Command
		want string
	}{
		{
			name: "Atomic rolls back and refuses the chunk with 400",
			cmd: &syncml.Atomic{Commands: []syncml.Command{
				&syncml.Replace{CmdID: "3", Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Add{CmdID: "4", Items: []syncml.Item{chunk("./Vendor/Big", "abc", 100)}},
				&syncml.Replace{CmdID: "5", Items: []syncml.Item{item("./Vendor/Color", "red")}},
			}},
			want: "Status 2 Atomic 507 | Status 3 Replace 216 | Status 4 Add 400 | Status 5 Replace 215",
		},
		{
			// A failed member stops the Sequence: the rest are 215.
			name: "Sequence refuses the chunk and stops",
			cmd: &syncml.Sequence{Commands: []syncml.Command{
				&syncml.Add{CmdID: "3", Items: []syncml.Item{chunk("./Vendor/Big", "abc", 100)}},
				&syncml.Replace{CmdID: "4", Items: []syncml.Item{item("./Vendor/Color", "red")}},
			}},
			want: "Status 2 Sequence 200 | Status 3 Add 400 | Status 4 Replace 215",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.cmd) },
				// The server (wrongly) goes on with the rest of the object:
				// there is no open object, so it is an ordinary Add.
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, nil)
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := "Status 0 SyncHdr 200 | " + tc.want + " | Final"
			if got := summary(srv.got[1]); got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
			if v := value(t, tr, "./Vendor/Big"); v != "<404>" {
				t.Fatalf("chunk was committed: %q", v)
			}
			if v := value(t, tr, "./Vendor/Name"); v != "acme" {
				t.Fatalf("./Vendor/Name = %q", v)
			}
		})
	}
}

// longAtomic is an Atomic adding n leaves with long names, whose statuses
// (each echoing its TargetRef) are large.
func longAtomic(n int) *syncml.Atomic {
	a := &syncml.Atomic{}
	for i := 0; i < n; i++ {
		uri := fmt.Sprintf("./Vendor/%s%02d", strings.Repeat("L", 80), i)
		a.Commands = append(a.Commands, &syncml.Add{CmdID: fmt.Sprint(100 + i), Items: []syncml.Item{item(uri, "v")}})
	}
	return a
}

func TestAgent_AtomicWhoseStatusesCannotFitOneMessageIs517AndRolledBack(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t, enc: enc, maxMsg: 1500}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					return srv.reply(got, true, 0, longAtomic(30))
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, func(c *client.Config) { c.Encoding = enc })
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := summary(srv.got[1]), "Status 0 SyncHdr 200 | Status 2 Atomic 517 | Final"; got != want {
				t.Fatalf("pkg3 = %q\nwant   %q", got, want)
			}
			rs, err := tr.Get("", "./Vendor")
			if err != nil || string(rs[0].Data) != "Name/Color" && string(rs[0].Data) != "Color/Name" {
				t.Fatalf("rolled-back Atomic left nodes: %q %v", rs[0].Data, err)
			}
		})
	}
}

func TestAgent_AtomicStatusesTravelTogetherInOneMessage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t, maxMsg: 2600}
	var cmds []syncml.Command
	for i := 0; i < 8; i++ {
		cmds = append(cmds, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", strings.Repeat("n", 100))}})
	}
	atomic := longAtomic(6)
	cmds = append(cmds, atomic)
	next := func(t *testing.T, got *syncml.Message) *syncml.Message {
		if got.Final {
			return srv.reply(got, true, syncml.StatusOK)
		}
		return srv.reply(got, false, syncml.StatusOK, &syncml.Alert{Data: syncml.AlertNextMessage})
	}
	srv.steps = []step{func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, cmds...) }, next, next, next, next, next}
	c := newAgent(t, tr, srv, nil)
	res, err := c.Run(context.Background(), client.Trigger{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.MessagesSent < 3 {
		t.Fatalf("package 3 was not split: %d messages", res.MessagesSent)
	}
	members := map[string]bool{atomic.CmdID: true}
	for _, m := range atomic.Commands {
		members[m.ID()] = true
	}
	total := 0
	for i, m := range srv.got[1:] {
		if n := len(srv.reqs[i+1].Body); n > 2600 {
			t.Fatalf("message %d is %d bytes", i+2, n)
		}
		n := 0
		for _, c := range m.Body {
			if st, ok := c.(*syncml.Status); ok && st.CmdRef != "0" && members[st.CmdRef] && st.Cmd != "Replace" {
				n++
			}
		}
		if n != 0 && n != len(members) {
			t.Fatalf("message %d carries %d of the Atomic's %d statuses: %s", i+2, n, len(members), summary(m))
		}
		total += n
	}
	if total != len(members) {
		t.Fatalf("Atomic statuses sent: %d, want %d", total, len(members))
	}
	if code, _ := res.StatusOf("Atomic", ""); code != syncml.StatusOK {
		t.Fatalf("Atomic status %d", code)
	}
}
