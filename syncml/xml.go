package syncml

import (
	"strings"
	"sync"
)

// This file maps the scanned XML onto the message model. Children may come in
// any order (decoders are lenient about order, encoders write DTD order);
// unknown elements, elements in a foreign namespace, text where elements are
// expected and non-integer Status/Alert codes are errors.

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// DecodeXML decodes an XML SyncML DM message (DM 1.2 or 1.1).
//
// It accepts an XML declaration (UTF-8 only), a DOCTYPE (skipped: nothing is
// fetched and no entity beyond the five predefined ones and character
// references is expanded), comments, processing instructions, CDATA sections,
// namespace prefixes and default namespaces (SYNCML:SYNCML1.2,
// SYNCML:SYNCML1.1, syncml:metinf, or none). Data holding elements becomes
// DataXML with the inner XML kept verbatim; Data holding a CDATA section
// becomes DataCDATA. A command OMA DM does not define (a DS Sync, Map,
// Put…, an unknown element) or a DM command holding such an element decodes
// to an *Unknown so only it fails; a message whose VerProto is not DM/x and
// that holds a DS command is refused as a SyncML DS message, and a root other
// than SyncML (DevInf, MgmtTree) is refused naming it. lim bounds size,
// nesting, element count and string length (nil means the defaults). Errors
// are *DecodeError with the byte offset and innermost element.
//
// Strings in the returned message share one private copy of the input, so
// the caller may reuse b.
func DecodeXML(b []byte, lim *Limits) (*Message, error) {
	l := lim.WithDefaults()
	if len(b) > l.MaxMessageSize {
		return nil, &DecodeError{Offset: int64(l.MaxMessageSize),
			Msg: "message of " + itoa(len(b)) + " bytes exceeds the limit of " + itoa(l.MaxMessageSize)}
	}
	d := decoderPool.Get().(*decoder)
	d.reset(string(b), l)
	m, err := d.document()
	if err == nil && d.firstDS != nil {
		err = refuseDS(m, d.firstDS, d.firstDSOff)
	}
	d.release()
	decoderPool.Put(d)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// document parses prolog, root element and epilog.
func (d *decoder) document() (*Message, error) {
	if strings.HasPrefix(d.s, "\xef\xbb\xbf") {
		d.pos = 3
	} else if strings.HasPrefix(d.s, "\xfe\xff") || strings.HasPrefix(d.s, "\xff\xfe") {
		return nil, d.errAt(0, "", "UTF-16 input is not supported (UTF-8 only)")
	}
	sawDoctype := false
	for {
		d.skipSpace()
		if d.pos >= len(d.s) {
			if d.pos == 0 {
				return nil, d.errAt(0, "", "empty input")
			}
			return nil, d.errAt(d.pos, "", "no root element")
		}
		if d.s[d.pos] != '<' {
			return nil, d.errAt(d.pos, "", "unexpected text before the root element")
		}
		rest := d.s[d.pos:]
		switch {
		case strings.HasPrefix(rest, "<?xml ") || strings.HasPrefix(rest, "<?xml\t") ||
			strings.HasPrefix(rest, "<?xml\n") || strings.HasPrefix(rest, "<?xml\r") || strings.HasPrefix(rest, "<?xml?"):
			if err := d.xmlDecl(); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(rest, "<?"):
			if err := d.skipPI(""); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(rest, "<!--"):
			if err := d.skipComment(""); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(rest, "<!DOCTYPE"):
			if sawDoctype {
				return nil, d.errAt(d.pos, "", "second DOCTYPE")
			}
			sawDoctype = true
			if err := d.skipDoctype(); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "</"):
			return nil, d.errAt(d.pos, "", "unexpected markup before the root element")
		}
		break
	}
	root, err := d.startTag("", true)
	if err != nil {
		return nil, err
	}
	if root.id != elSyncML {
		return nil, d.errAt(root.off, "", "root element is <%s>, want <SyncML>", root.name)
	}
	m, err := d.message(&root)
	if err != nil {
		return nil, err
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.s) {
			return m, nil
		}
		rest := d.s[d.pos:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			err = d.skipComment("")
		case strings.HasPrefix(rest, "<?"):
			err = d.skipPI("")
		default:
			return nil, d.errAt(d.pos, "", "content after the root element")
		}
		if err != nil {
			return nil, err
		}
	}
}

