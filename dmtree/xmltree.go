package dmtree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Decoder limits shared by the DDF and TNDS parsers.
const (
	MaxDocSize  = 16 << 20 // bytes of one DDF or TNDS document
	maxXMLDepth = 64
	maxElements = 1 << 20
)

// elem is a minimal element tree: enough for DDF and TNDS, with hard limits.
type elem struct {
	name     string
	text     string
	children []*elem
}

func (e *elem) child(name string) *elem {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (e *elem) childText(name string) string {
	if c := e.child(name); c != nil {
		return c.text
	}
	return ""
}

// parseXML reads one document into an element tree. Namespaces are reduced to
// local names (DDF and TNDS use one default namespace). Mixed content keeps only
// the text of leaf elements.
func parseXML(b []byte) (*elem, error) {
	if len(b) > MaxDocSize {
		return nil, fmt.Errorf("document larger than %d bytes", MaxDocSize)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []*elem
	var root *elem
	var text strings.Builder
	count := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxElements {
				return nil, errors.New("too many XML elements")
			}
			if len(stack) >= maxXMLDepth {
				return nil, errors.New("XML nested too deeply")
			}
			e := &elem{name: t.Name.Local}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, e)
			}
			stack = append(stack, e)
			text.Reset()
		case xml.EndElement:
			e := stack[len(stack)-1]
			if len(e.children) == 0 {
				e.text = text.String()
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		case xml.CharData:
			if len(stack) > 0 {
				text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("empty XML document")
	}
	return root, nil
}

// xmlWriter writes indented XML with escaping; it never fails.
type xmlWriter struct {
	b     bytes.Buffer
	depth int
}

func (w *xmlWriter) indent() {
	for i := 0; i < w.depth; i++ {
		w.b.WriteString("  ")
	}
}

func (w *xmlWriter) open(name string) {
	w.indent()
	w.b.WriteString("<" + name + ">\n")
	w.depth++
}

func (w *xmlWriter) openAttr(name, attrs string) {
	w.indent()
	w.b.WriteString("<" + name + " " + attrs + ">\n")
	w.depth++
}

func (w *xmlWriter) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + name + ">\n")
}

func (w *xmlWriter) leaf(name, text string) {
	w.indent()
	w.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&w.b, []byte(text))
	w.b.WriteString("</" + name + ">\n")
}

func (w *xmlWriter) empty(name string) {
	w.indent()
	w.b.WriteString("<" + name + "/>\n")
}

// wrap writes <outer><inner/></outer>, the DDF way of naming an enumerated value.
func (w *xmlWriter) wrap(outer, inner string) {
	w.indent()
	w.b.WriteString("<" + outer + "><" + inner + "/></" + outer + ">\n")
}
