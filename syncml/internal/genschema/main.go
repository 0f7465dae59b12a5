// Command genschema turns syncml/schema.txt, the SyncML DM element table,
// into zschema.go: element ids, their names, namespaces, WBXML tokens and
// classes, the token lookup, and for every structure of the table a decoder
// and an encoder for XML and for WBXML, as switch code.
//
// Kinds (the KIND column) and what the generated code calls for a child of
// each (d is a decoder, w an encoder, c the child element, f the field):
//
//	text     string       d.decText(c, &f)            w.encText(el, f)
//	nonce    string       d.decText(c, &f)            w.encNonce(el, f)
//	doctype  string       d.decText(c, &f)            w.encText(el, f); WBXML e.docType(f)
//	textlist []string     d.decTextList(c, &f)        w.encText(el, s) for each
//	flag     bool         d.flag(c)                   w.encFlag(el)
//	number   int64        d.decNumber(c, &f)          w.encNumber(el, f)
//	code     AlertCode…   d.decCode(c, (*int)(&f))    w.encCode(el, int64(f))
//	data     *Data        d.decData(c, &f)            w.encData(el, f)
//	loc      Location     d.decLocation(c, &f)        w.encLocation(el, &f)
//	locptr   *Location    d.decLocPtr(c, &f)          w.encLocation(el, f)
//	cred chal meta anchor mem  *T   d.dec<Kind>(c, &f)  w.enc<T>(el, f)
//	metinf   (the Meta itself)   d.decMetInf(c, v)    never written
//	items    []Item       d.decItem(c, …)             w.encItem(el, &f[i])
//	cmds     []Command    d.decCmd(c, …) for any other child; w.encCmds(f)
//
// The dec* primitives (which allocate and then call the generated read<T>)
// and the leaf enc* primitives are hand-written in each codec; enc<T> for a
// structure is generated (open, children, close).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type elem struct {
	name, page, class string
	command           bool
}

type child struct {
	el, field, kind string
	xml, wbx        string // policies
}

type structDef struct {
	name, gotype string
	command      bool
	empty        bool // XML writes it as an empty element when no field is set
	children     []child
	same         *structDef // an earlier structure with the same children, whose mappers it shares
}

var kindType = map[string]string{
	"text": "string", "nonce": "string", "doctype": "string", "textlist": "[]string",
	"flag": "bool", "number": "int64", "code": "", "loc": "Location", "locptr": "*Location",
	"cred": "*Cred", "chal": "*Chal", "meta": "*Meta", "anchor": "*Anchor", "mem": "*Mem",
	"data": "*Data", "metinf": "", "items": "[]Item", "cmds": "[]Command",
}

var policies = map[string]bool{"opt": true, "req": true, "must": true, "read": true, "-": true}

func main() {
	in := flag.String("in", "schema.txt", "table")
	out := flag.String("out", "zschema.go", "output")
	flag.Parse()
	elems, structs, err := parse(*in)
	if err != nil {
		log.Fatal(err)
	}
	src, err := render(elems, structs)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// render returns the formatted zschema.go.
func render(elems []*elem, structs []*structDef) ([]byte, error) {
	var b bytes.Buffer
	gen(&b, elems, structs)
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated code does not format: %v", err)
	}
	return src, nil
}

func parse(path string) (elems []*elem, structs []*structDef, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	byName := map[string]*elem{}
	var cur *structDef
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		bad := func(msg string) {
			if err == nil {
				err = fmt.Errorf("%s:%d: %s: %q", path, n, msg, sc.Text())
			}
		}
		switch fs[0] {
		case "elem":
			if len(fs) != 4 || (fs[2] != "syncml" && fs[2] != "metinf") ||
				(fs[3] != "dm" && fs[3] != "ds" && fs[3] != "notdm") {
				bad("want: elem NAME syncml|metinf dm|ds|notdm")
				continue
			}
			if byName[fs[1]] != nil {
				bad("element defined twice")
				continue
			}
			e := &elem{name: fs[1], page: fs[2], class: fs[3]}
			elems = append(elems, e)
			byName[e.name] = e
		case "struct":
			if len(fs) < 3 {
				bad("want: struct NAME GOTYPE [command] [empty]")
				continue
			}
			cur = &structDef{name: fs[1], gotype: fs[2]}
			for _, f := range fs[3:] {
				switch f {
				case "command":
					cur.command = true
				case "empty":
					cur.empty = true
				default:
					bad("want: struct NAME GOTYPE [command] [empty]")
				}
			}
			if cur.command {
				e := byName[cur.name]
				if e == nil {
					bad("command struct names no element")
					continue
				}
				e.command = true
			}
			structs = append(structs, cur)
		default:
			if cur == nil || len(fs) != 5 {
				bad("want: CHILD FIELD KIND XML WBXML inside a struct")
				continue
			}
			c := child{el: fs[0], field: fs[1], kind: fs[2], xml: fs[3], wbx: fs[4]}
			if _, ok := kindType[c.kind]; !ok {
				bad("unknown kind")
			}
			if !policies[c.xml] || !policies[c.wbx] {
				bad("unknown policy")
			}
			if c.el != "*" && byName[c.el] == nil {
				bad("unknown element")
			}
			if (c.el == "*") != (c.kind == "cmds") {
				bad("the child * is the cmds kind, and only it")
			}
			for _, o := range cur.children {
				if o.el == c.el && ((o.xml != "-" && c.xml != "-") || (o.wbx != "-" && c.wbx != "-")) {
					bad("element read twice by one encoding")
				}
			}
			cur.children = append(cur.children, c)
		}
	}
	if err == nil {
		err = sc.Err()
	}
	return elems, structs, err
}

