package syncml

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// ToJSON renders m as an indented JSON view for people and scripts (the CLI's
// `omadm decode --json`, API traces). The shape is stable:
//
//	{
//	  "header": {"verDTD", "verProto", "sessionID", "msgID", "target", "source",
//	             "respURI", "noResp", "cred", "meta"},
//	  "body":   [ {"cmd": "Alert", "cmdID": "1", "data": 1201, ...}, ... ],
//	  "final":  true
//	}
//
// body is an array in document order; every command object starts with "cmd"
// (the element name) followed by its children in DTD order, named after
// their elements in lowerCamelCase ("cmdRef", "targetRefs" for the repeated
// Status TargetRef; the Status <Cmd> child is "cmdName" since "cmd" names the
// command itself). Atomic and Sequence hold their members in "commands".
// Status and Alert codes are numbers ("data"), with "dataName" giving the
// registered name. Item data is {"kind": "text"|"cdata"|"opaque"|"xml",
// "value": …}; opaque values are base64. Absent or zero fields are omitted.
func ToJSON(m *Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("syncml: ToJSON of a nil message")
	}
	v := jsonMessage{Header: jsonHeader{
		VerDTD: m.Header.VerDTD, VerProto: m.Header.VerProto, SessionID: m.Header.SessionID,
		MsgID: m.Header.MsgID, Target: jsonLocOf(&m.Header.Target), Source: jsonLocOf(&m.Header.Source),
		RespURI: m.Header.RespURI, NoResp: m.Header.NoResp, Cred: jsonCredOf(m.Header.Cred),
		Meta: jsonMetaOf(m.Header.Meta),
	}, Final: m.Final}
	body, err := jsonCommands(m.Body)
	if err != nil {
		return nil, err
	}
	v.Body = body
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type jsonMessage struct {
	Header jsonHeader `json:"header"`
	Body   []any      `json:"body"`
	Final  bool       `json:"final,omitempty"`
}

type jsonHeader struct {
	VerDTD    string    `json:"verDTD,omitempty"`
	VerProto  string    `json:"verProto,omitempty"`
	SessionID string    `json:"sessionID,omitempty"`
	MsgID     string    `json:"msgID,omitempty"`
	Target    *jsonLoc  `json:"target,omitempty"`
	Source    *jsonLoc  `json:"source,omitempty"`
	RespURI   string    `json:"respURI,omitempty"`
	NoResp    bool      `json:"noResp,omitempty"`
	Cred      *jsonCred `json:"cred,omitempty"`
	Meta      *jsonMeta `json:"meta,omitempty"`
}

type jsonLoc struct {
	LocURI  string `json:"locURI,omitempty"`
	LocName string `json:"locName,omitempty"`
}

type jsonCred struct {
	Meta *jsonMeta `json:"meta,omitempty"`
	Data string    `json:"data,omitempty"`
}

type jsonMeta struct {
	FieldLevel bool        `json:"fieldLevel,omitempty"`
	Format     string      `json:"format,omitempty"`
	Type       string      `json:"type,omitempty"`
	Mark       string      `json:"mark,omitempty"`
	Size       int64       `json:"size,omitempty"`
	Anchor     *jsonAnchor `json:"anchor,omitempty"`
	Version    string      `json:"version,omitempty"`
	NextNonce  string      `json:"nextNonce,omitempty"`
	MaxMsgSize int64       `json:"maxMsgSize,omitempty"`
	MaxObjSize int64       `json:"maxObjSize,omitempty"`
	EMI        []string    `json:"emi,omitempty"`
	Mem        *jsonMemory `json:"mem,omitempty"`
}

type jsonAnchor struct {
	Last string `json:"last,omitempty"`
	Next string `json:"next,omitempty"`
}

type jsonMemory struct {
	SharedMem bool   `json:"sharedMem,omitempty"`
	FreeMem   string `json:"freeMem,omitempty"`
	FreeID    string `json:"freeID,omitempty"`
}

