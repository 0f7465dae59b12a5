package syncml

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file is the byte scanner under DecodeXML. It never uses encoding/xml:
// it walks the input once, slices strings out of one private copy of the input
// (no per-token allocations), resolves namespace prefixes with a small stack
// and enforces the Limits as it goes.

// elemTable is a collision-free hash table over the names of elemDefs: resolving a
// name costs one short hash and one string compare, cheaper than a map
// lookup on every start tag. init checks the hash stays perfect.
var elemTable [512]struct {
	name string
	id   elem
}

func elemHash(s string) uint32 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h*331 + uint32(s[i])
	}
	return (h ^ h>>9) & 511
}

func init() {
	for id := elUnknown + 1; id < elCount; id++ {
		name := elemDefs[id].name
		e := &elemTable[elemHash(name)]
		if e.name != "" {
			panic("syncml: element hash collision between " + e.name + " and " + name)
		}
		e.name, e.id = name, id
	}
}

func lookupElem(local string) (elem, bool) {
	e := &elemTable[elemHash(local)]
	if e.name != local {
		return 0, false
	}
	return e.id, true
}

// nsKind classifies a namespace URI.
type nsKind uint8

const (
	nsNone   nsKind = iota // no namespace
	nsSyncML               // SYNCML:SYNCML1.2 or SYNCML:SYNCML1.1
	nsMetInf               // syncml:metinf
	nsOther                // anything else: an error for SyncML elements
)

func classifyNS(uri string) nsKind {
	switch {
	case uri == "":
		return nsNone
	case strings.EqualFold(uri, NamespaceSyncML12), strings.EqualFold(uri, NamespaceSyncML11):
		return nsSyncML
	case strings.EqualFold(uri, NamespaceMetInf):
		return nsMetInf
	}
	return nsOther
}

// nsBind is one namespace declaration in scope.
type nsBind struct {
	prefix string
	uri    string
	kind   nsKind
	depth  int // element depth that declared it
}

// tag is a start tag that was read.
type tag struct {
	id    elem
	name  string // qualified name as written (for end-tag matching and errors)
	off   int    // offset of '<'
	empty bool   // self-closing
}

// maxAttrs bounds attributes per element: SyncML uses at most one (xmlns), and
// the bound keeps namespace lookups cheap on hostile input.
const maxAttrs = 16

