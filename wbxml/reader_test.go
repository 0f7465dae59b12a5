package wbxml_test

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omadm/omadm/wbxml"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dump renders every token of a document as compact text, for comparisons.
func dump(t testing.TB, b []byte, lim *wbxml.Limits) (string, error) {
	t.Helper()
	r, err := wbxml.NewReader(b, lim)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		tok, err := r.Next()
		if err != nil {
			return sb.String(), err
		}
		switch tok.Kind {
		case wbxml.KindEOF:
			return sb.String(), nil
		case wbxml.KindStart:
			sb.WriteString("<")
			if tok.Tag == 0 {
				sb.WriteString(string(tok.Name))
			} else {
				sb.WriteString(hex.EncodeToString([]byte{tok.Page, tok.Tag}))
			}
			if tok.Attrs != nil {
				sb.WriteString(" @" + hex.EncodeToString(tok.Attrs))
			}
			if !tok.Content {
				sb.WriteString("/")
			}
			sb.WriteString(">")
		case wbxml.KindEnd:
			sb.WriteString("</>")
		case wbxml.KindText:
			sb.WriteString("'" + string(tok.Data) + "'")
		case wbxml.KindOpaque:
			sb.WriteString("#" + hex.EncodeToString(tok.Data))
		case wbxml.KindEntity:
			sb.WriteString("&" + string(tok.Rune) + ";")
		case wbxml.KindPI:
			sb.WriteString("?" + hex.EncodeToString(tok.Data))
		case wbxml.KindExt:
			sb.WriteString("!" + hex.EncodeToString([]byte{tok.Tag}) + string(tok.Data))
		}
	}
	t.Fatal("token loop did not end")
	return "", nil
}

