package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// FuzzAgent_ServerMessage feeds arbitrary bytes to the agent as the server's
// answer to package 1 (and to every later message): the session must end with
// a result, never a panic or a hang.
func FuzzAgent_ServerMessage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if m, err := syncml.DecodeXML(b, nil); err == nil {
			if w, err := syncml.EncodeWBXML(m); err == nil {
				f.Add(w)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr := newTree(t)
		tp := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
			return &client.Response{Body: body}, nil
		})
		c := newAgent(t, tr, tp, func(c *client.Config) {
			c.MaxMessages = 4
			c.Retry.Attempts = 1
			c.UI = client.AutoAnswer{}
			c.MaxObjSize = 1 << 16
		})
		res, err := c.Run(context.Background(), client.Trigger{Initiator: client.ServerInitiated, SessionID: 1})
		if res == nil || (err == nil) != (res.State == client.StateCompleted) {
			t.Fatalf("result %+v err %v", res, err)
		}
		if err != nil && !errors.Is(err, client.ErrProtocol) && !errors.Is(err, client.ErrTooManyMessages) &&
			!errors.Is(err, client.ErrAborted) && !errors.Is(err, client.ErrAuthFailed) && !errors.Is(err, client.ErrTransport) && !errors.Is(err, client.ErrServerAuth) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

// FuzzInboxOffer: any datagram gets a verdict, and only a package 0 whose
// digest verifies is ever queued.
func FuzzInboxOffer(f *testing.F) {
	good, err := (&notification.Package0{SessionID: 3, ServerID: testServerID}).Encode("srvpw", []byte("n"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{good, notification.EncodePush(1, good), {}, {0x06, 0x05, 0x04}, good[:20]} {
		f.Add(s)
	}
	tp := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
		return nil, errors.New("no sessions in this test")
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := newAgent(t, newTree(t), tp, func(c *client.Config) {
			c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("n")
		})
		in := c.NewInbox(client.InboxOptions{})
		v := in.Offer(b)
		if v < client.VerdictQueued || v > client.VerdictForged {
			t.Fatalf("verdict %d", v)
		}
		if v == client.VerdictQueued {
			p, err := notification.DecodeAny(b)
			if err != nil || !p.Verify("srvpw", []byte("n")) && !p.Verify("srvpw", notification.ResetNonce) && !p.Verify("srvpw", notification.ResetNonceZeros) {
				t.Fatalf("queued a package that does not verify: %x", b)
			}
		}
	})
}