// textClass marks bytes that stop the fast text loop: markup, references,
// carriage returns, control characters and non-ASCII bytes.
var textClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['<'], t['&'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// nameStop marks bytes that end an XML name.
var nameStop = func() (t [256]bool) {
	for _, c := range " \t\r\n/>=<&\"'" {
		t[c] = true
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decoder holds the state of one DecodeXML call. Its stacks are reused
// through a pool; everything reachable from the returned Message is allocated
// fresh for that message.
type decoder struct {
	s     string // private copy of the input; model strings are slices of it
	pos   int
	lim   Limits
	depth int
	elems int
	ns    []nsBind
	names []string // open element names while skipping nested XML
	buf   []byte   // scratch for text that needs decoding

	firstDS    *Unknown // the first DS command of the message, if any
	firstDSOff int
	inCmd      int // depth just inside the command being decoded (0: none)

	items []Item    // items of open commands (stack discipline)
	cmds  []Command // commands of open containers (stack discipline)

	itemSlab []Item
	cmdSlab  []Command
	byteSlab []byte
	locSlab  slab[Location]
	metaSlab slab[Meta]
	dataSlab slab[Data]
}

// slab hands out pointers into chunks so a message with many items costs a
// few allocations instead of one per Location, Meta and Data.
type slab[T any] struct {
	buf []T
	n   int
}

func (s *slab[T]) new() *T {
	if len(s.buf) == 0 {
		switch {
		case s.n == 0:
			s.n = 4
		case s.n < 256:
			s.n *= 2
		}
		s.buf = make([]T, s.n)
	}
	p := &s.buf[0]
	s.buf = s.buf[1:]
	return p
}

func (d *decoder) reset(s string, lim Limits) {
	d.s, d.pos, d.lim, d.depth, d.elems = s, 0, lim, 0, 0
	d.firstDS, d.firstDSOff, d.inCmd = nil, 0, 0
	d.ns = d.ns[:0]
	d.names = d.names[:0]
	d.buf = d.buf[:0]
	d.items, d.cmds = d.items[:0], d.cmds[:0]
	d.itemSlab, d.cmdSlab, d.byteSlab = nil, nil, nil
	d.locSlab, d.metaSlab, d.dataSlab = slab[Location]{}, slab[Meta]{}, slab[Data]{}
}

// release drops references into the decoded message before pooling.
func (d *decoder) release() {
	d.reset("", Limits{})
	clear(d.items[:cap(d.items)])
	clear(d.cmds[:cap(d.cmds)])
	clear(d.ns[:cap(d.ns)])
	clear(d.names[:cap(d.names)])
}

// errAt builds a DecodeError at offset off inside element in.
func (d *decoder) errAt(off int, in string, format string, args ...any) *DecodeError {
	return &DecodeError{Offset: int64(off), Element: in, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) eof(in string) *DecodeError {
	return d.errAt(len(d.s), in, "unexpected end of input")
}

// takeItems moves the items collected since base into an exact-size slice.
func (d *decoder) takeItems(base int) []Item {
	n := len(d.items) - base
	if n == 0 {
		return nil
	}
	if len(d.itemSlab) < n {
		c := max(n, 8*len(d.items[base:]), 16)
		d.itemSlab = make([]Item, c)
	}
	out := d.itemSlab[:n:n]
	d.itemSlab = d.itemSlab[n:]
	copy(out, d.items[base:])
	clear(d.items[base:])
	d.items = d.items[:base]
	return out
}

// takeCmds moves the commands collected since base into an exact-size slice.
func (d *decoder) takeCmds(base int) []Command {
	n := len(d.cmds) - base
	if n == 0 {
		return nil
	}
	if len(d.cmdSlab) < n {
		d.cmdSlab = make([]Command, max(n, 16))
	}
	out := d.cmdSlab[:n:n]
	d.cmdSlab = d.cmdSlab[n:]
	copy(out, d.cmds[base:])
	clear(d.cmds[base:])
	d.cmds = d.cmds[:base]
	return out
}

// ownBytes copies s into a chunk owned by the message; the result has its
// capacity clipped so appending to it never touches a neighbour.
func (d *decoder) ownBytes(s string) []byte { return ownCopy(d, s) }

// valueBytes returns the accumulated text as bytes owned by the message.
func (d *decoder) valueBytes(a *textAcc) []byte {
	if a.inBuf {
		return ownCopy(d, d.buf)
	}
	if a.n == 0 {
		return []byte{}
	}
	return ownCopy(d, d.s[a.lo:a.hi])
}

func ownCopy[T string | []byte](d *decoder, s T) []byte {
	n := len(s)
	if n == 0 {
		return []byte{}
	}
	if len(d.byteSlab) < n {
		if n >= 4096 {
			b := make([]byte, n)
			copy(b, s)
			return b
		}
		d.byteSlab = make([]byte, max(n, 512, min(64<<10, len(d.s)/4)))
	}
	out := d.byteSlab[:n:n]
	d.byteSlab = d.byteSlab[n:]
	copy(out, s)
	return out
}

// skipSpace advances over XML whitespace.
func (d *decoder) skipSpace() {
	for d.pos < len(d.s) && isSpace(d.s[d.pos]) {
		d.pos++
	}
}

// scanName reads an XML name at d.pos: an NCName, or two joined by one
// colon (prefix:local), as the Namespaces in XML recommendation requires.
func (d *decoder) scanName(in string) (string, error) {
	i := d.pos
	for i < len(d.s) && !nameStop[d.s[i]] {
		i++
	}
	if i == d.pos {
		if i >= len(d.s) {
			return "", d.eof(in)
		}
		return "", d.errAt(i, in, "expected a name, found %q", d.s[i])
	}
	name := d.s[d.pos:i]
	valid := validNCName(name)
	if prefix, local, qualified := strings.Cut(name, ":"); qualified {
		valid = validNCName(prefix) && validNCName(local)
	}
	if !valid {
		return "", d.errAt(d.pos, in, "invalid name %q", name)
	}
	d.pos = i
	return name, nil
}

// nameClass classifies the bytes of an XML name (XML 1.0 §2.3): 2 may start
// a name, 1 may only follow. Every non-ASCII byte counts as part of a letter;
// validNCName then requires the name to be valid UTF-8.
var nameClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
			t[c] = 2
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] = 1
		}
	}
	return t
}()

