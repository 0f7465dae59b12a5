package syncml

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// EncodeXML encodes m as compact, canonical XML: no declaration, no
// whitespace between elements, <SyncML xmlns="SYNCML:SYNCML1.2"> (the 1.1
// namespace when VerDTD is "1.1"), MetInf elements each with
// xmlns="syncml:metinf", children in DTD order and commands in model order.
// Data keeps its kind: DataCDATA becomes a CDATA section, DataXML is written
// verbatim (after a well-formedness check, so a value cannot inject markup),
// DataOpaque becomes base64 text.
//
// Text that XML cannot carry literally is escaped so DecodeXML restores it:
// CR and other control characters become character references. Invalid UTF-8
// in a string becomes U+FFFD, except a NextNonce (which may be raw bytes from
// WBXML), which is written as base64 instead.
func EncodeXML(m *Message) ([]byte, error) {
	return encodeXML(m, false)
}

// EncodeXMLIndent encodes m like EncodeXML but with an XML declaration and
// two-space indentation, for people: the CLI, logs and wire traces. Text
// content is never re-indented, so it decodes to the same message.
func EncodeXMLIndent(m *Message) ([]byte, error) {
	return encodeXML(m, true)
}

func encodeXML(m *Message, indent bool) ([]byte, error) {
	if m == nil {
		return nil, errors.New("syncml: EncodeXML of a nil message")
	}
	w := &xmlWriter{indent: indent, b: make([]byte, 0, 1024)}
	if indent {
		w.b = append(w.b, `<?xml version="1.0" encoding="UTF-8"?>`...)
	}
	ns := NamespaceSyncML12
	if m.Header.VerDTD == VerDTD11 {
		ns = NamespaceSyncML11
	}
	w.nl()
	w.b = append(w.b, `<SyncML xmlns="`...)
	w.b = append(w.b, ns...)
	w.b = append(w.b, `">`...)
	w.depth++
	w.header(&m.Header)
	w.open("SyncBody")
	for _, c := range m.Body {
		w.command(c, true)
	}
	if m.Final {
		w.empty("Final")
	}
	w.close("SyncBody")
	w.close("SyncML")
	if w.err != nil {
		return nil, w.err
	}
	if indent {
		w.b = append(w.b, '\n')
	}
	return w.b, nil
}

// xmlWriter appends XML to b; the first error sticks.
type xmlWriter struct {
	b      []byte
	indent bool
	depth  int
	err    error
}

func (w *xmlWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("syncml: cannot encode XML: "+format, args...)
	}
}

// nl starts a new indented line in indent mode.
func (w *xmlWriter) nl() {
	if !w.indent || len(w.b) == 0 {
		return
	}
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *xmlWriter) open(name string) {
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.depth++
}

func (w *xmlWriter) openMetInf(name string) {
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, ` xmlns="syncml:metinf">`...)
	w.depth++
}

func (w *xmlWriter) close(name string) {
	w.depth--
	w.nl()
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xmlWriter) empty(name string) {
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, "/>"...)
}

func (w *xmlWriter) emptyMetInf(name string) {
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, ` xmlns="syncml:metinf"/>`...)
}

