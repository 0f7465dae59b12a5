package syncml_test

import (
	"errors"
	"fmt"

	"github.com/omadm/omadm/syncml"
)

func ExampleDecodeXML() {
	in := []byte(`<?xml version="1.0"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>
    <Target><LocURI>https://dm.example.com/dm</LocURI></Target><Source><LocURI>IMEI:493005100592800</LocURI></Source>
  </SyncHdr>
  <SyncBody>
    <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
    <Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Example &amp; Co</Data></Item></Replace>
    <Final/>
  </SyncBody>
</SyncML>`)
	m, err := syncml.DecodeXML(in, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range m.Body {
		switch c := c.(type) {
		case *syncml.Alert:
			fmt.Println(c.CommandName(), c.Data)
		case *syncml.Replace:
			fmt.Println(c.CommandName(), c.Items[0].Source.LocURI, "=", c.Items[0].Data)
		}
	}
	fmt.Println("final:", m.Final)
	// Output:
	// Alert 1201 CLIENT-INITIATED MGMT
	// Replace ./DevInfo/Man = Example & Co
	// final: true
}

func ExampleEncodeXML() {
	m := &syncml.Message{
		Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: "1", MsgID: "2",
			Target: syncml.Location{LocURI: "IMEI:493005100592800"}, Source: syncml.Location{LocURI: "https://dm.example.com/dm"}},
		Body: []syncml.Command{
			&syncml.Get{CmdID: "1", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./DevDetail/SwV"}}}},
		},
		Final: true,
	}
	out, err := syncml.EncodeXML(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// <SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:493005100592800</LocURI></Target><Source><LocURI>https://dm.example.com/dm</LocURI></Source></SyncHdr><SyncBody><Get><CmdID>1</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get><Final/></SyncBody></SyncML>
}

func ExampleDecodeError() {
	_, err := syncml.DecodeXML([]byte(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody><Status><CmdID>1</CmdID><Data>OK</Data></Status></SyncBody></SyncML>`), nil)
	var de *syncml.DecodeError
	fmt.Println(errors.As(err, &de), de.Offset, de.Element)
	fmt.Println(err)
	fmt.Println(syncml.StatusOf(err))
	// Output:
	// true 77 Data
	// offset 77 (in <Data>): status code "OK" is not an integer
	// 400 Bad request
}