// unexpected reports a known element in the wrong place.
func (d *decoder) unexpected(c, parent *tag) error {
	switch elemDefs[c.id].class {
	case classUnknown:
		err := d.errAt(c.off, parent.name, "unknown element <%s> in <%s>", c.name, parent.name)
		if d.inCmd > 0 {
			return &cmdFail{err: err, code: StatusBadRequest}
		}
		return err
	case classDS, classNotDM:
		err := d.errAt(c.off, parent.name, "element <%s> in <%s> is SyncML DS, not used by OMA DM", c.name, parent.name)
		if d.inCmd > 0 {
			return &cmdFail{err: err, code: StatusOptionalNotSupported}
		}
		return err
	}
	return d.errAt(c.off, parent.name, "unexpected element <%s> in <%s>", c.name, parent.name)
}

// cmdFail is returned, inside a command, for an element OMA DM does not
// define: the command is skipped and becomes an *Unknown, the rest of the
// message decodes. It never leaves the decoder.
type cmdFail struct {
	err  *DecodeError
	code StatusCode
}

func (e *cmdFail) Error() string { return e.err.Error() }

// failedCommand skips the rest of command c after an element OMA DM does not
// define was found somewhere inside it, and returns the *Unknown that stands
// for it. depth is d.depth just inside c's start tag.
func (d *decoder) failedCommand(c *tag, depth int, cmdID string, f *cmdFail) (Command, error) {
	if err := d.skipToDepth(c, depth); err != nil {
		return nil, err
	}
	return &Unknown{Name: localName(c.name), CmdID: cmdID, Code: f.code, Reason: f.err.Msg}, nil
}

// skipToDepth consumes input until the element c, opened at depth, is
// closed. The elements opened between c and d.pos were opened by the
// structural decoder; those opened while skipping are checked for balance.
func (d *decoder) skipToDepth(c *tag, depth int) error {
	base := len(d.names)
	defer func() { d.names = d.names[:base] }()
	for {
		in := c.name
		if len(d.names) > base {
			in = d.names[len(d.names)-1]
		}
		i, err := d.scanPlain(d.pos, in)
		if err != nil {
			return err
		}
		if i >= len(d.s) {
			return d.eof(in)
		}
		d.pos = i
		switch d.s[i] {
		case '&':
			var scratch [4]byte
			out := scratch[:0]
			_, size, err := d.entity(d.s[i:], i, in, &out)
			if err != nil {
				return err
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
			off := d.pos
			d.pos += 2
			name, err := d.scanName(in)
			if err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.s) {
				return d.eof(in)
			}
			if d.s[d.pos] != '>' {
				return d.errAt(d.pos, in, "expected '>' in end tag </%s>", name)
			}
			d.pos++
			if len(d.names) > base {
				if name != in {
					return d.errAt(off, in, "end tag </%s> does not match <%s>", name, in)
				}
				d.names = d.names[:len(d.names)-1]
				d.depth--
				continue
			}
			if d.depth == depth && name != c.name {
				return d.errAt(off, c.name, "end tag </%s> does not match <%s>", name, c.name)
			}
			d.popLevel()
			if d.depth < depth {
				return nil
			}
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest, "]]>")
			if end < 0 {
				return d.errAt(i, in, "unterminated CDATA section")
			}
			d.pos = i + end + 3
		case strings.HasPrefix(rest, "<!--"):
			if err := d.skipComment(in); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<?"):
			if err := d.skipPI(in); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<!"):
			return d.errAt(i, in, "unexpected markup declaration in <%s>", in)
		default:
			nt, err := d.startTag(in, false)
			if err != nil {
				return err
			}
			if !nt.empty {
				d.names = append(d.names, nt.name)
			}
		}
	}
}

// unknownCommand skips an element of SyncBody, Atomic or Sequence that OMA DM
// does not define (a DS command or an unknown element) and returns it as an
// *Unknown carrying its CmdID, so that only this command fails.
func (d *decoder) unknownCommand(c *tag) (Command, error) {
	r, err := d.text(c, true)
	if err != nil {
		return nil, err
	}
	u := &Unknown{Name: localName(c.name), DS: elemDefs[c.id].class == classDS, Code: StatusOptionalNotSupported}
	if r.nested {
		u.CmdID = firstCmdID(r.raw)
	}
	if d.firstDS == nil && u.DS {
		d.firstDS, d.firstDSOff = u, c.off
	}
	return u, nil
}

