package syncml_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/wbxml"
)

// wireMsg is a DM message with the given body, for the codec conformance tests.
func wireMsg(body ...syncml.Command) *syncml.Message {
	return &syncml.Message{Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12,
		SessionID: "1", MsgID: "2", Target: syncml.Location{LocURI: "https://dm.example/"},
		Source: syncml.Location{LocURI: "IMEI:1"}}, Body: body, Final: true}
}

// WBXML 1.3 §5.8.4.6 and OMA-TS-DM_RepPro-V1_2 (WBXML binding): OPAQUE is
// how bytes travel, not what they mean. Data is text unless its Meta Format
// (the Item's, else the command's) is bin, whichever token carried it.
func TestDecodeWBXML_OpaqueDataTakesTheKindOfItsMetaFormat(t *testing.T) {
	nonUTF8 := []byte{0xff, 0xfe, 0x00, 0x01}
	tests := []struct {
		name     string
		itemFmt  string // Format on the Item's Meta
		cmdFmt   string // Format on the command's Meta
		value    []byte
		sent     syncml.DataKind // how our encoder puts it on the wire
		wantKind syncml.DataKind
	}{
		{name: "chr on the item", itemFmt: "chr", value: []byte("Intel"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "chr inherited from the command", cmdFmt: "chr", value: []byte("Intel"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "item Format overrides the command's", itemFmt: "bin", cmdFmt: "chr", value: []byte("Intel"), sent: syncml.DataOpaque, wantKind: syncml.DataOpaque},
		{name: "no Format means chr", value: []byte("Intel"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "no Format, bytes that are not UTF-8 stay binary", value: nonUTF8, sent: syncml.DataOpaque, wantKind: syncml.DataOpaque},
		{name: "b64 is base64 text", itemFmt: "b64", value: []byte("SW50ZWw="), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "xml", itemFmt: "xml", value: []byte("&lt;a/&gt;"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "int", itemFmt: "int", value: []byte("42"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "bool", itemFmt: "bool", value: []byte("true"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "date", itemFmt: "date", value: []byte("2026-12-03"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "node", itemFmt: "node", value: []byte("a/b"), sent: syncml.DataOpaque, wantKind: syncml.DataText},
		{name: "bin stays bytes", itemFmt: "bin", value: nonUTF8, sent: syncml.DataOpaque, wantKind: syncml.DataOpaque},
		{name: "bin sent as STR_I is bytes too", itemFmt: "bin", value: []byte("raw"), sent: syncml.DataText, wantKind: syncml.DataOpaque},
		{name: "chr sent as STR_I stays text", itemFmt: "chr", value: []byte("Intel"), sent: syncml.DataText, wantKind: syncml.DataText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := syncml.Item{Source: &syncml.Location{LocURI: "./DevInfo/Man"},
				Data: &syncml.Data{Kind: tt.sent, Value: tt.value}}
			if tt.itemFmt != "" {
				it.Meta = &syncml.Meta{Format: tt.itemFmt}
			}
			var cmdMeta *syncml.Meta
			if tt.cmdFmt != "" {
				cmdMeta = &syncml.Meta{Format: tt.cmdFmt}
			}
			// The same item in every item-carrying command a device sends.
			m := wireMsg(
				&syncml.Replace{CmdID: "1", Meta: cmdMeta, Items: []syncml.Item{it}},
				&syncml.Results{CmdID: "2", MsgRef: "1", CmdRef: "4", Meta: cmdMeta, Items: []syncml.Item{it}},
				&syncml.Alert{CmdID: "3", Data: syncml.AlertGeneric, Items: []syncml.Item{it}},
			)
			b, err := syncml.EncodeWBXML(m)
			if err != nil {
				t.Fatal(err)
			}
			if tt.sent == syncml.DataOpaque && !bytes.Contains(b, append([]byte{0x4f, wbxml.TokOpaque}, byte(len(tt.value)))) {
				t.Fatalf("the encoding does not carry the value in OPAQUE: % x", b)
			}
			got, err := syncml.DecodeWBXML(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range got.Body {
				if _, ok := c.(*syncml.Alert); ok && tt.cmdFmt != "" {
					continue // an Alert has no command Meta to inherit from
				}
				d := syncml.ItemsOf(c)[0].Data
				if d.Kind != tt.wantKind || !bytes.Equal(d.Value, tt.value) {
					t.Errorf("command %d (%s): Data kind %d %q, want kind %d %q", i, c.CommandName(), d.Kind, d.Value, tt.wantKind, tt.value)
				}
			}
		})
	}
}

// wbxDoc writes WBXML by hand: the tests need token sequences our encoder
// never writes (whitespace strings between elements, as xml2wbxml -k does).
type wbxDoc struct {
	w  *wbxml.Writer
	ws string // whitespace written before every start and end tag
}

func newWBXDoc(ws string, table []byte) *wbxDoc {
	d := &wbxDoc{w: wbxml.NewWriter(nil), ws: ws}
	d.w.WriteHeader(&wbxml.Header{Version: wbxml.Version13, PublicID: 0x1201, Charset: wbxml.CharsetUTF8, StringTable: table})
	return d
}

func (d *wbxDoc) space() {
	if d.ws != "" {
		d.w.String(d.ws)
	}
}

func (d *wbxDoc) open(page, tag byte) { d.space(); d.w.StartElement(page, tag, true) }
func (d *wbxDoc) close()              { d.space(); d.w.EndElement() }
func (d *wbxDoc) leaf(page, tag byte, s string) {
	d.space()
	d.w.StartElement(page, tag, true)
	d.w.String(s)
	d.w.EndElement()
}

func (d *wbxDoc) header() {
	d.w.StartElement(0, wbxml.SyncMLSyncML, true) // nothing but PIs may precede the root
	d.open(0, wbxml.SyncMLSyncHdr)
	d.leaf(0, wbxml.SyncMLVerDTD, "1.2")
	d.leaf(0, wbxml.SyncMLVerProto, "DM/1.2")
	d.leaf(0, wbxml.SyncMLSessionID, "1")
	d.leaf(0, wbxml.SyncMLMsgID, "1")
	d.open(0, wbxml.SyncMLTarget)
	d.leaf(0, wbxml.SyncMLLocURI, "https://dm.example/")
	d.close()
	d.open(0, wbxml.SyncMLSource)
	d.leaf(0, wbxml.SyncMLLocURI, "IMEI:1")
	d.close()
	d.close()
	d.open(0, wbxml.SyncMLSyncBody)
}

func (d *wbxDoc) end() []byte {
	d.close() // SyncBody
	d.space()
	d.w.EndElement() // SyncML; nothing may follow it
	return d.w.Bytes()
}

// item writes an Item whose Data is OPAQUE with whitespace strings around it.
func (d *wbxDoc) opaqueItem(uri, format, typ string, payload []byte) {
	d.open(0, wbxml.SyncMLItem)
	d.open(0, wbxml.SyncMLSource)
	d.leaf(0, wbxml.SyncMLLocURI, uri)
	d.close()
	d.open(0, wbxml.SyncMLMeta)
	if format != "" {
		d.leaf(1, wbxml.MetInfFormat, format)
	}
	if typ != "" {
		d.leaf(1, wbxml.MetInfType, typ)
	}
	d.close()
	d.open(0, wbxml.SyncMLData)
	d.w.String("\n      ")
	d.w.Opaque(payload)
	d.w.String("\n    ")
	d.w.EndElement()
	d.close()
}

// WBXML 1.3 §5.8.4.1 and §5.8.4.6: whitespace strings between elements (what
// xml2wbxml -k keeps of pretty-printed XML) are layout, also around an OPAQUE
// value and around an embedded WBXML document (a TNDS tree or DevInf,
// OMA-TS-DM_TND-V1_2 §9 / OMA-TS-DM_RepPro-V1_2, WBXML binding).
func TestDecodeWBXML_WhitespaceBetweenElementsAndAroundOpaqueIsLayout(t *testing.T) {
	tnds, err := wbxml.FromXML(nil, []byte(`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>Man</NodeName><Value>Intel</Value></Node></MgmtTree>`), wbxml.DMDDF12)
	if err != nil {
		t.Fatal(err)
	}
	devinf, err := wbxml.FromXML(nil, []byte(`<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><Man>Intel</Man></DevInf>`), wbxml.DevInf12)
	if err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{"", "\n  ", "\r\n\t "} {
		d := newWBXDoc(ws, nil)
		d.header()
		d.open(0, wbxml.SyncMLResults)
		d.leaf(0, wbxml.SyncMLCmdID, "2")
		d.leaf(0, wbxml.SyncMLMsgRef, "1")
		d.leaf(0, wbxml.SyncMLCmdRef, "3")
		d.opaqueItem("./DevInfo/Man", "chr", "text/plain", []byte("Intel"))
		d.opaqueItem("./DevInfo", "xml", syncml.TypeTNDSWBXML, tnds)
		d.opaqueItem("./DevInf", "xml", "application/vnd.syncml-devinf+wbxml", devinf)
		d.opaqueItem("./Blob", "bin", "", []byte{0, 1, 2})
		d.close()
		d.open(0, wbxml.SyncMLFinal)
		d.close()
		m, err := syncml.DecodeWBXML(d.end(), nil)
		if err != nil {
			t.Fatalf("whitespace %q: %v", ws, err)
		}
		items := m.Body[0].(*syncml.Results).Items
		want := []struct {
			kind  syncml.DataKind
			value string
			typ   string
		}{
			{syncml.DataText, "Intel", "text/plain"},
			{syncml.DataXML, "<NodeName>Man</NodeName>", syncml.TypeTNDSXML},
			{syncml.DataXML, "<Man>Intel</Man>", "application/vnd.syncml-devinf+xml"},
			{syncml.DataOpaque, "\x00\x01\x02", ""},
		}
		for i, w := range want {
			d := items[i].Data
			if d.Kind != w.kind || !strings.Contains(string(d.Value), w.value) || items[i].Meta.Type != w.typ {
				t.Errorf("whitespace %q, item %d: kind %d %q type %q; want kind %d containing %q, type %q",
					ws, i, d.Kind, d.Value, items[i].Meta.Type, w.kind, w.value, w.typ)
			}
		}
		if !m.Final {
			t.Errorf("whitespace %q: Final lost", ws)
		}
	}
}

// OMA-TS-SyncML_RepPro-V1_2, Status element type: every command gets a
// Status of its own. A command OMA DM does not define (a DS Sync, Map, Put…,
// OMA-TS-DM_RepPro-V1_2 §6 lists what DM uses, or an unknown element) fails
// alone, with 406 Optional feature not supported; the rest of the message
// decodes.
func TestDecode_DSOrUnknownCommandInADMMessageFailsOnlyThatCommand(t *testing.T) {
	xmlIn := `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>` +
		`<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>https://dm.example/</LocURI></Target>` +
		`<Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody>` +
		`<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>` +
		`<Sync><CmdID>2</CmdID><Target><LocURI>./contacts</LocURI></Target><NumberOfChanges>1</NumberOfChanges>` +
		`<Add><CmdID>9</CmdID><Item><Data><![CDATA[BEGIN:VCARD]]></Data></Item></Add></Sync>` +
		`<Atomic><CmdID>3</CmdID><Map><CmdID>4</CmdID><MapItem><Target><LocURI>1</LocURI></Target></MapItem></Map>` +
		`<Replace><CmdID>5</CmdID><Item><Target><LocURI>./a</LocURI></Target><Data>x</Data></Item></Replace></Atomic>` +
		`<Frobnicate><CmdID>6</CmdID><Item><Data>?</Data></Item></Frobnicate>` +
		`<Put/>` +
		`<Replace><CmdID>7</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Intel</Data></Item></Replace>` +
		`<Final/></SyncBody></SyncML>`
	xm, err := syncml.DecodeXML([]byte(xmlIn), nil)
	if err != nil {
		t.Fatalf("DecodeXML: %v", err)
	}
	// The same message in WBXML: the DS tokens of page 0, the unknown
	// element as a LITERAL tag.
	d := newWBXDoc("", []byte("Frobnicate\x00"))
	d.header()
	d.open(0, wbxml.SyncMLAlert)
	d.leaf(0, wbxml.SyncMLCmdID, "1")
	d.leaf(0, wbxml.SyncMLData, "1201")
	d.close()
	d.open(0, wbxml.SyncMLSync)
	d.leaf(0, wbxml.SyncMLCmdID, "2")
	d.leaf(0, wbxml.SyncMLNumberOfChanges, "1")
	d.open(0, wbxml.SyncMLAdd)
	d.leaf(0, wbxml.SyncMLCmdID, "9")
	d.close()
	d.close()
	d.open(0, wbxml.SyncMLAtomic)
	d.leaf(0, wbxml.SyncMLCmdID, "3")
	d.open(0, wbxml.SyncMLMap)
	d.leaf(0, wbxml.SyncMLCmdID, "4")
	d.close()
	d.open(0, wbxml.SyncMLReplace)
	d.leaf(0, wbxml.SyncMLCmdID, "5")
	d.open(0, wbxml.SyncMLItem)
	d.open(0, wbxml.SyncMLTarget)
	d.leaf(0, wbxml.SyncMLLocURI, "./a")
	d.close()
	d.leaf(0, wbxml.SyncMLData, "x")
	d.close()
	d.close()
	d.close()
	d.w.StartLiteral(0, true)
	d.leaf(0, wbxml.SyncMLCmdID, "6")
	d.close()
	d.w.StartElement(0, wbxml.SyncMLPut, false)
	d.open(0, wbxml.SyncMLReplace)
	d.leaf(0, wbxml.SyncMLCmdID, "7")
	d.open(0, wbxml.SyncMLItem)
	d.open(0, wbxml.SyncMLSource)
	d.leaf(0, wbxml.SyncMLLocURI, "./DevInfo/Man")
	d.close()
	d.leaf(0, wbxml.SyncMLData, "Intel")
	d.close()
	d.close()
	d.w.StartElement(0, wbxml.SyncMLFinal, false)
	wm, err := syncml.DecodeWBXML(d.end(), nil)
	if err != nil {
		t.Fatalf("DecodeWBXML: %v", err)
	}
	for _, tc := range []struct {
		enc string
		m   *syncml.Message
	}{{"xml", xm}, {"wbxml", wm}} {
		t.Run(tc.enc, func(t *testing.T) {
			b := tc.m.Body
			if len(b) != 6 || !tc.m.Final {
				t.Fatalf("body has %d commands (final %v), want 6 and Final", len(b), tc.m.Final)
			}
			checkUnknown(t, b[1], "Sync", "2", true)
			at, ok := b[2].(*syncml.Atomic)
			if !ok || len(at.Commands) != 2 {
				t.Fatalf("command 3 is %#v, want an Atomic of 2", b[2])
			}
			checkUnknown(t, at.Commands[0], "Map", "4", true)
			if r, ok := at.Commands[1].(*syncml.Replace); !ok || r.CmdID != "5" {
				t.Errorf("Atomic member 2 is %#v, want Replace 5", at.Commands[1])
			}
			checkUnknown(t, b[3], "Frobnicate", "6", false)
			checkUnknown(t, b[4], "Put", "", true)
			if r, ok := b[5].(*syncml.Replace); !ok || r.Items[0].Data.String() != "Intel" {
				t.Errorf("last command is %#v, want the Replace of DevInfo/Man", b[5])
			}
		})
	}
}

func checkUnknown(t *testing.T, c syncml.Command, name, id string, ds bool) {
	t.Helper()
	u, ok := c.(*syncml.Unknown)
	if !ok {
		t.Errorf("%s: got %T, want *syncml.Unknown", name, c)
		return
	}
	if u.Name != name || u.CmdID != id || u.DS != ds || u.Code != syncml.StatusOptionalNotSupported ||
		u.CommandName() != name || u.ID() != id {
		t.Errorf("got %+v, want %s CmdID %q DS %v code 406", u, name, id, ds)
	}
}

// A SyncML DS message (VerProto SyncML/1.x with Sync, Map, Put…), a bare
// DevInf document and a top-level DDF MgmtTree are not DM messages
// (OMA-TS-DM_RepPro-V1_2 §5: a DM message is a SyncML element with VerProto
// DM/1.x): they are refused as a whole, naming the element.
func TestDecode_NonDMDocumentIsRefusedNamingTheElement(t *testing.T) {
	dsMsg := `<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.1</VerDTD><VerProto>SyncML/1.1</VerProto>` +
		`<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>s</LocURI></Target><Source><LocURI>c</LocURI></Source>` +
		`</SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>` +
		`<Map><CmdID>2</CmdID><Target><LocURI>db</LocURI></Target></Map><Final/></SyncBody></SyncML>`
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"DS Map message in XML", []byte(dsMsg), "element <Map> is a SyncML DS command"},
		{"DevInf document in XML", []byte(`<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD></DevInf>`), "root element is <DevInf>"},
		{"DDF MgmtTree document in XML", []byte(`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD></MgmtTree>`), "root element is <MgmtTree>"},
		{"DevInf document in WBXML", mustFromXML(t, `<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD></DevInf>`, wbxml.DevInf12), "DevInf"},
	}
	dsW, err := syncml.EncodeWBXML(&syncml.Message{Header: syncml.Header{VerDTD: "1.1", VerProto: "SyncML/1.1", SessionID: "1", MsgID: "1"},
		Body: []syncml.Command{&syncml.Unknown{Name: "Sync", CmdID: "2", DS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct {
		name string
		in   []byte
		want string
	}{"DS Sync message in WBXML", dsW, "element <Sync> is a SyncML DS command"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := syncml.Decode(tt.in, "", nil)
			var de *syncml.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode = %v, %v; want a *DecodeError", m, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func mustFromXML(t *testing.T, x string, lang *wbxml.Language) []byte {
	t.Helper()
	b, err := wbxml.FromXML(nil, []byte(x), lang)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An *Unknown keeps its name and CmdID through both encoders, so a message
// re-encoded by `omadm encode` still shows the command it could not take in.
func TestEncode_UnknownCommandRoundTripsWithItsNameAndCmdID(t *testing.T) {
	m := wireMsg(&syncml.Alert{CmdID: "1", Data: syncml.AlertCode(1201)},
		&syncml.Unknown{Name: "Sync", CmdID: "2", DS: true, Code: syncml.StatusOptionalNotSupported},
		&syncml.Atomic{CmdID: "3", Commands: []syncml.Command{&syncml.Unknown{Name: "Map", DS: true, Code: syncml.StatusOptionalNotSupported}}})
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		b, err := syncml.Encode(m, enc)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		got, _, err := syncml.Decode(b, enc.ContentType(), nil)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if diff := diffModels(m, got, false); diff != "" {
			t.Errorf("%s: %s", enc, diff)
		}
	}
	// An unknown element that WBXML has no token for is left out there.
	m = wireMsg(&syncml.Unknown{Name: "Frobnicate", CmdID: "2", Code: syncml.StatusOptionalNotSupported})
	b, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := syncml.DecodeWBXML(b, nil)
	if err != nil || len(got.Body) != 0 {
		t.Errorf("WBXML of an unknown element: %v, %d commands; want it left out", err, len(got.Body))
	}
	if _, err := syncml.EncodeXML(wireMsg(&syncml.Unknown{Name: "<bad>"})); err == nil {
		t.Error("EncodeXML wrote an Unknown whose name is not an XML name")
	}
}

// carried returns m without the *Unknown commands enc does not write (a DM
// command that failed to decode; in WBXML also unknown elements without a
// token), for comparing a decoded message with its re-encoding.
func carried(m *syncml.Message, enc syncml.Encoding) *syncml.Message {
	body, changed := carriedCmds(m.Body, enc)
	if !changed {
		return m
	}
	c := *m
	c.Body = body
	return &c
}

func carriedCmds(cmds []syncml.Command, enc syncml.Encoding) ([]syncml.Command, bool) {
	var out []syncml.Command
	changed := false
	for _, c := range cmds {
		switch x := c.(type) {
		case *syncml.Unknown:
			if x.Reason != "" || (enc == syncml.EncodingWBXML && !x.DS) {
				changed = true
				continue
			}
		case *syncml.Atomic:
			if sub, ch := carriedCmds(x.Commands, enc); ch {
				y := *x
				y.Commands, c, changed = sub, &y, true
			}
		case *syncml.Sequence:
			if sub, ch := carriedCmds(x.Commands, enc); ch {
				y := *x
				y.Commands, c, changed = sub, &y, true
			}
		}
		out = append(out, c)
	}
	if !changed {
		return cmds, false
	}
	return out, true
}

// OMA-TS-SyncML_RepPro-V1_2, Status element type and codes 400/406: a DM
// command holding an element DM does not define (a DS-only NoResults or
// Field: 406 Optional feature not supported; an element no DTD has: 400 Bad
// request) fails alone; the commands around it decode.
func TestDecode_ForeignElementInsideACommandFailsOnlyThatCommand(t *testing.T) {
	xmlIn := []byte(msgXML(`<Get><CmdID>4</CmdID><Item><Target><LocURI>./a</LocURI></Target><Meta><Frob>1</Frob></Meta></Item></Get>` +
		`<Get><CmdID>5</CmdID><NoResults/><Item><Target><LocURI>./b</LocURI></Target></Item></Get>` +
		`<Atomic><CmdID>6</CmdID><Replace><CmdID>7</CmdID><Item><Target><LocURI>./c</LocURI></Target><Field><x/></Field><Data>1</Data></Item></Replace>` +
		`<Delete><CmdID>8</CmdID><Item><Target><LocURI>./d</LocURI></Target></Item></Delete></Atomic>` +
		`<Replace><CmdID>9</CmdID><Item><Target><LocURI>./e</LocURI></Target><Data>ok</Data></Item></Replace>`))
	xm, err := syncml.DecodeXML(xmlIn, nil)
	if err != nil {
		t.Fatalf("DecodeXML: %v", err)
	}
	d := newWBXDoc("", []byte("Frob\x00"))
	d.header()
	d.open(0, wbxml.SyncMLGet)
	d.leaf(0, wbxml.SyncMLCmdID, "4")
	d.open(0, wbxml.SyncMLItem)
	d.open(0, wbxml.SyncMLMeta)
	d.w.StartLiteral(0, true)
	d.w.String("1")
	d.close()
	d.close()
	d.close()
	d.close()
	d.open(0, wbxml.SyncMLGet)
	d.leaf(0, wbxml.SyncMLCmdID, "5")
	d.w.StartElement(0, wbxml.SyncMLNoResults, false)
	d.close()
	d.open(0, wbxml.SyncMLAtomic)
	d.leaf(0, wbxml.SyncMLCmdID, "6")
	d.open(0, wbxml.SyncMLReplace)
	d.leaf(0, wbxml.SyncMLCmdID, "7")
	d.open(0, wbxml.SyncMLItem)
	d.leaf(0, wbxml.SyncMLField, "x")
	d.close()
	d.close()
	d.open(0, wbxml.SyncMLDelete)
	d.leaf(0, wbxml.SyncMLCmdID, "8")
	d.close()
	d.close()
	d.open(0, wbxml.SyncMLReplace)
	d.leaf(0, wbxml.SyncMLCmdID, "9")
	d.open(0, wbxml.SyncMLItem)
	d.leaf(0, wbxml.SyncMLData, "ok")
	d.close()
	d.close()
	wm, err := syncml.DecodeWBXML(d.end(), nil)
	if err != nil {
		t.Fatalf("DecodeWBXML: %v", err)
	}
	for _, tc := range []struct {
		enc string
		m   *syncml.Message
	}{{"xml", xm}, {"wbxml", wm}} {
		t.Run(tc.enc, func(t *testing.T) {
			b := tc.m.Body
			if len(b) != 4 {
				t.Fatalf("%d commands, want 4", len(b))
			}
			checkFailed(t, b[0], "Get", "4", syncml.StatusBadRequest, "Frob")
			checkFailed(t, b[1], "Get", "5", syncml.StatusOptionalNotSupported, "NoResults")
			at, ok := b[2].(*syncml.Atomic)
			if !ok || len(at.Commands) != 2 {
				t.Fatalf("command 3 is %#v, want the Atomic with both members", b[2])
			}
			checkFailed(t, at.Commands[0], "Replace", "7", syncml.StatusOptionalNotSupported, "Field")
			if _, ok := at.Commands[1].(*syncml.Delete); !ok {
				t.Errorf("Atomic member 2 is %T, want the Delete", at.Commands[1])
			}
			if r, ok := b[3].(*syncml.Replace); !ok || r.Items[0].Data.String() != "ok" {
				t.Errorf("last command %#v, want the Replace", b[3])
			}
		})
	}
}

func checkFailed(t *testing.T, c syncml.Command, name, id string, code syncml.StatusCode, elem string) {
	t.Helper()
	u, ok := c.(*syncml.Unknown)
	if !ok {
		t.Errorf("%s %s: got %T, want *syncml.Unknown", name, id, c)
		return
	}
	if u.Name != name || u.CmdID != id || u.Code != code || u.DS || !strings.Contains(u.Reason, "<"+elem+">") {
		t.Errorf("got %+v, want %s %s failing with %d over <%s>", u, name, id, code, elem)
	}
}

func msgXML(body string) string {
	return `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>` +
		`<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target>` +
		`<Source><LocURI>s</LocURI></Source></SyncHdr><SyncBody>` + body + `<Final/></SyncBody></SyncML>`
}

// What our encoder writes (WBXML 1.3 §5.8.4.1 strings, §5.8.4.6 opaque data;
// OMA-TS-DM_RepPro-V1_2, WBXML binding): character data as inline strings,
// whatever its Format, and only binary data (Format bin) as OPAQUE. libwbxml
// writes every Add/Replace Data as OPAQUE; both read back as the same tree,
// which TestCorpus_DMDocumentsRoundTripThroughLibwbxml checks with wbxml2xml.
func TestEncodeWBXML_WritesTextAsStringsAndOnlyBinaryAsOpaque(t *testing.T) {
	m := wireMsg(&syncml.Replace{CmdID: "1", Items: []syncml.Item{
		{Target: &syncml.Location{LocURI: "./a"}, Meta: &syncml.Meta{Format: "chr"}, Data: syncml.TextData("text")},
		{Target: &syncml.Location{LocURI: "./b"}, Meta: &syncml.Meta{Format: "b64"}, Data: syncml.TextData("YWJj")},
		{Target: &syncml.Location{LocURI: "./c"}, Meta: &syncml.Meta{Format: "bin"}, Data: &syncml.Data{Kind: syncml.DataOpaque, Value: []byte{0, 0xff}}},
	}})
	b, err := syncml.EncodeWBXML(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{
		append(append([]byte{0x4f, wbxml.TokStrI}, "text"...), 0, wbxml.TokEnd),
		append(append([]byte{0x4f, wbxml.TokStrI}, "YWJj"...), 0, wbxml.TokEnd),
		{0x4f, wbxml.TokOpaque, 2, 0, 0xff, wbxml.TokEnd},
	} {
		if !bytes.Contains(b, want) {
			t.Errorf("encoding lacks Data % x:\n% x", want, b)
		}
	}
	if n := bytes.Count(b, []byte{0x4f, wbxml.TokOpaque}); n != 1 {
		t.Errorf("%d Data elements written as OPAQUE, want only the bin one", n)
	}
}
