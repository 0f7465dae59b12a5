package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

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

func TestAgent_ServerAbortRunsNothingElseInItsMessage(t *testing.T) {
	tr := newTree(t)
	srv := &scripted{t: t}
	srv.steps = []step{
		func(t *testing.T, got *syncml.Message) *syncml.Message {
			return srv.reply(got, true, 0,
				&syncml.Status{MsgRef: "1", CmdRef: "1", Cmd: "Alert", Data: syncml.StatusOK},
				&syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "changed")}},
				&syncml.Alert{Data: syncml.AlertSessionAbort})
		},
	}
	c := newAgent(t, tr, srv, nil)
	res, err := c.Run(context.Background(), client.Trigger{})
	if !errors.Is(err, client.ErrAborted) || res.State != client.StateAborted || len(srv.got) != 1 {
		t.Fatalf("err = %v, state = %s, messages = %d", err, res.State, len(srv.got))
	}
	if v := value(t, tr, "./Vendor/Name"); v != "acme" {
		t.Fatalf("command beside the abort ran: %q", v)
	}
	if len(res.ServerStatuses) != 1 || len(res.Commands) != 0 {
		t.Fatalf("statuses %d, commands %d", len(res.ServerStatuses), len(res.Commands))
	}
}

func TestAgent_HMACSessionNeeds200WithANextNonceForEveryMessage(t *testing.T) {
	tests := []struct {
		name string
		hdr  syncml.StatusCode
		chal *syncml.Chal
	}{
		{"200 without NextNonce", syncml.StatusOK, nil},
		{"212 instead of 200", syncml.StatusAuthAccepted, auth.MakeChal(syncml.AuthMAC, []byte("n2"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			srv := &scripted{t: t}
			srv.steps = []step{
				func(t *testing.T, got *syncml.Message) *syncml.Message {
					m := srv.reply(got, true, tc.hdr, &syncml.Replace{Items: []syncml.Item{item("./Vendor/Name", "changed")}})
					m.Body[0].(*syncml.Status).Chal = tc.chal
					return m
				},
				func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
			}
			c := newAgent(t, tr, srv, func(c *client.Config) {
				c.Account.AuthScheme = syncml.AuthMAC
				c.Account.ClientName, c.Account.ClientSecret = "dev", "devpw"
				c.Account.ClientNonce = []byte("n1")
			})
			res, err := c.Run(context.Background(), client.Trigger{})
			if !errors.Is(err, client.ErrAuthFailed) || res.State != client.StateFailed {
				t.Fatalf("err = %v, state = %s", err, res.State)
			}
			if len(srv.got) != 1 {
				t.Fatalf("agent sent %d messages after the broken HMAC answer", len(srv.got)-1)
			}
		})
	}
}