type jsonData struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type jsonItem struct {
	Target       *jsonLoc  `json:"target,omitempty"`
	Source       *jsonLoc  `json:"source,omitempty"`
	SourceParent *jsonLoc  `json:"sourceParent,omitempty"`
	TargetParent *jsonLoc  `json:"targetParent,omitempty"`
	Meta         *jsonMeta `json:"meta,omitempty"`
	Data         *jsonData `json:"data,omitempty"`
	MoreData     bool      `json:"moreData,omitempty"`
}

// jsonCmd covers every command; unused fields are omitted.
type jsonCmd struct {
	Cmd        string     `json:"cmd"`
	CmdID      string     `json:"cmdID,omitempty"`
	NoResp     bool       `json:"noResp,omitempty"`
	Archive    bool       `json:"archive,omitempty"`
	SftDel     bool       `json:"sftDel,omitempty"`
	Lang       string     `json:"lang,omitempty"`
	MsgRef     string     `json:"msgRef,omitempty"`
	CmdRef     string     `json:"cmdRef,omitempty"`
	CmdName    string     `json:"cmdName,omitempty"` // Status/Cmd
	TargetRef  string     `json:"targetRef,omitempty"`
	SourceRef  string     `json:"sourceRef,omitempty"`
	TargetRefs []string   `json:"targetRefs,omitempty"`
	SourceRefs []string   `json:"sourceRefs,omitempty"`
	Cred       *jsonCred  `json:"cred,omitempty"`
	Chal       *jsonChal  `json:"chal,omitempty"`
	Meta       *jsonMeta  `json:"meta,omitempty"`
	Data       *int       `json:"data,omitempty"`
	DataName   string     `json:"dataName,omitempty"`
	Correlator string     `json:"correlator,omitempty"`
	Items      []jsonItem `json:"items,omitempty"`
	Commands   []any      `json:"commands,omitempty"`
	// NotDM says why a command is an *Unknown: "SyncML DS command",
	// "unknown element", or what made a DM command fail to decode.
	NotDM string `json:"notDM,omitempty"`
}

type jsonChal struct {
	Meta *jsonMeta `json:"meta,omitempty"`
}

func jsonLocOf(l *Location) *jsonLoc {
	if l == nil || (l.LocURI == "" && l.LocName == "") {
		return nil
	}
	return &jsonLoc{LocURI: l.LocURI, LocName: l.LocName}
}

func jsonCredOf(c *Cred) *jsonCred {
	if c == nil {
		return nil
	}
	return &jsonCred{Meta: jsonMetaOf(c.Meta), Data: c.Data}
}

func jsonMetaOf(m *Meta) *jsonMeta {
	if m == nil {
		return nil
	}
	j := &jsonMeta{FieldLevel: m.FieldLevel, Format: m.Format, Type: m.Type, Mark: m.Mark, Size: m.Size,
		Version: m.Version, NextNonce: m.NextNonce, MaxMsgSize: m.MaxMsgSize,
		MaxObjSize: m.MaxObjSize, EMI: m.EMI}
	if m.Anchor != nil {
		j.Anchor = &jsonAnchor{Last: m.Anchor.Last, Next: m.Anchor.Next}
	}
	if m.Mem != nil {
		j.Mem = &jsonMemory{SharedMem: m.Mem.SharedMem, FreeMem: m.Mem.FreeMem, FreeID: m.Mem.FreeID}
	}
	return j
}

