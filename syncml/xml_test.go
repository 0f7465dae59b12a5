package syncml_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omadm/omadm/syncml"
)

// msg wraps body commands into a minimal valid message.
func msg(body string) string {
	return `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>` +
		`<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target>` +
		`<Source><LocURI>s</LocURI></Source></SyncHdr><SyncBody>` + body + `</SyncBody></SyncML>`
}

func mustDecode(t *testing.T, s string) *syncml.Message {
	t.Helper()
	m, err := syncml.DecodeXML([]byte(s), nil)
	if err != nil {
		t.Fatalf("DecodeXML: %v\ninput: %s", err, s)
	}
	return m
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeXML_RejectsMalformedInputWithOffsetAndElement(t *testing.T) {
	valid := msg(`<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/>`)
	deep := msg(strings.Repeat("<Atomic>", 40) + strings.Repeat("</Atomic>", 40))
	tests := []struct {
		name    string
		in      string
		lim     *syncml.Limits
		wantMsg string // substring of Msg
		wantIn  string // Element, when checked
		wantOff int    // -1: not checked
	}{
		{name: "empty input", in: "", wantMsg: "empty input", wantOff: 0},
		{name: "not XML", in: "hello", wantMsg: "unexpected text before the root element", wantOff: 0},
		{name: "truncated in Status", in: valid[:strings.Index(valid, "1201")+2], wantMsg: "unexpected end of input", wantIn: "Data", wantOff: -1},
		{name: "truncated mid tag", in: valid[:strings.Index(valid, "<Final")+3], wantMsg: "unexpected end of input", wantOff: -1},
		{name: "truncated after SyncBody start", in: valid[:strings.Index(valid, "<SyncBody>")+10], wantMsg: "unexpected end of input", wantIn: "SyncBody", wantOff: -1},
		{name: "bad nesting", in: msg(`<Alert><CmdID>1</Data></Alert>`), wantMsg: "end tag </Data> does not match <CmdID>", wantIn: "CmdID", wantOff: strings.Index(msg(`<Alert><CmdID>1</Data>`), "</Data>")},
		{name: "unknown root", in: `<Foo/>`, wantMsg: "root element is <Foo>, want <SyncML>", wantOff: 0},
		{name: "wrong root", in: `<SyncHdr/>`, wantMsg: "root element is <SyncHdr>, want <SyncML>", wantOff: 0},
		{name: "wrong namespace", in: strings.Replace(valid, "SYNCML:SYNCML1.2", "urn:example:other", 1), wantMsg: `unexpected namespace "urn:example:other"`, wantOff: 0},
		{name: "SyncML element in MetInf namespace", in: msg(`<Alert xmlns="syncml:metinf"><CmdID>1</CmdID><Data>1201</Data></Alert>`), wantMsg: "it belongs to SyncML", wantIn: "SyncBody", wantOff: -1},
		{name: "undeclared prefix", in: msg(`<x:Alert><CmdID>1</CmdID><Data>1201</Data></x:Alert>`), wantMsg: `undeclared namespace prefix "x"`, wantOff: -1},
		{name: "unknown element in the header", in: strings.Replace(msg(``), "<MsgID>", "<Bogus/><MsgID>", 1), wantMsg: "unknown element <Bogus>", wantIn: "SyncHdr", wantOff: strings.Index(msg(``), "<MsgID>")},
		{name: "DS command in a DS message", in: strings.Replace(msg(`<Sync><CmdID>1</CmdID></Sync>`), "DM/1.2", "SyncML/1.2", 1), wantMsg: "element <Sync> is a SyncML DS command", wantIn: "SyncBody", wantOff: -1},
		{name: "DS element in the header", in: strings.Replace(msg(``), "<MsgID>", "<NoResults/><MsgID>", 1), wantMsg: "<NoResults> in <SyncHdr> is SyncML DS", wantIn: "SyncHdr", wantOff: -1},
		{name: "element in the wrong place", in: msg(`<Get><CmdID>1</CmdID><Chal/></Get>`), wantMsg: "unexpected element <Chal> in <Get>", wantIn: "Get", wantOff: -1},
		{name: "Status inside Atomic", in: msg(`<Atomic><CmdID>1</CmdID><Status><CmdID>2</CmdID><Data>200</Data></Status></Atomic>`), wantMsg: "<Status> is not allowed inside <Atomic>", wantOff: -1},
		{name: "non-integer status", in: msg(`<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>OK</Data></Status>`), wantMsg: `status code "OK" is not an integer`, wantIn: "Data", wantOff: -1},
		{name: "non-integer alert", in: msg(`<Alert><CmdID>1</CmdID><Data>12o1</Data></Alert>`), wantMsg: `alert code "12o1" is not an integer`, wantIn: "Data", wantOff: -1},
		{name: "negative alert", in: msg(`<Alert><CmdID>1</CmdID><Data>-1</Data></Alert>`), wantMsg: "is not an integer", wantOff: -1},
		{name: "status without code", in: msg(`<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef></Status>`), wantMsg: "missing <Data> (status code)", wantIn: "Status", wantOff: -1},
		{name: "non-integer MaxMsgSize", in: strings.Replace(valid, "</SyncHdr>", `<Meta><MaxMsgSize xmlns="syncml:metinf">big</MaxMsgSize></Meta></SyncHdr>`, 1), wantMsg: `MaxMsgSize "big" is not an integer`, wantOff: -1},
		{name: "text between commands", in: msg(`junk<Final/>`), wantMsg: "unexpected text in <SyncBody>", wantIn: "SyncBody", wantOff: -1},
		{name: "element inside a leaf", in: msg(`<Alert><CmdID><b>1</b></CmdID><Data>1201</Data></Alert>`), wantMsg: "unexpected element <b> in <CmdID>", wantOff: -1},
		{name: "undefined entity", in: msg(`<Alert><CmdID>&foo;</CmdID><Data>1201</Data></Alert>`), wantMsg: "undefined entity &foo;", wantIn: "CmdID", wantOff: -1},
		{name: "NUL character reference", in: msg(`<Alert><CmdID>&#0;</CmdID><Data>1201</Data></Alert>`), wantMsg: "not a legal XML character", wantOff: -1},
		{name: "surrogate character reference", in: msg(`<Alert><CmdID>&#xD800;</CmdID><Data>1201</Data></Alert>`), wantMsg: "not a legal XML character", wantOff: -1},
		{name: "raw control character", in: msg("<Alert><CmdID>\x01</CmdID><Data>1201</Data></Alert>"), wantMsg: "illegal character 0x01", wantOff: -1},
		{name: "invalid UTF-8", in: msg("<Alert><CmdID>\xff</CmdID><Data>1201</Data></Alert>"), wantMsg: "invalid UTF-8", wantOff: -1},
		{name: "UTF-16 declaration", in: `<?xml version="1.0" encoding="UTF-16"?>` + valid, wantMsg: `encoding "UTF-16" is not supported`, wantOff: 0},
		{name: "unterminated comment", in: msg(`<!-- never closed`), wantMsg: "unterminated comment", wantOff: -1},
		{name: "unterminated CDATA", in: msg(`<Alert><CmdID><![CDATA[1</CmdID></Alert>`), wantMsg: "unterminated CDATA section", wantOff: -1},
		{name: "unquoted attribute", in: `<SyncML xmlns=SYNCML:SYNCML1.2></SyncML>`, wantMsg: "value is not quoted", wantOff: -1},
		{name: "content after root", in: valid + "<SyncML/>", wantMsg: "content after the root element", wantOff: len(valid)},
		{name: "missing SyncBody", in: `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/></SyncML>`, wantMsg: "missing <SyncBody>", wantOff: 0},
		{name: "nested XML in Data left open", in: msg(`<Add><CmdID>1</CmdID><Item><Data><MgmtTree><Node></MgmtTree></Data></Item></Add>`), wantMsg: "end tag </MgmtTree> does not match <Node>", wantIn: "Node", wantOff: -1},
		{name: "depth bomb", in: deep, wantMsg: "nested deeper than the limit of 32", wantOff: -1},
		{name: "huge string", in: msg(`<Alert><CmdID>` + strings.Repeat("9", 2000) + `</CmdID><Data>1201</Data></Alert>`), lim: &syncml.Limits{MaxStringLen: 1000}, wantMsg: "text longer than the limit of 1000 bytes", wantIn: "CmdID", wantOff: -1},
		{name: "huge string made of references", in: msg(`<Alert><CmdID>` + strings.Repeat("&amp;", 300) + `</CmdID><Data>1201</Data></Alert>`), lim: &syncml.Limits{MaxStringLen: 100}, wantMsg: "text longer than the limit of 100 bytes", wantOff: -1},
		{name: "too many elements", in: msg(strings.Repeat(`<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>`, 100)), lim: &syncml.Limits{MaxElements: 200}, wantMsg: "more than 200 elements", wantOff: -1},
		{name: "message too large", in: valid, lim: &syncml.Limits{MaxMessageSize: 100}, wantMsg: "exceeds the limit of 100", wantOff: 100},
		{name: "too many attributes", in: `<SyncML` + strings.Repeat(` a="1"`, 20) + `/>`, wantMsg: "more than 16 attributes", wantOff: -1},
		// Fuzz crasher: an element name that is not an XML name decoded
		// as an unknown command that EncodeXML then could not write.
		{name: "element name with a character names cannot hold", in: msg(`<#00/><Final/>`), wantMsg: `invalid name "#00"`, wantIn: "SyncBody", wantOff: -1},
		{name: "prefixed name with an invalid local part", in: msg(`<x:1a xmlns:x="SYNCML:SYNCML1.2"/>`), wantMsg: `invalid name "x:1a"`, wantOff: -1},
		{name: "name with two colons", in: msg(`<a:b:c/>`), wantMsg: `invalid name "a:b:c"`, wantOff: -1},
		{name: "name of invalid UTF-8", in: msg("<A\xff/>"), wantMsg: "invalid name", wantOff: -1},
		{name: "entity defined in DOCTYPE is not expanded", in: `<!DOCTYPE SyncML [<!ENTITY lol "lol">]>` + msg(`<Alert><CmdID>&lol;</CmdID><Data>1201</Data></Alert>`), wantMsg: "undefined entity &lol;", wantOff: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := syncml.DecodeXML([]byte(tc.in), tc.lim)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", m)
			}
			var de *syncml.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if !strings.Contains(de.Msg, tc.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", de.Msg, tc.wantMsg)
			}
			if tc.wantIn != "" && de.Element != tc.wantIn {
				t.Errorf("Element = %q, want %q", de.Element, tc.wantIn)
			}
			if tc.wantOff >= 0 && de.Offset != int64(tc.wantOff) {
				t.Errorf("Offset = %d, want %d (%v)", de.Offset, tc.wantOff, err)
			}
			if de.Offset < 0 || de.Offset > int64(len(tc.in)) {
				t.Errorf("Offset %d outside the input of %d bytes", de.Offset, len(tc.in))
			}
		})
	}
}