func gen(b *bytes.Buffer, elems []*elem, structs []*structDef) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("// Code generated by internal/genschema from schema.txt; DO NOT EDIT.\n\n")
	p("package syncml\n\nimport \"github.com/omadm/omadm/wbxml\"\n\n")
	p("// Element ids, in the order of schema.txt.\nconst (\n\telUnknown elem = iota // an element no SyncML DTD defines\n")
	for _, e := range elems {
		p("\tel%s\n", e.name)
	}
	p("\telCount\n)\n\n")
	pageConst := map[string]string{"syncml": "pageSyncML", "metinf": "pageMetInf"}
	tokPrefix := map[string]string{"syncml": "wbxml.SyncML", "metinf": "wbxml.MetInf"}
	classConst := map[string]string{"dm": "classDM", "ds": "classDS", "notdm": "classNotDM"}
	p("// elemDefs describes every element: name, code page (which is also its XML\n// namespace), WBXML token and class.\n")
	p("var elemDefs = [elCount]elemDef{\n\telUnknown: {class: classUnknown},\n")
	for _, e := range elems {
		p("\tel%s: {name: %q, page: %s, token: %s%s, class: %s, command: %v},\n",
			e.name, e.name, pageConst[e.page], tokPrefix[e.page], e.name, classConst[e.class], e.command)
	}
	p("}\n\n")
	p("// wbxElems maps a code page and token to its element.\nvar wbxElems = [2][64]elem{\n")
	for _, pg := range []string{"syncml", "metinf"} {
		p("\t%s: {\n", pageConst[pg])
		for _, e := range elems {
			if e.page == pg {
				p("\t\t%s%s: el%s,\n", tokPrefix[pg], e.name, e.name)
			}
		}
		p("\t},\n")
	}
	p("}\n\n")
	for i, s := range structs {
		for _, o := range structs[:i] {
			if o.same == nil && sameChildren(o, s) {
				s.same = o
				break
			}
		}
		if s.same != nil {
			continue
		}
		if !s.command {
			genElemEnc(p, s)
		}
		genXMLDec(p, s)
		genWBXMLDec(p, s)
		if s.command {
			genEnc(p, s, "w", "*xmlWriter", func(c child) string { return c.xml })
		}
		if s.command {
			genEnc(p, s, "e", "*wbxEncoder", func(c child) string { return c.wbx })
		}
		if s.empty {
			genZero(p, s)
		}
	}
	genDispatch(p, structs)
}

func target(c child, pol string) string {
	if c.field == "." {
		return "v"
	}
	if pol == "read" {
		return "&x" + c.field
	}
	return "&v." + c.field
}

func hasKind(s *structDef, kind string, pol func(child) string) (child, bool) {
	for _, c := range s.children {
		if c.kind == kind && pol(c) != "-" {
			return c, true
		}
	}
	return child{}, false
}

func readLocals(p func(string, ...any), s *structDef, pol func(child) string) {
	for _, c := range s.children {
		if pol(c) == "read" && c.field != "." {
			p("\tvar x%s %s // read, not kept\n\t_ = x%s\n", c.field, kindType[c.kind], c.field)
		}
	}
}