// validNCName reports whether s is an XML name without a colon. The decoder
// and the encoder use it both, so a name one accepts the other writes.
func validNCName(s string) bool {
	if s == "" || nameClass[s[0]] != 2 {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		switch nameClass[s[i]] {
		case 0:
			return false
		case 2:
			ascii = ascii && s[i] < 0x80
		}
	}
	return ascii || utf8.ValidString(s)
}

// skipComment skips "<!--...-->" at d.pos.
func (d *decoder) skipComment(in string) error {
	end := strings.Index(d.s[d.pos+4:], "-->")
	if end < 0 {
		return d.errAt(d.pos, in, "unterminated comment")
	}
	d.pos += 4 + end + 3
	return nil
}

// skipPI skips "<?...?>" at d.pos.
func (d *decoder) skipPI(in string) error {
	end := strings.Index(d.s[d.pos+2:], "?>")
	if end < 0 {
		return d.errAt(d.pos, in, "unterminated processing instruction")
	}
	d.pos += 2 + end + 2
	return nil
}

// skipDoctype skips a DOCTYPE declaration, including an internal subset. Its
// declarations are never processed: no entity is defined, nothing is fetched.
func (d *decoder) skipDoctype() error {
	start := d.pos
	i := d.pos + len("<!DOCTYPE")
	var quote byte
	bracket := 0
	for ; i < len(d.s); i++ {
		c := d.s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			bracket++
		case c == ']':
			bracket--
		case c == '<' && bracket > 0 && strings.HasPrefix(d.s[i:], "<!--"):
			end := strings.Index(d.s[i+4:], "-->")
			if end < 0 {
				return d.errAt(i, "", "unterminated comment in DOCTYPE")
			}
			i += 4 + end + 2
		case c == '>' && bracket <= 0:
			d.pos = i + 1
			return nil
		}
	}
	return d.errAt(start, "", "unterminated DOCTYPE")
}

// xmlDecl checks the XML declaration at d.pos: only UTF-8 (or its ASCII subset)
// is accepted.
func (d *decoder) xmlDecl() error {
	start := d.pos
	end := strings.Index(d.s[d.pos:], "?>")
	if end < 0 {
		return d.errAt(start, "", "unterminated XML declaration")
	}
	decl := d.s[d.pos : d.pos+end]
	d.pos += end + 2
	if i := strings.Index(decl, "encoding"); i >= 0 {
		rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			return d.errAt(start, "", "malformed encoding in XML declaration")
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
			return d.errAt(start, "", "malformed encoding in XML declaration")
		}
		q := strings.IndexByte(rest[1:], rest[0])
		if q < 0 {
			return d.errAt(start, "", "malformed encoding in XML declaration")
		}
		enc := rest[1 : 1+q]
		if !strings.EqualFold(enc, "UTF-8") && !strings.EqualFold(enc, "UTF8") && !strings.EqualFold(enc, "US-ASCII") {
			return d.errAt(start, "", "encoding %q is not supported (UTF-8 only)", enc)
		}
	}
	return nil
}