func TestDecodeError_MapsTo400AndNamesOffsetAndElement(t *testing.T) {
	err := error(&syncml.DecodeError{Offset: 123, Element: "Status", Msg: "unexpected end of input"})
	if got, want := err.Error(), "offset 123 (in <Status>): unexpected end of input"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := syncml.StatusOf(err); got != syncml.StatusBadRequest {
		t.Errorf("StatusOf = %v, want 400", got)
	}
	var se *syncml.StatusError
	if !errors.As(err, &se) || !errors.Is(se, err) {
		t.Errorf("StatusError does not keep the DecodeError as cause: %v", se)
	}
	top := &syncml.DecodeError{Offset: 0, Msg: "empty input"}
	if got, want := top.Error(), "offset 0: empty input"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDecodeXML_KeepsDataRepresentation(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		wantKind syncml.DataKind
		want     string
	}{
		{"plain text", `<Data>hello</Data>`, syncml.DataText, "hello"},
		{"empty element", `<Data/>`, syncml.DataText, ""},
		{"empty pair", `<Data></Data>`, syncml.DataText, ""},
		{"whitespace is kept", `<Data>  a b  </Data>`, syncml.DataText, "  a b  "},
		{"predefined entities", `<Data>&amp;&lt;&gt;&quot;&apos;</Data>`, syncml.DataText, `&<>"'`},
		{"character references", `<Data>&#x41;&#66;&#x20AC;</Data>`, syncml.DataText, "AB€"},
		{"CR LF normalised", "<Data>a\r\nb\rc</Data>", syncml.DataText, "a\nb\nc"},
		{"CR reference kept", `<Data>a&#xD;b</Data>`, syncml.DataText, "a\rb"},
		{"comment removed", `<Data>a<!-- x -->b</Data>`, syncml.DataText, "ab"},
		{"CDATA", `<Data><![CDATA[<a & b>]]></Data>`, syncml.DataCDATA, "<a & b>"},
		{"empty CDATA", `<Data><![CDATA[]]></Data>`, syncml.DataCDATA, ""},
		{"split CDATA joined", `<Data><![CDATA[x]]]]><![CDATA[>y]]></Data>`, syncml.DataCDATA, "x]]>y"},
		{"text and CDATA joined", `<Data>a<![CDATA[<b>]]>c</Data>`, syncml.DataCDATA, "a<b>c"},
		{"nested XML kept verbatim", `<Data> <MgmtTree xmlns="syncml:dmddf1.2"><Node a='1'>x &amp; y</Node><e/></MgmtTree>
 </Data>`, syncml.DataXML, `<MgmtTree xmlns="syncml:dmddf1.2"><Node a='1'>x &amp; y</Node><e/></MgmtTree>`},
		{"nested XML with two roots", `<Data><a/><!--c--><b>t</b></Data>`, syncml.DataXML, `<a/><!--c--><b>t</b>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustDecode(t, msg(`<Replace><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI></Target>`+tc.data+`</Item></Replace>`))
			d := m.Body[0].(*syncml.Replace).Items[0].Data
			if d == nil {
				t.Fatal("Data is nil")
			}
			if d.Kind != tc.wantKind || string(d.Value) != tc.want {
				t.Errorf("Data = {%v %q}, want {%v %q}", d.Kind, d.Value, tc.wantKind, tc.want)
			}
			out, err := syncml.EncodeXML(m)
			if err != nil {
				t.Fatal(err)
			}
			again := mustDecode(t, string(out))
			if !reflect.DeepEqual(m, again) {
				t.Errorf("round trip changed the message:\n%s", out)
			}
		})
	}
}

func TestDecodeXML_AcceptsPrefixesDefaultNamespacesAndDM11(t *testing.T) {
	plain := mustDecode(t, msg(`<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>X</Data></Item></Replace><Final/>`))
	variants := map[string]string{
		"prefixed": `<s:SyncML xmlns:s="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf"><s:SyncHdr><s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto>` +
			`<s:SessionID>1</s:SessionID><s:MsgID>1</s:MsgID><s:Target><s:LocURI>t</s:LocURI></s:Target><s:Source><s:LocURI>s</s:LocURI></s:Source></s:SyncHdr>` +
			`<s:SyncBody><s:Replace><s:CmdID>2</s:CmdID><s:Item><s:Source><s:LocURI>./DevInfo/Man</s:LocURI></s:Source><s:Meta><m:Format>chr</m:Format></s:Meta><s:Data>X</s:Data></s:Item></s:Replace><s:Final/></s:SyncBody></s:SyncML>`,
		"no namespace at all": strings.NewReplacer(` xmlns="SYNCML:SYNCML1.2"`, "", ` xmlns="syncml:metinf"`, "").Replace(msg(`<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>X</Data></Item></Replace><Final/>`)),
		"MetInf wrapper":      msg(`<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Meta><MetInf xmlns="syncml:metinf"><Format>chr</Format></MetInf></Meta><Data>X</Data></Item></Replace><Final/>`),
		"declaration, BOM, DOCTYPE with subset, comments and PIs": "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n<!-- c -->\n" +
			`<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd" [ <!-- ] > --> <!ENTITY x "]>"> ]>` +
			"\n<?pi x?>" + msg(`<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>X</Data></Item></Replace><Final/>`) + "\n<!-- trailing -->\n",
	}
	for name, in := range variants {
		t.Run(name, func(t *testing.T) {
			if got := mustDecode(t, in); !reflect.DeepEqual(got, plain) {
				t.Errorf("decoded differently from the plain form")
			}
		})
	}
	t.Run("DM 1.1 encodes with the 1.1 namespace", func(t *testing.T) {
		m := mustDecode(t, string(readFixture(t, "33-dm11.xml")))
		if m.Header.VerDTD != "1.1" || m.Header.VerProto != "DM/1.1" {
			t.Fatalf("header = %+v", m.Header)
		}
		out, err := syncml.EncodeXML(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte(`<SyncML xmlns="SYNCML:SYNCML1.1">`)) {
			t.Errorf("encoded root: %.60s", out)
		}
	})
}