// leaf writes <name>value</name>; empty values are omitted.
func (w *xmlWriter) leaf(name, value string) {
	if value == "" {
		return
	}
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// leafMetInf writes a MetInf leaf with its namespace.
func (w *xmlWriter) leafMetInf(name, value string) {
	if value == "" {
		return
	}
	w.nl()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, ` xmlns="syncml:metinf">`...)
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// repeated writes one of a list of leaves; an empty one is kept as <name/>
// so the list keeps its length.
func (w *xmlWriter) repeated(name, value string) {
	if value == "" {
		w.empty(name)
		return
	}
	w.leaf(name, value)
}

func (w *xmlWriter) flag(name string, on bool) {
	if on {
		w.empty(name)
	}
}

func (w *xmlWriter) header(h *Header) {
	w.open("SyncHdr")
	w.leaf("VerDTD", h.VerDTD)
	w.leaf("VerProto", h.VerProto)
	w.leaf("SessionID", h.SessionID)
	w.leaf("MsgID", h.MsgID)
	if h.Target != (Location{}) {
		w.location("Target", &h.Target)
	}
	if h.Source != (Location{}) {
		w.location("Source", &h.Source)
	}
	w.leaf("RespURI", h.RespURI)
	w.flag("NoResp", h.NoResp)
	w.cred(h.Cred)
	w.meta(h.Meta)
	w.close("SyncHdr")
}

// location writes a Target/Source; an all-empty one is written empty.
func (w *xmlWriter) location(name string, l *Location) {
	if l == nil {
		return
	}
	if l.LocURI == "" && l.LocName == "" {
		w.empty(name)
		return
	}
	w.open(name)
	w.leaf("LocURI", l.LocURI)
	w.leaf("LocName", l.LocName)
	w.close(name)
}

func (w *xmlWriter) cred(c *Cred) {
	if c == nil {
		return
	}
	if c.Meta == nil && c.Data == "" {
		w.empty("Cred")
		return
	}
	w.open("Cred")
	w.meta(c.Meta)
	w.leaf("Data", c.Data)
	w.close("Cred")
}

func (w *xmlWriter) number(name string, n int64) {
	if n < 0 {
		w.fail("negative %s %d", name, n)
		return
	}
	if n > 0 {
		w.leafMetInf(name, strconv.FormatInt(n, 10))
	}
}

// meta writes a Meta in MetInf DTD order.
func (w *xmlWriter) meta(m *Meta) {
	if m == nil {
		return
	}
	if isZeroMeta(m) {
		w.empty("Meta")
		return
	}
	w.open("Meta")
	if m.FieldLevel {
		w.emptyMetInf("FieldLevel")
	}
	w.leafMetInf("Format", m.Format)
	w.leafMetInf("Type", m.Type)
	w.leafMetInf("Mark", m.Mark)
	w.number("Size", m.Size)
	if a := m.Anchor; a != nil {
		if a.Last == "" && a.Next == "" {
			w.emptyMetInf("Anchor")
		} else {
			w.openMetInf("Anchor")
			w.leaf("Last", a.Last)
			w.leaf("Next", a.Next)
			w.close("Anchor")
		}
	}
	w.leafMetInf("Version", m.Version)
	if m.NextNonce != "" {
		if validText(m.NextNonce) {
			w.leafMetInf("NextNonce", m.NextNonce)
		} else {
			w.leafMetInf("NextNonce", base64.StdEncoding.EncodeToString([]byte(m.NextNonce)))
		}
	}
	w.number("MaxMsgSize", m.MaxMsgSize)
	w.number("MaxObjSize", m.MaxObjSize)
	for _, e := range m.EMI {
		if e == "" {
			w.emptyMetInf("EMI")
		} else {
			w.leafMetInf("EMI", e)
		}
	}
	if mem := m.Mem; mem != nil {
		if !mem.SharedMem && mem.FreeMem == "" && mem.FreeID == "" {
			w.emptyMetInf("Mem")
		} else {
			w.openMetInf("Mem")
			w.flag("SharedMem", mem.SharedMem)
			w.leaf("FreeMem", mem.FreeMem)
			w.leaf("FreeID", mem.FreeID)
			w.close("Mem")
		}
	}
	w.close("Meta")
}

func isZeroMeta(m *Meta) bool {
	return m.Format == "" && m.Type == "" && m.Mark == "" && m.Size == 0 && m.NextNonce == "" &&
		m.Version == "" && m.MaxMsgSize == 0 && m.MaxObjSize == 0 && len(m.EMI) == 0 &&
		m.Anchor == nil && m.Mem == nil && !m.FieldLevel
}

func (w *xmlWriter) items(items []Item) {
	for i := range items {
		it := &items[i]
		w.open("Item")
		w.location("Target", it.Target)
		w.location("Source", it.Source)
		w.location("SourceParent", it.SourceParent)
		w.location("TargetParent", it.TargetParent)
		w.meta(it.Meta)
		w.data(it.Data)
		w.flag("MoreData", it.MoreData)
		w.close("Item")
	}
}

// data writes a Data element in the representation its kind asks for.
func (w *xmlWriter) data(d *Data) {
	if d == nil {
		return
	}
	w.nl()
	if len(d.Value) == 0 && d.Kind != DataCDATA {
		w.b = append(w.b, "<Data/>"...)
		return
	}
	w.b = append(w.b, "<Data>"...)
	switch d.Kind {
	case DataText:
		w.b = appendEscaped(w.b, d.Value)
	case DataCDATA:
		w.b = appendCDATA(w.b, d.Value)
	case DataOpaque:
		w.b = base64.StdEncoding.AppendEncode(w.b, d.Value)
	case DataXML:
		if err := checkNestedXML(d.Value); err != nil {
			w.fail("Data of kind DataXML is not well-formed XML: %v", err)
			return
		}
		w.b = append(w.b, d.Value...)
	default:
		w.fail("unknown Data kind %d", d.Kind)
		return
	}
	w.b = append(w.b, "</Data>"...)
}

func (w *xmlWriter) code(n int) {
	if n < 0 {
		w.fail("negative code %d in Data", n)
		return
	}
	w.nl()
	w.b = append(w.b, "<Data>"...)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, "</Data>"...)
}

