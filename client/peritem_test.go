package client_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// itemStatuses renders the Statuses answering CmdRef ref as "target=code"
// (SourceRef appended for Copy), in message order.
func itemStatuses(m *syncml.Message, ref string) string {
	var parts []string
	for _, c := range m.Body {
		st, ok := c.(*syncml.Status)
		if !ok || st.CmdRef != ref {
			continue
		}
		p := strings.Join(st.TargetRefs, ",")
		if len(st.SourceRefs) > 0 {
			p += "<" + strings.Join(st.SourceRefs, ",")
		}
		p += "=" + fmt.Sprint(int(st.Data))
		for _, it := range st.Items {
			if it.Target != nil {
				p += "@" + it.Target.LocURI
			}
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// runOne sends cmd in package 2 and returns the agent's package 3.
func runOne(t *testing.T, c *client.Client, srv *scripted, cmds ...syncml.Command) *syncml.Message {
	t.Helper()
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, cmds...) },
		func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
	}
	if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return srv.got[1]
}

// OMA-TS-SyncML_RepPro-V1_2 §5.1 (Status, TargetRef/SourceRef): a command
// with several Items is executed per Item and the Status names the items a
// code applies to, so one absent URI does not hide the others' values.
func TestAgent_GetOfSeveralURIsReturnsFoundValuesAndA404PerAbsentOne(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	c := newAgent(t, tr, srv, nil)
	uris := []string{"./DevInfo/DevId", "./DevInfo/Man", "./Nope/A", "./DevInfo/Mod", "./DevInfo/DmV", "./Nope/B", "./Vendor/Name"}
	g := &syncml.Get{}
	for _, u := range uris {
		g.Items = append(g.Items, target(u))
	}
	got := runOne(t, c, srv, g)
	want := "./DevInfo/DevId=200 ./DevInfo/Man=200 ./Nope/A=404 ./DevInfo/Mod=200 ./DevInfo/DmV=200 ./Nope/B=404 ./Vendor/Name=200"
	if s := itemStatuses(got, "2"); s != want {
		t.Fatalf("statuses %q\nwant     %q", s, want)
	}
	rs := results(got)
	if len(rs) != 1 || rs[0].CmdRef != "2" {
		t.Fatalf("want one Results for the Get, got %d", len(rs))
	}
	var srcs []string
	for _, it := range rs[0].Items {
		srcs = append(srcs, it.Source.LocURI+"="+it.Data.String())
	}
	if s := strings.Join(srcs, " "); s != "./DevInfo/DevId="+testDeviceID+" ./DevInfo/Man=omadm ./DevInfo/Mod=test ./DevInfo/DmV=1.2 ./Vendor/Name=acme" {
		t.Fatalf("Results items %q", s)
	}
	// Results follow the Statuses of the same Get.
	if sum := summary(got); !strings.HasSuffix(sum, "Status 2 Get 200 | Results 2 | Final") {
		t.Fatalf("order: %s", sum)
	}
}

