package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

// ScriptedOptions configure a ScriptedDevice.
type ScriptedOptions struct {
	ServerURL string // where package 1 goes; later messages follow RespURI
	DeviceID  string
	Username  string
	Password  string
	// Auth is "md5" (default), "basic" or "hmac".
	Auth string
	// Nonce is the server nonce the device starts with (nil: none yet; the
	// first session then answers the server's challenge once).
	Nonce    []byte
	Encoding syncml.Encoding
	// Transport carries the messages (required).
	Transport client.Transport
	// MaxMsgSize is advertised in every SyncHdr Meta (0: not sent).
	MaxMsgSize int64
	// GetValue is the value every Get is answered with (default "1.0").
	GetValue string
}

// ScriptedDevice is a load driver that speaks just enough OMA DM to run
// management sessions against a server at the cost of replaying bytes: its
// messages are templates encoded once per shape by the syncml encoder, and
// per session only SessionID, MsgID, MsgRef/CmdRef, credentials and Get
// URIs are filled in; replies in XML are read with a byte scanner (WBXML,
// or XML the scanner does not recognise, goes through syncml.Decode). It
// answers every Get with one Results of GetValue and every other command
// with Status 200; it has no tree and runs no client engine.
//
// Benchmarks use it so that the load generator costs about what the bare
// net/http baseline's replay costs, and the measurement shows the server.
// It handles the shapes the benchmarks need (package 1 with DevInfo, an MD5
// challenge, any flat list of Get/Replace/Add/Delete/Exec/Copy/Alert
// commands); an Atomic or Sequence is an error. One ScriptedDevice runs one
// session at a time.
type ScriptedDevice struct {
	o      ScriptedOptions
	scheme string
	nonce  []byte

	mu    sync.Mutex
	tmpls map[string]*template
	buf   []byte
}

// maxScriptedTrips bounds the round trips of one scripted session.
const maxScriptedTrips = 8

// maxScriptedCmds bounds the server commands one scripted message answers.
const maxScriptedCmds = 64

// NewScriptedDevice checks o and returns the device.
func NewScriptedDevice(o ScriptedOptions) (*ScriptedDevice, error) {
	if o.ServerURL == "" || o.DeviceID == "" || o.Transport == nil {
		return nil, errors.New("sim: scripted device needs ServerURL, DeviceID and Transport")
	}
	if o.Auth == "" {
		o.Auth = "md5"
	}
	scheme, err := SchemeOf(o.Auth)
	if err != nil {
		return nil, err
	}
	if o.GetValue == "" {
		o.GetValue = "1.0"
	}
	return &ScriptedDevice{o: o, scheme: scheme, nonce: o.Nonce, tmpls: map[string]*template{}}, nil
}

// ID returns the device id.
func (d *ScriptedDevice) ID() string { return d.o.DeviceID }

// ScriptedResult describes one scripted session.
type ScriptedResult struct {
	RoundTrips int
	Commands   int // server commands answered
}

// Session runs one client-initiated management session (Alert 1201) with
// the given SessionID until the server's package holds no more commands.
func (d *ScriptedDevice) Session(ctx context.Context, sessionID string) (ScriptedResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var res ScriptedResult
	url := d.o.ServerURL
	msgID := 1
	body, err := d.pkg1(sessionID, msgID)
	if err != nil {
		return res, err
	}
	challenges := 0
	for res.RoundTrips < maxScriptedTrips {
		req := &client.Request{URL: url, ContentType: d.o.Encoding.ContentType(), Body: body}
		if d.scheme == syncml.AuthMAC {
			req.HMAC = auth.NewHMACHeader(d.o.Username, d.o.Password, d.nonce, body).String()
		}
		resp, err := d.o.Transport.RoundTrip(ctx, req)
		if err != nil {
			return res, err
		}
		res.RoundTrips++
		r, err := readReply(resp.Body, resp.ContentType)
		if err != nil {
			return res, fmt.Errorf("sim: reading reply %d: %w", res.RoundTrips, err)
		}
		if r.nonce != nil {
			d.nonce = r.nonce
		}
		if r.respURI != "" {
			url = r.respURI
		}
		msgID++
		switch {
		case r.hdrCode == syncml.StatusInvalidCredentials || r.hdrCode == syncml.StatusMissingCredentials:
			challenges++
			if r.nonce == nil || challenges > 1 {
				return res, fmt.Errorf("sim: server rejected the credentials (%d)", r.hdrCode)
			}
			if body, err = d.pkg1(sessionID, msgID); err != nil {
				return res, err
			}
			continue
		case !r.hdrCode.Success():
			return res, fmt.Errorf("sim: server answered the SyncHdr with %d", r.hdrCode)
		}
		if len(r.cmds) == 0 && r.final {
			return res, nil
		}
		res.Commands += len(r.cmds)
		if body, err = d.answer(sessionID, msgID, r); err != nil {
			return res, err
		}
	}
	return res, fmt.Errorf("sim: session did not end within %d round trips", maxScriptedTrips)
}

