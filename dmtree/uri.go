package dmtree

import (
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/syncml"
)

// ListKind selects the ?list= retrieval form of a Get.
type ListKind uint8

// The ?list= attributes of OMA DM 1.2 (OMA-TS-DM_TND-V1_2, tree exchange).
const (
	ListNone       ListKind = iota
	ListStruct              // ?list=Struct
	ListStructData          // ?list=StructData
	ListTNDS                // ?list=TNDS[+|-props]
)

// PropSet selects properties for TNDS serialisation; Value is included as a
// pseudo-property because ?list=TNDS+Value names it like one.
type PropSet uint16

// Property bits of a PropSet.
const (
	PropACL PropSet = 1 << iota
	PropFormat
	PropName
	PropSize
	PropTitle
	PropTStamp
	PropType
	PropVerNo
	PropValue

	// PropAll selects every property and the value.
	PropAll = PropACL | PropFormat | PropName | PropSize | PropTitle | PropTStamp | PropType | PropVerNo | PropValue
)

var propNames = []struct {
	name string
	bit  PropSet
}{
	{"ACL", PropACL}, {"Format", PropFormat}, {"Name", PropName}, {"Size", PropSize},
	{"Title", PropTitle}, {"TStamp", PropTStamp}, {"Type", PropType}, {"VerNo", PropVerNo},
	{"Value", PropValue},
}

func propByName(s string) (PropSet, bool) {
	for _, p := range propNames {
		if p.name == s {
			return p.bit, true
		}
	}
	return 0, false
}

// Limits bounds URIs as published in ./DevDetail/URI; 0 means unlimited.
type Limits struct {
	MaxDepth  int // segments
	MaxTotLen int // characters of the whole path
	MaxSegLen int // characters of one segment
}

// URI is a parsed, validated management-tree address.
type URI struct {
	// Segments are the unescaped node names from the root; empty for the root.
	Segments []string
	// Prop is the property named by ?prop=, or "".
	Prop string
	// List is the ?list= form, with ListProps the TNDS property selection.
	List      ListKind
	ListProps PropSet
}

// Path returns the canonical form without a query: "." for the root, "A/B" else
// (escaped so that it parses back to the same segments).
func (u URI) Path() string { return joinPath(u.Segments) }

func joinPath(segs []string) string {
	if len(segs) == 0 {
		return "."
	}
	n := len(segs) - 1
	for _, s := range segs {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escapeSegment(s))
	}
	return b.String()
}

// EscapeSegment escapes a node name for use in a URI (RFC 2396): '/', '%',
// '?', and control or space characters become %XX.
func EscapeSegment(s string) string { return escapeSegment(s) }

