package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// TestE2E_LargeGetResultIsReassembledByteExact: OMA-TS-DM_Protocol-V1_2
// §8.2 (Large Object Handling): a value larger than the server's
// MaxMsgSize comes back in chunks (MoreData on all but the last, Meta Size
// on the first); the server reassembles them and commits the object only
// with the last one. A 1 MiB binary value, in chunks of a few KiB, arrives
// byte for byte, and no chunk is left in storage afterwards.
func TestE2E_LargeGetResultIsReassembledByteExact(t *testing.T) {
	matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
		n := startNode(t, b.open(t), func(o *server.Options, _ *dmhttp.HandlerOptions) { o.MaxMsgSize = 8 << 10 })
		a := newAgent(t, n.store, n.url, enc)
		want := make([]byte, 1<<20+17)
		rng := rand.NewChaCha8([32]byte{7})
		_, _ = rng.Read(want)
		if err := a.Tree().Add("", "./Big", dmtree.Value{Format: "bin", Type: "application/octet-stream", Data: want}); err != nil {
			t.Fatal(err)
		}
		id := queue(t, n.store, a.ID(), storage.JobSpec{Command: "Get", Items: item("./Big")})
		res := a.session(t)
		if res.MessagesSent < 100 {
			t.Fatalf("%d messages: the value was not sent in chunks", res.MessagesSent)
		}
		j := job(t, n.store, id)
		if j.State != storage.JobDone || len(j.Results) != 1 {
			t.Fatalf("job %s %d %q, %d results", j.State, j.Status, j.Error, len(j.Results))
		}
		got, err := base64.StdEncoding.DecodeString(j.Results[0].Data)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("result: %d bytes (%v), want %d bytes equal to the device's value", len(got), err, len(want))
		}
		if cs, ok := n.store.(storage.ChunkStore); ok {
			if _, left, err := cs.ReadChunks(context.Background(), a.ID(), res.SessionID); err != nil || left != 0 {
				t.Errorf("%d chunks left in storage after the object completed (%v)", left, err)
			}
		}
	})
}

// TestE2E_ServerKilledMidLargeObjectTheRetryCompletesIt: the chunks of a
// large object received so far are stored with the session state, in the
// same atomic write, so a server that dies between two chunks loses
// nothing: the device's retry of the message, taken by another node sharing
// the store, continues the object where it was (OMA-TS-DM_Protocol-V1_2
// §8.2: chunks in contiguous messages, committed with the last one).
func TestE2E_ServerKilledMidLargeObjectTheRetryCompletesIt(t *testing.T) {
	for _, tc := range []struct {
		name string
		// stored: node A stores message 30 before it dies (its answer is
		// lost); otherwise it dies before message 30 reaches it.
		stored bool
	}{
		{"after the chunk was stored", true},
		{"before the chunk arrived", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			matrix(t, func(t *testing.T, b backend, enc syncml.Encoding) {
				small := func(o *server.Options, _ *dmhttp.HandlerOptions) { o.MaxMsgSize = 8 << 10 }
				nodeA := startNode(t, b.open(t), small)
				a := newAgent(t, nodeA.store, nodeA.url, enc,
					withRetry(client.RetryPolicy{Attempts: 3, Backoff: 10 * time.Millisecond, Timeout: 20 * time.Second}))
				want := make([]byte, 512<<10)
				_, _ = rand.NewChaCha8([32]byte{9}).Read(want)
				if err := a.Tree().Add("", "./Big", dmtree.Value{Format: "bin", Data: want}); err != nil {
					t.Fatal(err)
				}
				id := queue(t, nodeA.store, a.ID(), storage.JobSpec{Command: "Get", Items: item("./Big")})
				nodeB := startNode(t, b.open(t), small)
				const killAt = 30
				kill := func() {
					nodeA.hs.CloseClientConnections()
					nodeA.hs.Close()
				}
				if tc.stored {
					a.route.after = func(n int, _ *client.Response) error {
						if n == killAt {
							kill()
							return errServerGone
						}
						return nil
					}
				} else {
					a.route.seen = func(n int, _ *client.Request) {
						if n == killAt {
							kill()
						}
					}
				}
				a.route.target = func(n int, url string) string {
					if n > killAt || n == killAt && !tc.stored {
						return rehost(url, nodeA, nodeB)
					}
					return url
				}
				res := a.session(t)
				if res.MessagesSent <= killAt {
					t.Fatalf("session ended after %d messages, before the kill", res.MessagesSent)
				}
				j := job(t, nodeB.store, id)
				if j.State != storage.JobDone || len(j.Results) != 1 {
					t.Fatalf("job %s %d %q", j.State, j.Status, j.Error)
				}
				if got, err := base64.StdEncoding.DecodeString(j.Results[0].Data); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("result: %d bytes (%v), want the device's %d bytes", len(got), err, len(want))
				}
			})
		})
	}
}