// ---- templates ----

// Placeholders filled per message; they appear in the templates verbatim.
const (
	phSession = "@@SID@@"
	phMsg     = "@@MID@@"
	phRef     = "@@REF@@"
	phCred    = "@@CRED@@"
)

func phCmd(i int) string { return "@@C" + strconv.Itoa(i) + "@@" }
func phURI(i int) string { return "@@U" + strconv.Itoa(i) + "@@" }

// template is an encoded message cut at its placeholders.
type template struct {
	lits [][]byte // len(lits) == len(holes)+1
	// holes name the placeholder between lits[i] and lits[i+1].
	holes []string
}

func (t *template) fill(dst []byte, vals map[string]string) []byte {
	for i, h := range t.holes {
		dst = append(dst, t.lits[i]...)
		dst = append(dst, vals[h]...)
	}
	return append(dst, t.lits[len(t.lits)-1]...)
}

// cut splits b at every occurrence of the placeholders.
func cut(b []byte, phs []string) *template {
	t := &template{}
	for {
		at, which := -1, ""
		for _, p := range phs {
			if i := bytes.Index(b, []byte(p)); i >= 0 && (at < 0 || i < at) {
				at, which = i, p
			}
		}
		if at < 0 {
			t.lits = append(t.lits, b)
			return t
		}
		t.lits = append(t.lits, b[:at])
		t.holes = append(t.holes, which)
		b = b[at+len(which):]
	}
}

// build encodes m (made with placeholders) and checks, with sample values,
// that the template filled in encodes exactly as the message built with
// those values would: the encoding must carry the placeholders verbatim.
func (d *ScriptedDevice) build(mk func(v func(string) string) *syncml.Message, phs []string) (*template, error) {
	b, err := syncml.Encode(mk(func(p string) string { return p }), d.o.Encoding)
	if err != nil {
		return nil, err
	}
	t := cut(b, phs)
	sample := map[string]string{}
	for i, p := range phs {
		sample[p] = strconv.Itoa(1000 + i)
	}
	sample[phCred] = strings.Repeat("Q", 24)
	want, err := syncml.Encode(mk(func(p string) string { return sample[p] }), d.o.Encoding)
	if err != nil {
		return nil, err
	}
	if got := t.fill(nil, sample); !bytes.Equal(got, want) {
		return nil, fmt.Errorf("sim: %s messages cannot be templated", d.o.Encoding)
	}
	return t, nil
}

func (d *ScriptedDevice) header(v func(string) string, cred bool) syncml.Header {
	h := syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: v(phSession), MsgID: v(phMsg),
		Target: syncml.Location{LocURI: d.o.ServerURL}, Source: syncml.Location{LocURI: d.o.DeviceID, LocName: d.o.Username}}
	if cred && d.scheme != syncml.AuthMAC {
		h.Cred = &syncml.Cred{Meta: &syncml.Meta{Type: d.scheme, Format: auth.FormatB64}, Data: v(phCred)}
	}
	if d.o.MaxMsgSize > 0 {
		h.Meta = &syncml.Meta{MaxMsgSize: d.o.MaxMsgSize}
	}
	return h
}

func (d *ScriptedDevice) pkg1(sessionID string, msgID int) ([]byte, error) {
	t := d.tmpls["pkg1"]
	if t == nil {
		devinfo := func(uri, val string) syncml.Item {
			return syncml.Item{Source: &syncml.Location{LocURI: uri}, Meta: &syncml.Meta{Format: "chr"}, Data: syncml.TextData(val)}
		}
		var err error
		t, err = d.build(func(v func(string) string) *syncml.Message {
			return &syncml.Message{Header: d.header(v, true), Final: true, Body: []syncml.Command{
				&syncml.Alert{CmdID: "1", Data: syncml.AlertClientInitiatedMgmt},
				&syncml.Replace{CmdID: "2", Items: []syncml.Item{
					devinfo("./DevInfo/DevId", d.o.DeviceID), devinfo("./DevInfo/Man", "omadm"),
					devinfo("./DevInfo/Mod", "scripted"), devinfo("./DevInfo/DmV", "1.2"), devinfo("./DevInfo/Lang", "en-US"),
				}},
			}}
		}, []string{phSession, phMsg, phCred})
		if err != nil {
			return nil, err
		}
		d.tmpls["pkg1"] = t
	}
	d.buf = t.fill(d.buf[:0], map[string]string{phSession: sessionID, phMsg: strconv.Itoa(msgID), phCred: d.cred()})
	return d.buf, nil
}

