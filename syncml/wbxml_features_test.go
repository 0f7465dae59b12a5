package syncml_test

import (
	"bytes"
	"testing"

	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/wbxml"
)

// buildDoc writes a SyncML document around body with the generic writer.
func buildDoc(h wbxml.Header, body func(w *wbxml.Writer)) []byte {
	w := wbxml.NewWriter(nil)
	w.WriteHeader(&h)
	w.StartElement(0, wbxml.SyncMLSyncML, true)
	w.StartElement(0, wbxml.SyncMLSyncHdr, true)
	leaf(w, 0, wbxml.SyncMLVerDTD, "1.2")
	leaf(w, 0, wbxml.SyncMLVerProto, "DM/1.2")
	leaf(w, 0, wbxml.SyncMLSessionID, "1")
	leaf(w, 0, wbxml.SyncMLMsgID, "1")
	w.StartElement(0, wbxml.SyncMLTarget, true)
	leaf(w, 0, wbxml.SyncMLLocURI, "IMEI:1")
	w.EndElement()
	w.StartElement(0, wbxml.SyncMLSource, true)
	leaf(w, 0, wbxml.SyncMLLocURI, "http://s")
	w.EndElement()
	w.EndElement()
	w.StartElement(0, wbxml.SyncMLSyncBody, true)
	body(w)
	w.EndElement()
	w.EndElement()
	return w.Bytes()
}

func leaf(w *wbxml.Writer, page, tag byte, s string) {
	w.StartElement(page, tag, true)
	w.String(s)
	w.EndElement()
}

var syncml12 = wbxml.Header{PublicID: 0x1201}

func firstItem(t *testing.T, m *syncml.Message) syncml.Item {
	t.Helper()
	if len(m.Body) == 0 || len(syncml.ItemsOf(m.Body[0])) == 0 {
		t.Fatalf("no item in %+v", m.Body)
	}
	return syncml.ItemsOf(m.Body[0])[0]
}

