package syncml

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/omadm/omadm/wbxml"
)

// WBXML binding of the message model (OMA DM 1.2 RepPro §8, WBXML 1.3): bytes
// go straight to the model and back, with no XML in between.
//
// Encoding follows libwbxml so peers see the same bytes they would from it:
// WBXML 1.3, public id 0x1201 (0x0FD3 for VerDTD 1.1), UTF-8, empty string
// table, MetInf elements on code page 1 with Meta itself on page 0, Data as
// STR_I for text/CDATA and OPAQUE for binary, and nested XML (TNDS MgmtTree,
// DevInf) as an embedded WBXML document in OPAQUE whose Meta Type is written
// in its "+wbxml" form.

// Public ids of the SyncML documents.
const (
	wbxPublicIDSyncML12 = 0x1201
	wbxPublicIDSyncML11 = 0x0FD3
)

// DecodeWBXML decodes a WBXML SyncML DM message (WBXML 1.1-1.3; public id
// 0x1201, 0x0FD3, unknown, or a SyncML FPI in the string table). Character data
// may be any mix of STR_I, STR_T, ENTITY and OPAQUE. Data may hold an embedded
// WBXML TNDS/DevInf document in OPAQUE or inline DDF tags (SWITCH_PAGE 2);
// both become DataXML, with a "+wbxml" Meta Type turned back to "+xml".
// Other Data takes its kind from its Meta Format (the Item's, else the
// command's), not from the token: text unless the Format is bin, so OPAQUE
// chr data is text. Whitespace strings between elements and around an
// OPAQUE value are layout. A command OMA DM does not define (a DS Sync, Map,
// Put…, an unknown tag) or a DM command holding such an element decodes to
// an *Unknown so only it fails; a message whose VerProto is not DM/x and
// that holds a DS command is refused as a SyncML DS message, and a document
// of another WBXML language (DevInf, DM DDF) is refused naming its root.
// Malformed input or input over lim returns a *DecodeError carrying the byte
// offset and the element.
func DecodeWBXML(b []byte, lim *Limits) (*Message, error) {
	l := lim.WithDefaults()
	d := wbxDecoders.Get().(*wbxDecoder)
	defer d.release()
	d.lim = l
	wl := d.wlimits()
	if err := d.r.Reset(b, &wl); err != nil {
		return nil, d.wrap(err, "")
	}
	h := d.r.Header()
	if lang := h.Language(); lang != nil && lang != wbxml.SyncML12 && lang != wbxml.SyncML11 &&
		lang != wbxml.MetInf12 && lang != wbxml.MetInf11 {
		msg := "WBXML document is " + lang.Name
		if lang.Root != "" {
			msg += " (root element <" + lang.Root + ">)"
		}
		return nil, &DecodeError{Offset: 1, Msg: msg + ", not SyncML: not a DM message"}
	}
	// One string copy of the input backs every single-token text value, so
	// decoding costs one allocation for all strings instead of one each.
	d.in = string(b)
	m, err := d.message()
	if err == nil && d.firstDS != nil {
		err = refuseDS(m, d.firstDS, d.firstDSOff)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

var wbxDecoders = sync.Pool{New: func() any { return new(wbxDecoder) }}

type wbxDecoder struct {
	r       wbxml.Reader
	lim     Limits
	scratch []byte
	in      string // copy of the input that strings are sliced from
	inBytes []byte // copy of the input that Data values are sliced from (lazy)

	// Slabs the model's small structs are carved from, to allocate them in
	// batches; the GC keeps a slab alive while any of its elements is used.
	locs  []Location
	metas []Meta
	datas []Data

	firstDS    *Unknown // the first DS command of the message, if any
	firstDSOff int
	inCmd      int // reader depth inside the command being decoded (0: none)
	nest       int // enclosing Atomic/Sequence commands
}

// release returns d to the pool without references into the last message.
func (d *wbxDecoder) release() {
	if cap(d.scratch) > 64<<10 {
		d.scratch = nil
	}
	r := d.r
	r.Reset(nil, nil)
	*d = wbxDecoder{r: r, scratch: d.scratch[:0]}
	wbxDecoders.Put(d)
}

const wbxSlab = 16

func (d *wbxDecoder) newLocation() *Location {
	if len(d.locs) == 0 {
		d.locs = make([]Location, wbxSlab)
	}
	l := &d.locs[0]
	d.locs = d.locs[1:]
	return l
}

func (d *wbxDecoder) newMeta() *Meta {
	if len(d.metas) == 0 {
		d.metas = make([]Meta, wbxSlab/2)
	}
	m := &d.metas[0]
	d.metas = d.metas[1:]
	return m
}

func (d *wbxDecoder) newData(kind DataKind, v []byte) *Data {
	if len(d.datas) == 0 {
		d.datas = make([]Data, wbxSlab/2)
	}
	x := &d.datas[0]
	d.datas = d.datas[1:]
	x.Kind, x.Value = kind, v
	return x
}

// dataBytes returns a private copy of input bytes [off, off+n), sliced from
// one lazily made copy of the whole input (capacity-limited, so appending to
// one value never overwrites another).
func (d *wbxDecoder) dataBytes(off, n int) []byte {
	if d.inBytes == nil {
		d.inBytes = []byte(d.in)
	}
	return d.inBytes[off : off+n : off+n]
}

func (d *wbxDecoder) wlimits() wbxml.Limits {
	return wbxml.Limits{
		MaxInputSize:   d.lim.MaxMessageSize,
		MaxDepth:       d.lim.MaxDepth,
		MaxElements:    d.lim.MaxElements,
		MaxStringLen:   d.lim.MaxStringLen,
		MaxStringTable: d.lim.MaxStringLen,
	}
}

// wrap turns a wbxml error into a *DecodeError naming the element.
func (d *wbxDecoder) wrap(err error, elem string) error {
	var se *wbxml.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Offset: se.Offset, Element: elem, Msg: "wbxml: " + se.Msg}
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	return &DecodeError{Offset: int64(d.r.Offset()), Element: elem, Msg: err.Error()}
}

func (d *wbxDecoder) fail(off int, elem, msg string) error {
	return &DecodeError{Offset: int64(off), Element: elem, Msg: "wbxml: " + msg}
}

// where names the element a decoder is in, for errors: a table element, or
// a name (an unknown element's).
type where struct {
	el   elem
	name string
}

func (w where) String() string {
	if w.name != "" {
		return w.name
	}
	return elemDefs[w.el].name
}

// next returns the next token that matters for element-only content:
// processing instructions and whitespace-only text are skipped (libwbxml -k
// keeps the indentation of pretty-printed XML as strings).
func (d *wbxDecoder) next(in where) (wbxml.Token, error) {
	for {
		t, err := d.r.Next()
		if err != nil {
			return t, d.wrap(err, in.String())
		}
		switch t.Kind {
		case wbxml.KindPI:
			continue
		case wbxml.KindText, wbxml.KindOpaque:
			if wbxIsSpace(t.Data) {
				continue
			}
			return t, d.fail(t.Offset, in.String(), "unexpected character data")
		case wbxml.KindEntity:
			if t.Rune == ' ' || t.Rune == '\t' || t.Rune == '\n' || t.Rune == '\r' {
				continue
			}
			return t, d.fail(t.Offset, in.String(), "unexpected character data")
		case wbxml.KindExt:
			return t, d.fail(t.Offset, in.String(), "unexpected extension token")
		case wbxml.KindEOF:
			return t, d.fail(t.Offset, in.String(), "unexpected end of document")
		}
		return t, nil
	}
}

func wbxIsSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// elemOf returns the table element of a tag (elUnknown for a LITERAL, a
// token no SyncML or MetInf page assigns, or another page).
func (d *wbxDecoder) elemOf(t wbxml.Token) elem {
	if t.Tag == 0 || t.Page > pageMetInf {
		return elUnknown
	}
	return wbxElems[t.Page][t.Tag&0x3F]
}

// wbxTagName names a tag for error messages.
func wbxTagName(t wbxml.Token) string {
	if t.Tag == 0 {
		return string(t.Name)
	}
	var n string
	switch t.Page {
	case pageSyncML:
		n = wbxml.SyncML12Page.Name(t.Tag)
	case pageMetInf:
		n = wbxml.MetInf12Page.Name(t.Tag)
	case pageDDF:
		n = wbxml.DMDDF12Page.Name(t.Tag)
	}
	if n == "" {
		n = "page" + strconv.Itoa(int(t.Page)) + ":0x" + strconv.FormatUint(uint64(t.Tag), 16)
	}
	return n
}

// children iterates over the child elements of elem, calling fn for each start
// tag; fn must consume the child up to and including its End.
func (d *wbxDecoder) children(in where, fn func(t wbxml.Token) error) error {
	for {
		t, err := d.next(in)
		if err != nil {
			return err
		}
		if t.Kind == wbxml.KindEnd {
			return nil
		}
		if err := fn(t); err != nil {
			return err
		}
	}
}

// skip consumes the rest of an element whose start tag was just read.
func (d *wbxDecoder) skip(start wbxml.Token) error {
	depth := 1
	for depth > 0 {
		t, err := d.r.Next()
		if err != nil {
			return d.wrap(err, wbxTagName(start))
		}
		switch t.Kind {
		case wbxml.KindStart:
			depth++
		case wbxml.KindEnd:
			depth--
		case wbxml.KindEOF:
			return d.fail(t.Offset, wbxTagName(start), "unexpected end of document")
		}
	}
	return nil
}

// flag consumes an empty marker element (<Final/>, <NoResp/>…).
func (d *wbxDecoder) flag(start wbxml.Token) error {
	in := where{el: d.elemOf(start)}
	t, err := d.next(in)
	if err != nil {
		return err
	}
	if t.Kind != wbxml.KindEnd {
		return d.fail(t.Offset, in.String(), "element <"+wbxTagName(t)+"> not allowed in an empty element")
	}
	return nil
}

// textBytes reads character data up to the End of the current element. The
// result aliases d.scratch or the input: copy it before the next read. off is
// the input offset of the result when it is one token's data, else -1.
func (d *wbxDecoder) textBytes(start wbxml.Token) (b []byte, off int, err error) {
	if data, off, ok := d.r.LeafText(); ok {
		return data, off, nil
	}
	name := wbxTagName(start)
	var (
		first   []byte
		n       int
		scratch = d.scratch[:0]
	)
	off = -1
	for {
		t, err := d.r.Next()
		if err != nil {
			return nil, -1, d.wrap(err, name)
		}
		var chunk []byte
		switch t.Kind {
		case wbxml.KindEnd:
			if n <= 1 {
				return first, off, nil
			}
			d.scratch = scratch
			return scratch, -1, nil
		case wbxml.KindText, wbxml.KindOpaque:
			chunk = t.Data
		case wbxml.KindEntity:
			var tmp [utf8.UTFMax]byte
			chunk = tmp[:utf8.EncodeRune(tmp[:], t.Rune)]
			if n == 0 {
				n = 1 // not input bytes: go through scratch
				first = []byte{}
			}
		case wbxml.KindPI:
			continue
		case wbxml.KindStart:
			return nil, -1, d.fail(t.Offset, name, "element <"+wbxTagName(t)+"> not allowed in character data")
		default:
			return nil, -1, d.fail(t.Offset, name, "unexpected "+t.Kind.String()+" token")
		}
		switch n {
		case 0:
			first, off = chunk, t.DataOffset
		case 1:
			scratch = append(scratch, first...)
			fallthrough
		default:
			scratch = append(scratch, chunk...)
			if len(scratch) > d.lim.MaxStringLen {
				return nil, -1, d.fail(t.Offset, name, "character data longer than "+strconv.Itoa(d.lim.MaxStringLen)+" bytes")
			}
		}
		n++
	}
}

func (d *wbxDecoder) text(start wbxml.Token) (string, error) {
	b, off, err := d.textBytes(start)
	if err != nil || len(b) == 0 {
		return "", err
	}
	if off >= 0 {
		return d.in[off : off+len(b)], nil
	}
	return string(b), nil
}

func (d *wbxDecoder) integer(start wbxml.Token) (int64, error) {
	b, _, err := d.textBytes(start)
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if perr != nil {
		return 0, d.fail(start.Offset, wbxTagName(start), "not an integer: "+strconv.Quote(string(b)))
	}
	return v, nil
}

func (d *wbxDecoder) message() (*Message, error) {
	t, err := d.next(where{})
	if err != nil {
		return nil, err
	}
	if d.elemOf(t) != elSyncML {
		return nil, d.fail(t.Offset, wbxTagName(t), "root element is not SyncML")
	}
	if !t.Content {
		return nil, d.fail(t.Offset, "SyncML", "empty SyncML element")
	}
	m := &Message{}
	var sawHdr, sawBody bool
	err = d.children(where{el: elSyncML}, func(t wbxml.Token) error {
		switch d.elemOf(t) {
		case elSyncHdr:
			sawHdr = true
			return d.readHeader(t, &m.Header)
		case elSyncBody:
			sawBody = true
			return d.body(t, m)
		}
		return d.fail(t.Offset, "SyncML", "unexpected element <"+wbxTagName(t)+">")
	})
	if err != nil {
		return nil, err
	}
	if !sawHdr || !sawBody {
		return nil, d.fail(d.r.Offset(), "SyncML", "SyncHdr and SyncBody are required")
	}
	// Nothing but processing instructions may follow the root element.
	for {
		t, err := d.r.Next()
		if err != nil {
			return nil, d.wrap(err, "SyncML")
		}
		if t.Kind == wbxml.KindEOF {
			return m, nil
		}
	}
}

// The element structure is decoded by the read* functions generated from
// schema.txt into zschema.go; these are the primitives they call, one per
// kind.

func (d *wbxDecoder) decText(t wbxml.Token, p *string) (err error) {
	*p, err = d.text(t)
	return err
}

func (d *wbxDecoder) decTextList(t wbxml.Token, p *[]string) error {
	s, err := d.text(t)
	*p = append(*p, s)
	return err
}

func (d *wbxDecoder) decNumber(t wbxml.Token, p *int64) (err error) {
	*p, err = d.integer(t)
	return err
}

func (d *wbxDecoder) decCode(t wbxml.Token, p *int) error {
	v, err := d.integer(t)
	*p = int(v)
	return err
}

func (d *wbxDecoder) decLocation(t wbxml.Token, l *Location) error { return d.readLocation(t, l) }

func (d *wbxDecoder) decLocPtr(t wbxml.Token, p **Location) error {
	l := d.newLocation()
	*p = l
	return d.readLocation(t, l)
}

func (d *wbxDecoder) decCred(t wbxml.Token, p **Cred) error {
	c := &Cred{}
	*p = c
	return d.readCred(t, c)
}

func (d *wbxDecoder) decChal(t wbxml.Token, p **Chal) error {
	c := &Chal{}
	*p = c
	return d.readChal(t, c)
}

func (d *wbxDecoder) decMeta(t wbxml.Token, p **Meta) error {
	m := d.newMeta()
	*p = m
	return d.readMeta(t, m)
}

// decMetInf flattens a MetInf wrapper into the Meta that holds it.
func (d *wbxDecoder) decMetInf(t wbxml.Token, m *Meta) error { return d.readMeta(t, m) }

func (d *wbxDecoder) decAnchor(t wbxml.Token, p **Anchor) error {
	a := &Anchor{}
	*p = a
	return d.readAnchor(t, a)
}

func (d *wbxDecoder) decMem(t wbxml.Token, p **Mem) error {
	m := &Mem{}
	*p = m
	return d.readMem(t, m)
}

// decData reads an Item's Data; an embedded document read so makes the
// Item's Meta Type (read before it) the XML form, which Data now holds.
func (d *wbxDecoder) decData(t wbxml.Token, p **Data, meta *Meta) error {
	x, err := d.data(t)
	*p = x
	if err == nil && x.Kind == DataXML && meta != nil && wbxIsWBXMLDocType(meta.Type) {
		meta.Type = wbxXMLDocType(meta.Type)
	}
	return err
}

func (d *wbxDecoder) decItem(t wbxml.Token, p *[]Item) error {
	*p = append(*p, Item{})
	return d.readItem(t, &(*p)[len(*p)-1])
}

// decCmd reads a child of an Atomic or Sequence: a command.
func (d *wbxDecoder) decCmd(t wbxml.Token, p *[]Command) error {
	c, err := d.command(t)
	if err == nil {
		*p = append(*p, c)
	}
	return err
}

// itemsDone types the Data of a command's items by their Meta Format (or the
// command's meta).
func (d *wbxDecoder) itemsDone(items []Item, meta *Meta) {
	wbxDataKinds(items, meta)
	// A TNDS/DevInf document that arrived embedded makes its Meta Type read
	// as the XML form, which is what Data now holds.
	if meta != nil && wbxIsWBXMLDocType(meta.Type) {
		for i := range items {
			it := &items[i]
			if it.Data != nil && it.Data.Kind == DataXML && (it.Meta == nil || it.Meta.Type == "") {
				meta.Type = wbxXMLDocType(meta.Type)
				break
			}
		}
	}
}

func (d *wbxDecoder) body(start wbxml.Token, m *Message) error {
	return d.children(where{el: elSyncBody}, func(t wbxml.Token) error {
		if d.elemOf(t) == elFinal {
			m.Final = true
			return d.flag(t)
		}
		c, err := d.command(t)
		if err != nil {
			return err
		}
		m.Body = append(m.Body, c)
		return nil
	})
}

// other consumes a child element the caller has no use for. Inside a
// command, an element OMA DM does not define (a DS-only tag, an unassigned
// token, a LITERAL) makes the command fail; elsewhere it is skipped.
func (d *wbxDecoder) other(t wbxml.Token) error {
	if d.inCmd > 0 {
		if code, ok := wbxForeign(d.elemOf(t)); ok {
			name := wbxTagName(t)
			msg := "unknown element <" + name + ">"
			if code == StatusOptionalNotSupported {
				msg = "element <" + name + "> is SyncML DS, not used by OMA DM"
			}
			return &cmdFail{err: &DecodeError{Offset: int64(t.Offset), Msg: "wbxml: " + msg}, code: code}
		}
	}
	return d.skip(t)
}

// wbxForeign reports whether an element is not part of OMA DM: a SyncML DS
// element (406) or a tag no SyncML/MetInf page assigns (400).
func wbxForeign(el elem) (StatusCode, bool) {
	switch elemDefs[el].class {
	case classUnknown:
		return StatusBadRequest, true
	case classDS, classNotDM:
		return StatusOptionalNotSupported, true
	}
	return 0, false
}

// command decodes one element of SyncBody, Atomic or Sequence. A command
// holding an element OMA DM does not define is skipped and becomes an
// *Unknown: only it fails.
func (d *wbxDecoder) command(t wbxml.Token) (Command, error) {
	el := d.elemOf(t)
	if !elemDefs[el].command {
		return d.unknownCommand(t, el)
	}
	if el == elAtomic || el == elSequence {
		if d.nest+1 > d.lim.MaxDepth {
			return nil, d.fail(t.Offset, wbxTagName(t), "commands nested too deep")
		}
		d.nest++
		defer func() { d.nest-- }()
	}
	outer, depth := d.inCmd, d.r.Depth()
	if t.Content {
		d.inCmd = depth
	}
	c, err := d.decCommand(t, el)
	d.inCmd = outer
	f, ok := err.(*cmdFail)
	if !ok {
		return c, err
	}
	for d.r.Depth() >= depth {
		tok, err := d.r.Next()
		if err != nil {
			return nil, d.wrap(err, wbxTagName(t))
		}
		if tok.Kind == wbxml.KindEOF {
			return nil, d.fail(tok.Offset, wbxTagName(t), "unexpected end of document")
		}
	}
	return &Unknown{Name: wbxTagName(t), CmdID: c.ID(), Code: f.code, Reason: f.err.Msg}, nil
}

// unknownCommand skips an element of SyncBody, Atomic or Sequence that OMA DM
// does not define (a DS command such as Sync or Map, or an unknown tag) and
// returns it as an *Unknown with its CmdID, so that only this command fails.
func (d *wbxDecoder) unknownCommand(start wbxml.Token, el elem) (Command, error) {
	name := wbxTagName(start)
	u := &Unknown{Name: name, DS: elemDefs[el].class == classDS, Code: StatusOptionalNotSupported}
	if d.firstDS == nil && u.DS {
		d.firstDS, d.firstDSOff = u, start.Offset
	}
	if !start.Content {
		_, err := d.next(where{name: name}) // the pending End
		return u, err
	}
	err := d.children(where{name: name}, func(t wbxml.Token) error {
		if u.CmdID == "" && d.elemOf(t) == elCmdID {
			var err error
			u.CmdID, err = d.text(t)
			return err
		}
		return d.skip(t)
	})
	return u, err
}

// data decodes a Data element: character data (any mix of string tokens),
// a single OPAQUE (binary, or an embedded WBXML TNDS/DevInf document), or
// inline elements of another code page (DDF tags via SWITCH_PAGE 2).
func (d *wbxDecoder) data(start wbxml.Token) (*Data, error) {
	var (
		buf       []byte // the value once it is not a single input slice
		first     wbxml.Token
		opaque    wbxml.Token // the last OPAQUE chunk
		chunks    int
		opaques   int
		nonSpace  bool // a string chunk that is not whitespace
		inlineXML bool
	)
	for {
		t, err := d.r.Next()
		if err != nil {
			return nil, d.wrap(err, "Data")
		}
		switch t.Kind {
		case wbxml.KindEnd:
			switch {
			case inlineXML:
				if wbxEmbeddable(buf) == nil {
					// Only TNDS/DevInf trees are nested documents in this
					// binding (they are what EncodeWBXML embeds); other
					// inline elements are carried as their XML text.
					return d.newData(DataText, buf), nil
				}
				return d.newData(DataXML, buf), nil
			case chunks == 0:
				return d.newData(DataText, []byte{}), nil
			case opaques == 1 && !nonSpace:
				// One OPAQUE with whitespace around it (xml2wbxml -k keeps
				// the indentation of pretty-printed XML as strings): the
				// whitespace is layout, the OPAQUE is the value.
				chunks, first = 1, opaque
				fallthrough
			case chunks == 1 && first.Kind != wbxml.KindEntity:
				if first.Kind == wbxml.KindOpaque {
					if x, ok := d.embedded(first.Data); ok {
						return d.newData(DataXML, x), nil
					}
					return d.newData(DataOpaque, d.dataBytes(first.DataOffset, len(first.Data))), nil
				}
				return d.newData(DataText, d.dataBytes(first.DataOffset, len(first.Data))), nil
			}
			if chunks == 1 { // a lone entity
				buf = utf8.AppendRune(nil, first.Rune)
			}
			// Several chunks: text, unless they are all OPAQUE (binary).
			kind := DataText
			if opaques == chunks {
				kind = DataOpaque
			}
			return d.newData(kind, buf), nil
		case wbxml.KindText, wbxml.KindEntity, wbxml.KindOpaque:
			if inlineXML {
				if (t.Kind == wbxml.KindEntity && !unicode.IsSpace(t.Rune)) || !wbxIsSpace(t.Data) {
					return nil, d.fail(t.Offset, "Data", "character data mixed with elements")
				}
				continue
			}
			switch {
			case t.Kind == wbxml.KindOpaque:
				opaques++
				opaque = t
			case t.Kind == wbxml.KindEntity:
				nonSpace = nonSpace || !unicode.IsSpace(t.Rune)
			default:
				nonSpace = nonSpace || !wbxIsSpace(t.Data)
			}
			chunks++
			if chunks == 1 {
				first = t
				continue
			}
			if chunks == 2 {
				buf = appendChunk(buf, first)
			}
			buf = appendChunk(buf, t)
		case wbxml.KindStart:
			if chunks > 0 {
				if nonSpace || opaques > 0 {
					return nil, d.fail(t.Offset, "Data", "character data mixed with element <"+wbxTagName(t)+">")
				}
			}
			if inlineXML {
				return nil, d.fail(t.Offset, "Data", "more than one element in Data")
			}
			buf, err = wbxml.AppendElementXML(nil, &d.r, t, wbxInlineLang)
			if err != nil {
				return nil, d.wrap(err, "Data")
			}
			inlineXML = true
		case wbxml.KindPI:
			continue
		default:
			return nil, d.fail(t.Offset, "Data", "unexpected "+t.Kind.String()+" token")
		}
		if len(buf) > d.lim.MaxStringLen {
			return nil, d.fail(t.Offset, "Data", "data longer than "+strconv.Itoa(d.lim.MaxStringLen)+" bytes")
		}
	}
}

// wbxDataKinds gives Data the kind its Meta Format says. OPAQUE is a
// transport form, not a data type (WBXML 1.3 §5.8.4.6: opaque data whose
// meaning the document type defines; OMA-TS-DM_RepPro-V1_2, WBXML binding):
// Format chr, b64, xml, int, bool, date, time, float, node, null values are
// character data whichever token carried them, and only Format bin is binary,
// even when a peer sent it as STR_I. The Format is the Item's, else the
// command's (an Item's Meta overrides its command's: OMA-TS-SyncML_RepPro-V1_2,
// Meta element type). With no Format the MetInf default is chr
// (OMA-TS-SyncML_MetInf-V1_2, Format), so the value is text when it is valid
// UTF-8; bytes that are not cannot be character data and stay binary.
func wbxDataKinds(items []Item, cmd *Meta) {
	for i := range items {
		d := items[i].Data
		if d == nil || d.Kind == DataXML {
			continue
		}
		f := ""
		if m := items[i].Meta; m != nil {
			f = m.Format
		}
		if f == "" && cmd != nil {
			f = cmd.Format
		}
		switch {
		case strings.EqualFold(f, "bin"):
			d.Kind = DataOpaque
		case d.Kind != DataOpaque:
		case f == "" && !utf8.Valid(d.Value):
		default:
			d.Kind = DataText
		}
	}
}

func appendChunk(dst []byte, t wbxml.Token) []byte {
	if t.Kind == wbxml.KindEntity {
		return utf8.AppendRune(dst, t.Rune)
	}
	return append(dst, t.Data...)
}

// embedded decodes an OPAQUE that holds a complete WBXML TNDS (DM DDF) or
// DevInf document to XML text. Anything else stays binary.
func (d *wbxDecoder) embedded(b []byte) ([]byte, bool) {
	if len(b) < 4 || b[0] < 0x01 || b[0] > 0x03 {
		return nil, false
	}
	wl := d.wlimits()
	r, err := wbxml.NewReader(b, &wl)
	if err != nil {
		return nil, false
	}
	switch r.Header().Language() {
	case wbxml.DMDDF12, wbxml.DevInf12, wbxml.DevInf11:
	default:
		return nil, false
	}
	x, err := wbxml.ToXML(nil, b, &wl, nil)
	if err != nil || wbxEmbeddable(x) == nil {
		return nil, false
	}
	return x, true
}

// wbxInlineLang names the tags that may appear inline inside Data: the
// SyncML pages plus the DM DDF page a TNDS tree switches to.
var wbxInlineLang = &wbxml.Language{
	Name:  "SyncML12+DDF",
	Pages: []*wbxml.CodePage{wbxml.SyncML12Page, wbxml.MetInf12Page, wbxml.DMDDF12Page},
}

// Nested-document MIME types and their WBXML forms.
var wbxDocTypes = [...][2]string{
	{TypeTNDSXML, TypeTNDSWBXML},
	{TypeDDFXML, "application/vnd.syncml.dmddf+wbxml"},
	{"application/vnd.syncml-devinf+xml", "application/vnd.syncml-devinf+wbxml"},
}

func wbxIsWBXMLDocType(t string) bool {
	for _, p := range wbxDocTypes {
		if t == p[1] {
			return true
		}
	}
	return false
}

func wbxXMLDocType(t string) string {
	for _, p := range wbxDocTypes {
		if t == p[1] {
			return p[0]
		}
	}
	return t
}

func wbxWBXMLDocType(t string) string {
	for _, p := range wbxDocTypes {
		if t == p[0] {
			return p[1]
		}
	}
	return t
}
