package client_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/dmacc"
	"github.com/omadm/omadm/syncml"
)

func TestAgent_DeletingAnAccountStripsItsServerIDFromEveryACL(t *testing.T) {
	const other = "other.server"
	tests := []struct {
		name string
		cmd  func() syncml.Command
	}{
		{"Delete", func() syncml.Command {
			return &syncml.Delete{Items: []syncml.Item{target(dmacc.Root + "/Other")}}
		}},
		{"Delete inside Atomic", func() syncml.Command {
			return &syncml.Atomic{Commands: []syncml.Command{&syncml.Delete{CmdID: "10", Items: []syncml.Item{target(dmacc.Root + "/Other")}}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			if err := dmacc.Install(tr); err != nil {
				t.Fatal(err)
			}
			if err := dmacc.AddAccount(tr, dmacc.Account{ID: "Other", ServerID: other, Addr: "http://other/dm"}); err != nil {
				t.Fatal(err)
			}
			for uri, acl := range map[string]string{
				"./Vendor":            "Get=" + other + "+" + testServerID + "&Replace=" + other,
				dmacc.Root + "/Other": "Get=" + other + "&Delete=" + testServerID,
				"./Secret/Pin":        "Get=" + other,
			} {
				if err := tr.Replace("", uri+"?prop=ACL", dmtree.Value{Data: []byte(acl)}); err != nil {
					t.Fatalf("ACL of %s: %v", uri, err)
				}
			}
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, 0, tc.cmd()) },
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, nil)
			if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if _, err := dmacc.FindByServerID(tr, other); syncml.StatusOf(err) != syncml.StatusNotFound {
				t.Fatalf("account not deleted: %v (agent said %s)", err, summary(srv.got[1]))
			}
			for uri, want := range map[string]string{
				"./Vendor":     "Get=" + testServerID,
				"./Secret/Pin": "",
				"./Secret":     "Get=other&Replace=other",
			} {
				info, err := tr.Info(uri)
				if err != nil {
					t.Fatal(err)
				}
				if info.ACL != want {
					t.Fatalf("ACL of %s = %q, want %q", uri, info.ACL, want)
				}
			}
		})
	}
}
