package wbxml

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Global tokens, shared by every code page (WBXML 1.3 §7.1).
const (
	TokSwitchPage byte = 0x00
	TokEnd        byte = 0x01
	TokEntity     byte = 0x02
	TokStrI       byte = 0x03
	TokLiteral    byte = 0x04
	TokExtI0      byte = 0x40
	TokExtI1      byte = 0x41
	TokExtI2      byte = 0x42
	TokPI         byte = 0x43
	TokLiteralC   byte = 0x44
	TokExtT0      byte = 0x80
	TokExtT1      byte = 0x81
	TokExtT2      byte = 0x82
	TokStrT       byte = 0x83
	TokLiteralA   byte = 0x84
	TokExt0       byte = 0xC0
	TokExt1       byte = 0xC1
	TokExt2       byte = 0xC2
	TokOpaque     byte = 0xC3
	TokLiteralAC  byte = 0xC4

	// TagMask extracts the tag identity from a tag byte.
	TagMask byte = 0x3F
	// TagContent marks a tag byte whose element has content (closed by END).
	TagContent byte = 0x40
	// TagAttrs marks a tag byte followed by an attribute list (closed by END).
	TagAttrs byte = 0x80
)

// Header values.
const (
	// Version13 is the version byte of WBXML 1.3, the version the Writer emits.
	Version13 byte = 0x03
	// PublicIDUnknown is the public id "unknown or missing".
	PublicIDUnknown uint32 = 0x01
	// CharsetUTF8 is the IANA MIBenum of UTF-8, the only charset supported.
	CharsetUTF8 uint32 = 106
	// CharsetUnknown is MIBenum 0; it is read as UTF-8.
	CharsetUnknown uint32 = 0
)

// Limits bound what the Reader accepts. Zero fields take the defaults below, so
// a nil *Limits is safe.
type Limits struct {
	MaxInputSize   int // bytes of input (default 4 MiB)
	MaxDepth       int // open elements at once (default 64)
	MaxElements    int // elements per document (default 1,000,000)
	MaxStringLen   int // bytes of one string or opaque value (default 2 MiB)
	MaxStringTable int // bytes of the string table (default 1 MiB)
}

// Default limits.
const (
	DefaultMaxInputSize   = 4 << 20
	DefaultMaxDepth       = 64
	DefaultMaxElements    = 1_000_000
	DefaultMaxStringLen   = 2 << 20
	DefaultMaxStringTable = 1 << 20
)

func (l *Limits) withDefaults() Limits {
	var r Limits
	if l != nil {
		r = *l
	}
	if r.MaxInputSize <= 0 {
		r.MaxInputSize = DefaultMaxInputSize
	}
	if r.MaxDepth <= 0 {
		r.MaxDepth = DefaultMaxDepth
	}
	if r.MaxElements <= 0 {
		r.MaxElements = DefaultMaxElements
	}
	if r.MaxStringLen <= 0 {
		r.MaxStringLen = DefaultMaxStringLen
	}
	if r.MaxStringTable <= 0 {
		r.MaxStringTable = DefaultMaxStringTable
	}
	return r
}

// Header is the document preamble: version, public id, charset, string table.
type Header struct {
	Version     byte   // (major-1)<<4 | minor: 0x01, 0x02 or 0x03
	PublicID    uint32 // well-known public id; 0 when the FPI is in the string table
	FPI         string // formal public identifier from the string table, if any
	Charset     uint32 // IANA MIBenum: 106 (UTF-8) or 0 (unknown, read as UTF-8)
	StringTable []byte
}

// Kind is the kind of a Token.
type Kind uint8

// Token kinds.
const (
	KindEOF    Kind = iota // end of document
	KindStart              // start of an element
	KindEnd                // end of an element (also follows an element without content)
	KindText               // STR_I or STR_T character data in Data
	KindEntity             // ENTITY: one character in Rune
	KindOpaque             // OPAQUE bytes in Data
	KindExt                // EXT_I_n (Data), EXT_T_n (Index) or EXT_n; token byte in Tag
	KindPI                 // processing instruction; raw tokens in Data
)