func TestDecodeWBXML_AcceptsEveryHeaderForm(t *testing.T) {
	body := func(w *wbxml.Writer) { w.StartElement(0, wbxml.SyncMLFinal, false) }
	tests := []struct {
		name string
		h    wbxml.Header
	}{
		{name: "numeric 0x1201", h: syncml12},
		{name: "numeric 0x0FD3", h: wbxml.Header{PublicID: 0x0FD3}},
		{name: "unknown public id", h: wbxml.Header{PublicID: wbxml.PublicIDUnknown}},
		{name: "FPI in string table", h: wbxml.Header{FPI: "-//SYNCML//DTD SyncML 1.2//EN"}},
		{name: "MetaInf FPI spelling", h: wbxml.Header{FPI: "-//SYNCML//DTD MetaInf 1.2//EN"}},
		{name: "WBXML 1.2", h: wbxml.Header{Version: 0x02, PublicID: 0x1201}},
		{name: "WBXML 1.1, charset unknown", h: wbxml.Header{Version: 0x01, PublicID: 0x1201, Charset: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := syncml.DecodeWBXML(buildDoc(tt.h, body), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Final || m.Header.Target.LocURI != "IMEI:1" {
				t.Fatalf("bad model %+v", m)
			}
		})
	}
}

func TestDecodeWBXML_ConcatenatesStringTokens(t *testing.T) {
	h := wbxml.Header{PublicID: 0x1201, StringTable: []byte("./Dev\x00")}
	doc := buildDoc(h, func(w *wbxml.Writer) {
		w.StartElement(0, wbxml.SyncMLGet, true)
		leaf(w, 0, wbxml.SyncMLCmdID, "1")
		w.StartElement(0, wbxml.SyncMLItem, true)
		w.String("  \n") // indentation kept by libwbxml -k
		w.StartElement(0, wbxml.SyncMLTarget, true)
		w.StartElement(0, wbxml.SyncMLLocURI, true)
		w.StringRef(0)
		w.String("Info/")
		w.Entity('é')
		w.Opaque([]byte("x"))
		w.EndElement()
		w.EndElement()
		w.EndElement()
		w.EndElement()
	})
	m, err := syncml.DecodeWBXML(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := firstItem(t, m).Target.LocURI; got != "./DevInfo/éx" {
		t.Fatalf("LocURI = %q", got)
	}
}

func TestDecodeWBXML_InlineDDFTagsBecomeDataXML(t *testing.T) {
	doc := buildDoc(syncml12, func(w *wbxml.Writer) {
		w.StartElement(0, wbxml.SyncMLAdd, true)
		leaf(w, 0, wbxml.SyncMLCmdID, "1")
		w.StartElement(0, wbxml.SyncMLItem, true)
		w.StartElement(0, wbxml.SyncMLData, true)
		w.StartElement(2, wbxml.DDFMgmtTree, true)
		w.StartElement(2, wbxml.DDFNode, true)
		leaf(w, 2, wbxml.DDFNodeName, "A&B")
		w.StartElement(2, wbxml.DDFRTProperties, true)
		w.StartElement(2, wbxml.DDFFormat, true)
		w.StartElement(2, wbxml.DDFChr, false)
		w.EndElement()
		w.EndElement()
		w.EndElement()
		w.EndElement()
		w.EndElement()                                 // Data
		w.StartElement(0, wbxml.SyncMLMoreData, false) // back on page 0
		w.EndElement()                                 // Item
		w.EndElement()                                 // Add
	})
	m, err := syncml.DecodeWBXML(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := firstItem(t, m).Data
	want := `<MgmtTree xmlns="syncml:dmddf1.2"><Node><NodeName>A&amp;B</NodeName><RTProperties><Format><chr/></Format></RTProperties></Node></MgmtTree>`
	if !firstItem(t, m).MoreData {
		t.Error("MoreData after the inline tree was lost")
	}
	if d == nil || d.Kind != syncml.DataXML || string(d.Value) != want {
		t.Fatalf("Data = %+v (%s)", d, d)
	}
}

func TestWBXML_EmbeddedTNDSRoundTripsWithTypeRewrite(t *testing.T) {
	tree := `<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><Value>1</Value></Node></MgmtTree>`
	m := specExampleMessage()
	m.Body = []syncml.Command{&syncml.Add{CmdID: "2", Items: []syncml.Item{{
		Target: &syncml.Location{LocURI: "./A"},
		Meta:   &syncml.Meta{Format: "xml", Type: syncml.TypeTNDSXML},
		Data:   &syncml.Data{Kind: syncml.DataXML, Value: []byte(tree)},
	}}}}
	enc, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(enc, []byte(syncml.TypeTNDSWBXML)) {
		t.Error("Meta Type not written in its +wbxml form")
	}
	if !bytes.Contains(enc, []byte("-//OMA//DTD-DM-DDF 1.2//EN")) {
		t.Error("no embedded DDF document")
	}
	back, err := syncml.DecodeWBXML(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffModels(m, back, false); diff != "" {
		t.Fatal(diff)
	}
	if got := string(firstItem(t, back).Data.Value); got != tree {
		t.Errorf("DataXML = %s", got)
	}
}

func TestWBXML_BinaryValuesKeepTheirBytes(t *testing.T) {
	nonce := string([]byte{0x00, 0xFF, 0x10, 0xC3, 0x28})
	m := specExampleMessage()
	m.Body = []syncml.Command{
		&syncml.Status{CmdID: "1", MsgRef: "1", CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusInvalidCredentials,
			Chal: &syncml.Chal{Meta: &syncml.Meta{Type: syncml.AuthMD5, Format: "bin", NextNonce: nonce}}},
		&syncml.Replace{CmdID: "2", Items: []syncml.Item{{
			Target: &syncml.Location{LocURI: "./Bin"},
			Meta:   &syncml.Meta{Format: "bin"},
			Data:   &syncml.Data{Kind: syncml.DataOpaque, Value: []byte{0x03, 0x01, 0x6A, 0x00, 0x6D, 0x01}}, // looks like WBXML
		}}},
		&syncml.Replace{CmdID: "3", Items: []syncml.Item{{Target: &syncml.Location{LocURI: "./Empty"}, Data: &syncml.Data{}}}},
	}
	enc, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := syncml.DecodeWBXML(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Body[0].(*syncml.Status).Chal.Meta.NextNonce; got != nonce {
		t.Errorf("NextNonce = %x, want %x", got, nonce)
	}
	d := firstItem(t, &syncml.Message{Body: back.Body[1:]}).Data
	if d.Kind != syncml.DataOpaque || !bytes.Equal(d.Value, []byte{0x03, 0x01, 0x6A, 0x00, 0x6D, 0x01}) {
		t.Errorf("opaque Data = %+v", d)
	}
	if e := firstItem(t, &syncml.Message{Body: back.Body[2:]}).Data; e == nil || len(e.Value) != 0 {
		t.Errorf("empty Data = %+v", e)
	}
	again, _ := syncml.EncodeWBXML(back)
	if !bytes.Equal(again, enc) {
		t.Error("re-encoding is not byte-exact")
	}
}

// Regression for fuzz crasher testdata/fuzz/FuzzDecodeWBXML/e7a9b6699a5fa28e:
// SyncML tags inline in Data used to become DataXML, which the encoder writes
// as text, so a re-encoded message decoded differently.
func TestDecodeWBXML_InlineNonTNDSElementsInDataStayText(t *testing.T) {
	doc := buildDoc(syncml12, func(w *wbxml.Writer) {
		w.StartElement(0, wbxml.SyncMLReplace, true)
		leaf(w, 0, wbxml.SyncMLCmdID, "1")
		w.StartElement(0, wbxml.SyncMLItem, true)
		w.StartElement(0, wbxml.SyncMLData, true)
		w.StartElement(0, wbxml.SyncMLMap, false)
		w.EndElement() // Data
		w.EndElement() // Item
		w.EndElement() // Replace
	})
	m, err := syncml.DecodeWBXML(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := firstItem(t, m).Data
	if d.Kind != syncml.DataText || string(d.Value) != `<Map xmlns="SYNCML:SYNCML1.2"/>` {
		t.Fatalf("Data = %v %q", d.Kind, d.Value)
	}
	enc, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := syncml.DecodeWBXML(enc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffModels(m, back, false); diff != "" {
		t.Fatal(diff)
	}
}