func jsonItemsOf(items []Item) []jsonItem {
	if len(items) == 0 {
		return nil
	}
	out := make([]jsonItem, len(items))
	for i := range items {
		it := &items[i]
		out[i] = jsonItem{Target: jsonLocOf(it.Target), Source: jsonLocOf(it.Source),
			SourceParent: jsonLocOf(it.SourceParent), TargetParent: jsonLocOf(it.TargetParent),
			Meta: jsonMetaOf(it.Meta), MoreData: it.MoreData}
		if d := it.Data; d != nil {
			jd := &jsonData{Value: string(d.Value)}
			switch d.Kind {
			case DataText:
				jd.Kind = "text"
			case DataCDATA:
				jd.Kind = "cdata"
			case DataOpaque:
				jd.Kind, jd.Value = "opaque", base64.StdEncoding.EncodeToString(d.Value)
			case DataXML:
				jd.Kind = "xml"
			default:
				jd.Kind = "unknown"
			}
			out[i].Data = jd
		}
	}
	return out
}

func jsonCommands(cmds []Command) ([]any, error) {
	out := make([]any, 0, len(cmds))
	for _, c := range cmds {
		j, err := jsonCommand(c)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func jsonCommand(c Command) (*jsonCmd, error) {
	if c == nil {
		return nil, errors.New("syncml: ToJSON: nil command")
	}
	j := &jsonCmd{Cmd: c.CommandName(), CmdID: c.ID(), Items: jsonItemsOf(ItemsOf(c))}
	switch c := c.(type) {
	case *Add:
		j.NoResp, j.Cred, j.Meta = c.NoResp, jsonCredOf(c.Cred), jsonMetaOf(c.Meta)
	case *Replace:
		j.NoResp, j.Cred, j.Meta = c.NoResp, jsonCredOf(c.Cred), jsonMetaOf(c.Meta)
	case *Delete:
		j.NoResp, j.Archive, j.SftDel = c.NoResp, c.Archive, c.SftDel
		j.Cred, j.Meta = jsonCredOf(c.Cred), jsonMetaOf(c.Meta)
	case *Get:
		j.NoResp, j.Lang, j.Cred, j.Meta = c.NoResp, c.Lang, jsonCredOf(c.Cred), jsonMetaOf(c.Meta)
	case *Copy:
		j.NoResp, j.Cred, j.Meta = c.NoResp, jsonCredOf(c.Cred), jsonMetaOf(c.Meta)
	case *Exec:
		j.NoResp, j.Cred, j.Meta, j.Correlator = c.NoResp, jsonCredOf(c.Cred), jsonMetaOf(c.Meta), c.Correlator
	case *Alert:
		code := int(c.Data)
		j.NoResp, j.Cred, j.Data, j.DataName, j.Correlator = c.NoResp, jsonCredOf(c.Cred), &code, c.Data.Name(), c.Correlator
	case *Atomic:
		j.NoResp, j.Meta = c.NoResp, jsonMetaOf(c.Meta)
		cmds, err := jsonCommands(c.Commands)
		if err != nil {
			return nil, err
		}
		j.Commands = cmds
	case *Sequence:
		j.NoResp, j.Meta = c.NoResp, jsonMetaOf(c.Meta)
		cmds, err := jsonCommands(c.Commands)
		if err != nil {
			return nil, err
		}
		j.Commands = cmds
	case *Results:
		j.MsgRef, j.CmdRef, j.Meta, j.TargetRef, j.SourceRef = c.MsgRef, c.CmdRef, jsonMetaOf(c.Meta), c.TargetRef, c.SourceRef
	case *Status:
		code := int(c.Data)
		j.MsgRef, j.CmdRef, j.CmdName = c.MsgRef, c.CmdRef, c.Cmd
		j.TargetRefs, j.SourceRefs = c.TargetRefs, c.SourceRefs
		j.Cred, j.Data, j.DataName = jsonCredOf(c.Cred), &code, c.Data.Name()
		if c.Chal != nil {
			j.Chal = &jsonChal{Meta: jsonMetaOf(c.Chal.Meta)}
		}
	case *Unknown:
		switch {
		case c.Reason != "":
			j.NotDM = c.Reason
		case c.DS:
			j.NotDM = "SyncML DS command"
		default:
			j.NotDM = "unknown element"
		}
	}
	return j, nil
}
