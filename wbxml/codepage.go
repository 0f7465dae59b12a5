package wbxml

// CodePage is one tag code page of a WBXML language: token identities 0x05..0x3F
// mapped to element names, plus the XML namespace the page stands for.
type CodePage struct {
	Page      byte
	Namespace string
	Tags      [64]string // indexed by tag identity; "" = unassigned

	byName map[string]byte
}

// Name returns the element name of a tag identity, or "" when unassigned.
func (p *CodePage) Name(tag byte) string {
	if p == nil {
		return ""
	}
	return p.Tags[tag&0x3F]
}

// Token returns the tag identity of an element name on this page.
func (p *CodePage) Token(name string) (byte, bool) {
	if p == nil {
		return 0, false
	}
	if p.byName == nil {
		// Built lazily once per page; the tables are package variables that
		// are initialised before any caller can reach them, and index() is
		// called from init below so there is no data race.
		p.index()
	}
	t, ok := p.byName[name]
	return t, ok
}

func (p *CodePage) index() {
	m := make(map[string]byte, len(p.Tags))
	for i, n := range p.Tags {
		if n != "" {
			m[n] = byte(i)
		}
	}
	p.byName = m
}

// Language is a WBXML document type: its public identifier (numeric and FPI
// spellings), root element and the code pages its tags live on.
type Language struct {
	Name     string
	PublicID uint32   // well-known WBXML public id; 0 when none is assigned
	Root     string   // root element name
	FPIs     []string // formal public identifiers, canonical first
	Pages    []*CodePage
}

// FPI returns the canonical formal public identifier.
func (l *Language) FPI() string {
	if l == nil || len(l.FPIs) == 0 {
		return ""
	}
	return l.FPIs[0]
}

// Page returns the code page with the given number, or nil.
func (l *Language) Page(n byte) *CodePage {
	if l == nil {
		return nil
	}
	for _, p := range l.Pages {
		if p.Page == n {
			return p
		}
	}
	return nil
}

// PageForNamespace returns the code page that stands for an XML namespace, or nil.
func (l *Language) PageForNamespace(ns string) *CodePage {
	if l == nil {
		return nil
	}
	for _, p := range l.Pages {
		if p.Namespace == ns {
			return p
		}
	}
	return nil
}

// LanguageByPublicID returns the built-in language with a well-known numeric
// public id, or nil.
func LanguageByPublicID(id uint32) *Language {
	if id == 0 || id == PublicIDUnknown {
		return nil
	}
	for _, l := range Languages {
		if l.PublicID == id {
			return l
		}
	}
	return nil
}

// LanguageByFPI returns the built-in language with a formal public identifier
// (any accepted spelling, for example both "MetInf" and "MetaInf"), or nil.
func LanguageByFPI(fpi string) *Language {
	for _, l := range Languages {
		for _, f := range l.FPIs {
			if f == fpi {
				return l
			}
		}
	}
	return nil
}

// Language returns the language a document header names: by numeric public
// id, else by the FPI taken from the string table. It returns nil when the
// document type is unknown.
func (h *Header) Language() *Language {
	if l := LanguageByPublicID(h.PublicID); l != nil {
		return l
	}
	if h.FPI != "" {
		return LanguageByFPI(h.FPI)
	}
	return nil
}

func init() {
	for _, l := range Languages {
		for _, p := range l.Pages {
			if p.byName == nil {
				p.index()
			}
		}
	}
}
