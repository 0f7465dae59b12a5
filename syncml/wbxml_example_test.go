package syncml_test

import (
	"fmt"

	"github.com/omadm/omadm/syncml"
)

// Encode a package-1 style message as WBXML and decode it back.
func ExampleEncodeWBXML() {
	m := &syncml.Message{
		Header: syncml.Header{
			VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "1", MsgID: "1",
			Target: syncml.Location{LocURI: "http://s"},
			Source: syncml.Location{LocURI: "IMEI:1"},
			Meta:   &syncml.Meta{MaxMsgSize: 5000},
		},
		Body:  []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}},
		Final: true,
	}
	b, err := syncml.EncodeWBXML(m)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes, header % x\n", len(b), b[:5])

	back, err := syncml.DecodeWBXML(b, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Body[0].CommandName(), back.Body[0].(*syncml.Alert).Data, back.Header.Meta.MaxMsgSize)
	// Output:
	// 94 bytes, header 03 a4 01 6a 00
	// Alert 1201 CLIENT-INITIATED MGMT 5000
}
