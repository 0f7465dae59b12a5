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

// Page numbers of the SyncML WBXML language.
const (
	wbxPageSyncML = 0
	wbxPageMetInf = 1
	wbxPageDDF    = 2
)

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

// next returns the next token that matters for element-only content:
// processing instructions and whitespace-only text are skipped (libwbxml -k
// keeps the indentation of pretty-printed XML as strings).
func (d *wbxDecoder) next(elem string) (wbxml.Token, error) {
	for {
		t, err := d.r.Next()
		if err != nil {
			return t, d.wrap(err, elem)
		}
		switch t.Kind {
		case wbxml.KindPI:
			continue
		case wbxml.KindText, wbxml.KindOpaque:
			if wbxIsSpace(t.Data) {
				continue
			}
			return t, d.fail(t.Offset, elem, "unexpected character data")
		case wbxml.KindEntity:
			if t.Rune == ' ' || t.Rune == '\t' || t.Rune == '\n' || t.Rune == '\r' {
				continue
			}
			return t, d.fail(t.Offset, elem, "unexpected character data")
		case wbxml.KindExt:
			return t, d.fail(t.Offset, elem, "unexpected extension token")
		case wbxml.KindEOF:
			return t, d.fail(t.Offset, elem, "unexpected end of document")
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

// key identifies a tag on a page.
func wbxKey(page, tag byte) uint16 { return uint16(page)<<8 | uint16(tag) }

const (
	wkAdd          = wbxPageSyncML<<8 | uint16(wbxml.SyncMLAdd)
	wkAlert        = wbxPageSyncML<<8 | uint16(wbxml.SyncMLAlert)
	wkArchive      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLArchive)
	wkAtomic       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLAtomic)
	wkChal         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLChal)
	wkCmd          = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCmd)
	wkCmdID        = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCmdID)
	wkCmdRef       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCmdRef)
	wkCopy         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCopy)
	wkCred         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCred)
	wkData         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLData)
	wkDelete       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLDelete)
	wkExec         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLExec)
	wkFinal        = wbxPageSyncML<<8 | uint16(wbxml.SyncMLFinal)
	wkGet          = wbxPageSyncML<<8 | uint16(wbxml.SyncMLGet)
	wkItem         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLItem)
	wkLang         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLLang)
	wkLocName      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLLocName)
	wkLocURI       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLLocURI)
	wkMeta         = wbxPageSyncML<<8 | uint16(wbxml.SyncMLMeta)
	wkMsgID        = wbxPageSyncML<<8 | uint16(wbxml.SyncMLMsgID)
	wkMsgRef       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLMsgRef)
	wkNoResp       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLNoResp)
	wkReplace      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLReplace)
	wkRespURI      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLRespURI)
	wkResults      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLResults)
	wkSequence     = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSequence)
	wkSessionID    = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSessionID)
	wkSftDel       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSftDel)
	wkSource       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSource)
	wkSourceRef    = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSourceRef)
	wkStatus       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLStatus)
	wkSyncBody     = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSyncBody)
	wkSyncHdr      = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSyncHdr)
	wkSyncML       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSyncML)
	wkTarget       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLTarget)
	wkTargetRef    = wbxPageSyncML<<8 | uint16(wbxml.SyncMLTargetRef)
	wkVerDTD       = wbxPageSyncML<<8 | uint16(wbxml.SyncMLVerDTD)
	wkVerProto     = wbxPageSyncML<<8 | uint16(wbxml.SyncMLVerProto)
	wkMoreData     = wbxPageSyncML<<8 | uint16(wbxml.SyncMLMoreData)
	wkSourceParent = wbxPageSyncML<<8 | uint16(wbxml.SyncMLSourceParent)
	wkTargetParent = wbxPageSyncML<<8 | uint16(wbxml.SyncMLTargetParent)
	wkCorrelator   = wbxPageSyncML<<8 | uint16(wbxml.SyncMLCorrelator)

	wkAnchor     = wbxPageMetInf<<8 | uint16(wbxml.MetInfAnchor)
	wkEMI        = wbxPageMetInf<<8 | uint16(wbxml.MetInfEMI)
	wkFormat     = wbxPageMetInf<<8 | uint16(wbxml.MetInfFormat)
	wkFreeID     = wbxPageMetInf<<8 | uint16(wbxml.MetInfFreeID)
	wkFreeMem    = wbxPageMetInf<<8 | uint16(wbxml.MetInfFreeMem)
	wkLast       = wbxPageMetInf<<8 | uint16(wbxml.MetInfLast)
	wkMark       = wbxPageMetInf<<8 | uint16(wbxml.MetInfMark)
	wkMaxMsgSize = wbxPageMetInf<<8 | uint16(wbxml.MetInfMaxMsgSize)
	wkMem        = wbxPageMetInf<<8 | uint16(wbxml.MetInfMem)
	wkMetInf     = wbxPageMetInf<<8 | uint16(wbxml.MetInfMetInf)
	wkNext       = wbxPageMetInf<<8 | uint16(wbxml.MetInfNext)
	wkNextNonce  = wbxPageMetInf<<8 | uint16(wbxml.MetInfNextNonce)
	wkSharedMem  = wbxPageMetInf<<8 | uint16(wbxml.MetInfSharedMem)
	wkSize       = wbxPageMetInf<<8 | uint16(wbxml.MetInfSize)
	wkType       = wbxPageMetInf<<8 | uint16(wbxml.MetInfType)
	wkVersion    = wbxPageMetInf<<8 | uint16(wbxml.MetInfVersion)
	wkMaxObjSize = wbxPageMetInf<<8 | uint16(wbxml.MetInfMaxObjSize)
	wkFieldLevel = wbxPageMetInf<<8 | uint16(wbxml.MetInfFieldLevel)
)