func TestDecodeXML_ReadsEveryHeaderAndCommandField(t *testing.T) {
	m := mustDecode(t, string(readFixture(t, "03-pkg2-status212-nextnonce.xml")))
	st := m.Body[0].(*syncml.Status)
	if st.Data != syncml.StatusAuthAccepted || st.Cmd != "SyncHdr" || st.CmdRef != "0" ||
		st.Chal == nil || st.Chal.Meta.NextNonce != "AP8Q7yCxgn5/AAGtvs4N8A==" || st.Chal.Meta.Type != syncml.AuthMD5 {
		t.Errorf("header status = %+v chal=%+v", st, st.Chal)
	}
	if m.Header.Meta.MaxMsgSize != 65536 || m.Header.Meta.MaxObjSize != 4194304 {
		t.Errorf("header meta = %+v", m.Header.Meta)
	}
	g := mustDecode(t, string(readFixture(t, "19-alert-1226-generic-fumo.xml")))
	a := g.Body[0].(*syncml.Alert)
	if a.Data != syncml.AlertGeneric || a.Correlator != "fumo-job-7731" || a.Items[0].Meta.Mark != "critical" {
		t.Errorf("generic alert = %+v", a)
	}
	lo := mustDecode(t, string(readFixture(t, "22-large-object-chunk1.xml")))
	it := lo.Body[1].(*syncml.Replace).Items[0]
	if !it.MoreData || it.Meta.Size != 96 || lo.Final {
		t.Errorf("chunk item = %+v final=%v", it, lo.Final)
	}
	at := mustDecode(t, string(readFixture(t, "10-atomic-nested.xml"))).Body[0].(*syncml.Atomic)
	var names []string
	for _, c := range at.Commands {
		names = append(names, c.CommandName())
	}
	if got := strings.Join(names, ","); got != "Add,Replace,Delete,Copy,Alert" {
		t.Errorf("Atomic members = %s", got)
	}
	h := mustDecode(t, string(readFixture(t, "30-respuri-noresp.xml"))).Header
	if h.RespURI != "https://dm2.example.com/dm?s=17&node=b" || !h.NoResp {
		t.Errorf("header = %+v", h)
	}
}