// OMA-TS-SyncML_RepPro-V1_2 §5.1 (Status): Add, Replace, Delete and Copy run
// each Item on its own; a failing Item gets its own Status and the others
// take effect. When every Item has the same outcome one Status answers them.
func TestAgent_ManagementCommandsReportPerItem(t *testing.T) {
	src := func(tgt, s string) syncml.Item {
		return syncml.Item{Target: &syncml.Location{LocURI: tgt}, Source: &syncml.Location{LocURI: s}}
	}
	tests := []struct {
		name  string
		cmd   syncml.Command
		want  string            // statuses of CmdRef 2
		after map[string]string // node values afterwards
	}{
		{"Add", &syncml.Add{Items: []syncml.Item{item("./Vendor/A", "1"), item("./Vendor/Name", "x"), item("./Vendor/B", "2")}},
			"./Vendor/A=200 ./Vendor/Name=418 ./Vendor/B=200",
			map[string]string{"./Vendor/A": "1", "./Vendor/Name": "acme", "./Vendor/B": "2"}},
		{"Replace", &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "n"), item("./Vendor/Gone", "x"), item("./Secret/Pin", "0"), item("./Vendor/Color", "red")}},
			"./Vendor/Name=200 ./Vendor/Gone=404 ./Secret/Pin=425 ./Vendor/Color=200",
			map[string]string{"./Vendor/Name": "n", "./Vendor/Color": "red", "./Secret/Pin": "1234"}},
		{"Delete", &syncml.Delete{Items: []syncml.Item{target("./Vendor/Name"), target("./Vendor/Gone"), target("./Vendor/Color")}},
			"./Vendor/Name=200 ./Vendor/Gone=404 ./Vendor/Color=200",
			map[string]string{"./Vendor/Name": "<404>", "./Vendor/Color": "<404>"}},
		{"Copy", &syncml.Copy{Items: []syncml.Item{src("./Vendor/C1", "./Vendor/Name"), src("./Vendor/C2", "./Vendor/Gone"), src("./Vendor/C3", "./Vendor/Color")}},
			"./Vendor/C1<./Vendor/Name=200 ./Vendor/C2<./Vendor/Gone=404 ./Vendor/C3<./Vendor/Color=200",
			map[string]string{"./Vendor/C1": "acme", "./Vendor/C2": "<404>", "./Vendor/C3": "blue"}},
		{"implicit Add failure names the ancestor in its own Status", &syncml.Add{Items: []syncml.Item{item("./Vendor/A", "1"), item("./Vendor/Name/X/Y", "2")}},
			"./Vendor/A=200 ./Vendor/Name/X/Y=405@./Vendor/Name/X",
			map[string]string{"./Vendor/A": "1"}},
		{"same outcome for every item is one Status", &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "n"), item("./Vendor/Color", "c")}},
			"./Vendor/Name,./Vendor/Color=200",
			map[string]string{"./Vendor/Name": "n", "./Vendor/Color": "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			c := newAgent(t, tr, srv, nil)
			got := runOne(t, c, srv, tc.cmd)
			if s := itemStatuses(got, "2"); s != tc.want {
				t.Fatalf("statuses %q\nwant     %q", s, tc.want)
			}
			for uri, v := range tc.after {
				if g := value(t, tr, uri); g != v {
					t.Errorf("%s = %q, want %q", uri, g, v)
				}
			}
		})
	}
}

// OMA-TS-SyncML_RepPro-V1_2, Atomic: a member with several Items is
// still all or nothing: one failing Item rolls back the whole Atomic.
func TestAgent_AtomicMemberWithSeveralItemsStaysAllOrNothing(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	c := newAgent(t, tr, srv, nil)
	got := runOne(t, c, srv, &syncml.Atomic{Commands: []syncml.Command{
		&syncml.Replace{CmdID: "3", Items: []syncml.Item{item("./Vendor/Name", "n"), item("./Vendor/Gone", "x")}},
	}})
	if s := summary(got); s != "Status 0 SyncHdr 200 | Status 2 Atomic 507 | Status 3 Replace 404 | Final" {
		t.Fatalf("pkg3 = %s", s)
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("Atomic was not rolled back: %q", v)
	}
}

// OMA-TS-SyncML_RepPro-V1_2 §10 (413 Request entity too large, 420 Device full): a large object
// the tree's budget can never hold is refused on its first chunk, before
// the device buffers the rest.
func TestAgent_LargeObjectOverTheTreeBudgetIsRefusedOnTheFirstChunk(t *testing.T) {
	tests := []struct {
		name string
		opts dmtree.Options
		add  bool
		want string
	}{
		{"Add larger than the room left is 420", dmtree.Options{MaxTotalBytes: 2000}, true, "Status 2 Add 420"},
		{"Replace larger than MaxValueSize is 413", dmtree.Options{MaxValueSize: 2000}, false, "Status 2 Replace 413"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.RootACL = "Add=*&Get=*&Replace=*&Delete=*"
			tr := dmtree.New(&opts)
			for _, kv := range [][2]string{{"DevId", testDeviceID}, {"Man", "omadm"}, {"Mod", "test"}, {"DmV", "1.2"}, {"Lang", "en-US"}} {
				mustAdd(t, tr, "./DevInfo/"+kv[0], kv[1])
			}
			mustAdd(t, tr, "./Vendor/Name", "acme")
			parts := chunks("./Vendor/Name", "chr", bytes.Repeat([]byte("a"), 3000), 1000)
			var cmd syncml.Command = parts[0][0]
			if tc.add {
				r := parts[0][0].(*syncml.Replace)
				r.Items[0].Target.LocURI = "./Vendor/Big"
				cmd = &syncml.Add{Items: r.Items}
			}
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, false, 0, cmd) },
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					if s := summary(got); s != "Status 0 SyncHdr 200 | "+tc.want+" | Alert 1222" {
						t.Fatalf("answer to the first chunk = %q", s)
					}
					return srv.reply(got, true, syncml.StatusOK)
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, nil)
			_, err := c.Run(context.Background(), client.Trigger{})
			if len(srv.got) < 2 {
				t.Fatalf("agent stopped after %d messages: %v", len(srv.got), err)
			}
		})
	}
}