// startTag reads a start tag at d.pos (which holds '<'). Namespace
// declarations are pushed when structural is true (SyncML structure), and
// the element is resolved to a known elem.
func (d *decoder) startTag(in string, structural bool) (tag, error) {
	t := tag{off: d.pos}
	d.pos++
	name, err := d.scanName(in)
	if err != nil {
		return t, err
	}
	t.name = name
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return t, d.errAt(t.off, in, "element <%s> nested deeper than the limit of %d", name, d.lim.MaxDepth)
	}
	d.elems++
	if d.elems > d.lim.MaxElements {
		return t, d.errAt(t.off, in, "more than %d elements", d.lim.MaxElements)
	}
	for nattr := 0; ; nattr++ {
		sp := d.pos
		d.skipSpace()
		if d.pos >= len(d.s) {
			return t, d.eof(name)
		}
		switch d.s[d.pos] {
		case '>':
			d.pos++
			goto done
		case '/':
			if d.pos+1 >= len(d.s) {
				return t, d.eof(name)
			}
			if d.s[d.pos+1] != '>' {
				return t, d.errAt(d.pos, name, "expected '>' after '/' in start tag")
			}
			d.pos += 2
			t.empty = true
			goto done
		}
		if sp == d.pos {
			return t, d.errAt(d.pos, name, "expected whitespace before attribute")
		}
		if nattr >= maxAttrs {
			return t, d.errAt(d.pos, name, "more than %d attributes", maxAttrs)
		}
		aoff := d.pos
		aname, err := d.scanName(name)
		if err != nil {
			return t, err
		}
		d.skipSpace()
		if d.pos >= len(d.s) {
			return t, d.eof(name)
		}
		if d.s[d.pos] != '=' {
			return t, d.errAt(d.pos, name, "expected '=' after attribute %s", aname)
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.s) {
			return t, d.eof(name)
		}
		q := d.s[d.pos]
		if q != '"' && q != '\'' {
			return t, d.errAt(d.pos, name, "attribute %s value is not quoted", aname)
		}
		end := strings.IndexByte(d.s[d.pos+1:], q)
		if end < 0 {
			return t, d.eof(name)
		}
		raw := d.s[d.pos+1 : d.pos+1+end]
		if strings.IndexByte(raw, '<') >= 0 {
			return t, d.errAt(d.pos, name, "'<' in attribute %s value", aname)
		}
		d.pos += end + 2
		if !structural {
			if strings.IndexByte(raw, '&') >= 0 {
				if _, err := d.decodeAttr(raw, aoff, name); err != nil {
					return t, err
				}
			}
			continue
		}
		var prefix string
		switch {
		case aname == "xmlns":
		case strings.HasPrefix(aname, "xmlns:"):
			prefix = aname[len("xmlns:"):]
		default:
			if strings.IndexByte(raw, '&') >= 0 {
				if _, err := d.decodeAttr(raw, aoff, name); err != nil {
					return t, err
				}
			}
			continue
		}
		uri := raw
		if strings.IndexByte(raw, '&') >= 0 {
			if uri, err = d.decodeAttr(raw, aoff, name); err != nil {
				return t, err
			}
		}
		if prefix != "" && uri == "" {
			return t, d.errAt(aoff, name, "namespace prefix %s bound to an empty URI", prefix)
		}
		d.ns = append(d.ns, nsBind{prefix: prefix, uri: uri, kind: classifyNS(uri), depth: d.depth})
	}
done:
	if structural {
		if err := d.resolve(&t, in); err != nil {
			return t, err
		}
	}
	if t.empty {
		d.popLevel()
	}
	return t, nil
}

// decodeAttr expands references in an attribute value.
func (d *decoder) decodeAttr(raw string, off int, in string) (string, error) {
	var out []byte
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '&' {
			out = append(out, c)
			i++
			continue
		}
		_, size, err := d.entity(raw[i:], off, in, &out)
		if err != nil {
			return "", err
		}
		i += size
	}
	return string(out), nil
}

// resolve maps a start tag's qualified name to a known element in an
// accepted namespace.
func (d *decoder) resolve(t *tag, in string) error {
	prefix, local := "", t.name
	if i := strings.IndexByte(t.name, ':'); i >= 0 {
		prefix, local = t.name[:i], t.name[i+1:]
	}
	kind, uri, found := nsNone, "", prefix == ""
	for i := len(d.ns) - 1; i >= 0; i-- {
		if d.ns[i].prefix == prefix {
			kind, uri, found = d.ns[i].kind, d.ns[i].uri, true
			break
		}
	}
	if !found {
		return d.errAt(t.off, in, "undeclared namespace prefix %q on <%s>", prefix, t.name)
	}
	id, ok := lookupElem(local)
	if !ok {
		id = elUnknown
	}
	switch kind {
	case nsOther:
		if d.depth == 1 && id != elSyncML {
			return d.errAt(t.off, in, "root element is <%s> in namespace %q, want <SyncML>: not a DM message", t.name, uri)
		}
		return d.errAt(t.off, in, "element <%s> in unexpected namespace %q", t.name, uri)
	case nsMetInf:
		if elemDefs[id].page != pageMetInf {
			return d.errAt(t.off, in, "element <%s> in namespace %q (it belongs to SyncML)", t.name, uri)
		}
	}
	t.id = id
	return nil
}

// popLevel closes the current element level: its namespace bindings go.
func (d *decoder) popLevel() {
	for len(d.ns) > 0 && d.ns[len(d.ns)-1].depth >= d.depth {
		d.ns = d.ns[:len(d.ns)-1]
	}
	d.depth--
}

