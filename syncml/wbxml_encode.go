package syncml

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"github.com/omadm/omadm/wbxml"
)

var wbxEncPool = sync.Pool{New: func() any { return &wbxEncoder{buf: make([]byte, 0, 4096)} }}

type wbxEncoder struct {
	w   wbxml.Writer
	buf []byte
	emb []byte // scratch for embedded documents
}

// EncodeWBXML encodes m as a WBXML 1.3 document: public id 0x1201 (0x0FD3 when
// VerDTD is 1.1), UTF-8, empty string table. The result is a fresh slice owned
// by the caller.
func EncodeWBXML(m *Message) ([]byte, error) {
	if m == nil {
		return nil, wbxErrNilMessage
	}
	e := wbxEncPool.Get().(*wbxEncoder)
	e.w.Reset(e.buf)
	id := uint32(wbxPublicIDSyncML12)
	if m.Header.VerDTD == VerDTD11 {
		id = wbxPublicIDSyncML11
	}
	e.w.WriteHeader(&wbxml.Header{Version: wbxml.Version13, PublicID: id, Charset: wbxml.CharsetUTF8})
	e.start(wbxml.SyncMLSyncML)
	e.header(&m.Header)
	e.start(wbxml.SyncMLSyncBody)
	for _, c := range m.Body {
		e.command(c)
	}
	if m.Final {
		e.empty(wbxPageSyncML, wbxml.SyncMLFinal)
	}
	e.end()
	e.end()
	out := bytes.Clone(e.w.Bytes())
	if cap(e.w.Bytes()) <= 1<<20 { // do not pin huge buffers in the pool
		e.buf = e.w.Bytes()[:0]
		wbxEncPool.Put(e)
	}
	return out, nil
}

var wbxErrNilMessage = &DecodeError{Msg: "nil message"}

func (e *wbxEncoder) start(tag byte) { e.w.StartElement(wbxPageSyncML, tag, true) }
func (e *wbxEncoder) end()           { e.w.EndElement() }
func (e *wbxEncoder) empty(page, tag byte) {
	e.w.StartElement(page, tag, false)
}

// text writes <tag>s</tag> on page, or nothing when s is empty.
func (e *wbxEncoder) text(page, tag byte, s string) {
	if s == "" {
		return
	}
	e.w.StartElement(page, tag, true)
	e.w.String(s)
	e.w.EndElement()
}

// textAlways writes <tag>s</tag>, as an empty element when s is empty.
func (e *wbxEncoder) textAlways(page, tag byte, s string) {
	if s == "" {
		e.w.StartElement(page, tag, false)
		return
	}
	e.text(page, tag, s)
}

func (e *wbxEncoder) integer(page, tag byte, v int64) {
	var tmp [20]byte
	b := wbxAppendInt(tmp[:0], v)
	e.w.StartElement(page, tag, true)
	e.w.StringBytes(b)
	e.w.EndElement()
}

func wbxAppendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
}

func (e *wbxEncoder) header(h *Header) {
	e.start(wbxml.SyncMLSyncHdr)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLVerDTD, h.VerDTD)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLVerProto, h.VerProto)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLSessionID, h.SessionID)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLMsgID, h.MsgID)
	e.location(wbxml.SyncMLTarget, &h.Target)
	e.location(wbxml.SyncMLSource, &h.Source)
	e.text(wbxPageSyncML, wbxml.SyncMLRespURI, h.RespURI)
	if h.NoResp {
		e.empty(wbxPageSyncML, wbxml.SyncMLNoResp)
	}
	e.cred(h.Cred)
	e.meta(h.Meta, false)
	e.end()
}

func (e *wbxEncoder) location(tag byte, l *Location) {
	e.start(tag)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLLocURI, l.LocURI)
	e.text(wbxPageSyncML, wbxml.SyncMLLocName, l.LocName)
	e.end()
}

func (e *wbxEncoder) optLocation(tag byte, l *Location) {
	if l != nil {
		e.location(tag, l)
	}
}

func (e *wbxEncoder) cred(c *Cred) {
	if c == nil {
		return
	}
	e.start(wbxml.SyncMLCred)
	e.meta(c.Meta, false)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLData, c.Data)
	e.end()
}