// command writes one command; Status and Results only at top level.
func (w *xmlWriter) command(c Command, topLevel bool) {
	switch c := c.(type) {
	case *Add:
		if c == nil {
			break
		}
		w.open("Add")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.items(c.Items)
		w.close("Add")
		return
	case *Replace:
		if c == nil {
			break
		}
		w.open("Replace")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.items(c.Items)
		w.close("Replace")
		return
	case *Delete:
		if c == nil {
			break
		}
		w.open("Delete")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.flag("Archive", c.Archive)
		w.flag("SftDel", c.SftDel)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.items(c.Items)
		w.close("Delete")
		return
	case *Get:
		if c == nil {
			break
		}
		w.open("Get")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.leaf("Lang", c.Lang)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.items(c.Items)
		w.close("Get")
		return
	case *Copy:
		if c == nil {
			break
		}
		w.open("Copy")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.items(c.Items)
		w.close("Copy")
		return
	case *Exec:
		if c == nil {
			break
		}
		w.open("Exec")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.cred(c.Cred)
		w.meta(c.Meta)
		w.leaf("Correlator", c.Correlator)
		w.items(c.Items)
		w.close("Exec")
		return
	case *Alert:
		if c == nil {
			break
		}
		w.open("Alert")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.cred(c.Cred)
		w.code(int(c.Data))
		w.leaf("Correlator", c.Correlator)
		w.items(c.Items)
		w.close("Alert")
		return
	case *Atomic:
		if c == nil {
			break
		}
		w.open("Atomic")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.meta(c.Meta)
		for _, n := range c.Commands {
			w.command(n, false)
		}
		w.close("Atomic")
		return
	case *Sequence:
		if c == nil {
			break
		}
		w.open("Sequence")
		w.leaf("CmdID", c.CmdID)
		w.flag("NoResp", c.NoResp)
		w.meta(c.Meta)
		for _, n := range c.Commands {
			w.command(n, false)
		}
		w.close("Sequence")
		return
	case *Results:
		if c == nil {
			break
		}
		if !topLevel {
			w.fail("Results inside Atomic/Sequence")
			return
		}
		w.open("Results")
		w.leaf("CmdID", c.CmdID)
		w.leaf("MsgRef", c.MsgRef)
		w.leaf("CmdRef", c.CmdRef)
		w.meta(c.Meta)
		w.leaf("TargetRef", c.TargetRef)
		w.leaf("SourceRef", c.SourceRef)
		w.items(c.Items)
		w.close("Results")
		return
	case *Status:
		if c == nil {
			break
		}
		if !topLevel {
			w.fail("Status inside Atomic/Sequence")
			return
		}
		w.open("Status")
		w.leaf("CmdID", c.CmdID)
		w.leaf("MsgRef", c.MsgRef)
		w.leaf("CmdRef", c.CmdRef)
		w.leaf("Cmd", c.Cmd)
		for _, r := range c.TargetRefs {
			w.repeated("TargetRef", r)
		}
		for _, r := range c.SourceRefs {
			w.repeated("SourceRef", r)
		}
		w.cred(c.Cred)
		if c.Chal != nil {
			if c.Chal.Meta == nil {
				w.empty("Chal")
			} else {
				w.open("Chal")
				w.meta(c.Chal.Meta)
				w.close("Chal")
			}
		}
		w.code(int(c.Data))
		w.items(c.Items)
		w.close("Status")
		return
	}
	if u, ok := c.(*Unknown); ok && u != nil {
		if u.Reason != "" {
			// A DM command that failed to decode: its content was not
			// kept, so there is nothing to write.
			return
		}
		// Only its name and CmdID were kept: written as such, it decodes
		// to the same *Unknown again.
		if !validNCName(u.Name) {
			w.fail("unknown command name %q is not an XML name", u.Name)
			return
		}
		if u.CmdID == "" {
			w.empty(u.Name)
			return
		}
		w.open(u.Name)
		w.leaf("CmdID", u.CmdID)
		w.close(u.Name)
		return
	}
	w.fail("unsupported or nil command %T", c)
}