var kindNames = [...]string{"EOF", "Start", "End", "Text", "Entity", "Opaque", "Ext", "PI"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one item of a WBXML body. Byte slices alias the input or its string
// table: copy them to keep them past the next call that reuses the input.
type Token struct {
	Kind    Kind
	Page    byte   // Start/End: tag code page
	Tag     byte   // Start/End: tag identity (0 for a LITERAL tag); Ext: the token byte
	Content bool   // Start: the element has content; otherwise an End follows at once
	Name    []byte // Start/End of a LITERAL tag: its name from the string table
	Attrs   []byte // Start: raw attribute tokens without the closing END, nil when none
	Data    []byte // Text, Opaque, Ext (EXT_I), PI
	Rune    rune   // Entity
	Index   uint32 // Ext (EXT_T): the value; Text from STR_T: the string table offset
	Offset  int    // byte offset of the token in the input
	// DataOffset is the byte offset of Data within the input (Data always
	// aliases the input or its string table), so callers can slice one copy
	// of the input instead of copying every value.
	DataOffset int
}

type openElem struct {
	page, tag byte
	name      []byte
	off       int
}

// Reader is a streaming, allocation-free WBXML tokenizer over an in-memory
// document. It enforces Limits and reports errors as *SyntaxError with the
// byte offset of the bad token.
type Reader struct {
	b        []byte
	pos      int
	hdr      Header
	lim      Limits
	page     byte
	stack    []openElem
	elements int
	pending  bool // an End for an element without content is due
	pendTok  Token
	rootDone bool

	tableStart int // offset of the string table in b
}

// NewReader parses the document header of b and returns a Reader positioned
// at the first body token.
func NewReader(b []byte, lim *Limits) (*Reader, error) {
	r := &Reader{}
	if err := r.Reset(b, lim); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset makes r read a new document, reusing its memory.
func (r *Reader) Reset(b []byte, lim *Limits) error {
	stack := r.stack[:0]
	*r = Reader{b: b, lim: lim.withDefaults(), stack: stack}
	if len(b) > r.lim.MaxInputSize {
		return errAt(0, ErrLimit, "input of "+strconv.Itoa(len(b))+" bytes exceeds the limit of "+strconv.Itoa(r.lim.MaxInputSize))
	}
	if len(b) == 0 {
		return errAt(0, ErrTruncated, "empty input")
	}
	v := b[0]
	if v < 0x01 || v > 0x03 {
		return errAt(0, ErrVersion, "unsupported WBXML version byte 0x"+hex2(v)+" (want 0x01..0x03)")
	}
	r.hdr.Version = v
	r.pos = 1
	id, err := r.mb("public id")
	if err != nil {
		return err
	}
	fpiIndex := -1
	fpiOff := r.pos
	if id == 0 {
		idx, err := r.mb("public id string table index")
		if err != nil {
			return err
		}
		fpiIndex = int(idx)
		if idx > 0x7FFFFFFF {
			fpiIndex = 0x7FFFFFFF
		}
	}
	r.hdr.PublicID = id
	csOff := r.pos
	cs, err := r.mb("charset")
	if err != nil {
		return err
	}
	if cs != CharsetUTF8 && cs != CharsetUnknown {
		return errAt(csOff, ErrCharset, "charset MIBenum "+strconv.FormatUint(uint64(cs), 10)+" is not supported (only UTF-8, 106)")
	}
	r.hdr.Charset = cs
	stOff := r.pos
	n, err := r.mb("string table length")
	if err != nil {
		return err
	}
	if uint64(n) > uint64(r.lim.MaxStringTable) {
		return errAt(stOff, ErrLimit, "string table of "+strconv.FormatUint(uint64(n), 10)+" bytes exceeds the limit of "+strconv.Itoa(r.lim.MaxStringTable))
	}
	if uint64(n) > uint64(len(b)-r.pos) {
		return errAt(stOff, ErrTruncated, "string table runs past the end of input")
	}
	r.hdr.StringTable = b[r.pos : r.pos+int(n) : r.pos+int(n)]
	r.tableStart = r.pos
	r.pos += int(n)
	if fpiIndex >= 0 {
		s, err := r.tableString(uint32(fpiIndex), fpiOff)
		if err != nil {
			return err
		}
		r.hdr.FPI = string(s)
	}
	return nil
}

// Header returns the document header.
func (r *Reader) Header() *Header { return &r.hdr }

// Offset returns the byte offset of the next unread token.
func (r *Reader) Offset() int { return r.pos }

// Depth returns the number of open elements.
func (r *Reader) Depth() int { return len(r.stack) }

// Input returns the whole input the Reader works on.
func (r *Reader) Input() []byte { return r.b }

func (r *Reader) tableString(off uint32, at int) ([]byte, error) {
	st := r.hdr.StringTable
	if uint64(off) >= uint64(len(st)) {
		return nil, errAt(at, ErrMalformed, "string table reference "+strconv.FormatUint(uint64(off), 10)+" outside the table of "+strconv.Itoa(len(st))+" bytes")
	}
	i := bytes.IndexByte(st[off:], 0)
	if i < 0 {
		return nil, errAt(at, ErrMalformed, "string table entry at "+strconv.FormatUint(uint64(off), 10)+" is not NUL-terminated")
	}
	if i > r.lim.MaxStringLen {
		return nil, errAt(at, ErrLimit, "string longer than the limit of "+strconv.Itoa(r.lim.MaxStringLen)+" bytes")
	}
	return st[off : int(off)+i : int(off)+i], nil
}

func (r *Reader) mb(what string) (uint32, error) {
	v, n, err := ReadMbUint32(r.b[r.pos:])
	if err != nil {
		se := err.(*SyntaxError)
		se.Offset += int64(r.pos)
		se.Msg = what + ": " + se.Msg
		return 0, se
	}
	r.pos += n
	return v, nil
}

func (r *Reader) inlineString(at int) ([]byte, error) {
	rest := r.b[r.pos:]
	lim := r.lim.MaxStringLen
	if len(rest) > lim+1 {
		rest = rest[:lim+1]
	}
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		if len(rest) == lim+1 {
			return nil, errAt(at, ErrLimit, "inline string longer than the limit of "+strconv.Itoa(lim)+" bytes")
		}
		return nil, errAt(at, ErrTruncated, "inline string is not NUL-terminated")
	}
	s := r.b[r.pos : r.pos+i : r.pos+i]
	r.pos += i + 1
	return s, nil
}

// Next returns the next body token. After the root element closes it returns
// trailing processing instructions, then a KindEOF token; an input that ends
// inside an element is an ErrTruncated error.
func (r *Reader) Next() (Token, error) {
	if r.pending {
		r.pending = false
		return r.pendTok, nil
	}
	for {
		if r.pos >= len(r.b) {
			if len(r.stack) > 0 {
				top := r.stack[len(r.stack)-1]
				return Token{}, errAt(r.pos, ErrTruncated, "input ends inside an element opened at byte "+strconv.Itoa(top.off))
			}
			if !r.rootDone {
				return Token{}, errAt(r.pos, ErrTruncated, "document has no root element")
			}
			return Token{Kind: KindEOF, Offset: r.pos}, nil
		}
		at := r.pos
		c := r.b[at]
		r.pos++
		switch c {
		case TokSwitchPage:
			if r.pos >= len(r.b) {
				return Token{}, errAt(at, ErrTruncated, "SWITCH_PAGE without a page number")
			}
			r.page = r.b[r.pos]
			r.pos++
			continue
		case TokEnd:
			if len(r.stack) == 0 {
				return Token{}, errAt(at, ErrMalformed, "END without an open element")
			}
			top := r.stack[len(r.stack)-1]
			r.stack = r.stack[:len(r.stack)-1]
			if len(r.stack) == 0 {
				r.rootDone = true
			}
			return Token{Kind: KindEnd, Page: top.page, Tag: top.tag, Name: top.name, Offset: at}, nil
		case TokPI:
			start := r.pos
			if err := r.skipAttrs(at, true); err != nil {
				return Token{}, err
			}
			return Token{Kind: KindPI, Data: r.b[start : r.pos-1 : r.pos-1], Offset: at, DataOffset: start}, nil
		}
		if len(r.stack) == 0 {
			if r.rootDone {
				return Token{}, errAt(at, ErrMalformed, "content after the root element")
			}
			if c&TagMask < 0x05 && c != TokLiteral && c != TokLiteralA && c != TokLiteralC && c != TokLiteralAC {
				return Token{}, errAt(at, ErrMalformed, "token 0x"+hex2(c)+" outside the root element")
			}
		}
		switch c {
		case TokStrI:
			s, err := r.inlineString(at)
			if err != nil {
				return Token{}, err
			}
			return Token{Kind: KindText, Data: s, Offset: at, DataOffset: at + 1}, nil
		case TokStrT:
			off, err := r.mb("STR_T offset")
			if err != nil {
				return Token{}, err
			}
			s, err := r.tableString(off, at)
			if err != nil {
				return Token{}, err
			}
			return Token{Kind: KindText, Data: s, Index: off, Offset: at, DataOffset: r.tableStart + int(off)}, nil
		case TokEntity:
			v, err := r.mb("ENTITY")
			if err != nil {
				return Token{}, err
			}
			if v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return Token{}, errAt(at, ErrMalformed, "ENTITY U+"+strconv.FormatUint(uint64(v), 16)+" is not a Unicode character")
			}
			return Token{Kind: KindEntity, Rune: rune(v), Offset: at}, nil
		case TokOpaque:
			n, err := r.mb("OPAQUE length")
			if err != nil {
				return Token{}, err
			}
			if uint64(n) > uint64(r.lim.MaxStringLen) {
				return Token{}, errAt(at, ErrLimit, "OPAQUE of "+strconv.FormatUint(uint64(n), 10)+" bytes exceeds the limit of "+strconv.Itoa(r.lim.MaxStringLen))
			}
			if uint64(n) > uint64(len(r.b)-r.pos) {
				return Token{}, errAt(at, ErrTruncated, "OPAQUE runs past the end of input")
			}
			d := r.b[r.pos : r.pos+int(n) : r.pos+int(n)]
			t := Token{Kind: KindOpaque, Data: d, Offset: at, DataOffset: r.pos}
			r.pos += int(n)
			return t, nil
		case TokExtI0, TokExtI1, TokExtI2:
			s, err := r.inlineString(at)
			if err != nil {
				return Token{}, err
			}
			return Token{Kind: KindExt, Tag: c, Data: s, Offset: at, DataOffset: at + 1}, nil
		case TokExtT0, TokExtT1, TokExtT2:
			v, err := r.mb("EXT_T value")
			if err != nil {
				return Token{}, err
			}
			return Token{Kind: KindExt, Tag: c, Index: v, Offset: at}, nil
		case TokExt0, TokExt1, TokExt2:
			return Token{Kind: KindExt, Tag: c, Offset: at}, nil
		}
		return r.start(c, at)
	}
}