// meta writes a Meta element with its MetInf children on page 1, in MetInf DTD
// order. embedded says the Data it describes is written as an embedded WBXML
// document, so an XML document Type is written in its "+wbxml" form.
func (e *wbxEncoder) meta(m *Meta, embedded bool) {
	if m == nil {
		return
	}
	e.w.StartElement(wbxPageSyncML, wbxml.SyncMLMeta, true)
	e.text(wbxPageMetInf, wbxml.MetInfFormat, m.Format)
	t := m.Type
	if embedded {
		t = wbxWBXMLDocType(t)
	}
	e.text(wbxPageMetInf, wbxml.MetInfType, t)
	e.text(wbxPageMetInf, wbxml.MetInfMark, m.Mark)
	if m.Size != 0 {
		e.integer(wbxPageMetInf, wbxml.MetInfSize, m.Size)
	}
	if a := m.Anchor; a != nil {
		e.w.StartElement(wbxPageMetInf, wbxml.MetInfAnchor, true)
		e.text(wbxPageMetInf, wbxml.MetInfLast, a.Last)
		e.textAlways(wbxPageMetInf, wbxml.MetInfNext, a.Next)
		e.w.EndElement()
	}
	e.text(wbxPageMetInf, wbxml.MetInfVersion, m.Version)
	if m.NextNonce != "" {
		e.w.StartElement(wbxPageMetInf, wbxml.MetInfNextNonce, true)
		if utf8.ValidString(m.NextNonce) {
			e.w.String(m.NextNonce)
		} else {
			// Raw nonce bytes (as received in OPAQUE) go back as OPAQUE.
			e.w.Opaque([]byte(m.NextNonce))
		}
		e.w.EndElement()
	}
	if m.MaxMsgSize != 0 {
		e.integer(wbxPageMetInf, wbxml.MetInfMaxMsgSize, m.MaxMsgSize)
	}
	if m.MaxObjSize != 0 {
		e.integer(wbxPageMetInf, wbxml.MetInfMaxObjSize, m.MaxObjSize)
	}
	for _, s := range m.EMI {
		e.textAlways(wbxPageMetInf, wbxml.MetInfEMI, s)
	}
	if mem := m.Mem; mem != nil {
		e.w.StartElement(wbxPageMetInf, wbxml.MetInfMem, true)
		if mem.SharedMem {
			e.empty(wbxPageMetInf, wbxml.MetInfSharedMem)
		}
		e.textAlways(wbxPageMetInf, wbxml.MetInfFreeMem, mem.FreeMem)
		e.textAlways(wbxPageMetInf, wbxml.MetInfFreeID, mem.FreeID)
		e.w.EndElement()
	}
	if m.FieldLevel {
		e.empty(wbxPageMetInf, wbxml.MetInfFieldLevel)
	}
	e.w.EndElement()
}