func TestDecodeXML_StringsDoNotAliasTheCallersBuffer(t *testing.T) {
	in := readFixture(t, "01-pkg1-client-initiated.xml")
	m, err := syncml.DecodeXML(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := syncml.EncodeXML(m)
	for i := range in {
		in[i] = 'x'
	}
	got, _ := syncml.EncodeXML(m)
	if !bytes.Equal(got, want) {
		t.Error("overwriting the input changed the decoded message")
	}
}

func TestEncodeXML_EscapesWhatXMLCannotCarry(t *testing.T) {
	m := &syncml.Message{
		Header: syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: "1", MsgID: "1",
			Target: syncml.Location{LocURI: "a<b&c>"}, Source: syncml.Location{LocURI: "s"}},
		Body: []syncml.Command{&syncml.Replace{CmdID: "1", Items: []syncml.Item{
			{Target: &syncml.Location{LocURI: "./x"}, Data: &syncml.Data{Kind: syncml.DataText, Value: []byte("line\r\nctl\x01\ttab")}},
			{Target: &syncml.Location{LocURI: "./y"}, Data: &syncml.Data{Kind: syncml.DataCDATA, Value: []byte("a]]>b\rc")}},
			{Target: &syncml.Location{LocURI: "./z"}, Data: &syncml.Data{Kind: syncml.DataOpaque, Value: []byte{0, 1, 2, 0xff}}},
		}}},
	}
	out, err := syncml.EncodeXML(m)
	if err != nil {
		t.Fatal(err)
	}
	back := mustDecode(t, string(out))
	if got := back.Header.Target.LocURI; got != "a<b&c>" {
		t.Errorf("LocURI = %q", got)
	}
	items := back.Body[0].(*syncml.Replace).Items
	if got := string(items[0].Data.Value); got != "line\r\nctl\x01\ttab" {
		t.Errorf("text = %q (encoded %s)", got, out)
	}
	if got := items[1].Data; got.Kind != syncml.DataCDATA || string(got.Value) != "a]]>b\rc" {
		t.Errorf("cdata = %v %q (encoded %s)", got.Kind, got.Value, out)
	}
	if got := string(items[2].Data.Value); got != "AAEC/w==" {
		t.Errorf("opaque written as %q, want base64", got)
	}
}

