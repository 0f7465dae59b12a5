package server

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// builder turns job specs into SyncML commands with CmdIDs from a message's
// counter, and remembers which CmdIDs belong to which member so that their
// Status can be matched back. It checks no rule of its own: a spec is
// checked with storage.ValidateJobSpec (the API's rules) before it is built.
type builder struct {
	enc    syncml.Encoding
	nextID *int
	// members collects (CmdID, member index+1) for the direct members of a group.
	members []memberRef
}

type memberRef struct {
	cmdID string
	index int
}

func (b *builder) id() string {
	*b.nextID++
	return strconv.Itoa(*b.nextID)
}

// wireData returns how an item value is transmitted in the builder's
// encoding: binary values (Format bin) travel as b64 text in XML and as
// OPAQUE in WBXML (OMA-TS-SyncML_MetaInfo-V1_2, Format); anything else as text.
func wireData(enc syncml.Encoding, it storage.JobItem) (format string, kind syncml.DataKind, data []byte, err error) {
	format = it.Format
	if format == "bin" {
		if enc == syncml.EncodingWBXML {
			raw, err := base64.StdEncoding.DecodeString(it.Data)
			if err != nil {
				return "", 0, nil, fmt.Errorf("item %s: Format bin data is not base64: %w", it.URI, err)
			}
			return "bin", syncml.DataOpaque, raw, nil
		}
		format = "b64"
	}
	return format, syncml.DataText, []byte(it.Data), nil
}

func itemMeta(format, typ string) *syncml.Meta {
	if format == "" && typ == "" {
		return nil
	}
	return &syncml.Meta{Format: format, Type: typ}
}

func (b *builder) item(it storage.JobItem, withData bool) (syncml.Item, error) {
	out := syncml.Item{Target: &syncml.Location{LocURI: it.URI}}
	if it.Source != "" {
		out.Source = &syncml.Location{LocURI: it.Source}
	}
	format, kind, data, err := wireData(b.enc, it)
	if err != nil {
		return out, err
	}
	out.Meta = itemMeta(format, it.Type)
	if withData && (len(data) > 0 || it.HasData) {
		out.Data = &syncml.Data{Kind: kind, Value: data}
	}
	return out, nil
}

func (b *builder) items(spec storage.JobSpec, withData bool) ([]syncml.Item, error) {
	out := make([]syncml.Item, 0, len(spec.Items))
	for _, it := range spec.Items {
		x, err := b.item(it, withData)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// command builds the command for spec. cmdName overrides spec.Command (set
// fallbacks). depth is the group nesting level (0 = top level).
func (b *builder) command(spec storage.JobSpec, cmdName string, depth int) (syncml.Command, error) {
	if cmdName == "" {
		cmdName = spec.Command
	}
	id := b.id()
	var err error
	switch cmdName {
	case "Get":
		c := &syncml.Get{CmdID: id}
		c.Items, err = b.items(spec, false)
		return c, err
	case "Add":
		c := &syncml.Add{CmdID: id}
		c.Items, err = b.items(spec, true)
		return c, err
	case "Replace":
		c := &syncml.Replace{CmdID: id}
		c.Items, err = b.items(spec, true)
		return c, err
	case "Delete":
		c := &syncml.Delete{CmdID: id}
		c.Items, err = b.items(spec, false)
		return c, err
	case "Copy":
		c := &syncml.Copy{CmdID: id}
		c.Items, err = b.items(spec, false)
		return c, err
	case "Exec":
		c := &syncml.Exec{CmdID: id, Correlator: spec.Correlator}
		c.Items, err = b.items(spec, true)
		return c, err
	case "Alert":
		return b.uiAlert(id, spec)
	case "Atomic", "Sequence":
		cmds := make([]syncml.Command, 0, len(spec.Children))
		for i, ch := range spec.Children {
			c, err := b.command(ch, "", depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s member %d: %w", cmdName, i+1, err)
			}
			if depth == 0 {
				b.members = append(b.members, memberRef{cmdID: c.ID(), index: i + 1})
			}
			cmds = append(cmds, c)
		}
		if cmdName == "Atomic" {
			return &syncml.Atomic{CmdID: id, Commands: cmds}, nil
		}
		return &syncml.Sequence{CmdID: id, Commands: cmds}, nil
	}
	return nil, fmt.Errorf("unknown command %q", cmdName)
}

// uiAlert builds a 1100–1104 alert: first Item the URL-encoded options, second
// the text, then one Item per choice (OMA-TS-DM_Protocol-V1_2 §10).
func (b *builder) uiAlert(id string, spec storage.JobSpec) (syncml.Command, error) {
	a := spec.Alert
	if a == nil {
		return nil, fmt.Errorf("alert job without alert")
	}
	code := syncml.AlertCode(a.Code)
	var opts []string
	add := func(name, v string) {
		if v != "" {
			opts = append(opts, name+"="+syncml.EscapeUIOption(v))
		}
	}
	num := func(n int) string {
		if n <= 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	add("MINDT", num(a.MinDT))
	add("MAXDT", num(a.MaxDT))
	add("DR", a.Default)
	add("MAXLEN", num(a.MaxLen))
	add("IT", a.InputType)
	add("ET", a.EchoType)
	items := []syncml.Item{
		{Data: syncml.TextData(strings.Join(opts, "&"))},
		{Data: syncml.TextData(a.Text)},
	}
	for _, c := range a.Choices {
		items = append(items, syncml.Item{Data: syncml.TextData(c)})
	}
	return &syncml.Alert{CmdID: id, Data: code, Correlator: spec.Correlator, Items: items}, nil
}
