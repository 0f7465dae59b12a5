package syncml

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"github.com/omadm/omadm/wbxml"
)

var wbxEncPool = sync.Pool{New: func() any { return &wbxEncoder{buf: make([]byte, 0, 4096)} }}

type wbxEncoder struct {
	w   wbxml.Writer
	buf []byte
	emb []byte // scratch for embedded documents
	doc []byte // the embedded document of the Item being written, if any
	// embedMeta is the Meta that describes an embedded document (of the
	// command or the Item being written), embed whether it is the one
	// being written: its Type then takes the "+wbxml" form.
	embedMeta *Meta
	embed     bool
}

// EncodeWBXML encodes m as a WBXML 1.3 document: public id 0x1201 (0x0FD3 when
// VerDTD is 1.1), UTF-8, empty string table. The result is a fresh slice owned
// by the caller.
func EncodeWBXML(m *Message) ([]byte, error) {
	if m == nil {
		return nil, wbxErrNilMessage
	}
	e := wbxEncPool.Get().(*wbxEncoder)
	e.w.Reset(e.buf)
	id := uint32(wbxPublicIDSyncML12)
	if m.Header.VerDTD == VerDTD11 {
		id = wbxPublicIDSyncML11
	}
	e.w.WriteHeader(&wbxml.Header{Version: wbxml.Version13, PublicID: id, Charset: wbxml.CharsetUTF8})
	e.embed, e.embedMeta, e.doc = false, nil, nil
	e.open(elSyncML)
	e.encHeader(elSyncHdr, &m.Header)
	e.open(elSyncBody)
	for _, c := range m.Body {
		e.command(c)
	}
	if m.Final {
		e.empty(elFinal)
	}
	e.end()
	e.end()
	e.embedMeta = nil // do not keep the message alive from the pool
	out := bytes.Clone(e.w.Bytes())
	if cap(e.w.Bytes()) <= 1<<20 { // do not pin huge buffers in the pool
		e.buf = e.w.Bytes()[:0]
		wbxEncPool.Put(e)
	}
	return out, nil
}

var wbxErrNilMessage = &DecodeError{Msg: "nil message"}

func (e *wbxEncoder) open(el elem) {
	d := &elemDefs[el]
	e.w.StartElement(d.page, d.token, true)
}

func (e *wbxEncoder) end() { e.w.EndElement() }

func (e *wbxEncoder) empty(el elem) {
	d := &elemDefs[el]
	e.w.StartElement(d.page, d.token, false)
}

// The element structure is written by the write* functions generated from
// schema.txt into zschema.go; these are the primitives they call, one per
// kind.

// encText writes <el>s</el>, as an empty element when s is empty.
func (e *wbxEncoder) encText(el elem, s string) {
	if s == "" {
		e.empty(el)
		return
	}
	e.open(el)
	e.w.String(s)
	e.w.EndElement()
}

// docType returns a Meta Type as written: for the Meta of an embedded
// document, an XML document type takes its "+wbxml" form.
func (e *wbxEncoder) docType(s string) string {
	if !e.embed {
		return s
	}
	return wbxWBXMLDocType(s)
}

func (e *wbxEncoder) encNonce(el elem, s string) {
	e.open(el)
	if utf8.ValidString(s) {
		e.w.String(s)
	} else {
		// Raw nonce bytes (as received in OPAQUE) go back as OPAQUE.
		e.w.Opaque([]byte(s))
	}
	e.w.EndElement()
}

func (e *wbxEncoder) encFlag(el elem) { e.empty(el) }

func (e *wbxEncoder) encNumber(el elem, v int64) {
	var tmp [20]byte
	b := wbxAppendInt(tmp[:0], v)
	e.open(el)
	e.w.StringBytes(b)
	e.w.EndElement()
}

func (e *wbxEncoder) encCode(el elem, v int64) { e.encNumber(el, v) }

// embedDoc prepares an Item's Data: nested XML that is a TNDS or DevInf
// document becomes an embedded WBXML document (written as OPAQUE by
// encData), and the Item's Meta then describes it.
func (e *wbxEncoder) embedDoc(d *Data, meta *Meta) {
	e.doc, e.embedMeta = nil, nil
	if d != nil && d.Kind == DataXML {
		e.embedXML(d, meta)
	}
}