func (e *wbxEncoder) command(c Command) {
	switch c := c.(type) {
	case *Add:
		e.itemCmd(wbxml.SyncMLAdd, c.CmdID, c.NoResp, c.Cred, c.Meta, c.Items, nil)
	case *Replace:
		e.itemCmd(wbxml.SyncMLReplace, c.CmdID, c.NoResp, c.Cred, c.Meta, c.Items, nil)
	case *Copy:
		e.itemCmd(wbxml.SyncMLCopy, c.CmdID, c.NoResp, c.Cred, c.Meta, c.Items, nil)
	case *Delete:
		e.itemCmd(wbxml.SyncMLDelete, c.CmdID, c.NoResp, c.Cred, c.Meta, c.Items, func() {
			if c.Archive {
				e.empty(wbxPageSyncML, wbxml.SyncMLArchive)
			}
			if c.SftDel {
				e.empty(wbxPageSyncML, wbxml.SyncMLSftDel)
			}
		})
	case *Get:
		e.itemCmd(wbxml.SyncMLGet, c.CmdID, c.NoResp, c.Cred, c.Meta, c.Items, func() {
			e.text(wbxPageSyncML, wbxml.SyncMLLang, c.Lang)
		})
	case *Exec:
		// Exec: CmdID, NoResp?, Cred?, Meta?, Correlator?, Item.
		e.start(wbxml.SyncMLExec)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, c.CmdID)
		if c.NoResp {
			e.empty(wbxPageSyncML, wbxml.SyncMLNoResp)
		}
		e.cred(c.Cred)
		e.meta(c.Meta, wbxAnyEmbedded(c.Items))
		e.text(wbxPageSyncML, wbxml.SyncMLCorrelator, c.Correlator)
		e.items(c.Items)
		e.end()
	case *Alert:
		e.start(wbxml.SyncMLAlert)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, c.CmdID)
		if c.NoResp {
			e.empty(wbxPageSyncML, wbxml.SyncMLNoResp)
		}
		e.cred(c.Cred)
		e.integer(wbxPageSyncML, wbxml.SyncMLData, int64(c.Data))
		e.text(wbxPageSyncML, wbxml.SyncMLCorrelator, c.Correlator)
		e.items(c.Items)
		e.end()
	case *Atomic:
		e.container(wbxml.SyncMLAtomic, c.CmdID, c.NoResp, c.Meta, c.Commands)
	case *Sequence:
		e.container(wbxml.SyncMLSequence, c.CmdID, c.NoResp, c.Meta, c.Commands)
	case *Results:
		e.start(wbxml.SyncMLResults)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, c.CmdID)
		e.text(wbxPageSyncML, wbxml.SyncMLMsgRef, c.MsgRef)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdRef, c.CmdRef)
		e.meta(c.Meta, wbxAnyEmbedded(c.Items))
		e.text(wbxPageSyncML, wbxml.SyncMLTargetRef, c.TargetRef)
		e.text(wbxPageSyncML, wbxml.SyncMLSourceRef, c.SourceRef)
		e.items(c.Items)
		e.end()
	case *Status:
		e.start(wbxml.SyncMLStatus)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, c.CmdID)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLMsgRef, c.MsgRef)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdRef, c.CmdRef)
		e.textAlways(wbxPageSyncML, wbxml.SyncMLCmd, c.Cmd)
		for _, s := range c.TargetRefs {
			e.textAlways(wbxPageSyncML, wbxml.SyncMLTargetRef, s)
		}
		for _, s := range c.SourceRefs {
			e.textAlways(wbxPageSyncML, wbxml.SyncMLSourceRef, s)
		}
		e.cred(c.Cred)
		if c.Chal != nil {
			e.start(wbxml.SyncMLChal)
			e.meta(c.Chal.Meta, false)
			e.end()
		}
		e.integer(wbxPageSyncML, wbxml.SyncMLData, int64(c.Data))
		e.items(c.Items)
		e.end()
	case *Unknown:
		// A DS command is written with its token and CmdID, so it decodes to
		// the same *Unknown; other unknown elements have no token, and a DM
		// command that failed to decode kept no content: both are left out.
		if tag, ok := wbxDSCommandTag(c.Name); ok && c.Reason == "" {
			if c.CmdID == "" {
				e.empty(wbxPageSyncML, tag)
				return
			}
			e.start(tag)
			e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, c.CmdID)
			e.end()
		}
	}
}

func wbxDSCommandTag(name string) (byte, bool) {
	switch name {
	case "Sync":
		return wbxml.SyncMLSync, true
	case "Map":
		return wbxml.SyncMLMap, true
	case "Put":
		return wbxml.SyncMLPut, true
	case "Search":
		return wbxml.SyncMLSearch, true
	case "Move":
		return wbxml.SyncMLMove, true
	}
	return 0, false
}

func (e *wbxEncoder) itemCmd(tag byte, id string, noResp bool, cred *Cred, meta *Meta, items []Item, extra func()) {
	e.start(tag)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, id)
	if noResp {
		e.empty(wbxPageSyncML, wbxml.SyncMLNoResp)
	}
	if extra != nil {
		extra()
	}
	e.cred(cred)
	e.meta(meta, wbxAnyEmbedded(items))
	e.items(items)
	e.end()
}