// wbxTagName names a tag for error messages.
func wbxTagName(t wbxml.Token) string {
	if t.Tag == 0 {
		return string(t.Name)
	}
	var n string
	switch t.Page {
	case wbxPageSyncML:
		n = wbxml.SyncML12Page.Name(t.Tag)
	case wbxPageMetInf:
		n = wbxml.MetInf12Page.Name(t.Tag)
	case wbxPageDDF:
		n = wbxml.DMDDF12Page.Name(t.Tag)
	}
	if n == "" {
		n = "page" + strconv.Itoa(int(t.Page)) + ":0x" + strconv.FormatUint(uint64(t.Tag), 16)
	}
	return n
}

// children iterates over the child elements of elem, calling fn for each start
// tag; fn must consume the child up to and including its End.
func (d *wbxDecoder) children(elem string, fn func(t wbxml.Token) error) error {
	for {
		t, err := d.next(elem)
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
	name := wbxTagName(start)
	t, err := d.next(name)
	if err != nil {
		return err
	}
	if t.Kind != wbxml.KindEnd {
		return d.fail(t.Offset, name, "element <"+wbxTagName(t)+"> not allowed in an empty element")
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
	t, err := d.next("")
	if err != nil {
		return nil, err
	}
	if wbxKey(t.Page, t.Tag) != wkSyncML || t.Tag == 0 {
		return nil, d.fail(t.Offset, wbxTagName(t), "root element is not SyncML")
	}
	if !t.Content {
		return nil, d.fail(t.Offset, "SyncML", "empty SyncML element")
	}
	m := &Message{}
	var sawHdr, sawBody bool
	err = d.children("SyncML", func(t wbxml.Token) error {
		switch wbxKey(t.Page, t.Tag) {
		case wkSyncHdr:
			sawHdr = true
			return d.header(t, &m.Header)
		case wkSyncBody:
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

func (d *wbxDecoder) header(start wbxml.Token, h *Header) error {
	return d.children("SyncHdr", func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkVerDTD:
			h.VerDTD, err = d.text(t)
		case wkVerProto:
			h.VerProto, err = d.text(t)
		case wkSessionID:
			h.SessionID, err = d.text(t)
		case wkMsgID:
			h.MsgID, err = d.text(t)
		case wkTarget:
			err = d.location(t, &h.Target)
		case wkSource:
			err = d.location(t, &h.Source)
		case wkRespURI:
			h.RespURI, err = d.text(t)
		case wkNoResp:
			h.NoResp = true
			err = d.flag(t)
		case wkCred:
			h.Cred, err = d.cred(t)
		case wkMeta:
			h.Meta, err = d.meta(t)
		default:
			err = d.other(t)
		}
		return err
	})
}

func (d *wbxDecoder) location(start wbxml.Token, l *Location) error {
	name := wbxTagName(start)
	return d.children(name, func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkLocURI:
			l.LocURI, err = d.text(t)
		case wkLocName:
			l.LocName, err = d.text(t)
		default:
			err = d.other(t)
		}
		return err
	})
}

func (d *wbxDecoder) optLocation(start wbxml.Token) (*Location, error) {
	l := d.newLocation()
	return l, d.location(start, l)
}

func (d *wbxDecoder) cred(start wbxml.Token) (*Cred, error) {
	c := &Cred{}
	return c, d.children("Cred", func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkMeta:
			c.Meta, err = d.meta(t)
		case wkData:
			c.Data, err = d.text(t)
		default:
			err = d.other(t)
		}
		return err
	})
}

