package syncml_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// diffModels compares two messages and returns "" when they carry the same
// content. Text and CDATA Data are always the same thing (WBXML has no CDATA).
// With loose set, differences that are only representation are
// ignored: text vs CDATA vs OPAQUE Data, nil vs empty Data value, nested XML
// formatting (compared as parsed trees), and whitespace around Data that
// libwbxml keeps but a model built from XML trims.
func diffModels(want, got *syncml.Message, loose bool) string {
	w := dumpMessage(want, loose)
	g := dumpMessage(got, loose)
	if w == g {
		return ""
	}
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-120)
	return "models differ at dump byte " + itoa(i) + ":\nwant …" + clip(w[from:], 400) + "\n got …" + clip(g[from:], 400)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func dumpMessage(m *syncml.Message, loose bool) string {
	v := map[string]any{
		"Header": normHeader(m.Header, loose),
		"Final":  m.Final,
		"Body":   dumpCmds(m.Body, loose),
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return "unmarshalable: " + err.Error()
	}
	return string(b)
}

func normHeader(h syncml.Header, loose bool) syncml.Header {
	h.Meta = normMeta(h.Meta)
	if h.Cred != nil {
		c := *h.Cred
		c.Meta = normMeta(c.Meta)
		h.Cred = &c
	}
	return h
}

func normMeta(m *syncml.Meta) *syncml.Meta {
	if m == nil {
		return nil
	}
	c := *m
	if len(c.EMI) == 0 {
		c.EMI = nil
	}
	return &c
}

func dumpCmds(cmds []syncml.Command, loose bool) []any {
	out := make([]any, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, dumpCmd(c, loose))
	}
	return out
}

func dumpCmd(c syncml.Command, loose bool) any {
	switch c := c.(type) {
	case *syncml.Atomic:
		return map[string]any{"_cmd": "Atomic", "CmdID": c.CmdID, "NoResp": c.NoResp, "Meta": normMeta(c.Meta), "Commands": dumpCmds(c.Commands, loose)}
	case *syncml.Sequence:
		return map[string]any{"_cmd": "Sequence", "CmdID": c.CmdID, "NoResp": c.NoResp, "Meta": normMeta(c.Meta), "Commands": dumpCmds(c.Commands, loose)}
	}
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["_cmd"] = c.CommandName()
	for _, k := range []string{"TargetRefs", "SourceRefs"} {
		if v, ok := m[k].([]any); ok && len(v) == 0 {
			m[k] = nil
		}
	}
	if it := syncml.ItemsOf(c); len(it) > 0 {
		items := make([]any, len(it))
		for i := range it {
			items[i] = dumpItem(it[i], loose)
		}
		m["Items"] = items
	} else {
		m["Items"] = nil
	}
	for _, k := range []string{"Meta"} {
		if mm, ok := m[k].(map[string]any); ok {
			if v, ok := mm["EMI"].([]any); ok && len(v) == 0 {
				mm["EMI"] = nil
			}
		}
	}
	return m
}

func dumpItem(it syncml.Item, loose bool) any {
	it.Meta = normMeta(it.Meta)
	m := map[string]any{"Item": it}
	if it.Data != nil {
		kind, val := it.Data.Kind, it.Data.Value
		if kind != syncml.DataXML && (loose || kind == syncml.DataCDATA) {
			// WBXML has no CDATA: text and CDATA are one thing on the wire.
			kind = syncml.DataText
		}
		if kind == syncml.DataText && loose && bytes.HasPrefix(bytes.TrimSpace(val), []byte("<")) && !strings.HasPrefix(canonXML(val), "invalid XML") {
			// Markup as text and nested XML are one tree once through
			// WBXML: libwbxml writes nested elements inline, and inline
			// elements of a page other than DDF (a DS Anchor in a
			// Status) reach the model as their XML text.
			kind = syncml.DataXML
		}
		if kind == syncml.DataXML {
			val = []byte(canonXML(val))
		}
		m["DataKind"] = kind
		m["DataValue"] = string(val)
		it.Data = nil
		m["Item"] = it
	}
	return m
}

// canonXML re-serialises XML text: whitespace-only character data dropped,
// namespace declarations dropped, names without prefixes.
func canonXML(b []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "invalid XML: " + err.Error() + ": " + string(b)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			out.WriteString("<" + t.Name.Local + ">")
		case xml.EndElement:
			out.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" {
				xml.EscapeText(&out, t)
			}
		}
	}
	return out.String()
}