// cred is the Cred Data of the next message, built with the latest nonce.
func (d *ScriptedDevice) cred() string {
	switch d.scheme {
	case syncml.AuthMD5:
		return auth.MD5Credential(d.o.Username, d.o.Password, d.nonce)
	case syncml.AuthBasic:
		return auth.BasicCredential(d.o.Username, d.o.Password)
	}
	return ""
}

// answer builds the message answering the commands of r: a SyncHdr Status,
// a Status per command and, for each Get, a Results.
func (d *ScriptedDevice) answer(sessionID string, msgID int, r *reply) ([]byte, error) {
	if len(r.cmds) > maxScriptedCmds {
		return nil, fmt.Errorf("sim: scripted device answers at most %d commands, got %d", maxScriptedCmds, len(r.cmds))
	}
	var key strings.Builder
	key.WriteString("ans")
	for _, c := range r.cmds {
		key.WriteByte(',')
		key.WriteString(c.name)
	}
	t := d.tmpls[key.String()]
	if t == nil {
		phs := []string{phSession, phMsg, phRef, phCred}
		for i, c := range r.cmds {
			phs = append(phs, phCmd(i))
			if c.name == "Get" {
				phs = append(phs, phURI(i))
			}
		}
		var err error
		t, err = d.build(func(v func(string) string) *syncml.Message {
			// Credentials in every message: over plain HTTP the server
			// authenticates each one (OMA-TS-DM_Security-V1_2 §5.3).
			m := &syncml.Message{Header: d.header(v, true), Final: true}
			n := 0
			id := func() string { n++; return strconv.Itoa(n) }
			m.Body = append(m.Body, &syncml.Status{CmdID: id(), MsgRef: v(phRef), CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK})
			for i, c := range r.cmds {
				m.Body = append(m.Body, &syncml.Status{CmdID: id(), MsgRef: v(phRef), CmdRef: v(phCmd(i)), Cmd: c.name, Data: syncml.StatusOK})
				if c.name == "Get" {
					m.Body = append(m.Body, &syncml.Results{CmdID: id(), MsgRef: v(phRef), CmdRef: v(phCmd(i)),
						Items: []syncml.Item{{Source: &syncml.Location{LocURI: v(phURI(i))}, Meta: &syncml.Meta{Format: "chr"},
							Data: syncml.TextData(d.o.GetValue)}}})
				}
			}
			return m
		}, phs)
		if err != nil {
			return nil, err
		}
		d.tmpls[key.String()] = t
	}
	vals := map[string]string{phSession: sessionID, phMsg: strconv.Itoa(msgID), phRef: r.msgID, phCred: d.cred()}
	for i, c := range r.cmds {
		vals[phCmd(i)] = c.id
		if c.name == "Get" {
			vals[phURI(i)] = c.uri
		}
	}
	d.buf = t.fill(d.buf[:0], vals)
	return d.buf, nil
}

// ---- replies ----

// reply is what the scripted device needs from a server message.
type reply struct {
	msgID   string
	respURI string
	hdrCode syncml.StatusCode
	nonce   []byte
	cmds    []replyCmd
	final   bool
}

type replyCmd struct{ name, id, uri string }

func readReply(b []byte, contentType string) (*reply, error) {
	if !strings.Contains(contentType, "wbxml") {
		if r, ok := scanXML(b); ok {
			return r, nil
		}
	}
	m, _, err := syncml.Decode(b, contentType, nil)
	if err != nil {
		return nil, err
	}
	r := &reply{msgID: m.Header.MsgID, respURI: m.Header.RespURI, final: m.Final}
	for _, c := range m.Body {
		switch c := c.(type) {
		case *syncml.Status:
			if c.CmdRef == "0" {
				r.hdrCode = c.Data
				if c.Chal != nil {
					if n, err := auth.ChalNonce(c.Chal); err == nil && n != nil {
						r.nonce = n
					}
				}
			}
		case *syncml.Results:
		case *syncml.Atomic, *syncml.Sequence:
			return nil, fmt.Errorf("sim: scripted device does not run %s", c.CommandName())
		default:
			rc := replyCmd{name: c.CommandName(), id: c.ID()}
			if g, ok := c.(*syncml.Get); ok && len(g.Items) > 0 && g.Items[0].Target != nil {
				rc.uri = g.Items[0].Target.LocURI
			}
			r.cmds = append(r.cmds, rc)
		}
	}
	return r, nil
}