func (r *Reader) start(c byte, at int) (Token, error) {
	t := Token{Kind: KindStart, Page: r.page, Tag: c & TagMask, Content: c&TagContent != 0, Offset: at}
	if t.Tag == TokLiteral {
		idx, err := r.mb("LITERAL index")
		if err != nil {
			return Token{}, err
		}
		name, err := r.tableString(idx, at)
		if err != nil {
			return Token{}, err
		}
		if len(name) == 0 {
			return Token{}, errAt(at, ErrMalformed, "LITERAL tag with an empty name")
		}
		t.Tag = 0
		t.Name = name
	} else if t.Tag < 0x05 {
		return Token{}, errAt(at, ErrMalformed, "reserved token 0x"+hex2(c))
	}
	r.elements++
	if r.elements > r.lim.MaxElements {
		return Token{}, errAt(at, ErrLimit, "more than "+strconv.Itoa(r.lim.MaxElements)+" elements")
	}
	if c&TagAttrs != 0 {
		start := r.pos
		if err := r.skipAttrs(at, false); err != nil {
			return Token{}, err
		}
		t.Attrs = r.b[start : r.pos-1 : r.pos-1]
	}
	if t.Content {
		if len(r.stack) >= r.lim.MaxDepth {
			return Token{}, errAt(at, ErrLimit, "elements nested deeper than "+strconv.Itoa(r.lim.MaxDepth))
		}
		r.stack = append(r.stack, openElem{page: t.Page, tag: t.Tag, name: t.Name, off: at})
	} else {
		if len(r.stack) == 0 {
			r.rootDone = true
		}
		r.pending = true
		r.pendTok = Token{Kind: KindEnd, Page: t.Page, Tag: t.Tag, Name: t.Name, Offset: at}
	}
	return t, nil
}

