package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats of `omadm ctl -o`.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// checkOutput refuses an unknown -o value as a usage error.
func checkOutput(s string) error {
	switch s {
	case "", outputTable, outputJSON, outputYAML:
		return nil
	}
	return usageErrorf("-o %q: want table, json or yaml", s)
}

// ctlPrepareOutput runs before every ctl subcommand: it turns the deprecated
// --json into -o json, checks -o, and for -o yaml wraps the command's output
// so the structured value each command prints (ctlPrintJSON) comes out as
// YAML. Commands keep asking o.format for "json"; yaml is json's tree in
// another syntax.
func (o *ctlOptions) prepareOutput(cmd *cobra.Command) error {
	if o.jsonAlias {
		// Not pflag's MarkDeprecated: cobra prints that notice on stdout,
		// into the JSON.
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: --json is deprecated, use -o json")
		if o.output == "" {
			o.output = outputJSON
		}
	}
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.output == outputYAML {
		if _, ok := cmd.OutOrStdout().(*yamlOut); !ok {
			cmd.SetOut(&yamlOut{w: cmd.OutOrStdout()})
		}
	}
	return nil
}

// print writes v as JSON or YAML when -o asks for it (def when -o was not
// given), else calls table. It is the one call a ctl command needs:
//
//	return o.print(cmd, "table", page, func(w io.Writer) error { return ctlTable(w, hdr, rows) })
func (o *ctlOptions) print(cmd *cobra.Command, def string, v any, table func(io.Writer) error) error {
	w := cmd.OutOrStdout()
	if o.format(def) == outputJSON {
		return ctlPrintJSON(w, v)
	}
	return table(w)
}

// yamlOut is the stdout of a command run with -o yaml: ctlPrintJSON writes
// YAML through it, anything else passes unchanged.
type yamlOut struct{ w io.Writer }

func (y *yamlOut) Write(p []byte) (int, error) { return y.w.Write(p) }

// ctlPrintStructured writes v as indented JSON, or as YAML when w is a
// command's -o yaml output.
func ctlPrintStructured(w io.Writer, v any) error {
	if y, ok := w.(*yamlOut); ok {
		b, err := encodeYAML(v)
		if err != nil {
			return err
		}
		_, err = y.w.Write(b)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// encodeYAML renders v's JSON form as a YAML 1.2 block-style document: the
// same tree, with object keys in JSON order, so keys are the JSON names.
func encodeYAML(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	switch {
	case n.scalar != "":
		b.WriteString(n.scalar + "\n")
	case len(n.keys) == 0 && len(n.items) == 0:
		b.WriteString(n.empty() + "\n")
	default:
		n.write(&b, 0)
	}
	return b.Bytes(), nil
}

// yamlNode is one JSON value: a rendered scalar, an object (keys and items
// side by side) or an array (items).
type yamlNode struct {
	scalar string
	object bool
	keys   []string
	items  []*yamlNode
}

func readNode(dec *json.Decoder) (*yamlNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yamlNode{object: t == '{'}
		for dec.More() {
			if n.object {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, yamlString(k.(string)))
			}
			c, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, c)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yamlNode{scalar: yamlString(t)}, nil
	case json.Number:
		return &yamlNode{scalar: t.String()}, nil
	case bool:
		return &yamlNode{scalar: fmt.Sprint(t)}, nil
	case nil:
		return &yamlNode{scalar: "null"}, nil
	}
	return nil, fmt.Errorf("yaml: unexpected JSON token %v", tok)
}

func (n *yamlNode) empty() string {
	if n.object {
		return "{}"
	}
	return "[]"
}

// inline is n's form after "key: " or "- ", or "" when n takes lines of its own.
func (n *yamlNode) inline() string {
	if n.scalar != "" {
		return n.scalar
	}
	if len(n.items) == 0 {
		return n.empty()
	}
	return ""
}

// write renders a non-empty collection at indent.
func (n *yamlNode) write(b *bytes.Buffer, indent int) {
	pad := strings.Repeat(" ", indent)
	for i, c := range n.items {
		lead := pad + "-"
		if n.object {
			lead = pad + n.keys[i] + ":"
		}
		if s := c.inline(); s != "" {
			b.WriteString(lead + " " + s + "\n")
			continue
		}
		if n.object {
			// A nested mapping is indented; a sequence stays at the key's column.
			b.WriteString(lead + "\n")
			if c.object {
				c.write(b, indent+2)
			} else {
				c.write(b, indent)
			}
			continue
		}
		// A collection inside a sequence starts on the "- " line.
		var sub bytes.Buffer
		c.write(&sub, indent+2)
		b.WriteString(pad + "- ")
		b.Write(sub.Bytes()[indent+2:])
	}
}

// yamlPlain are strings safe unquoted: they cannot be read as another type
// or hold an indicator (": ", " #", a leading "-", "?", "*", "&", …).
var yamlPlain = regexp.MustCompile(`^[A-Za-z_./][A-Za-z0-9_./+@=-]*(?:[ :][A-Za-z0-9_./+@=-]+)*$`)

// yamlSpecial are plain words a YAML 1.1 or 1.2 reader takes as bool, null or a float.
var yamlSpecial = map[string]bool{"true": true, "false": true, "null": true, "yes": true, "no": true,
	"on": true, "off": true, "y": true, "n": true, ".inf": true, ".nan": true}

// yamlString renders s as a plain scalar when that reads back as the same
// string, else double-quoted: JSON's escapes are all YAML escapes, and the
// characters YAML does not allow raw (DEL, C1 controls) are escaped too.
func yamlString(s string) string {
	if yamlPlain.MatchString(s) && !yamlSpecial[strings.ToLower(s)] {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	q := strings.TrimSuffix(b.String(), "\n")
	if strings.ContainsFunc(q, yamlUnprintable) {
		var e strings.Builder
		for _, r := range q {
			if yamlUnprintable(r) {
				fmt.Fprintf(&e, `\u%04x`, r)
			} else {
				e.WriteRune(r)
			}
		}
		q = e.String()
	}
	return q
}

// yamlUnprintable is a character outside YAML 1.2's printable set (c-printable)
// that JSON leaves raw, and NEL, a line break to YAML 1.1 readers.
func yamlUnprintable(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfeff || r == 0xfffe || r == 0xffff
}