// scanXML reads the reply fields from XML as the syncml encoder writes it
// (no comments, no CDATA outside Data, commands as direct SyncBody
// children). ok is false for anything else; the caller then decodes fully.
func scanXML(b []byte) (*reply, bool) {
	hdrEnd := bytes.Index(b, []byte("</SyncHdr>"))
	bodyAt := bytes.Index(b, []byte("<SyncBody>"))
	if hdrEnd < 0 || bodyAt < hdrEnd {
		return nil, false
	}
	hdr := b[:hdrEnd]
	r := &reply{}
	id, ok := text(hdr, "MsgID")
	if !ok {
		return nil, false
	}
	r.msgID = id
	r.respURI, _ = text(hdr, "RespURI")
	p := b[bodyAt+len("<SyncBody>"):]
	for n := 0; ; n++ {
		p = bytes.TrimLeft(p, " \t\r\n")
		if n > 4*maxScriptedCmds || len(p) < 2 || p[0] != '<' {
			return nil, false
		}
		if bytes.HasPrefix(p, []byte("</SyncBody>")) {
			return r, true
		}
		end := bytes.IndexAny(p, " />")
		if end < 0 {
			return nil, false
		}
		name := string(p[1:end])
		if name == "Final" {
			if !bytes.HasPrefix(p, []byte("<Final/>")) {
				return nil, false
			}
			r.final = true
			p = p[len("<Final/>"):]
			continue
		}
		closing := []byte("</" + name + ">")
		ce := bytes.Index(p, closing)
		if ce < 0 {
			return nil, false
		}
		el := p[:ce]
		p = p[ce+len(closing):]
		switch name {
		case "Atomic", "Sequence":
			return nil, false
		case "Results":
			continue
		case "Status":
			if ref, _ := text(el, "CmdRef"); ref != "0" {
				continue
			}
			code, _ := text(el, "Data")
			c, err := strconv.Atoi(code)
			if err != nil {
				return nil, false
			}
			r.hdrCode = syncml.StatusCode(c)
			if nn, ok := text(el, "NextNonce"); ok {
				n, err := auth.ChalNonce(&syncml.Chal{Meta: &syncml.Meta{Format: auth.FormatB64, NextNonce: nn}})
				if err != nil {
					return nil, false
				}
				r.nonce = n
			}
			continue
		}
		c := replyCmd{name: name}
		if c.id, ok = text(el, "CmdID"); !ok {
			return nil, false
		}
		if name == "Get" {
			c.uri, _ = text(el, "LocURI")
		}
		r.cmds = append(r.cmds, c)
	}
}

var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")

// text returns the unescaped text of the first element name in b (its
// start tag may carry attributes).
func text(b []byte, name string) (string, bool) {
	i := bytes.Index(b, []byte("<"+name))
	for i >= 0 {
		rest := b[i+1+len(name):]
		if len(rest) > 0 && (rest[0] == '>' || rest[0] == ' ') {
			break
		}
		j := bytes.Index(rest, []byte("<"+name))
		if j < 0 {
			return "", false
		}
		i += 1 + len(name) + j
	}
	if i < 0 {
		return "", false
	}
	rest := b[i:]
	gt := bytes.IndexByte(rest, '>')
	if gt < 0 || rest[gt-1] == '/' {
		return "", false
	}
	rest = rest[gt+1:]
	end := bytes.Index(rest, []byte("</"+name+">"))
	if end < 0 || bytes.IndexByte(rest[:end], '<') >= 0 {
		return "", false
	}
	s := string(rest[:end])
	if strings.IndexByte(s, '&') >= 0 {
		s = unescaper.Replace(s)
	}
	return s, true
}

// SetTransport replaces the transport between sessions (for example to
// record one session's messages).
func (d *ScriptedDevice) SetTransport(t client.Transport) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.o.Transport = t
}