// skipAttrs walks an attribute list (or a PI body) up to and including its END.
func (r *Reader) skipAttrs(at int, pi bool) error {
	what := "attribute list"
	if pi {
		what = "processing instruction"
	}
	for {
		if r.pos >= len(r.b) {
			return errAt(at, ErrTruncated, what+" runs past the end of input")
		}
		tokAt := r.pos
		c := r.b[r.pos]
		r.pos++
		switch c {
		case TokEnd:
			return nil
		case TokSwitchPage:
			if r.pos >= len(r.b) {
				return errAt(tokAt, ErrTruncated, "SWITCH_PAGE without a page number")
			}
			r.pos++
		case TokEntity, TokExtT0, TokExtT1, TokExtT2:
			if _, err := r.mb("attribute value"); err != nil {
				return err
			}
		case TokStrT, TokLiteral:
			off, err := r.mb("attribute string reference")
			if err != nil {
				return err
			}
			if _, err := r.tableString(off, tokAt); err != nil {
				return err
			}
		case TokStrI, TokExtI0, TokExtI1, TokExtI2:
			if _, err := r.inlineString(tokAt); err != nil {
				return err
			}
		case TokOpaque:
			n, err := r.mb("OPAQUE length")
			if err != nil {
				return err
			}
			if uint64(n) > uint64(len(r.b)-r.pos) {
				return errAt(tokAt, ErrTruncated, "OPAQUE runs past the end of input")
			}
			if uint64(n) > uint64(r.lim.MaxStringLen) {
				return errAt(tokAt, ErrLimit, "OPAQUE exceeds the string limit")
			}
			r.pos += int(n)
		case TokPI, TokLiteralC, TokLiteralA, TokLiteralAC:
			return errAt(tokAt, ErrMalformed, "token 0x"+hex2(c)+" is not allowed in an "+what)
		default:
			// ATTRSTART (< 0x80), ATTRVALUE (>= 0x80) or EXT_n: one byte.
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&0x0F]})
}

