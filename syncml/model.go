// Package syncml owns the OMA DM 1.2 (SyncML) message model, its XML codec and
// its WBXML binding, with hard decoding limits.
//
// A Message keeps its commands in document order: wire order is meaning, and the
// encoders write back exactly what was decoded.
//
// # The element table
//
// One table, schema.txt, says everything the codecs know about elements: each
// element's name, code page (its WBXML page and its XML namespace: SyncML or
// MetInf), WBXML token (the wbxml package's constant, from
// wbxml/codepages.txt) and class (DM, or a SyncML DS element DM does not use);
// and for each structure of the model (Header, Location, Cred, Chal, Meta,
// Anchor, Mem, Item and every command) its children in DTD order, the field
// each fills, its kind and how XML and WBXML each write it (when set, always,
// or only read). `go generate ./syncml` (internal/genschema) turns it into
// zschema.go: the element ids and lookups and, per structure, a decoder and an
// encoder for each encoding, as switch code with no maps or reflection on the
// hot path. The hand-written files keep what is particular to an encoding:
// the XML scanner and escaping, the WBXML token reader, Data and its embedded
// documents, and one primitive per kind of child (decText, encNonce…).
//
// To add an element: add an elem line to schema.txt (and the token to
// wbxml/codepages.txt, then `go generate ./wbxml`, if the page lacks it), list
// it as a child of the structures that hold it with its field (adding the
// field to the model), and run `go generate ./syncml`. A child of a new kind
// also needs its decode and encode primitives in xml.go, xml_encode.go,
// wbxml.go and wbxml_encode.go; a new command also needs its struct here and
// a "struct … command" block.
package syncml

// Namespaces and version strings.
const (
	NamespaceSyncML12 = "SYNCML:SYNCML1.2"
	NamespaceSyncML11 = "SYNCML:SYNCML1.1"
	NamespaceMetInf   = "syncml:metinf"
	NamespaceDMDDF12  = "syncml:dmddf1.2"

	VerDTD12   = "1.2"
	VerDTD11   = "1.1"
	VerProto12 = "DM/1.2"
	VerProto11 = "DM/1.1"
)

// MIME types of DM messages and payloads.
const (
	ContentTypeXML   = "application/vnd.syncml.dm+xml"
	ContentTypeWBXML = "application/vnd.syncml.dm+wbxml"
	TypeTNDSXML      = "application/vnd.syncml.dmtnds+xml"
	TypeTNDSWBXML    = "application/vnd.syncml.dmtnds+wbxml"
	TypeDDFXML       = "application/vnd.syncml.dmddf+xml"
	TypeNotification = "application/vnd.syncml.notification"

	AuthBasic = "syncml:auth-basic"
	AuthMD5   = "syncml:auth-md5"
	AuthMAC   = "syncml:auth-MAC"
)

// Message is one SyncML message: a header and an ordered body.
type Message struct {
	Header Header
	// Body holds the SyncBody commands in document order.
	Body []Command
	// Final is true when the SyncBody ends with <Final/> (last message of a package).
	Final bool
}

// Header is the SyncHdr.
type Header struct {
	VerDTD    string // "1.2" (or "1.1")
	VerProto  string // "DM/1.2"
	SessionID string
	MsgID     string
	Target    Location
	Source    Location
	RespURI   string
	NoResp    bool
	Cred      *Cred
	Meta      *Meta // MaxMsgSize / MaxObjSize of the sender
}

// Location is a Target or Source: LocURI plus optional LocName.
type Location struct {
	LocURI  string
	LocName string
}

// Cred carries authentication credentials (SyncHdr only in DM).
type Cred struct {
	Meta *Meta // Type (auth scheme) and Format (b64)
	Data string
}

// Chal is a challenge inside a Status.
type Chal struct {
	Meta *Meta // Type, Format, NextNonce
}