func genXMLDec(p func(string, ...any), s *structDef) {
	pol := func(c child) string { return c.xml }
	p("// read%s reads the children of t into v (XML).\n", s.name)
	p("func (d *decoder) read%s(t tag, v *%s) error {\n", s.name, s.gotype)
	readLocals(p, s, pol)
	items, hasItems := hasKind(s, "items", pol)
	cmds, hasCmds := hasKind(s, "cmds", pol)
	if hasItems {
		p("\tbase := len(d.items)\n")
	}
	if hasCmds {
		p("\tcbase := len(d.cmds)\n")
	}
	var must []child
	for _, c := range s.children {
		if c.xml == "must" {
			must = append(must, c)
			p("\tvar has%s bool\n", c.field)
		}
	}
	p("\tfor {\n\t\tc, end, err := d.next(&t)\n\t\tif err != nil {\n\t\t\treturn err\n\t\t}\n\t\tif end {\n\t\t\tbreak\n\t\t}\n")
	p("\t\tswitch c.id {\n")
	for _, c := range s.children {
		if c.xml == "-" || c.kind == "cmds" {
			continue
		}
		p("\t\tcase el%s:\n", c.el)
		p("\t\t\t%s\n", decCall(c, target(c, c.xml), true, ""))
		if c.xml == "must" {
			p("\t\t\thas%s = true\n", c.field)
		}
	}
	p("\t\tdefault:\n")
	if hasCmds {
		p("\t\t\terr = d.decCmd(c, &t)\n")
	} else {
		p("\t\t\treturn d.unexpected(&c, &t)\n")
	}
	p("\t\t}\n\t\tif err != nil {\n\t\t\treturn err\n\t\t}\n\t}\n")
	for _, c := range must {
		p("\tif !has%s {\n\t\treturn d.missing(&t, el%s)\n\t}\n", c.field, c.el)
	}
	if hasItems {
		p("\tv.%s = d.takeItems(base)\n", items.field)
	}
	if hasCmds {
		p("\tv.%s = d.takeCmds(cbase)\n", cmds.field)
	}
	p("\treturn nil\n}\n\n")
}

// decCall returns the statement that decodes child c into target tg, for
// XML (c is the child tag, t the parent) or WBXML (t is the child token).
func decCall(c child, tg string, xml bool, metaExpr string) string {
	leaf, node := "t", "t" // the child as a leaf primitive and a structure one take it
	if xml {
		leaf, node = "&c", "c"
	}
	switch c.kind {
	case "text", "nonce", "doctype":
		return fmt.Sprintf("err = d.decText(%s, %s)", leaf, tg)
	case "textlist":
		return fmt.Sprintf("err = d.decTextList(%s, %s)", leaf, tg)
	case "flag":
		return fmt.Sprintf("%s, err = true, d.flag(%s)", strings.TrimPrefix(tg, "&"), leaf)
	case "number":
		if xml {
			return fmt.Sprintf("err = d.decNumber(&c, %q, %s)", c.el, tg)
		}
		return fmt.Sprintf("err = d.decNumber(t, %s)", tg)
	case "code":
		if xml {
			return fmt.Sprintf("err = d.decCode(&c, &t, (*int)(%s))", tg)
		}
		return fmt.Sprintf("err = d.decCode(t, (*int)(%s))", tg)
	case "data":
		if xml {
			return fmt.Sprintf("err = d.decData(c, %s)", tg)
		}
		return fmt.Sprintf("err = d.decData(t, %s, %s)", tg, metaExpr)
	case "loc":
		return fmt.Sprintf("err = d.decLocation(%s, %s)", node, tg)
	case "locptr":
		return fmt.Sprintf("err = d.decLocPtr(%s, %s)", node, tg)
	case "metinf":
		return fmt.Sprintf("err = d.decMetInf(%s, v)", node)
	case "items":
		if xml {
			return "err = d.decItem(c)"
		}
		return fmt.Sprintf("err = d.decItem(t, %s)", tg)
	}
	return fmt.Sprintf("err = d.dec%s(%s, %s)", title(c.kind), node, tg) // cred chal meta anchor mem
}