func (d *wbxDecoder) chal(start wbxml.Token) (*Chal, error) {
	c := &Chal{}
	return c, d.children("Chal", func(t wbxml.Token) error {
		if wbxKey(t.Page, t.Tag) == wkMeta {
			var err error
			c.Meta, err = d.meta(t)
			return err
		}
		return d.other(t)
	})
}

func (d *wbxDecoder) meta(start wbxml.Token) (*Meta, error) {
	m := d.newMeta()
	return m, d.metaInto(start, m)
}

// metaInto fills m from a Meta element (or a MetInf wrapper inside one).
func (d *wbxDecoder) metaInto(start wbxml.Token, m *Meta) error {
	name := wbxTagName(start)
	return d.children(name, func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkFormat:
			m.Format, err = d.text(t)
		case wkType:
			m.Type, err = d.text(t)
		case wkMark:
			m.Mark, err = d.text(t)
		case wkSize:
			m.Size, err = d.integer(t)
		case wkNextNonce:
			m.NextNonce, err = d.text(t)
		case wkVersion:
			m.Version, err = d.text(t)
		case wkMaxMsgSize:
			m.MaxMsgSize, err = d.integer(t)
		case wkMaxObjSize:
			m.MaxObjSize, err = d.integer(t)
		case wkEMI:
			var s string
			s, err = d.text(t)
			m.EMI = append(m.EMI, s)
		case wkFieldLevel:
			m.FieldLevel = true
			err = d.flag(t)
		case wkAnchor:
			a := &Anchor{}
			m.Anchor = a
			err = d.children("Anchor", func(t wbxml.Token) error {
				var err error
				switch wbxKey(t.Page, t.Tag) {
				case wkLast:
					a.Last, err = d.text(t)
				case wkNext:
					a.Next, err = d.text(t)
				default:
					err = d.other(t)
				}
				return err
			})
		case wkMem:
			mem := &Mem{}
			m.Mem = mem
			err = d.children("Mem", func(t wbxml.Token) error {
				var err error
				switch wbxKey(t.Page, t.Tag) {
				case wkSharedMem:
					mem.SharedMem = true
					err = d.flag(t)
				case wkFreeMem:
					mem.FreeMem, err = d.text(t)
				case wkFreeID:
					mem.FreeID, err = d.text(t)
				default:
					err = d.other(t)
				}
				return err
			})
		case wkMetInf:
			err = d.metaInto(t, m)
		default:
			err = d.other(t)
		}
		return err
	})
}