// Meta holds MetInf elements. Numeric fields are 0 when absent.
type Meta struct {
	Format     string
	Type       string
	Mark       string
	Size       int64
	NextNonce  string // as transmitted (base64 text when Format is b64); may hold raw bytes from WBXML OPAQUE
	Version    string
	MaxMsgSize int64
	MaxObjSize int64
	EMI        []string
	Anchor     *Anchor // DS only; kept for fidelity
	Mem        *Mem    // DS only; kept for fidelity
	FieldLevel bool    // DS only
}

// Anchor is the DS sync anchor (kept so round trips are exact).
type Anchor struct{ Last, Next string }

// Mem is the DS memory description (kept so round trips are exact).
type Mem struct {
	SharedMem bool
	FreeMem   string
	FreeID    string
}

// DataKind says how Data content was (or should be) represented on the wire.
type DataKind uint8

const (
	// DataText is character data (escaped PCDATA in XML, STR_I/STR_T in WBXML).
	DataText DataKind = iota
	// DataCDATA is character data that arrived in (or should be written as) a CDATA section.
	DataCDATA
	// DataOpaque is binary content (WBXML OPAQUE; base64 text is the caller's concern in XML).
	DataOpaque
	// DataXML is a nested XML document/element (for example a TNDS MgmtTree); Value
	// holds its serialized XML.
	DataXML
)

// Data is the content of a Data element.
type Data struct {
	Kind  DataKind
	Value []byte
}

// String returns the data content as text.
func (d *Data) String() string {
	if d == nil {
		return ""
	}
	return string(d.Value)
}

// TextData builds a text Data.
func TextData(s string) *Data { return &Data{Kind: DataText, Value: []byte(s)} }

// Item is one Item of a command.
type Item struct {
	Target       *Location
	Source       *Location
	SourceParent *Location // DS only
	TargetParent *Location // DS only
	Meta         *Meta
	Data         *Data // nil: no Data element; non-nil with empty Value: <Data/>
	MoreData     bool
}

// Command is one element of SyncBody (or of an Atomic/Sequence).
// The concrete types are *Add, *Alert, *Atomic, *Copy, *Delete, *Exec, *Get,
// *Replace, *Results, *Sequence and *Status, and *Unknown for an element
// OMA DM does not define.
type Command interface {
	// CommandName is the element name ("Add", "Status", …).
	CommandName() string
	// ID returns the CmdID.
	ID() string
}

// Add creates nodes.
type Add struct {
	CmdID  string
	NoResp bool
	Cred   *Cred
	Meta   *Meta
	Items  []Item
}

// Replace overwrites node values or properties.
type Replace struct {
	CmdID  string
	NoResp bool
	Cred   *Cred
	Meta   *Meta
	Items  []Item
}

// Delete removes nodes.
type Delete struct {
	CmdID   string
	NoResp  bool
	Archive bool // DS only
	SftDel  bool // DS only
	Cred    *Cred
	Meta    *Meta
	Items   []Item
}

// Get reads node values, child lists or properties.
type Get struct {
	CmdID  string
	NoResp bool
	Lang   string // DS only
	Cred   *Cred
	Meta   *Meta
	Items  []Item
}

// Copy copies leaf values (Item Target = destination, Source = origin).
type Copy struct {
	CmdID  string
	NoResp bool
	Cred   *Cred
	Meta   *Meta
	Items  []Item
}

// Exec executes a node.
type Exec struct {
	CmdID      string
	NoResp     bool
	Cred       *Cred
	Meta       *Meta
	Correlator string
	Items      []Item // DM: exactly one
}

// Alert carries an alert code and optional items.
type Alert struct {
	CmdID      string
	NoResp     bool
	Cred       *Cred
	Data       AlertCode
	Correlator string
	Items      []Item
}

// Atomic groups commands applied all-or-nothing.
type Atomic struct {
	CmdID    string
	NoResp   bool
	Meta     *Meta
	Commands []Command
}

// Sequence groups commands executed in order.
type Sequence struct {
	CmdID    string
	NoResp   bool
	Meta     *Meta
	Commands []Command
}

// Results answers a Get.
type Results struct {
	CmdID     string
	MsgRef    string
	CmdRef    string
	Meta      *Meta
	TargetRef string
	SourceRef string
	Items     []Item
}

