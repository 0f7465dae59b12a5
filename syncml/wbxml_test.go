package syncml_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// specExample is a DM message in WBXML 1.3 whose bytes were checked against
// libwbxml's xml2wbxml and wbxml2xml (SyncML code pages 0 and 1).
const specExample = "03a4016a00" + "6d6c" +
	"7103" + "312e32" + "0001" +
	"7203" + "444d2f312e32" + "0001" +
	"6503" + "31" + "0001" + "5b03" + "31" + "0001" +
	"6e5703" + "687474703a2f2f73" + "000101" +
	"675703" + "494d45493a31" + "000101" +
	"5a00014c03" + "35303030" + "000101" +
	"01" +
	"00006b" +
	"464b03" + "31" + "00014f03" + "31323031" + "000101" +
	"120101"

func specExampleMessage() *syncml.Message {
	return &syncml.Message{
		Header: syncml.Header{
			VerDTD: "1.2", VerProto: "DM/1.2", SessionID: "1", MsgID: "1",
			Target: syncml.Location{LocURI: "http://s"},
			Source: syncml.Location{LocURI: "IMEI:1"},
			Meta:   &syncml.Meta{MaxMsgSize: 5000},
		},
		Body:  []syncml.Command{&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt}},
		Final: true,
	}
}

func TestEncodeWBXML_MatchesSpecByteExample(t *testing.T) {
	want, _ := hex.DecodeString(specExample)
	got, err := syncml.EncodeWBXML(specExampleMessage())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs from the verified example\n got %x\nwant %x", got, want)
	}
}

func TestDecodeWBXML_ReadsSpecByteExample(t *testing.T) {
	b, _ := hex.DecodeString(specExample)
	m, err := syncml.DecodeWBXML(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffModels(specExampleMessage(), m, false); diff != "" {
		t.Fatal(diff)
	}
}

func TestDecodeWBXML_RejectsBadInputWithOffsetAndElement(t *testing.T) {
	good, _ := hex.DecodeString(specExample)
	tests := []struct {
		name    string
		in      []byte
		lim     *syncml.Limits
		offset  int64
		element string
		msg     string
	}{
		{name: "empty", in: nil, msg: "empty input"},
		{name: "truncated in a string", in: good[:40], offset: 36, element: "LocURI", msg: "not NUL-terminated"},
		{name: "truncated after a tag", in: good[:len(good)-2], offset: int64(len(good) - 2), element: "SyncBody", msg: "input ends inside an element"},
		{name: "non UTF-8 charset", in: hexBytes("03a40104" + "00" + specExample[10:]), offset: 3, msg: "charset"},
		{name: "DevInf document", in: hexBytes("03a4036a00" + specExample[10:]), offset: 1, msg: "DevInf"},
		{name: "root is not SyncML", in: hexBytes("03a4016a006c01"), offset: 5, element: "SyncHdr", msg: "root element"},
		{name: "bad alert code", in: bytes.Replace(good, []byte("1201"), []byte("12x1"), 1), element: "Data", msg: "not an integer"},
		{name: "over size limit", in: good, lim: &syncml.Limits{MaxMessageSize: 10}, msg: "limit"},
		{name: "over depth limit", in: good, lim: &syncml.Limits{MaxDepth: 3}, element: "Target", msg: "nested deeper"},
		{name: "over element limit", in: good, lim: &syncml.Limits{MaxElements: 5}, element: "SyncHdr", msg: "more than 5 elements"},
		{name: "over string limit", in: good, lim: &syncml.Limits{MaxStringLen: 4}, element: "VerProto", msg: "longer than"},
		{name: "DS command in a DS message", in: bytes.Replace(bytes.Replace(good, []byte{0x46, 0x4b}, []byte{0x6a, 0x4b}, 1), []byte("DM/1.2"), []byte("SyncML/1.2"), 1), element: "SyncBody", msg: "element <Sync> is a SyncML DS command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := syncml.DecodeWBXML(tt.in, tt.lim)
			var de *syncml.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			if !strings.Contains(de.Msg, tt.msg) {
				t.Errorf("message %q does not mention %q", de.Msg, tt.msg)
			}
			if tt.offset != 0 && de.Offset != tt.offset {
				t.Errorf("offset %d, want %d", de.Offset, tt.offset)
			}
			if tt.element != "" && de.Element != tt.element {
				t.Errorf("element %q, want %q", de.Element, tt.element)
			}
			if syncml.StatusOf(err) != syncml.StatusBadRequest {
				t.Errorf("StatusOf = %v, want 400", syncml.StatusOf(err))
			}
		})
	}
}

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
