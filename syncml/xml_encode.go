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
	w.encHeader(elSyncHdr, &m.Header)
	saved := w.open(elSyncBody)
	for _, c := range m.Body {
		w.command(c)
	}
	if m.Final {
		w.empty(elFinal)
	}
	w.close(elSyncBody, saved)
	w.close(elSyncML, saved)
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
	nest   int   // enclosing Atomic/Sequence commands
	page   uint8 // code page (namespace) of the open element
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

// xmlTag is the markup the XML encoder writes for one element, built once
// from the element table: each tag is one append.
type xmlTag struct {
	page           uint8
	open, openNS   string // "<Name>", and with the namespace of its page
	empty, emptyNS string
	close          string // "</Name>"
}

var xmlTags = func() (t [elCount]xmlTag) {
	for el := range t {
		def := &elemDefs[el]
		ns := ` xmlns="` + pageNamespace[def.page] + `"`
		t[el] = xmlTag{page: def.page,
			open: "<" + def.name + ">", openNS: "<" + def.name + ns + ">",
			empty: "<" + def.name + "/>", emptyNS: "<" + def.name + ns + "/>",
			close: "</" + def.name + ">"}
	}
	return t
}()

// pageNamespace is the XML namespace written for a code page change.
var pageNamespace = [...]string{pageSyncML: NamespaceSyncML12, pageMetInf: NamespaceMetInf}

// openTag appends el's start tag; an element whose code page differs from
// its parent's carries its namespace (the MetInf children of Meta).
func (w *xmlWriter) openTag(t *xmlTag) {
	w.nl()
	if t.page != w.page {
		w.b = append(w.b, t.openNS...)
	} else {
		w.b = append(w.b, t.open...)
	}
}

// open writes a start tag and returns the page to restore at close.
func (w *xmlWriter) open(el elem) (saved uint8) {
	t := &xmlTags[el]
	w.openTag(t)
	w.depth++
	saved, w.page = w.page, t.page
	return saved
}

func (w *xmlWriter) close(el elem, saved uint8) {
	w.depth--
	w.nl()
	w.b = append(w.b, xmlTags[el].close...)
	w.page = saved
}

func (w *xmlWriter) empty(el elem) {
	t := &xmlTags[el]
	w.nl()
	if t.page != w.page {
		w.b = append(w.b, t.emptyNS...)
	} else {
		w.b = append(w.b, t.empty...)
	}
}

// leaf writes <name>value</name> with value as escaped text.
func (w *xmlWriter) leaf(el elem, value string) {
	t := &xmlTags[el]
	w.openTag(t)
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, t.close...)
}

// The element structure is written by the write* functions generated from
// schema.txt into zschema.go; these are the primitives they call, one per
// kind.

// encText writes a text element; an empty value is an empty element (so a
// list keeps its length).
func (w *xmlWriter) encText(el elem, value string) {
	if value == "" {
		w.empty(el)
		return
	}
	w.leaf(el, value)
}

// encNonce writes a NextNonce; raw bytes (from WBXML OPAQUE) that XML text
// cannot carry are written as base64.
func (w *xmlWriter) encNonce(el elem, value string) {
	if validText(value) {
		w.leaf(el, value)
	} else {
		w.leaf(el, base64.StdEncoding.EncodeToString([]byte(value)))
	}
}

func (w *xmlWriter) encFlag(el elem) { w.empty(el) }

func (w *xmlWriter) encNumber(el elem, n int64) {
	if n < 0 {
		w.fail("negative %s %d", elemDefs[el].name, n)
		return
	}
	w.number(el, n)
}

func (w *xmlWriter) number(el elem, n int64) {
	t := &xmlTags[el]
	w.openTag(t)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, t.close...)
}

func (w *xmlWriter) encCode(el elem, n int64) {
	if n < 0 {
		w.fail("negative code %d in Data", n)
		return
	}
	w.number(el, n)
}

// encData writes a Data element in the representation its kind asks for.
func (w *xmlWriter) encData(el elem, d *Data) {
	if len(d.Value) == 0 && d.Kind != DataCDATA {
		w.empty(el)
		return
	}
	t := &xmlTags[el]
	w.openTag(t)
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
	w.b = append(w.b, t.close...)
}

// encCmds writes the commands of an Atomic or Sequence.
func (w *xmlWriter) encCmds(cmds []Command) {
	w.nest++
	for _, c := range cmds {
		w.command(c)
	}
	w.nest--
}

// openCmd starts a command; Status and Results only at top level.
func (w *xmlWriter) openCmd(el elem, _ *Meta, _ []Item) bool {
	if w.nest > 0 && (el == elStatus || el == elResults) {
		w.fail("%s inside Atomic/Sequence", elemDefs[el].name)
		return false
	}
	w.open(el)
	return true
}

func (w *xmlWriter) closeCmd(el elem) { w.close(el, pageSyncML) }

// command writes one command of SyncBody, Atomic or Sequence.
func (w *xmlWriter) command(c Command) {
	if w.encCommand(c) {
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
			w.nl()
			w.b = append(w.b, '<')
			w.b = append(w.b, u.Name...)
			w.b = append(w.b, "/>"...)
			return
		}
		w.nl()
		w.b = append(w.b, '<')
		w.b = append(w.b, u.Name...)
		w.b = append(w.b, '>')
		w.depth++
		w.leaf(elCmdID, u.CmdID)
		w.depth--
		w.nl()
		w.b = append(w.b, "</"...)
		w.b = append(w.b, u.Name...)
		w.b = append(w.b, '>')
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