// Status answers a command (or the SyncHdr, with CmdRef "0").
type Status struct {
	CmdID      string
	MsgRef     string
	CmdRef     string
	Cmd        string
	TargetRefs []string
	SourceRefs []string
	Cred       *Cred
	Chal       *Chal
	Data       StatusCode
	Items      []Item
}

// Unknown stands for a command the decoders could not take into the model:
// an element of SyncBody (or of an Atomic or Sequence) that OMA DM does not
// define (a SyncML DS command such as Sync, Map or Put, or an element no
// SyncML DTD has), or a DM command holding such an element somewhere inside
// it. The decoders keep it in its place, with its content skipped, so the
// rest of the message is still processed and this command alone is
// answered, with a Status of its own (OMA-TS-SyncML_RepPro-V1_2, Status:
// every command is answered). The encoders write only the name and CmdID of
// an unknown element (WBXML only for the DS commands, which have tokens) and
// nothing for a DM command that failed to decode (Reason set).
type Unknown struct {
	// Name is the element name as written, without a namespace prefix
	// ("Sync", or "Get" for a Get holding a DS-only element).
	Name string
	// CmdID is the element's CmdID child when it has one ("" otherwise).
	CmdID string
	// DS is true for the SyncML DS commands (Sync, Map, Put, Search, Move).
	DS bool
	// Code is the status an engine answers it with: 406 Optional feature
	// not supported for a DS command or DS-only element, 400 Bad request for
	// a DM command holding an element no DTD defines.
	Code StatusCode
	// Reason says what was wrong, for logs ("" for a whole unknown element).
	Reason string
}

func (*Add) CommandName() string       { return "Add" }
func (*Replace) CommandName() string   { return "Replace" }
func (*Delete) CommandName() string    { return "Delete" }
func (*Get) CommandName() string       { return "Get" }
func (*Copy) CommandName() string      { return "Copy" }
func (*Exec) CommandName() string      { return "Exec" }
func (*Alert) CommandName() string     { return "Alert" }
func (*Atomic) CommandName() string    { return "Atomic" }
func (*Sequence) CommandName() string  { return "Sequence" }
func (*Results) CommandName() string   { return "Results" }
func (*Status) CommandName() string    { return "Status" }
func (c *Unknown) CommandName() string { return c.Name }

func (c *Add) ID() string      { return c.CmdID }
func (c *Replace) ID() string  { return c.CmdID }
func (c *Delete) ID() string   { return c.CmdID }
func (c *Get) ID() string      { return c.CmdID }
func (c *Copy) ID() string     { return c.CmdID }
func (c *Exec) ID() string     { return c.CmdID }
func (c *Alert) ID() string    { return c.CmdID }
func (c *Atomic) ID() string   { return c.CmdID }
func (c *Sequence) ID() string { return c.CmdID }
func (c *Results) ID() string  { return c.CmdID }
func (c *Status) ID() string   { return c.CmdID }
func (c *Unknown) ID() string  { return c.CmdID }

// ItemsOf returns the items of commands that carry items (nil for Atomic/Sequence).
func ItemsOf(c Command) []Item {
	switch c := c.(type) {
	case *Add:
		return c.Items
	case *Replace:
		return c.Items
	case *Delete:
		return c.Items
	case *Get:
		return c.Items
	case *Copy:
		return c.Items
	case *Exec:
		return c.Items
	case *Alert:
		return c.Items
	case *Results:
		return c.Items
	case *Status:
		return c.Items
	}
	return nil
}

var (
	_ Command = (*Add)(nil)
	_ Command = (*Replace)(nil)
	_ Command = (*Delete)(nil)
	_ Command = (*Get)(nil)
	_ Command = (*Copy)(nil)
	_ Command = (*Exec)(nil)
	_ Command = (*Alert)(nil)
	_ Command = (*Atomic)(nil)
	_ Command = (*Sequence)(nil)
	_ Command = (*Results)(nil)
	_ Command = (*Status)(nil)
	_ Command = (*Unknown)(nil)
)