func genWBXMLDec(p func(string, ...any), s *structDef) {
	pol := func(c child) string { return c.wbx }
	p("// read%s reads the children of start into v (WBXML).\n", s.name)
	p("func (d *wbxDecoder) read%s(start wbxml.Token, v *%s) error {\n", s.name, s.gotype)
	readLocals(p, s, pol)
	cmds, hasCmds := hasKind(s, "cmds", pol)
	metaExpr := "nil"
	for _, c := range s.children {
		if c.kind == "meta" && c.wbx != "-" {
			metaExpr = strings.TrimPrefix(target(c, c.wbx), "&")
		}
	}
	p("\terr := d.children(where{el: d.elemOf(start)}, func(t wbxml.Token) error {\n\t\tvar err error\n\t\tswitch d.elemOf(t) {\n")
	for _, c := range s.children {
		if c.wbx == "-" || c.kind == "cmds" {
			continue
		}
		p("\t\tcase el%s:\n", c.el)
		p("\t\t\t%s\n", decCall(c, target(c, c.wbx), false, metaExpr))
	}
	p("\t\tdefault:\n")
	if hasCmds {
		p("\t\t\terr = d.decCmd(t, &v.%s)\n", cmds.field)
	} else {
		p("\t\t\terr = d.other(t)\n")
	}
	p("\t\t}\n\t\treturn err\n\t})\n")
	if items, ok := hasKind(s, "items", pol); ok {
		p("\tif err == nil {\n\t\td.itemsDone(v.%s, %s)\n\t}\n", items.field, metaExpr)
	}
	p("\treturn err\n}\n\n")
}

func genEnc(p func(string, ...any), s *structDef, w, typ string, pol func(child) string) {
	enc := "XML"
	if w == "e" {
		enc = "WBXML"
	}
	p("// write%s writes the children of v (%s).\n", s.name, enc)
	p("func (%s %s) write%s(v *%s) {\n", w, typ, s.name, s.gotype)
	genBody(p, s, w, pol)
	p("}\n\n")
}

// genBody writes the statements that write the children of v.
func genBody(p func(string, ...any), s *structDef, w string, pol func(child) string) {
	for _, c := range s.children {
		pc := pol(c)
		if pc == "-" || pc == "read" {
			continue
		}
		f := "v." + c.field
		var cond, call string
		switch c.kind {
		case "text":
			cond, call = f+` != ""`, fmt.Sprintf("%s.encText(el%s, %s)", w, c.el, f)
		case "nonce":
			cond, call = f+` != ""`, fmt.Sprintf("%s.encNonce(el%s, %s)", w, c.el, f)
		case "doctype":
			if w == "e" {
				cond, call = f+` != ""`, fmt.Sprintf("e.encText(el%s, e.docType(%s))", c.el, f)
			} else {
				cond, call = f+` != ""`, fmt.Sprintf("w.encText(el%s, %s)", c.el, f)
			}
		case "textlist":
			call = fmt.Sprintf("for _, s := range %s {\n%s.encText(el%s, s)\n}", f, w, c.el)
		case "flag":
			cond, call = f, fmt.Sprintf("%s.encFlag(el%s)", w, c.el)
		case "number":
			cond, call = f+" != 0", fmt.Sprintf("%s.encNumber(el%s, %s)", w, c.el, f)
		case "code":
			cond, call = f+" != 0", fmt.Sprintf("%s.encCode(el%s, int64(%s))", w, c.el, f)
		case "loc":
			cond, call = f+" != (Location{})", fmt.Sprintf("%s.encLocation(el%s, &%s)", w, c.el, f)
		case "locptr":
			cond, call = f+" != nil", fmt.Sprintf("%s.encLocation(el%s, %s)", w, c.el, f)
		case "cred", "chal", "meta", "anchor", "mem", "data":
			cond, call = f+" != nil", fmt.Sprintf("%s.enc%s(el%s, %s)", w, title(c.kind), c.el, f)
		case "items":
			call = fmt.Sprintf("for i := range %s {\n%s.encItem(el%s, &%s[i])\n}", f, w, c.el, f)
		case "cmds":
			call = fmt.Sprintf("%s.encCmds(%s)", w, f)
		default:
			continue
		}
		if pc == "opt" && cond != "" {
			p("\tif %s {\n\t\t%s\n\t}\n", cond, call)
		} else {
			p("\t%s\n", call)
		}
	}
}

// genZero writes zero<Struct>, true when no field of v is set (an encoder
// writes such a structure as an empty element).
func genZero(p func(string, ...any), s *structDef) {
	p("// zero%s reports whether no field of v is set.\n", s.name)
	p("func zero%s(v *%s) bool {\n\treturn ", s.name, s.gotype)
	seen := map[string]bool{}
	sep := ""
	for _, c := range s.children {
		if c.field == "." || seen[c.field] {
			continue
		}
		seen[c.field] = true
		f := "v." + c.field
		switch c.kind {
		case "text", "nonce", "doctype":
			p("%s%s == \"\"", sep, f)
		case "flag":
			p("%s!%s", sep, f)
		case "number", "code":
			p("%s%s == 0", sep, f)
		case "textlist", "items", "cmds":
			p("%slen(%s) == 0", sep, f)
		case "loc":
			p("%s%s == (Location{})", sep, f)
		default:
			p("%s%s == nil", sep, f)
		}
		sep = " &&\n\t\t"
	}
	p("\n}\n\n")
}

