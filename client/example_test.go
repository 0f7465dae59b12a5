package client_test

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// Example runs a client-initiated session against an in-memory server that
// reads one node and closes the session.
func Example() {
	tree := dmtree.New(nil)
	for _, kv := range [][2]string{{"DevId", "IMEI:1"}, {"Man", "acme"}, {"Mod", "x1"}} {
		_ = tree.Add("", "./DevInfo/"+kv[0], dmtree.Value{Format: "chr", Data: []byte(kv[1])})
	}
	server := client.TransportFunc(func(ctx context.Context, req *client.Request) (*client.Response, error) {
		in, _, err := syncml.Decode(req.Body, req.ContentType, nil)
		if err != nil {
			return nil, err
		}
		out := &syncml.Message{
			Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: in.Header.SessionID, MsgID: in.Header.MsgID,
				Target: in.Header.Source, Source: in.Header.Target},
			Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: in.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 212}},
			Final: true,
		}
		if in.Header.MsgID == "1" {
			out.Body = append(out.Body, &syncml.Get{CmdID: "2", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./DevInfo/Man"}}}})
		}
		body, err := syncml.EncodeXML(out)
		return &client.Response{ContentType: syncml.ContentTypeXML, Body: body}, err
	})
	c, err := client.New(client.Config{
		Tree:      client.DMTree(tree),
		Account:   client.Account{ServerID: "dm.example", ServerURL: "https://dm.example/dm"},
		DeviceID:  "IMEI:1",
		Transport: server,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Run(context.Background(), client.Trigger{})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := res.StatusOf("Get", "./DevInfo/Man")
	fmt.Println(res.State, res.MessagesSent, "messages, Get:", st)
	// Output: completed 2 messages, Get: 200 OK
}