func TestReader_DecodesEveryTokenKind(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{name: "inline string", doc: "03 a401 6a 00 6d 03 6869 00 01", want: "<002d>'hi'</>"},
		{name: "string table reference", doc: "03 a401 6a 05 6162006300 6d 83 03 01", want: "<002d>'c'</>"},
		{name: "entity", doc: "03 a401 6a 00 6d 02 8160 01", want: "<002d>&à;</>"},
		{name: "opaque", doc: "03 a401 6a 00 6d c3 02 00ff 01", want: "<002d>#00ff</>"},
		{name: "empty element", doc: "03 a401 6a 00 6d 12 01", want: "<002d><0012/></></>"},
		{name: "switch page", doc: "03 a401 6a 00 6d 00 01 4c 03 35 00 01 00 00 12 01", want: "<002d><010c>'5'</><0012/></></>"},
		{name: "literal tags", doc: "03 01 6a 04 4d7900 00 44 00 04 00 01", want: "<My><My/></></>"},
		{name: "attributes kept raw", doc: "03 01 6a 00 ed 05 03 7800 01 12 01", want: "<002d @05037800><0012/></></>"},
		{name: "processing instructions", doc: "03 01 6a 00 43 05 01 6d 01 43 06 01", want: "?05<002d></>?06"},
		{name: "extension tokens", doc: "03 01 6a 00 6d 40 6100 80 05 c0 01", want: "<002d>!40a!80!c0</>"},
		{name: "WBXML 1.1 unknown charset", doc: "01 a401 00 00 6d 01", want: "<002d></>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dump(t, unhex(t, tt.doc), nil)
			if err != nil {
				t.Fatalf("error: %v (after %q)", err, got)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReader_HeaderNamesTheLanguage(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *wbxml.Language
		fpi  string
	}{
		{name: "numeric SyncML 1.2", doc: "03 a401 6a 00 6d01", want: wbxml.SyncML12},
		{name: "numeric SyncML 1.1", doc: "02 9f53 6a 00 6d01", want: wbxml.SyncML11},
		{name: "FPI in string table", doc: "03 00 00 6a 1e " + hex.EncodeToString([]byte("-//SYNCML//DTD SyncML 1.2//EN\x00")) + " 6d01",
			want: wbxml.SyncML12, fpi: "-//SYNCML//DTD SyncML 1.2//EN"},
		{name: "MetaInf spelling", doc: "03 00 00 6a 1f " + hex.EncodeToString([]byte("-//SYNCML//DTD MetaInf 1.2//EN\x00")) + " 6d01",
			want: wbxml.MetInf12, fpi: "-//SYNCML//DTD MetaInf 1.2//EN"},
		{name: "DDF FPI", doc: "03 00 00 6a 1b " + hex.EncodeToString([]byte("-//OMA//DTD-DM-DDF 1.2//EN\x00")) + " 6001",
			want: wbxml.DMDDF12, fpi: "-//OMA//DTD-DM-DDF 1.2//EN"},
		{name: "unknown public id", doc: "03 01 6a 00 6d01", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := wbxml.NewReader(unhex(t, tt.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header().Language(); got != tt.want {
				t.Errorf("Language() = %v, want %v", got, tt.want)
			}
			if r.Header().FPI != tt.fpi {
				t.Errorf("FPI = %q, want %q", r.Header().FPI, tt.fpi)
			}
		})
	}
}

func TestReader_RejectsBadInputWithOffset(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		lim    *wbxml.Limits
		class  error
		offset int64
	}{
		{name: "WBXML 1.0", doc: "00 01 6d 01", class: wbxml.ErrVersion, offset: 0},
		{name: "version 2.0", doc: "10 01 6a 00 6d 01", class: wbxml.ErrVersion, offset: 0},
		{name: "ISO-8859-1", doc: "03 01 04 00 6d 01", class: wbxml.ErrCharset, offset: 2},
		{name: "string table past end", doc: "03 01 6a 10 00", class: wbxml.ErrTruncated, offset: 3},
		{name: "FPI index outside table", doc: "03 00 05 6a 00 6d 01", class: wbxml.ErrMalformed, offset: 2},
		{name: "no root", doc: "03 01 6a 00", class: wbxml.ErrTruncated, offset: 4},
		{name: "unclosed root", doc: "03 01 6a 00 6d 45", class: wbxml.ErrTruncated, offset: 6},
		{name: "END at top level", doc: "03 01 6a 00 01", class: wbxml.ErrMalformed, offset: 4},
		{name: "text at top level", doc: "03 01 6a 00 03 6100", class: wbxml.ErrMalformed, offset: 4},
		{name: "two roots", doc: "03 01 6a 00 12 12", class: wbxml.ErrMalformed, offset: 5},
		{name: "unterminated STR_I", doc: "03 01 6a 00 6d 03 6161", class: wbxml.ErrTruncated, offset: 5},
		{name: "STR_T outside table", doc: "03 01 6a 02 6100 6d 83 05 01", class: wbxml.ErrMalformed, offset: 7},
		{name: "STR_T not terminated", doc: "03 01 6a 02 6162 6d 83 00 01", class: wbxml.ErrMalformed, offset: 7},
		{name: "opaque past end", doc: "03 01 6a 00 6d c3 05 00 01", class: wbxml.ErrTruncated, offset: 5},
		{name: "entity not a character", doc: "03 01 6a 00 6d 02 83 b0 00 01", class: wbxml.ErrMalformed, offset: 5},
		{name: "mb_u_int32 overflow", doc: "03 01 6a 00 6d c3 90 80 80 80 00", class: wbxml.ErrMalformed, offset: 6},
		{name: "literal with empty name", doc: "03 01 6a 01 00 44 00 01", class: wbxml.ErrMalformed, offset: 5},
		{name: "attribute list past end", doc: "03 01 6a 00 ad 05 06", class: wbxml.ErrTruncated, offset: 4},
		{name: "PI token in attributes", doc: "03 01 6a 00 ad 43 01 01", class: wbxml.ErrMalformed, offset: 5},
		{name: "input limit", doc: "03 01 6a 00 6d 01", lim: &wbxml.Limits{MaxInputSize: 5}, class: wbxml.ErrLimit, offset: 0},
		{name: "depth limit", doc: "03 01 6a 00 6d 6d 6d 01 01 01", lim: &wbxml.Limits{MaxDepth: 2}, class: wbxml.ErrLimit, offset: 6},
		{name: "element limit", doc: "03 01 6a 00 6d 12 12 01", lim: &wbxml.Limits{MaxElements: 2}, class: wbxml.ErrLimit, offset: 6},
		{name: "string limit", doc: "03 01 6a 00 6d 03 616263 00 01", lim: &wbxml.Limits{MaxStringLen: 2}, class: wbxml.ErrLimit, offset: 5},
		{name: "opaque limit", doc: "03 01 6a 00 6d c3 03 616263 01", lim: &wbxml.Limits{MaxStringLen: 2}, class: wbxml.ErrLimit, offset: 5},
		{name: "string table limit", doc: "03 01 6a 04 61626300 6d 01", lim: &wbxml.Limits{MaxStringTable: 3}, class: wbxml.ErrLimit, offset: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dump(t, unhex(t, tt.doc), tt.lim)
			if !errors.Is(err, tt.class) {
				t.Fatalf("err = %v, want class %v", err, tt.class)
			}
			var se *wbxml.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *SyntaxError", err)
			}
			if se.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", se.Offset, tt.offset, err)
			}
		})
	}
}

