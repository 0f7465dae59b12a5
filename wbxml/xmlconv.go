package wbxml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// ToXML decodes a complete WBXML document into compact XML text appended to
// dst. Element names come from the document's language (by public id or FPI),
// or from fallback when the document does not name a known language; LITERAL
// tags keep their string-table names. The root element, and every element
// whose code page differs from its parent's, carries an xmlns declaration for
// its page's namespace. Attributes are skipped (no built-in language uses
// them). OPAQUE content is written as text when it is valid XML character
// data and as base64 otherwise, since XML has no place for raw bytes. Content
// that XML cannot carry (invalid UTF-8, control characters, bad literal
// names) is an ErrMalformed error, so the output always parses back.
func ToXML(dst, doc []byte, lim *Limits, fallback *Language) ([]byte, error) {
	r, err := NewReader(doc, lim)
	if err != nil {
		return dst, err
	}
	lang := r.Header().Language()
	if lang == nil {
		lang = fallback
	}
	for {
		t, err := r.Next()
		if err != nil {
			return dst, err
		}
		switch t.Kind {
		case KindEOF:
			return dst, nil
		case KindStart:
			dst, err = AppendElementXML(dst, r, t, lang)
			if err != nil {
				return dst, err
			}
		}
	}
}

// AppendElementXML converts one element, whose start token first was just
// read from r, and everything inside it to XML text appended to dst; on
// return r is positioned after the element's end. Names come from lang's code
// pages. The rules are those of ToXML.
func AppendElementXML(dst []byte, r *Reader, first Token, lang *Language) ([]byte, error) {
	type open struct{ ns string }
	var stackBuf [16]open
	stack := stackBuf[:0]
	t := first
	for {
		switch t.Kind {
		case KindStart:
			name, ns, err := xmlName(lang, t)
			if err != nil {
				return dst, err
			}
			parentNS := ""
			if len(stack) > 0 {
				parentNS = stack[len(stack)-1].ns
			}
			dst = append(dst, '<')
			dst = append(dst, name...)
			if ns != "" && ns != parentNS {
				dst = append(dst, ` xmlns="`...)
				dst = AppendEscaped(dst, []byte(ns))
				dst = append(dst, '"')
			}
			if ns == "" {
				ns = parentNS
			}
			if t.Content {
				dst = append(dst, '>')
				stack = append(stack, open{ns: ns})
			} else {
				dst = append(dst, "/>"...)
				if _, err := r.Next(); err != nil { // the synthetic End
					return dst, err
				}
			}
		case KindEnd:
			stack = stack[:len(stack)-1]
			name, _, err := xmlName(lang, t)
			if err != nil {
				return dst, err
			}
			dst = append(dst, "</"...)
			dst = append(dst, name...)
			dst = append(dst, '>')
		case KindText:
			if !ValidXMLText(t.Data) {
				return dst, errAt(t.Offset, ErrMalformed, "string is not valid XML character data")
			}
			dst = AppendEscaped(dst, t.Data)
		case KindEntity:
			var tmp [utf8.UTFMax]byte
			c := tmp[:utf8.EncodeRune(tmp[:], t.Rune)]
			if !ValidXMLText(c) {
				return dst, errAt(t.Offset, ErrMalformed, "ENTITY is not an XML character")
			}
			dst = AppendEscaped(dst, c)
		case KindOpaque:
			if ValidXMLText(t.Data) {
				dst = AppendEscaped(dst, t.Data)
			} else {
				dst = base64.StdEncoding.AppendEncode(dst, t.Data)
			}
		case KindEOF:
			return dst, errAt(t.Offset, ErrTruncated, "document ends inside an element")
		case KindExt, KindPI:
			// No XML form: dropped.
		}
		if len(stack) == 0 {
			return dst, nil
		}
		var err error
		if t, err = r.Next(); err != nil {
			return dst, err
		}
	}
}

func xmlName(lang *Language, t Token) (name, ns string, err error) {
	if t.Tag == 0 {
		if !validXMLName(t.Name) {
			return "", "", errAt(t.Offset, ErrMalformed, "LITERAL name "+strconv.Quote(string(t.Name))+" is not an XML name")
		}
		return string(t.Name), "", nil
	}
	p := lang.Page(t.Page)
	name = p.Name(t.Tag)
	if name == "" {
		return "", "", errAt(t.Offset, ErrMalformed, "unknown tag 0x"+hex2(t.Tag)+" on code page "+strconv.Itoa(int(t.Page)))
	}
	return name, p.Namespace, nil
}

// ValidXMLText reports whether b is UTF-8 made only of characters XML 1.0
// allows in character data.
func ValidXMLText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

