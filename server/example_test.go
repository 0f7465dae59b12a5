package server_test

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// A device opens a session with basic credentials and gets the queued Get.
func ExampleEngine_Handle() {
	ctx := context.Background()
	store := memstore.New()
	_ = store.CreateDevice(ctx, &storage.Device{ID: "IMEI:1", AuthScheme: "basic", Username: "u", Password: "p"})
	_ = store.CreateJob(ctx, &storage.Job{DeviceID: "IMEI:1", Spec: storage.JobSpec{Command: "Get",
		Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}}})
	e, _ := server.New(server.Options{Store: store})

	pkg1 := &syncml.Message{Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: "1", MsgID: "1",
		Target: syncml.Location{LocURI: "https://dm.example.com/dm"}, Source: syncml.Location{LocURI: "IMEI:1"},
		Cred: auth.MakeCred(syncml.AuthBasic, "u", "p", nil)},
		Body: []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}}, Final: true}
	body, _ := syncml.EncodeXML(pkg1)
	// As the HTTP binding hands it over: posted to an https URL (TLS
	// authenticates the session), no session token yet.
	out, err := e.Handle(ctx, &server.Inbound{Body: body, ContentType: syncml.ContentTypeXML,
		Addr: dmhttp.RequestAddressing("https://dm.example.com/dm"), SecureSession: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, _ := syncml.DecodeXML(out.Body, nil)
	for _, c := range reply.Body {
		switch c := c.(type) {
		case *syncml.Status:
			fmt.Println("Status", c.Cmd, c.Data)
		case *syncml.Get:
			fmt.Println("Get", c.Items[0].Target.LocURI)
		}
	}
	// Output:
	// Status SyncHdr 212 Authentication accepted
	// Status Alert 200 OK
	// Get ./DevDetail/FwV
}