// endTag reads "</name>" at d.pos and checks it closes t.
func (d *decoder) endTag(t *tag) error {
	off := d.pos
	d.pos += 2
	name, err := d.scanName(t.name)
	if err != nil {
		return err
	}
	d.skipSpace()
	if d.pos >= len(d.s) {
		return d.eof(t.name)
	}
	if d.s[d.pos] != '>' {
		return d.errAt(d.pos, t.name, "expected '>' in end tag </%s>", name)
	}
	d.pos++
	if name != t.name {
		return d.errAt(off, t.name, "end tag </%s> does not match <%s>", name, t.name)
	}
	d.popLevel()
	return nil
}

// next returns the next child element of parent, or end=true after consuming
// parent's end tag. Whitespace, comments and processing instructions between
// elements are skipped; other text is an error.
func (d *decoder) next(parent *tag) (t tag, end bool, err error) {
	if parent.empty {
		return t, true, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.s) {
			return t, false, d.eof(parent.name)
		}
		if d.s[d.pos] != '<' {
			return t, false, d.errAt(d.pos, parent.name, "unexpected text in <%s>", parent.name)
		}
		if d.pos+1 >= len(d.s) {
			return t, false, d.eof(parent.name)
		}
		switch d.s[d.pos+1] {
		case '/':
			return t, true, d.endTag(parent)
		case '?':
			if err := d.skipPI(parent.name); err != nil {
				return t, false, err
			}
			continue
		case '!':
			if strings.HasPrefix(d.s[d.pos:], "<!--") {
				if err := d.skipComment(parent.name); err != nil {
					return t, false, err
				}
				continue
			}
			if strings.HasPrefix(d.s[d.pos:], "<![CDATA[") {
				return t, false, d.errAt(d.pos, parent.name, "unexpected CDATA in <%s>", parent.name)
			}
			return t, false, d.errAt(d.pos, parent.name, "unexpected markup declaration in <%s>", parent.name)
		}
		t, err = d.startTag(parent.name, true)
		return t, false, err
	}
}

// entity decodes the reference at the start of s (which begins with '&'),
// appending its character to *out; it returns the rune and the bytes consumed.
// Only the five predefined entities and character references exist: a
// DOCTYPE never defines more.
func (d *decoder) entity(s string, off int, in string, out *[]byte) (rune, int, error) {
	semi := strings.IndexByte(s[:min(len(s), 32)], ';')
	if semi < 0 {
		if len(s) < 32 {
			return 0, 0, d.eof(in)
		}
		return 0, 0, d.errAt(off, in, "malformed reference %q", s[:min(len(s), 12)])
	}
	ref := s[1:semi]
	var r rune
	switch ref {
	case "amp":
		r = '&'
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "quot":
		r = '"'
	case "apos":
		r = '\''
	default:
		if len(ref) < 2 || ref[0] != '#' {
			return 0, 0, d.errAt(off, in, "undefined entity &%s;", ref)
		}
		num, base := ref[1:], rune(10)
		if num[0] == 'x' {
			num, base = num[1:], 16
		}
		if num == "" {
			return 0, 0, d.errAt(off, in, "malformed character reference &%s;", ref)
		}
		for i := 0; i < len(num); i++ {
			c := num[i]
			var v rune
			switch {
			case c >= '0' && c <= '9':
				v = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				v = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				v = rune(c-'A') + 10
			default:
				return 0, 0, d.errAt(off, in, "malformed character reference &%s;", ref)
			}
			r = r*base + v
			if r > utf8.MaxRune {
				break
			}
		}
		// XML 1.1-style: control characters are accepted as references (the
		// encoder writes them so), but never NUL, surrogates or non-characters.
		if r == 0 || r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFE || r == 0xFFFF {
			return 0, 0, d.errAt(off, in, "character reference &%s; is not a legal XML character", ref)
		}
	}
	*out = utf8.AppendRune(*out, r)
	return r, semi + 1, nil
}

