package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// BenchmarkAgent_Session measures one whole session: package 1, a server
// package of 10 Replace + 10 Get, package 3 and the closing package 4, over
// an in-memory transport (encoding and decoding included).
func BenchmarkAgent_Session(b *testing.B) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		b.Run(enc.String(), func(b *testing.B) {
			t := &testing.T{}
			tr := newTree(t)
			var cmds []syncml.Command
			for i := 0; i < 10; i++ {
				uri := fmt.Sprintf("./Vendor/K%d", i)
				mustAdd(t, tr, uri, "v")
				cmds = append(cmds, &syncml.Replace{Items: []syncml.Item{item(uri, "value")}},
					&syncml.Get{Items: []syncml.Item{target(uri)}})
			}
			srv := &scripted{t: t, enc: enc}
			var pkg2, pkg4 []byte
			tp := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
				m, _, err := syncml.Decode(req.Body, req.ContentType, nil)
				if err != nil {
					return nil, err
				}
				var out []byte
				if m.Header.MsgID == "1" {
					out, _ = syncml.Encode(srv.reply(m, true, 0, cmds...), enc)
					pkg2 = out
				} else {
					out, _ = syncml.Encode(srv.reply(m, true, syncml.StatusOK), enc)
					pkg4 = out
				}
				return &client.Response{ContentType: enc.ContentType(), Body: out}, nil
			})
			c, err := client.New(client.Config{Tree: client.DMTree(tr), DeviceID: testDeviceID, Transport: tp, Encoding: enc,
				Account: client.Account{ServerID: testServerID, ServerURL: testServerURL}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(pkg2)+len(pkg4)), "server-bytes/session")
		})
	}
}

// BenchmarkInboxOfferForged is the cost of one forged package 0 datagram
// (right server id, wrong digest): decode, digest check, count.
func BenchmarkInboxOfferForged(b *testing.B) {
	forged, err := (&notification.Package0{SessionID: 3, ServerID: testServerID}).Encode("guess", []byte("n"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.New(client.Config{Tree: client.DMTree(dmtree.New(nil)), DeviceID: testDeviceID,
		Account:   client.Account{ServerID: testServerID, ServerURL: testServerURL, ServerSecret: "srvpw", ServerNonce: []byte("n"), ServerNonceAlt: []byte("m")},
		Transport: client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) { return nil, errors.New("unused") })})
	if err != nil {
		b.Fatal(err)
	}
	in := c.NewInbox(client.InboxOptions{})
	for _, tc := range []struct {
		name string
		d    []byte
	}{{"raw", forged}, {"wsp", notification.EncodePush(1, forged)}, {"garbage", []byte("GET / HTTP/1.1\r\n\r\n")}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in.Offer(tc.d)
			}
		})
	}
}