func escapeSegment(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		if mustEscape(s[i]) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if mustEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func mustEscape(c byte) bool {
	return c <= ' ' || c == '/' || c == '%' || c == '?' || c == 0x7f || c == '#'
}

// ParseURI validates s against the URI rules of OMA-TS-DM_TND-V1_2 and the limits lim
// (nil = unlimited). Malformed URIs give 400, limit violations 414, and
// unsupported query forms 406.
func ParseURI(s string, lim *Limits) (URI, error) {
	var u URI
	path, query, hasQuery := strings.Cut(s, "?")
	if hasQuery {
		if err := parseQuery(query, &u); err != nil {
			return URI{}, err
		}
	}
	switch {
	case path == "":
		return URI{}, syncml.Errorf(syncml.StatusBadRequest, "empty URI")
	case path == "." || path == "./":
		// "./" is not canonical but widely sent for the root; accept it.
		return u, nil
	case strings.HasPrefix(path, "./"):
		path = path[2:]
	}
	if !utf8.ValidString(path) {
		return URI{}, syncml.Errorf(syncml.StatusBadRequest, "URI is not valid UTF-8")
	}
	if lim != nil && lim.MaxTotLen > 0 && utf8.RuneCountInString(path) > lim.MaxTotLen {
		return URI{}, syncml.Errorf(syncml.StatusURITooLong, "URI longer than MaxTotLen %d", lim.MaxTotLen)
	}
	n := strings.Count(path, "/") + 1
	if lim != nil && lim.MaxDepth > 0 && n > lim.MaxDepth {
		return URI{}, syncml.Errorf(syncml.StatusURITooLong, "URI deeper than MaxDepth %d", lim.MaxDepth)
	}
	u.Segments = make([]string, 0, n)
	for len(path) > 0 || n > len(u.Segments) {
		seg, rest, _ := strings.Cut(path, "/")
		path = rest
		name, err := unescapeSegment(seg)
		if err != nil {
			return URI{}, err
		}
		if err := CheckName(name); err != nil {
			return URI{}, err
		}
		if lim != nil && lim.MaxSegLen > 0 && utf8.RuneCountInString(name) > lim.MaxSegLen {
			return URI{}, syncml.Errorf(syncml.StatusURITooLong, "segment %q longer than MaxSegLen %d", name, lim.MaxSegLen)
		}
		u.Segments = append(u.Segments, name)
	}
	return u, nil
}

// CheckName reports whether name may be a node name: not empty, not "." or
// "..", not a bare "*", no '/', valid UTF-8 (400 otherwise).
func CheckName(name string) error {
	switch name {
	case "":
		return syncml.Errorf(syncml.StatusBadRequest, "empty URI segment")
	case ".", "..":
		return syncml.Errorf(syncml.StatusBadRequest, "relative segment %q in URI", name)
	case "*":
		return syncml.Errorf(syncml.StatusBadRequest, "bare '*' is not a node name")
	}
	if strings.IndexByte(name, '/') >= 0 {
		return syncml.Errorf(syncml.StatusBadRequest, "node name %q contains '/'", name)
	}
	if !utf8.ValidString(name) {
		return syncml.Errorf(syncml.StatusBadRequest, "node name is not valid UTF-8")
	}
	return nil
}

func unescapeSegment(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", syncml.Errorf(syncml.StatusBadRequest, "truncated %%-escape in %q", s)
		}
		h, ok1 := unhex(s[i+1])
		l, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", syncml.Errorf(syncml.StatusBadRequest, "bad %%-escape in %q", s)
		}
		b = append(b, h<<4|l)
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseQuery(q string, u *URI) error {
	key, val, ok := strings.Cut(q, "=")
	if !ok {
		return syncml.Errorf(syncml.StatusOptionalNotSupported, "unsupported URI query %q", q)
	}
	switch key {
	case "prop":
		if _, ok := propByName(val); !ok || val == "Value" {
			return syncml.Errorf(syncml.StatusOptionalNotSupported, "unsupported property %q", val)
		}
		u.Prop = val
	case "list":
		switch {
		case val == "Struct":
			u.List = ListStruct
		case val == "StructData":
			u.List = ListStructData
		case val == "TNDS":
			u.List, u.ListProps = ListTNDS, PropAll
		case strings.HasPrefix(val, "TNDS+") || strings.HasPrefix(val, "TNDS-"):
			u.List = ListTNDS
			set, err := parseTNDSProps(val[4:])
			if err != nil {
				return err
			}
			u.ListProps = set
		default:
			return syncml.Errorf(syncml.StatusOptionalNotSupported, "unsupported list attribute %q", val)
		}
	default:
		return syncml.Errorf(syncml.StatusOptionalNotSupported, "unsupported URI query %q", key)
	}
	return nil
}

// parseTNDSProps parses "+ACL+Value" or "-Format-TStamp".
func parseTNDSProps(s string) (PropSet, error) {
	sign := s[0]
	var set PropSet
	for _, part := range strings.Split(s[1:], string(sign)) {
		if strings.ContainsAny(part, "+-") {
			return 0, syncml.Errorf(syncml.StatusBadRequest, "TNDS property list mixes '+' and '-'")
		}
		bit, ok := propByName(part)
		if !ok {
			return 0, syncml.Errorf(syncml.StatusOptionalNotSupported, "unsupported TNDS property %q", part)
		}
		set |= bit
	}
	if sign == '-' {
		return PropAll &^ set, nil
	}
	return set, nil
}