// scanPlain validates plain character data d.s[i:] up to the first byte that
// needs attention and returns its index. Plain means: no markup, no
// reference, no CR, legal characters, valid UTF-8.
func (d *decoder) scanPlain(i int, in string) (int, error) {
	s := d.s
	for i < len(s) {
		c := s[i]
		if !textClass[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\r' {
				return i, d.errAt(i, in, "illegal character %#02x", c)
			}
			return i, nil
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i, d.errAt(i, in, "invalid UTF-8")
		}
		if r == 0xFFFE || r == 0xFFFF {
			return i, d.errAt(i, in, "illegal character U+%04X", r)
		}
		i += size
	}
	return i, nil
}

// textAcc accumulates a text value: a zero-copy range of d.s while the value
// is contiguous, d.buf once references, CRs or sections split it.
type textAcc struct {
	lo, hi int
	inBuf  bool
	n      int // pieces so far
}

func (d *decoder) addRange(a *textAcc, lo, hi int, in string) error {
	if lo == hi {
		return nil
	}
	switch {
	case a.n == 0:
		a.lo, a.hi = lo, hi
	case !a.inBuf:
		d.buf = append(d.buf[:0], d.s[a.lo:a.hi]...)
		d.buf = append(d.buf, d.s[lo:hi]...)
		a.inBuf = true
	default:
		d.buf = append(d.buf, d.s[lo:hi]...)
	}
	a.n++
	return d.checkLen(a, in, hi)
}

func (d *decoder) toBuf(a *textAcc) {
	if !a.inBuf {
		d.buf = d.buf[:0]
		if a.n > 0 {
			d.buf = append(d.buf, d.s[a.lo:a.hi]...)
		}
		a.inBuf = true
	}
	a.n++
}

func (d *decoder) checkLen(a *textAcc, in string, off int) error {
	n := a.hi - a.lo
	if a.inBuf {
		n = len(d.buf)
	}
	if n > d.lim.MaxStringLen {
		return d.errAt(off, in, "text longer than the limit of %d bytes", d.lim.MaxStringLen)
	}
	return nil
}

// value returns the accumulated text.
func (d *decoder) value(a *textAcc) string {
	if a.inBuf {
		return string(d.buf)
	}
	if a.n == 0 {
		return ""
	}
	return d.s[a.lo:a.hi]
}

// textResult is the content of a leaf element.
type textResult struct {
	acc    textAcc
	cdata  bool // a CDATA section contributed
	nested bool // content is nested XML; raw holds it
	raw    string
}

// text reads the character content of t up to and including its end tag.
// With allowNested, child elements make the content nested XML (kept raw);
// otherwise a child element is an error.
func (d *decoder) text(t *tag, allowNested bool) (res textResult, err error) {
	if t.empty {
		return res, nil
	}
	contentStart := d.pos
	a := &res.acc
	seg := d.pos
	for {
		i, err := d.scanPlain(d.pos, t.name)
		if err != nil {
			return res, err
		}
		if i >= len(d.s) {
			return res, d.eof(t.name)
		}
		if err := d.addRange(a, seg, i, t.name); err != nil {
			return res, err
		}
		d.pos = i
		switch d.s[i] {
		case '&':
			d.toBuf(a)
			_, size, err := d.entity(d.s[i:], i, t.name, &d.buf)
			if err != nil {
				return res, err
			}
			if err := d.checkLen(a, t.name, i); err != nil {
				return res, err
			}
			d.pos += size
		case '\r':
			d.toBuf(a)
			d.buf = append(d.buf, '\n')
			d.pos++
			if d.pos < len(d.s) && d.s[d.pos] == '\n' {
				d.pos++
			}
		case '<':
			rest := d.s[i:]
			switch {
			case strings.HasPrefix(rest, "</"):
				if err := d.endTag(t); err != nil {
					return res, err
				}
				return res, nil
			case strings.HasPrefix(rest, "<![CDATA["):
				res.cdata = true
				if err := d.cdata(a, t.name); err != nil {
					return res, err
				}
			case strings.HasPrefix(rest, "<!--"):
				if err := d.skipComment(t.name); err != nil {
					return res, err
				}
			case strings.HasPrefix(rest, "<?"):
				if err := d.skipPI(t.name); err != nil {
					return res, err
				}
			case strings.HasPrefix(rest, "<!"):
				return res, d.errAt(i, t.name, "unexpected markup declaration in <%s>", t.name)
			default:
				if !allowNested {
					name := rest[1:]
					if j := strings.IndexFunc(name, func(r rune) bool { return r < 0x80 && nameStop[r] }); j >= 0 {
						name = name[:j]
					}
					return res, d.errAt(i, t.name, "unexpected element <%s> in <%s>", name, t.name)
				}
				raw, err := d.nested(t, contentStart)
				if err != nil {
					return res, err
				}
				res.nested, res.raw = true, raw
				return res, nil
			}
		}
		seg = d.pos
	}
}