func TestEncodeXML_RefusesMalformedNestedXMLAndNilCommands(t *testing.T) {
	for name, m := range map[string]*syncml.Message{
		"markup injection": {Body: []syncml.Command{&syncml.Add{CmdID: "1", Items: []syncml.Item{{
			Data: &syncml.Data{Kind: syncml.DataXML, Value: []byte(`</Data></Item><Exec><CmdID>9</CmdID>`)}}}}}},
		"unbalanced": {Body: []syncml.Command{&syncml.Add{CmdID: "1", Items: []syncml.Item{{
			Data: &syncml.Data{Kind: syncml.DataXML, Value: []byte(`<MgmtTree>`)}}}}}},
		"nil command":        {Body: []syncml.Command{nil}},
		"typed nil command":  {Body: []syncml.Command{(*syncml.Get)(nil)}},
		"status in atomic":   {Body: []syncml.Command{&syncml.Atomic{Commands: []syncml.Command{&syncml.Status{}}}}},
		"negative meta size": {Body: []syncml.Command{&syncml.Add{Meta: &syncml.Meta{Size: -1}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := syncml.EncodeXML(m); err == nil {
				t.Errorf("encoded %s, want an error", out)
			}
		})
	}
	if _, err := syncml.EncodeXML(nil); err == nil {
		t.Error("EncodeXML(nil) succeeded")
	}
}

func TestEncodeXML_WritesBinaryNextNonceAsBase64(t *testing.T) {
	m := &syncml.Message{Body: []syncml.Command{&syncml.Status{CmdID: "1", CmdRef: "0", Cmd: "SyncHdr", Data: 401,
		Chal: &syncml.Chal{Meta: &syncml.Meta{Format: "b64", Type: syncml.AuthMD5, NextNonce: "\x00\xff\x10"}}}}}
	out, err := syncml.EncodeXML(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`<NextNonce xmlns="syncml:metinf">AP8Q</NextNonce>`)) {
		t.Errorf("encoded: %s", out)
	}
}