func (d *wbxDecoder) body(start wbxml.Token, m *Message) error {
	return d.children("SyncBody", func(t wbxml.Token) error {
		if wbxKey(t.Page, t.Tag) == wkFinal {
			m.Final = true
			return d.flag(t)
		}
		c, err := d.command(t, 0)
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
		if code, ok := wbxForeign(t); ok {
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

// wbxForeign reports whether a tag is not part of OMA DM: a SyncML DS tag
// (406) or a tag no SyncML/MetInf page assigns (400).
func wbxForeign(t wbxml.Token) (StatusCode, bool) {
	if t.Tag == 0 {
		return StatusBadRequest, true
	}
	switch t.Page {
	case wbxPageSyncML:
		switch t.Tag {
		case wbxml.SyncMLMap, wbxml.SyncMLMapItem, wbxml.SyncMLNoResults, wbxml.SyncMLPut, wbxml.SyncMLSearch,
			wbxml.SyncMLSync, wbxml.SyncMLNumberOfChanges, wbxml.SyncMLField, wbxml.SyncMLFilter,
			wbxml.SyncMLRecord, wbxml.SyncMLFilterType, wbxml.SyncMLMove:
			return StatusOptionalNotSupported, true
		}
		if wbxml.SyncML12Page.Name(t.Tag) == "" {
			return StatusBadRequest, true
		}
	case wbxPageMetInf:
		if wbxml.MetInf12Page.Name(t.Tag) == "" {
			return StatusBadRequest, true
		}
	default:
		return StatusBadRequest, true
	}
	return 0, false
}

// command decodes one command element; nest counts enclosing Atomic/Sequence.
// A command holding an element OMA DM does not define is skipped and
// becomes an *Unknown: only it fails.
func (d *wbxDecoder) command(t wbxml.Token, nest int) (Command, error) {
	outer, depth := d.inCmd, d.r.Depth()
	if t.Content {
		d.inCmd = depth
	}
	c, err := d.command1(t, nest)
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

func (d *wbxDecoder) command1(t wbxml.Token, nest int) (Command, error) {
	switch wbxKey(t.Page, t.Tag) {
	case wkAdd:
		c := &Add{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, nil)
	case wkReplace:
		c := &Replace{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, nil)
	case wkCopy:
		c := &Copy{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, nil)
	case wkDelete:
		c := &Delete{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, func(t wbxml.Token) (bool, error) {
			switch wbxKey(t.Page, t.Tag) {
			case wkArchive:
				c.Archive = true
				return true, d.flag(t)
			case wkSftDel:
				c.SftDel = true
				return true, d.flag(t)
			}
			return false, nil
		})
	case wkGet:
		c := &Get{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, func(t wbxml.Token) (bool, error) {
			if wbxKey(t.Page, t.Tag) == wkLang {
				var err error
				c.Lang, err = d.text(t)
				return true, err
			}
			return false, nil
		})
	case wkExec:
		c := &Exec{}
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &c.Meta, &c.Items, func(t wbxml.Token) (bool, error) {
			if wbxKey(t.Page, t.Tag) == wkCorrelator {
				var err error
				c.Correlator, err = d.text(t)
				return true, err
			}
			return false, nil
		})
	case wkAlert:
		c := &Alert{}
		var meta *Meta
		return c, d.itemCmd(t, &c.CmdID, &c.NoResp, &c.Cred, &meta, &c.Items, func(t wbxml.Token) (bool, error) {
			switch wbxKey(t.Page, t.Tag) {
			case wkData:
				v, err := d.integer(t)
				c.Data = AlertCode(v)
				return true, err
			case wkCorrelator:
				var err error
				c.Correlator, err = d.text(t)
				return true, err
			}
			return false, nil
		})
	case wkResults:
		c := &Results{}
		var cred *Cred
		var noResp bool
		return c, d.itemCmd(t, &c.CmdID, &noResp, &cred, &c.Meta, &c.Items, func(t wbxml.Token) (bool, error) {
			var err error
			switch wbxKey(t.Page, t.Tag) {
			case wkMsgRef:
				c.MsgRef, err = d.text(t)
			case wkCmdRef:
				c.CmdRef, err = d.text(t)
			case wkTargetRef:
				c.TargetRef, err = d.text(t)
			case wkSourceRef:
				c.SourceRef, err = d.text(t)
			default:
				return false, nil
			}
			return true, err
		})
	case wkStatus:
		c := &Status{}
		var meta *Meta
		var noResp bool
		return c, d.itemCmd(t, &c.CmdID, &noResp, &c.Cred, &meta, &c.Items, func(t wbxml.Token) (bool, error) {
			var err error
			switch wbxKey(t.Page, t.Tag) {
			case wkMsgRef:
				c.MsgRef, err = d.text(t)
			case wkCmdRef:
				c.CmdRef, err = d.text(t)
			case wkCmd:
				c.Cmd, err = d.text(t)
			case wkTargetRef:
				var s string
				s, err = d.text(t)
				c.TargetRefs = append(c.TargetRefs, s)
			case wkSourceRef:
				var s string
				s, err = d.text(t)
				c.SourceRefs = append(c.SourceRefs, s)
			case wkChal:
				c.Chal, err = d.chal(t)
			case wkData:
				var v int64
				v, err = d.integer(t)
				c.Data = StatusCode(v)
			default:
				return false, nil
			}
			return true, err
		})
	case wkAtomic:
		c := &Atomic{}
		return c, d.container(t, nest, &c.CmdID, &c.NoResp, &c.Meta, &c.Commands)
	case wkSequence:
		c := &Sequence{}
		return c, d.container(t, nest, &c.CmdID, &c.NoResp, &c.Meta, &c.Commands)
	}
	return d.unknownCommand(t)
}

// unknownCommand skips an element of SyncBody, Atomic or Sequence that OMA DM
// does not define (a DS command such as Sync or Map, or an unknown tag) and
// returns it as an *Unknown with its CmdID, so that only this command fails.
func (d *wbxDecoder) unknownCommand(start wbxml.Token) (Command, error) {
	name := wbxTagName(start)
	u := &Unknown{Name: name, Code: StatusOptionalNotSupported}
	if start.Page == wbxPageSyncML && start.Tag != 0 {
		switch wbxKey(start.Page, start.Tag) {
		case wbxPageSyncML<<8 | uint16(wbxml.SyncMLSync), wbxPageSyncML<<8 | uint16(wbxml.SyncMLMap),
			wbxPageSyncML<<8 | uint16(wbxml.SyncMLPut), wbxPageSyncML<<8 | uint16(wbxml.SyncMLSearch),
			wbxPageSyncML<<8 | uint16(wbxml.SyncMLMove):
			u.DS = true
		}
	}
	if d.firstDS == nil && u.DS {
		d.firstDS, d.firstDSOff = u, start.Offset
	}
	if !start.Content {
		_, err := d.next(name) // the pending End
		return u, err
	}
	err := d.children(name, func(t wbxml.Token) error {
		if u.CmdID == "" && wbxKey(t.Page, t.Tag) == wkCmdID && t.Tag != 0 {
			var err error
			u.CmdID, err = d.text(t)
			return err
		}
		return d.skip(t)
	})
	return u, err
}

// itemCmd decodes the children common to commands: CmdID, NoResp, Cred, Meta,
// Item; extra handles the command's own children and reports whether it did.
func (d *wbxDecoder) itemCmd(start wbxml.Token, id *string, noResp *bool, cred **Cred, meta **Meta, items *[]Item,
	extra func(wbxml.Token) (bool, error)) error {
	name := wbxTagName(start)
	err := d.children(name, func(t wbxml.Token) error {
		if extra != nil {
			done, err := extra(t)
			if done || err != nil {
				return err
			}
		}
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkCmdID:
			*id, err = d.text(t)
		case wkNoResp:
			*noResp = true
			err = d.flag(t)
		case wkCred:
			*cred, err = d.cred(t)
		case wkMeta:
			*meta, err = d.meta(t)
		case wkItem:
			*items = append(*items, Item{})
			err = d.item(t, &(*items)[len(*items)-1])
		default:
			err = d.other(t)
		}
		return err
	})
	if err != nil {
		return err
	}
	wbxDataKinds(*items, *meta)
	// A TNDS/DevInf document that arrived embedded makes its Meta Type read
	// as the XML form, which is what Data now holds.
	if *meta != nil && wbxIsWBXMLDocType((*meta).Type) {
		for i := range *items {
			it := &(*items)[i]
			if it.Data != nil && it.Data.Kind == DataXML && (it.Meta == nil || it.Meta.Type == "") {
				(*meta).Type = wbxXMLDocType((*meta).Type)
				break
			}
		}
	}
	return nil
}

func (d *wbxDecoder) container(start wbxml.Token, nest int, id *string, noResp *bool, meta **Meta, cmds *[]Command) error {
	name := wbxTagName(start)
	if nest+1 > d.lim.MaxDepth {
		return d.fail(start.Offset, name, "commands nested too deep")
	}
	return d.children(name, func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkCmdID:
			*id, err = d.text(t)
		case wkNoResp:
			*noResp = true
			err = d.flag(t)
		case wkMeta:
			*meta, err = d.meta(t)
		default:
			var c Command
			c, err = d.command(t, nest+1)
			if err == nil {
				*cmds = append(*cmds, c)
			}
		}
		return err
	})
}

func (d *wbxDecoder) item(start wbxml.Token, it *Item) error {
	return d.children("Item", func(t wbxml.Token) error {
		var err error
		switch wbxKey(t.Page, t.Tag) {
		case wkTarget:
			it.Target, err = d.optLocation(t)
		case wkSource:
			it.Source, err = d.optLocation(t)
		case wkSourceParent:
			it.SourceParent, err = d.optLocation(t)
		case wkTargetParent:
			it.TargetParent, err = d.optLocation(t)
		case wkMeta:
			it.Meta, err = d.meta(t)
		case wkData:
			it.Data, err = d.data(t)
			if err == nil && it.Data.Kind == DataXML && it.Meta != nil && wbxIsWBXMLDocType(it.Meta.Type) {
				it.Meta.Type = wbxXMLDocType(it.Meta.Type)
			}
		case wkMoreData:
			it.MoreData = true
			err = d.flag(t)
		default:
			err = d.other(t)
		}
		return err
	})
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