func validXMLName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return utf8.Valid(b)
}

// AppendEscaped appends s to dst with the characters XML requires escaped in
// text and attribute values (& < > " and CR, which parsers would fold).
func AppendEscaped(dst, s []byte) []byte {
	last := 0
	for i, c := range s {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// ErrNoToken means an XML construct has no WBXML form in the language (for
// example an attribute, which no built-in language defines).
var ErrNoToken = errors.New("no WBXML token")

// FromXML encodes the XML document or element xmlText as a WBXML 1.3 document
// of language lang and appends it to dst. Elements are looked up by namespace
// (the page whose namespace matches) and otherwise by name on the language's
// pages in order; names with no token become LITERAL tags named in the string
// table. Character data that is only whitespace between elements is dropped;
// other text is written as inline strings. The header carries lang's numeric
// public id, or its FPI in the string table when it has none (as libwbxml
// writes DM DDF/TNDS documents). Attributes other than namespace
// declarations are an ErrNoToken error.
func FromXML(dst, xmlText []byte, lang *Language) ([]byte, error) {
	if lang == nil {
		return dst, errors.New("wbxml: FromXML needs a language")
	}
	dec := xml.NewDecoder(bytes.NewReader(xmlText))
	dec.Strict = true
	var (
		body    Writer
		strtbl  []byte // starts with the FPI when lang has no numeric id
		lits    = map[string]uint32{}
		stack   []int // per open element: body length right after its tag
		tagPos  []int // per open element: index of its tag byte
		pending []byte
		depth   int
	)
	if lang.PublicID == 0 && lang.FPI() != "" {
		strtbl = append(append(strtbl, lang.FPI()...), 0)
	}
	hasChild := []bool{}
	// Whitespace-only text is kept as the sole content of a leaf element and
	// dropped between elements (indentation).
	flushText := func(keepSpace bool) {
		if len(pending) > 0 && (keepSpace || len(bytes.TrimSpace(pending)) > 0) {
			body.StringBytes(pending)
		}
		pending = pending[:0]
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, errors.Join(errors.New("wbxml: embedded XML"), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flushText(false)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				return dst, errors.Join(ErrNoToken, errors.New("wbxml: attribute "+a.Name.Local+" of <"+t.Name.Local+">"))
			}
			if len(hasChild) > 0 {
				hasChild[len(hasChild)-1] = true
			}
			depth++
			if depth > DefaultMaxDepth {
				return dst, errors.Join(ErrLimit, errors.New("wbxml: embedded XML nested too deep"))
			}
			page, tag, ok := lookup(lang, t.Name.Space, t.Name.Local)
			if ok {
				body.StartElement(page, tag, true)
				tagPos = append(tagPos, body.Len()-1)
			} else {
				ref, seen := lits[t.Name.Local]
				if !seen {
					ref = uint32(len(strtbl))
					strtbl = append(strtbl, t.Name.Local...)
					strtbl = append(strtbl, 0)
					lits[t.Name.Local] = ref
				}
				tagPos = append(tagPos, body.Len())
				body.StartLiteral(ref, true)
			}
			stack = append(stack, body.Len())
			hasChild = append(hasChild, false)
		case xml.EndElement:
			n := len(stack) - 1
			flushText(!hasChild[n])
			depth--
			if body.Len() == stack[n] {
				// Nothing inside: drop the content bit instead of writing END.
				body.buf[tagPos[n]] &^= TagContent
			} else {
				body.EndElement()
			}
			stack, tagPos, hasChild = stack[:n], tagPos[:n], hasChild[:n]
		case xml.CharData:
			if depth > 0 {
				pending = append(pending, t...)
			}
		}
	}
	if body.Len() == 0 {
		return dst, errors.New("wbxml: embedded XML has no element")
	}
	w := Writer{buf: dst}
	h := Header{Version: Version13, PublicID: lang.PublicID, Charset: CharsetUTF8, StringTable: strtbl}
	if lang.PublicID == 0 {
		h.FPI = lang.FPI()
		if h.FPI == "" {
			h.PublicID = PublicIDUnknown
		}
	}
	w.WriteHeader(&h)
	w.buf = append(w.buf, body.buf...)
	return w.buf, nil
}

func lookup(lang *Language, ns, local string) (byte, byte, bool) {
	if ns != "" {
		if p := lang.PageForNamespace(ns); p != nil {
			if t, ok := p.Token(local); ok {
				return p.Page, t, true
			}
			return 0, 0, false
		}
	}
	for _, p := range lang.Pages {
		if t, ok := p.Token(local); ok {
			return p.Page, t, true
		}
	}
	return 0, 0, false
}