func TestEncodeXMLIndent_IsReadableAndDecodesToTheSameMessage(t *testing.T) {
	m := mustDecode(t, string(readFixture(t, "12-sequence-alert-exec.xml")))
	out, err := syncml.EncodeXMLIndent(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>")) {
		t.Errorf("unexpected layout:\n%s", out)
	}
	if !reflect.DeepEqual(mustDecode(t, string(out)), m) {
		t.Error("indented form decodes differently")
	}
}

func TestToJSON_ListsCommandsInOrderWithElementNames(t *testing.T) {
	m := mustDecode(t, string(readFixture(t, "03-pkg2-status212-nextnonce.xml")))
	b, err := syncml.ToJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	idx := func(sub string) int {
		i := strings.Index(s, sub)
		if i < 0 {
			t.Fatalf("JSON lacks %s:\n%s", sub, s)
		}
		return i
	}
	if !(idx(`"cmd": "Status"`) < idx(`"cmd": "Get"`) && idx(`"data": 212`) < idx(`"cmdName": "Replace"`)) {
		t.Errorf("commands out of order:\n%s", s)
	}
	idx(`"nextNonce": "AP8Q7yCxgn5/AAGtvs4N8A=="`)
	idx(`"dataName": "Authentication accepted"`)
	idx(`"final": true`)
	again, _ := syncml.ToJSON(m)
	if !bytes.Equal(again, b) {
		t.Error("ToJSON is not stable")
	}
}

func TestDecodeXML_IsSafeForConcurrentUse(t *testing.T) {
	inputs := [][]byte{readFixture(t, "01-pkg1-client-initiated.xml"), readFixture(t, "26-add-tnds-mgmttree.xml"), readFixture(t, "29-entities.xml")}
	want := make([]*syncml.Message, len(inputs))
	for i, in := range inputs {
		want[i] = mustDecode(t, string(in))
	}
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for n := range 50 {
				i := (g + n) % len(inputs)
				m, err := syncml.DecodeXML(inputs[i], nil)
				if err == nil && !reflect.DeepEqual(m, want[i]) {
					err = errors.New("concurrent decode produced a different message")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