// cdata reads a CDATA section at d.pos into a.
func (d *decoder) cdata(a *textAcc, in string) error {
	start := d.pos + len("<![CDATA[")
	end := strings.Index(d.s[start:], "]]>")
	if end < 0 {
		return d.errAt(d.pos, in, "unterminated CDATA section")
	}
	end += start
	// Validate and normalize CRs inside the section.
	seg := start
	for i := start; ; {
		j, err := d.scanPlain(i, in)
		if err != nil {
			return err
		}
		if j >= end {
			break
		}
		switch d.s[j] {
		case '\r':
			if err := d.addRange(a, seg, j, in); err != nil {
				return err
			}
			d.toBuf(a)
			d.buf = append(d.buf, '\n')
			j++
			if j < end && d.s[j] == '\n' {
				j++
			}
			seg = j
		default: // '<' or '&' are literal inside CDATA
			j++
		}
		i = j
	}
	if err := d.addRange(a, seg, end, in); err != nil {
		return err
	}
	d.pos = end + 3
	return nil
}

// nested scans the remaining content of t as well-formed XML (balanced
// elements, valid references) up to t's end tag, and returns the content
// from contentStart with surrounding whitespace trimmed, verbatim.
func (d *decoder) nested(t *tag, contentStart int) (string, error) {
	base := len(d.names)
	defer func() { d.names = d.names[:base] }()
	for {
		i, err := d.scanPlain(d.pos, t.name)
		if err != nil {
			return "", err
		}
		if i >= len(d.s) {
			return "", d.eof(t.name)
		}
		d.pos = i
		in := t.name
		if len(d.names) > base {
			in = d.names[len(d.names)-1]
		}
		switch d.s[i] {
		case '&':
			var scratch [4]byte
			out := scratch[:0]
			_, size, err := d.entity(d.s[i:], i, in, &out)
			if err != nil {
				return "", err
			}
			d.pos += size
			continue
		case '\r':
			d.pos++
			continue
		}
		rest := d.s[i:]
		switch {
		case strings.HasPrefix(rest, "</"):
			if len(d.names) == base {
				end := d.pos
				if err := d.endTag(t); err != nil {
					return "", err
				}
				return strings.Trim(d.s[contentStart:end], " \t\r\n"), nil
			}
			off := d.pos
			d.pos += 2
			name, err := d.scanName(in)
			if err != nil {
				return "", err
			}
			d.skipSpace()
			if d.pos >= len(d.s) {
				return "", d.eof(in)
			}
			if d.s[d.pos] != '>' {
				return "", d.errAt(d.pos, in, "expected '>' in end tag </%s>", name)
			}
			d.pos++
			if name != in {
				return "", d.errAt(off, in, "end tag </%s> does not match <%s>", name, in)
			}
			d.names = d.names[:len(d.names)-1]
			d.depth--
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest, "]]>")
			if end < 0 {
				return "", d.errAt(i, in, "unterminated CDATA section")
			}
			if err := d.scanPlainUntil(i+9, i+end, in); err != nil {
				return "", err
			}
			d.pos = i + end + 3
		case strings.HasPrefix(rest, "<!--"):
			if err := d.skipComment(in); err != nil {
				return "", err
			}
		case strings.HasPrefix(rest, "<?"):
			if err := d.skipPI(in); err != nil {
				return "", err
			}
		case strings.HasPrefix(rest, "<!"):
			return "", d.errAt(i, in, "unexpected markup declaration in <%s>", in)
		default:
			nt, err := d.startTag(in, false)
			if err != nil {
				return "", err
			}
			if !nt.empty {
				d.names = append(d.names, nt.name)
			}
		}
	}
}

// scanPlainUntil validates d.s[i:end] as CDATA content (any markup allowed).
func (d *decoder) scanPlainUntil(i, end int, in string) error {
	for i < end {
		j, err := d.scanPlain(i, in)
		if err != nil {
			return err
		}
		i = j + 1
	}
	return nil
}