func (e *wbxEncoder) embedXML(d *Data, meta *Meta) {
	if lang := wbxEmbeddable(d.Value); lang != nil {
		doc, err := wbxml.FromXML(e.emb[:0], d.Value, lang)
		if err == nil {
			e.doc, e.emb, e.embedMeta = doc, doc[:0], meta
		}
	}
}

func (e *wbxEncoder) encData(el elem, d *Data) {
	switch {
	case e.doc != nil:
		e.open(el)
		e.w.Opaque(e.doc)
		e.w.EndElement()
	case len(d.Value) == 0:
		e.empty(el)
	case d.Kind == DataOpaque:
		e.open(el)
		e.w.Opaque(d.Value)
		e.w.EndElement()
	default:
		e.open(el)
		e.w.StringBytes(d.Value)
		e.w.EndElement()
	}
}

func (e *wbxEncoder) encCmds(cmds []Command) {
	for _, c := range cmds {
		e.command(c)
	}
}

// openCmd starts a command; the command's Meta Type takes the "+wbxml" form
// when an item without a Type of its own carries an embedded document.
func (e *wbxEncoder) openCmd(el elem, meta *Meta, items []Item) bool {
	e.embedMeta = nil
	if meta != nil && wbxAnyEmbedded(items) {
		e.embedMeta = meta
	}
	e.open(el)
	return true
}

func (e *wbxEncoder) closeCmd(elem) { e.end() }

func (e *wbxEncoder) command(c Command) {
	if e.encCommand(c) {
		return
	}
	// A DS command is written with its token and CmdID, so it decodes to
	// the same *Unknown; other unknown elements have no token, and a DM
	// command that failed to decode kept no content: both are left out.
	u, ok := c.(*Unknown)
	if !ok || u == nil || u.Reason != "" {
		return
	}
	if el, ok := lookupElem(u.Name); ok && elemDefs[el].class == classDS {
		if u.CmdID == "" {
			e.empty(el)
			return
		}
		e.open(el)
		e.encText(elCmdID, u.CmdID)
		e.end()
	}
}

func wbxAppendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
}

// wbxAnyEmbedded reports whether an item without its own Type carries nested
// XML that will be embedded, so the command-level Type takes the +wbxml form.
func wbxAnyEmbedded(items []Item) bool {
	for i := range items {
		it := &items[i]
		if it.Data != nil && it.Data.Kind == DataXML && (it.Meta == nil || it.Meta.Type == "") && wbxEmbeddable(it.Data.Value) != nil {
			return true
		}
	}
	return false
}

// wbxEmbeddable returns the WBXML language a nested XML document is written in,
// or nil when it has none (it is then written as text).
func wbxEmbeddable(x []byte) *wbxml.Language {
	root, ns := wbxRootElement(x)
	switch {
	case root == "MgmtTree" && (ns == "" || ns == NamespaceDMDDF12):
		return wbxml.DMDDF12
	case root == "DevInf" && (ns == "" || ns == "syncml:devinf"):
		return wbxml.DevInf12
	}
	return nil
}

// wbxRootElement returns the name and default namespace of the first element of
// an XML fragment, cheaply (no full parse).
func wbxRootElement(x []byte) (name, ns string) {
	for {
		i := bytes.IndexByte(x, '<')
		if i < 0 || i+1 >= len(x) {
			return "", ""
		}
		x = x[i+1:]
		if x[0] == '?' || x[0] == '!' {
			continue
		}
		end := bytes.IndexByte(x, '>')
		if end < 0 {
			return "", ""
		}
		tag := x[:end]
		n := bytes.IndexAny(tag, " \t\r\n/")
		if n < 0 {
			n = len(tag)
		}
		name = string(tag[:n])
		if j := bytes.Index(tag, []byte(`xmlns="`)); j >= 0 {
			rest := tag[j+7:]
			if k := bytes.IndexByte(rest, '"'); k >= 0 {
				ns = string(rest[:k])
			}
		}
		return name, ns
	}
}