func (e *wbxEncoder) container(tag byte, id string, noResp bool, meta *Meta, cmds []Command) {
	e.start(tag)
	e.textAlways(wbxPageSyncML, wbxml.SyncMLCmdID, id)
	if noResp {
		e.empty(wbxPageSyncML, wbxml.SyncMLNoResp)
	}
	e.meta(meta, false)
	for _, c := range cmds {
		e.command(c)
	}
	e.end()
}

// wbxAnyEmbedded reports whether an item without its own Type carries nested
// XML that will be embedded, so the command-level Type takes the +wbxml form.
func wbxAnyEmbedded(items []Item) bool {
	for i := range items {
		it := &items[i]
		if it.Data != nil && it.Data.Kind == DataXML && (it.Meta == nil || it.Meta.Type == "") && wbxEmbeddable(it.Data.Value) != nil {
			return true
		}
	}
	return false
}

// wbxEmbeddable returns the WBXML language a nested XML document is written in,
// or nil when it has none (it is then written as text).
func wbxEmbeddable(x []byte) *wbxml.Language {
	root, ns := wbxRootElement(x)
	switch {
	case root == "MgmtTree" && (ns == "" || ns == NamespaceDMDDF12):
		return wbxml.DMDDF12
	case root == "DevInf" && (ns == "" || ns == "syncml:devinf"):
		return wbxml.DevInf12
	}
	return nil
}

// wbxRootElement returns the name and default namespace of the first element of
// an XML fragment, cheaply (no full parse).
func wbxRootElement(x []byte) (name, ns string) {
	for {
		i := bytes.IndexByte(x, '<')
		if i < 0 || i+1 >= len(x) {
			return "", ""
		}
		x = x[i+1:]
		if x[0] == '?' || x[0] == '!' {
			continue
		}
		end := bytes.IndexByte(x, '>')
		if end < 0 {
			return "", ""
		}
		tag := x[:end]
		n := bytes.IndexAny(tag, " \t\r\n/")
		if n < 0 {
			n = len(tag)
		}
		name = string(tag[:n])
		if j := bytes.Index(tag, []byte(`xmlns="`)); j >= 0 {
			rest := tag[j+7:]
			if k := bytes.IndexByte(rest, '"'); k >= 0 {
				ns = string(rest[:k])
			}
		}
		return name, ns
	}
}

func (e *wbxEncoder) items(items []Item) {
	for i := range items {
		e.item(&items[i])
	}
}

func (e *wbxEncoder) item(it *Item) {
	e.start(wbxml.SyncMLItem)
	e.optLocation(wbxml.SyncMLTarget, it.Target)
	e.optLocation(wbxml.SyncMLSource, it.Source)
	e.optLocation(wbxml.SyncMLSourceParent, it.SourceParent)
	e.optLocation(wbxml.SyncMLTargetParent, it.TargetParent)
	var doc []byte
	if it.Data != nil && it.Data.Kind == DataXML {
		if lang := wbxEmbeddable(it.Data.Value); lang != nil {
			var err error
			doc, err = wbxml.FromXML(e.emb[:0], it.Data.Value, lang)
			if err != nil {
				doc = nil
			} else {
				e.emb = doc[:0]
			}
		}
	}
	e.meta(it.Meta, doc != nil)
	if d := it.Data; d != nil {
		switch {
		case doc != nil:
			e.w.StartElement(wbxPageSyncML, wbxml.SyncMLData, true)
			e.w.Opaque(doc)
			e.w.EndElement()
		case len(d.Value) == 0:
			e.empty(wbxPageSyncML, wbxml.SyncMLData)
		case d.Kind == DataOpaque:
			e.w.StartElement(wbxPageSyncML, wbxml.SyncMLData, true)
			e.w.Opaque(d.Value)
			e.w.EndElement()
		default:
			e.w.StartElement(wbxPageSyncML, wbxml.SyncMLData, true)
			e.w.StringBytes(d.Value)
			e.w.EndElement()
		}
	}
	if it.MoreData {
		e.empty(wbxPageSyncML, wbxml.SyncMLMoreData)
	}
	e.end()
}