// seedDocs returns every WBXML fixture this package and syncml keep.
func seedDocs(t testing.TB) [][]byte {
	t.Helper()
	var docs [][]byte
	for _, pat := range []string{"testdata/*.wbxml", "../syncml/testdata/wbxml/*.wbxml"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, b)
		}
	}
	return docs
}

func TestReader_ReadsEveryFixtureToEOF(t *testing.T) {
	docs := seedDocs(t)
	if len(docs) == 0 {
		t.Fatal("no WBXML fixtures found: the seed corpus is missing")
	}
	for i, d := range docs {
		if _, err := dump(t, d, nil); err != nil {
			t.Errorf("fixture %d: %v", i, err)
		}
		r, err := wbxml.NewReader(d, nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			tok, err := r.Next()
			if err != nil || tok.Kind == wbxml.KindEOF {
				break
			}
			if tok.Data != nil && string(d[tok.DataOffset:tok.DataOffset+len(tok.Data)]) != string(tok.Data) {
				t.Fatalf("fixture %d: DataOffset %d does not locate the token data", i, tok.DataOffset)
			}
		}
	}
}

// FuzzWBXMLReader checks that the reader never panics or loops on any input
// and that every accepted document survives ToXML without panicking.
func FuzzWBXMLReader(f *testing.F) {
	for _, d := range seedDocs(f) {
		f.Add(d)
	}
	f.Add([]byte{0x03, 0x01, 0x6a, 0x00, 0x6d, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := &wbxml.Limits{MaxDepth: 16, MaxElements: 2000, MaxStringLen: 1 << 16}
		r, err := wbxml.NewReader(b, lim)
		if err != nil {
			return
		}
		// Each input byte yields at most two tokens (an empty element's
		// Start and its synthetic End).
		for i := 0; i <= 2*len(b)+1; i++ {
			tok, err := r.Next()
			if err == nil && tok.Kind == wbxml.KindStart && len(b)%2 == 0 {
				r.LeafText() // exercise the fast path on half the inputs
			}
			if err != nil || tok.Kind == wbxml.KindEOF {
				_, _ = wbxml.ToXML(nil, b, lim, wbxml.SyncML12)
				return
			}
		}
		t.Fatalf("more than two tokens per input byte")
	})
}

func TestReader_LeafTextTakesOnlySimpleContent(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		ok   bool
		text string
		rest string // dump of the tokens after the fast path (or after the Start when !ok)
	}{
		{name: "one inline string", doc: "03 01 6a 00 6d 45 03 6869 00 01 12 01", ok: true, text: "hi", rest: "<0012/></></>"},
		{name: "content bit but empty", doc: "03 01 6a 00 6d 45 01 01", ok: true, text: "", rest: "</>"},
		{name: "element without content", doc: "03 01 6a 00 6d 05 01", ok: true, text: "", rest: "</>"},
		{name: "two strings", doc: "03 01 6a 00 6d 45 03 6100 03 6200 01 01", ok: false, rest: "'a''b'</></>"},
		{name: "string table reference", doc: "03 01 6a 02 6100 6d 45 83 00 01 01", ok: false, rest: "'a'</></>"},
		{name: "child element", doc: "03 01 6a 00 6d 45 12 01 01", ok: false, rest: "<0012/></></></>"},
		{name: "unterminated string", doc: "03 01 6a 00 6d 45 03 61", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := wbxml.NewReader(unhex(t, tt.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ { // the root, then the leaf
				if tok, err := r.Next(); err != nil || tok.Kind != wbxml.KindStart {
					t.Fatalf("token %d: %+v %v", i, tok, err)
				}
			}
			text, _, ok := r.LeafText()
			if ok != tt.ok || string(text) != tt.text {
				t.Fatalf("LeafText = %q, %v; want %q, %v", text, ok, tt.text, tt.ok)
			}
			var rest strings.Builder
			for i := 0; i < 20; i++ {
				tok, err := r.Next()
				if err != nil || tok.Kind == wbxml.KindEOF {
					break
				}
				switch tok.Kind {
				case wbxml.KindStart:
					rest.WriteString("<" + hex.EncodeToString([]byte{tok.Page, tok.Tag}))
					if !tok.Content {
						rest.WriteString("/")
					}
					rest.WriteString(">")
				case wbxml.KindEnd:
					rest.WriteString("</>")
				case wbxml.KindText:
					rest.WriteString("'" + string(tok.Data) + "'")
				}
			}
			if tt.rest != "" && rest.String() != tt.rest {
				t.Errorf("rest = %q, want %q", rest.String(), tt.rest)
			}
		})
	}
}