// needsEscape marks bytes text escaping must look at.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['<'], t['>'], t['&'], t[0x7f] = true, true, true, false
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// appendEscaped appends s as XML character data.
func appendEscaped[T string | []byte](b []byte, s T) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !needsEscape[c] {
			i++
			continue
		}
		var rep string
		size := 1
		switch {
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '&':
			rep = "&amp;"
		case c < 0x20:
			if c == 0 {
				rep = "\uFFFD" // NUL has no XML representation at all
			} else {
				b = append(b, s[last:i]...)
				b = append(b, "&#x"...)
				b = strconv.AppendUint(b, uint64(c), 16)
				b = append(b, ';')
				i++
				last = i
				continue
			}
		default:
			r, n := decodeRune(s[i:])
			if (r != utf8.RuneError || n > 1) && r != 0xFFFE && r != 0xFFFF {
				i += n
				continue
			}
			rep, size = "\uFFFD", n
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		i += size
		last = i
	}
	return append(b, s[last:]...)
}

func decodeRune[T string | []byte](s T) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.RuneError, 1
}

// appendCDATA appends v as CDATA sections. "]]>" is split across two
// sections; characters a CDATA section cannot carry (CR, other controls,
// invalid UTF-8) go between sections as references, which DecodeXML joins
// back into one CDATA value.
func appendCDATA(b []byte, v []byte) []byte {
	b = append(b, "<![CDATA["...)
	last := 0
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == ']' && i+2 < len(v) && v[i+1] == ']' && v[i+2] == '>':
			b = append(b, v[last:i+2]...)
			b = append(b, "]]><![CDATA["...)
			i += 2
			last = i
		case c < 0x20 && c != '\t' && c != '\n':
			b = append(b, v[last:i]...)
			b = append(b, "]]>"...)
			b = appendEscaped(b, v[i:i+1])
			b = append(b, "<![CDATA["...)
			i++
			last = i
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(v[i:])
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				b = append(b, v[last:i]...)
				b = append(b, "\uFFFD"...)
				i += n
				last = i
				continue
			}
			i += n
		default:
			i++
		}
	}
	b = append(b, v[last:]...)
	return append(b, "]]>"...)
}

// validText reports whether s can be written as XML text without loss.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// checkNestedXML verifies v is well-formed element content by running it
// through the decoder's nested-XML scanner inside a synthetic Data element.
func checkNestedXML(v []byte) error {
	d := decoderPool.Get().(*decoder)
	defer func() { d.release(); decoderPool.Put(d) }()
	s := "<Data>" + string(v) + "</Data>"
	d.reset(s, (*Limits)(nil).WithDefaults())
	t, err := d.startTag("", false)
	if err != nil {
		return err
	}
	if _, err := d.text(&t, true); err != nil {
		return err
	}
	if d.pos != len(s) {
		return errors.New("content after the nested XML")
	}
	return nil
}
