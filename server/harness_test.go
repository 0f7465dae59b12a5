package server_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

const (
	devID    = "IMEI:493005100592800"
	devUser  = "Bruce2"
	devPass  = "OhBehave"
	srvPass  = "ServerSecret"
	serverID = "omadm-test"
	dmURL    = "http://127.0.0.1/dm"
)

type harness struct {
	store storage.Store
	e     *server.Engine
	mu    sync.Mutex // upd is appended to by the trace write-behind too
	upd   []server.Update
}

// updates flushes the trace write-behind and returns the live updates so far.
func (h *harness) updates() []server.Update {
	h.e.Flush(context.Background())
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.upd)
}

func newHarness(t testing.TB, store storage.Store, mutate ...func(*server.Options)) *harness {
	if store == nil {
		store = memstore.New()
	}
	h := &harness{store: store}
	o := server.Options{Store: store, ServerID: serverID,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(u server.Update) { h.mu.Lock(); h.upd = append(h.upd, u); h.mu.Unlock() }}
	for _, m := range mutate {
		m(&o)
	}
	e, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	t.Cleanup(func() { e.Close(context.Background()) })
	return h
}

func (h *harness) addDevice(t testing.TB, scheme string) *storage.Device {
	t.Helper()
	d := &storage.Device{ID: devID, AuthScheme: scheme, Username: devUser, Password: devPass,
		ServerPassword: srvPass, ServerNonce: []byte("first-nonce"), ClientNonce: []byte("client-nonce")}
	if err := h.store.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (h *harness) addJob(t testing.TB, spec storage.JobSpec) int64 {
	t.Helper()
	j := &storage.Job{DeviceID: devID, Spec: spec}
	if err := h.store.CreateJob(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func (h *harness) job(t testing.TB, id int64) *storage.Job {
	t.Helper()
	j, err := h.store.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (h *harness) device(t testing.TB) *storage.Device {
	t.Helper()
	d, err := h.store.GetDevice(context.Background(), devID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// device is a scripted DM client: it builds messages, posts them through
// Engine.Handle and follows RespURI, the way a real device would.
type device struct {
	id        string // device id ("" = devID)
	e         *server.Engine
	sessionID string
	msgID     int
	url       string
	enc       syncml.Encoding
	scheme    string // "basic", "md5", "hmac", "" (no credentials)
	nonce     []byte // server nonce for our credentials
	maxMsg    int64
	lastOut   *syncml.Message // last server message
	lastBody  []byte
	lastHMAC  string
	password  string
	// conn, when set, carries the messages the way a connection-bound
	// binding (OBEX) does: no URL, the session token kept by the connection.
	conn *connBinding
}

func newDevice(e *server.Engine, scheme string) *device {
	return &device{e: e, sessionID: "1", url: dmURL, scheme: scheme, nonce: []byte("first-nonce"), password: devPass}
}

func (d *device) header() syncml.Header {
	d.msgID++
	h := syncml.Header{VerDTD: "1.2", VerProto: "DM/1.2", SessionID: d.sessionID, MsgID: strconv.Itoa(d.msgID),
		Target: syncml.Location{LocURI: "http://127.0.0.1/dm"}, Source: syncml.Location{LocURI: orDev(d.id), LocName: devUser}}
	switch d.scheme {
	case "basic":
		h.Cred = auth.MakeCred(syncml.AuthBasic, devUser, d.password, nil)
	case "md5":
		h.Cred = auth.MakeCred(syncml.AuthMD5, devUser, d.password, d.nonce)
	}
	if d.maxMsg > 0 {
		h.Meta = &syncml.Meta{MaxMsgSize: d.maxMsg}
	}
	return h
}

func orDev(id string) string {
	if id == "" {
		return devID
	}
	return id
}

// message builds the next message.
func (d *device) message(final bool, cmds ...syncml.Command) *syncml.Message {
	return &syncml.Message{Header: d.header(), Body: cmds, Final: final}
}

// post sends m and returns the decoded reply.
func (d *device) post(t testing.TB, m *syncml.Message) *syncml.Message {
	t.Helper()
	body, err := syncml.Encode(m, d.enc)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return d.postRaw(t, body)
}

func (d *device) postRaw(t testing.TB, body []byte) *syncml.Message {
	t.Helper()
	in := &server.Inbound{Body: body, ContentType: d.enc.ContentType(), Addr: dmhttp.RequestAddressing(d.url), SecureSession: dmhttp.SecureURL(d.url), RemoteAddr: "127.0.0.1:1"}
	if d.conn != nil {
		in.Addr, in.SecureSession, in.RemoteAddr = d.conn, d.conn.secure, "obex:1"
	}
	if d.scheme == "hmac" {
		in.HMAC = auth.NewHMACHeader(devUser, d.password, d.nonce, body).String()
	}
	out, err := d.e.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	d.lastBody, d.lastHMAC = out.Body, out.HMAC
	if d.conn != nil {
		d.conn.sent(out)
	}
	r, _, err := syncml.Decode(out.Body, out.ContentType, nil)
	if err != nil {
		t.Fatalf("decode reply: %v", err)
	}
	if r.Header.RespURI != "" {
		d.url = r.Header.RespURI
	}
	if st := hdrStatus(t, r); st.Chal != nil {
		if n, err := auth.ChalNonce(st.Chal); err == nil && n != nil {
			d.nonce = n
		}
	}
	d.lastOut = r
	return r
}

// pkg1 is Alert 1201 + DevInfo Replace.
func (d *device) pkg1(alert syncml.AlertCode) []syncml.Command {
	return []syncml.Command{
		&syncml.Alert{CmdID: "1", Data: alert},
		&syncml.Replace{CmdID: "2", Items: []syncml.Item{
			{Source: &syncml.Location{LocURI: "./DevInfo/DevId"}, Meta: &syncml.Meta{Format: "chr", Type: "text/plain"}, Data: syncml.TextData(devID)},
			{Source: &syncml.Location{LocURI: "./DevInfo/Man"}, Meta: &syncml.Meta{Format: "chr", Type: "text/plain"}, Data: syncml.TextData("Acme")},
		}},
	}
}

// answer builds statuses (and Results for Gets) for every command of the
// server message r: code(cmd) picks the status; results(get) the Results items.
func (d *device) answer(r *syncml.Message, code func(syncml.Command) syncml.StatusCode, results func(*syncml.Get) []syncml.Item) []syncml.Command {
	var out []syncml.Command
	n := 0
	next := func() string { n++; return strconv.Itoa(n) }
	out = append(out, &syncml.Status{CmdID: next(), MsgRef: r.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK})
	var walk func(cmds []syncml.Command)
	walk = func(cmds []syncml.Command) {
		for _, c := range cmds {
			switch c.(type) {
			case *syncml.Status, *syncml.Results:
				continue
			}
			if a, ok := c.(*syncml.Alert); ok && a.Data == syncml.AlertNextMessage {
				continue
			}
			cd := syncml.StatusOK
			if code != nil {
				cd = code(c)
			}
			out = append(out, &syncml.Status{CmdID: next(), MsgRef: r.Header.MsgID, CmdRef: c.ID(), Cmd: c.CommandName(), Data: cd})
			if g, ok := c.(*syncml.Get); ok && results != nil && cd == syncml.StatusOK {
				out = append(out, &syncml.Results{CmdID: next(), MsgRef: r.Header.MsgID, CmdRef: g.CmdID, Items: results(g)})
			}
			switch g := c.(type) {
			case *syncml.Atomic:
				walk(g.Commands)
			case *syncml.Sequence:
				walk(g.Commands)
			}
		}
	}
	walk(r.Body)
	return out
}

func hdrStatus(t testing.TB, r *syncml.Message) *syncml.Status {
	t.Helper()
	for _, c := range r.Body {
		if s, ok := c.(*syncml.Status); ok && s.CmdRef == "0" {
			return s
		}
	}
	t.Fatalf("reply has no SyncHdr status: %+v", r.Body)
	return nil
}

// commands returns the non-Status commands of r.
func commands(r *syncml.Message) []syncml.Command {
	var out []syncml.Command
	for _, c := range r.Body {
		if _, ok := c.(*syncml.Status); !ok {
			out = append(out, c)
		}
	}
	return out
}

func statusFor(r *syncml.Message, cmdRef string) *syncml.Status {
	for _, c := range r.Body {
		if s, ok := c.(*syncml.Status); ok && s.CmdRef == cmdRef {
			return s
		}
	}
	return nil
}

func names(cmds []syncml.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.CommandName())
	}
	return out
}