// LeafText is a fast path for the most common shape of leaf content: called
// right after the Start token of an element, it consumes the element's content
// and End when the content is empty or one inline string, and returns the
// string and its input offset. Otherwise it returns ok=false and consumes
// nothing, and the caller reads tokens with Next as usual.
func (r *Reader) LeafText() (data []byte, dataOff int, ok bool) {
	if r.pending { // element without content: its End is due
		r.pending = false
		return nil, r.pos, true
	}
	n := len(r.stack)
	if n == 0 || r.pos >= len(r.b) {
		return nil, 0, false
	}
	switch r.b[r.pos] {
	case TokEnd:
		r.pos++
	case TokStrI:
		start := r.pos + 1
		rest := r.b[start:]
		if len(rest) > r.lim.MaxStringLen+2 {
			rest = rest[:r.lim.MaxStringLen+2]
		}
		i := bytes.IndexByte(rest, 0)
		if i < 0 || i > r.lim.MaxStringLen || i+1 >= len(rest) || rest[i+1] != TokEnd {
			return nil, 0, false
		}
		data, dataOff = r.b[start:start+i:start+i], start
		r.pos = start + i + 2
	default:
		return nil, 0, false
	}
	r.stack = r.stack[:n-1]
	if n == 1 {
		r.rootDone = true
	}
	return data, dataOff, true
}