func localName(qname string) string {
	if i := strings.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// firstCmdID returns the text of the first CmdID element in raw XML content
// (a skipped command's own CmdID comes before its nested commands'), or "".
func firstCmdID(raw string) string {
	for i := 0; ; {
		j := strings.IndexByte(raw[i:], '<')
		if j < 0 {
			return ""
		}
		i += j + 1
		if i >= len(raw) || raw[i] == '/' || raw[i] == '!' || raw[i] == '?' {
			continue
		}
		k := i
		for k < len(raw) && !nameStop[raw[k]] {
			k++
		}
		if localName(raw[i:k]) != "CmdID" || k >= len(raw) || raw[k] != '>' {
			continue
		}
		end := strings.IndexByte(raw[k+1:], '<')
		if end < 0 {
			return ""
		}
		return strings.Trim(raw[k+1:k+1+end], " \t\r\n")
	}
}

func (d *decoder) message(t *tag) (*Message, error) {
	m := &Message{}
	var hdr, body bool
	for {
		c, end, err := d.next(t)
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		switch c.id {
		case elSyncHdr:
			if hdr {
				return nil, d.errAt(c.off, t.name, "second <SyncHdr>")
			}
			hdr = true
			if err := d.readHeader(c, &m.Header); err != nil {
				return nil, err
			}
		case elSyncBody:
			if body {
				return nil, d.errAt(c.off, t.name, "second <SyncBody>")
			}
			body = true
			if err := d.body(&c, m); err != nil {
				return nil, err
			}
		default:
			return nil, d.unexpected(&c, t)
		}
	}
	if !hdr {
		return nil, d.errAt(t.off, t.name, "missing <SyncHdr>")
	}
	if !body {
		return nil, d.errAt(t.off, t.name, "missing <SyncBody>")
	}
	return m, nil
}

// leaf reads the text of a leaf element.
func (d *decoder) leaf(t *tag) (string, error) {
	r, err := d.text(t, false)
	if err != nil {
		return "", err
	}
	return d.value(&r.acc), nil
}

// flag reads an empty marker element such as <Final/>.
func (d *decoder) flag(t *tag) error {
	r, err := d.text(t, false)
	if err != nil {
		return err
	}
	if strings.Trim(d.value(&r.acc), " \t\r\n") != "" {
		return d.errAt(t.off, t.name, "<%s> must be empty", t.name)
	}
	return nil
}

// number reads a non-negative decimal integer (surrounding whitespace allowed).
func (d *decoder) number(t *tag, what string) (int64, error) {
	s, err := d.leaf(t)
	if err != nil {
		return 0, err
	}
	v := strings.Trim(s, " \t\r\n")
	if v == "" || len(v) > 18 {
		return 0, d.errAt(t.off, t.name, "%s %q is not an integer", what, s)
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, d.errAt(t.off, t.name, "%s %q is not an integer", what, s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// code reads the integer Data of a Status or Alert.
func (d *decoder) code(t *tag, what string) (int, error) {
	n, err := d.number(t, what)
	if err != nil {
		return 0, err
	}
	if n > 1<<31-1 {
		return 0, d.errAt(t.off, t.name, "%s %d is out of range", what, n)
	}
	return int(n), nil
}

// The element structure (which children each element takes, into which
// field) is decoded by the dec* functions generated from schema.txt into
// zschema.go; these are the primitives they call, one per kind.

func (d *decoder) decText(c *tag, p *string) (err error) {
	*p, err = d.leaf(c)
	return err
}

func (d *decoder) decTextList(c *tag, p *[]string) error {
	s, err := d.leaf(c)
	*p = append(*p, s)
	return err
}

func (d *decoder) decNumber(c *tag, what string, p *int64) (err error) {
	*p, err = d.number(c, what)
	return err
}

// decCode reads the integer Data of a Status or Alert (parent).
func (d *decoder) decCode(c, parent *tag, p *int) (err error) {
	*p, err = d.code(c, codeWhat(parent.id))
	return err
}

func codeWhat(cmd elem) string {
	if cmd == elAlert {
		return "alert code"
	}
	return "status code"
}

// missing reports a required child that t lacks.
func (d *decoder) missing(t *tag, child elem) error {
	return d.errAt(t.off, t.name, "missing <%s> (%s) in <%s>", elemDefs[child].name, codeWhat(t.id), t.name)
}

func (d *decoder) decLocation(c tag, l *Location) error { return d.readLocation(c, l) }

func (d *decoder) decLocPtr(c tag, p **Location) error {
	l := d.locSlab.new()
	*p = l
	return d.readLocation(c, l)
}

func (d *decoder) decCred(c tag, p **Cred) error {
	cr := &Cred{}
	*p = cr
	return d.readCred(c, cr)
}

func (d *decoder) decChal(c tag, p **Chal) error {
	ch := &Chal{}
	*p = ch
	return d.readChal(c, ch)
}

func (d *decoder) decMeta(c tag, p **Meta) error {
	m := d.metaSlab.new()
	*p = m
	return d.readMeta(c, m)
}

// decMetInf flattens a nested <MetInf> wrapper into the same Meta.
func (d *decoder) decMetInf(c tag, m *Meta) error { return d.readMeta(c, m) }

func (d *decoder) decAnchor(c tag, p **Anchor) error {
	if *p == nil {
		*p = &Anchor{}
	}
	return d.readAnchor(c, *p)
}

func (d *decoder) decMem(c tag, p **Mem) error {
	if *p == nil {
		*p = &Mem{}
	}
	return d.readMem(c, *p)
}

// decData reads an Item's Data element, keeping how it was represented.
func (d *decoder) decData(t tag, p **Data) error {
	r, err := d.text(&t, true)
	if err != nil {
		return err
	}
	v := d.dataSlab.new()
	switch {
	case r.nested:
		if len(r.raw) > d.lim.MaxStringLen {
			return d.errAt(t.off, t.name, "nested XML longer than the limit of %d bytes", d.lim.MaxStringLen)
		}
		v.Kind, v.Value = DataXML, d.ownBytes(r.raw)
	case r.cdata:
		v.Kind, v.Value = DataCDATA, d.valueBytes(&r.acc)
	default:
		v.Kind, v.Value = DataText, d.valueBytes(&r.acc)
	}
	*p = v
	return nil
}

// decItem reads an Item onto the stack of items of the open command.
func (d *decoder) decItem(t tag) error {
	var it Item
	if err := d.readItem(t, &it); err != nil {
		return err
	}
	d.items = append(d.items, it)
	return nil
}

// decCmd reads a command inside an Atomic or Sequence onto the stack of
// commands of the open container.
func (d *decoder) decCmd(c tag, parent *tag) error {
	cmd, err := d.anyCommand(c, parent, false)
	if err == nil {
		d.cmds = append(d.cmds, cmd)
	}
	return err
}

func (d *decoder) body(t *tag, m *Message) error {
	base := len(d.cmds)
	for {
		c, end, err := d.next(t)
		if err != nil {
			return err
		}
		if end {
			break
		}
		if c.id == elFinal {
			if err := d.flag(&c); err != nil {
				return err
			}
			m.Final = true
			continue
		}
		cmd, err := d.anyCommand(c, t, true)
		if err != nil {
			return err
		}
		d.cmds = append(d.cmds, cmd)
	}
	m.Body = d.takeCmds(base)
	return nil
}

// anyCommand reads an element of SyncBody (topLevel), Atomic or Sequence:
// a DM command, or an *Unknown for an element DM does not define.
func (d *decoder) anyCommand(c tag, parent *tag, topLevel bool) (Command, error) {
	switch cl := elemDefs[c.id].class; {
	case cl == classDS || cl == classUnknown:
		return d.unknownCommand(&c)
	case !elemDefs[c.id].command:
		return nil, d.unexpected(&c, parent)
	case (c.id == elStatus || c.id == elResults) && !topLevel:
		return nil, d.errAt(c.off, parent.name, "<%s> is not allowed inside <%s>", c.name, parent.name)
	}
	base, cbase := len(d.items), len(d.cmds)
	outer, depth := d.inCmd, d.depth
	if !c.empty {
		d.inCmd = depth
	}
	cmd, err := d.decCommand(c)
	d.inCmd = outer
	if f, ok := err.(*cmdFail); ok {
		d.items, d.cmds = d.items[:base], d.cmds[:cbase]
		id := ""
		if c.id != elAtomic && c.id != elSequence {
			id = cmd.ID()
		}
		return d.failedCommand(&c, depth, id, f)
	}
	return cmd, err
}