func sameChildren(a, b *structDef) bool {
	if len(a.children) != len(b.children) || a.empty != b.empty || a.command != b.command {
		return false
	}
	for i := range a.children {
		if a.children[i] != b.children[i] {
			return false
		}
	}
	return true
}

// genElemEnc writes enc<Struct>, which writes element el holding v, for XML
// and for WBXML.
func genElemEnc(p func(string, ...any), s *structDef) {
	p("// enc%s writes element el holding v (XML).\n", s.name)
	p("func (w *xmlWriter) enc%s(el elem, v *%s) {\n", s.name, s.gotype)
	if s.empty {
		p("\tif zero%s(v) {\n\t\tw.empty(el)\n\t\treturn\n\t}\n", s.name)
	}
	p("\tsaved := w.open(el)\n")
	genBody(p, s, "w", func(c child) string { return c.xml })
	p("\tw.close(el, saved)\n}\n\n")
	p("// enc%s writes element el holding v (WBXML).\n", s.name)
	p("func (e *wbxEncoder) enc%s(el elem, v *%s) {\n", s.name, s.gotype)
	if data, ok := hasKind(s, "data", func(c child) string { return c.wbx }); ok {
		// Nested XML that is a TNDS or DevInf document is written as an
		// embedded WBXML document, and its Meta's Type in "+wbxml" form.
		meta := "nil"
		if m, ok := hasKind(s, "meta", func(c child) string { return c.wbx }); ok {
			meta = "v." + m.field
		}
		p("\te.embedDoc(v.%s, %s)\n", data.field, meta)
	}
	p("\te.open(el)\n")
	if _, ok := hasKind(s, "doctype", func(c child) string { return c.wbx }); ok {
		p("\te.embed = v == e.embedMeta\n")
	}
	genBody(p, s, "e", func(c child) string { return c.wbx })
	p("\te.end()\n}\n\n")
}

// impl returns the structure whose generated functions s uses, and the
// conversion of v to its type ("v" when s has its own).
func impl(s *structDef) (*structDef, string) {
	if s.same == nil {
		return s, "v"
	}
	return s.same, "(*" + s.same.gotype + ")(v)"
}

func genDispatch(p func(string, ...any), structs []*structDef) {
	for _, x := range []struct{ enc, sig, sw string }{
		{"XML", "(d *decoder) decCommand(t tag)", "t.id"},
		{"WBXML", "(d *wbxDecoder) decCommand(t wbxml.Token, el elem)", "el"},
	} {
		p("// decCommand decodes command element t (%s); it is nil, nil when t is\n// no command.\n", x.enc)
		p("func %s (Command, error) {\n\tswitch %s {\n", x.sig, x.sw)
		for _, s := range structs {
			if s.command {
				m, v := impl(s)
				p("\tcase el%s:\n\t\tv := &%s{}\n\t\treturn v, d.read%s(t, %s)\n", s.name, s.gotype, m.name, v)
			}
		}
		p("\t}\n\treturn nil, nil\n}\n\n")
	}
	for _, x := range []struct{ w, typ, enc, pol string }{{"w", "*xmlWriter", "XML", "xml"}, {"e", "*wbxEncoder", "WBXML", "wbx"}} {
		p("// encCommand writes a DM command (%s); false when c is none (nil, *Unknown).\n", x.enc)
		p("func (%s %s) encCommand(c Command) bool {\n\tswitch v := c.(type) {\n", x.w, x.typ)
		for _, s := range structs {
			if !s.command {
				continue
			}
			items, meta := "nil", "nil"
			for _, c := range s.children {
				pol := c.xml
				if x.pol == "wbx" {
					pol = c.wbx
				}
				if c.kind == "meta" && pol != "-" && pol != "read" {
					if it, ok := hasKind(s, "items", func(c child) string { return "opt" }); ok {
						items, meta = "v."+it.field, "v."+c.field
					}
				}
			}
			p("\tcase *%s:\n\t\tif v == nil {\n\t\t\treturn false\n\t\t}\n", s.gotype)
			m, v := impl(s)
			p("\t\tif %s.openCmd(el%s, %s, %s) {\n\t\t\t%s.write%s(%s)\n\t\t\t%s.closeCmd(el%s)\n\t\t}\n", x.w, s.name, meta, items, x.w, m.name, v, x.w, s.name)
		}
		p("\tdefault:\n\t\treturn false\n\t}\n\treturn true\n}\n\n")
	}
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
