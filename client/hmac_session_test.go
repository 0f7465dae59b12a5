package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

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
