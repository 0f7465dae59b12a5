package wbxml

import (
	"bytes"
	"strings"
)

// Writer appends a WBXML document to a byte slice. It tracks the current tag
// code page and emits SWITCH_PAGE only when a tag needs another page, the way
// libwbxml does. Methods never fail: the caller is responsible for well-formed
// nesting (every StartElement with content is closed by one EndElement).
type Writer struct {
	buf  []byte
	page byte
}

// NewWriter returns a Writer that appends to dst[:0].
func NewWriter(dst []byte) *Writer { return &Writer{buf: dst[:0]} }

// Reset discards the output and starts a new document in dst[:0].
func (w *Writer) Reset(dst []byte) { *w = Writer{buf: dst[:0]} }

// Bytes returns the document written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written so far.
func (w *Writer) Len() int { return len(w.buf) }

// WriteHeader writes the preamble. A non-empty FPI with PublicID 0 is written
// as a string-table reference: to the FPI's entry in h.StringTable when it is
// there, otherwise the FPI is put at the start of the table (which shifts
// every other string-table offset by len(FPI)+1). Charset 0 is written as UTF-8.
func (w *Writer) WriteHeader(h *Header) {
	v := h.Version
	if v == 0 {
		v = Version13
	}
	w.buf = append(w.buf, v)
	cs := h.Charset
	if cs == 0 {
		cs = CharsetUTF8
	}
	if h.PublicID == 0 && h.FPI != "" {
		idx := tableIndex(h.StringTable, h.FPI)
		w.buf = append(w.buf, 0x00)
		if idx < 0 {
			w.buf = append(w.buf, 0x00)
			w.buf = AppendMbUint32(w.buf, cs)
			w.buf = AppendMbUint32(w.buf, uint32(len(h.FPI)+1+len(h.StringTable)))
			w.buf = append(w.buf, h.FPI...)
			w.buf = append(w.buf, 0)
		} else {
			w.buf = AppendMbUint32(w.buf, uint32(idx))
			w.buf = AppendMbUint32(w.buf, cs)
			w.buf = AppendMbUint32(w.buf, uint32(len(h.StringTable)))
		}
		w.buf = append(w.buf, h.StringTable...)
		return
	}
	id := h.PublicID
	if id == 0 {
		id = PublicIDUnknown
	}
	w.buf = AppendMbUint32(w.buf, id)
	w.buf = AppendMbUint32(w.buf, cs)
	w.buf = AppendMbUint32(w.buf, uint32(len(h.StringTable)))
	w.buf = append(w.buf, h.StringTable...)
}

// StartElement writes a tag on page with identity tag (0x05..0x3F). With
// content false the element is empty and must not be closed.
func (w *Writer) StartElement(page, tag byte, content bool) {
	if page != w.page {
		w.buf = append(w.buf, TokSwitchPage, page)
		w.page = page
	}
	if content {
		tag |= TagContent
	}
	w.buf = append(w.buf, tag)
}

// StartLiteral writes a LITERAL tag whose name is at offset nameRef of the
// string table.
func (w *Writer) StartLiteral(nameRef uint32, content bool) {
	t := TokLiteral
	if content {
		t = TokLiteralC
	}
	w.buf = append(w.buf, t)
	w.buf = AppendMbUint32(w.buf, nameRef)
}

// EndElement closes the innermost element with content.
func (w *Writer) EndElement() { w.buf = append(w.buf, TokEnd) }

// String writes s as inline string(s). NUL characters, which cannot appear
// inside STR_I, are written as ENTITY 0 so no byte is lost.
func (w *Writer) String(s string) {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		if i > 0 {
			w.strI(s[:i])
		}
		w.buf = append(w.buf, TokEntity, 0)
		s = s[i+1:]
	}
	if s != "" {
		w.strI(s)
	}
}

// StringBytes is String for a byte slice.
func (w *Writer) StringBytes(b []byte) {
	if bytes.IndexByte(b, 0) < 0 {
		if len(b) > 0 {
			w.buf = append(w.buf, TokStrI)
			w.buf = append(w.buf, b...)
			w.buf = append(w.buf, 0)
		}
		return
	}
	w.String(string(b))
}

func (w *Writer) strI(s string) {
	w.buf = append(w.buf, TokStrI)
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, 0)
}

// StringRef writes a STR_T reference to offset off of the string table.
func (w *Writer) StringRef(off uint32) {
	w.buf = append(w.buf, TokStrT)
	w.buf = AppendMbUint32(w.buf, off)
}

// Opaque writes b as OPAQUE data.
func (w *Writer) Opaque(b []byte) {
	w.buf = append(w.buf, TokOpaque)
	w.buf = AppendMbUint32(w.buf, uint32(len(b)))
	w.buf = append(w.buf, b...)
}

// Entity writes one character as an ENTITY.
func (w *Writer) Entity(r rune) {
	w.buf = append(w.buf, TokEntity)
	w.buf = AppendMbUint32(w.buf, uint32(r))
}

// Raw appends already encoded tokens (for example a Token's Attrs).
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// tableIndex returns the offset of the entry s in a string table, or -1.
func tableIndex(tbl []byte, s string) int {
	for off := 0; off < len(tbl); {
		end := bytes.IndexByte(tbl[off:], 0)
		if end < 0 {
			return -1
		}
		if string(tbl[off:off+end]) == s {
			return off
		}
		off += end + 1
	}
	return -1
}
