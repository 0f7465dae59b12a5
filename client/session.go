package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

const (
	defaultBackoff    = time.Second
	defaultMaxBackoff = 30 * time.Second
	defaultTimeout    = 60 * time.Second
	// sizeMargin is kept free in every message under the server's MaxMsgSize
	// for CmdID digits and the closing Final/Alert 1222.
	sizeMargin = 160
)

// sentAlert remembers an alert we sent so an unanswered one can be re-queued.
type sentAlert struct {
	a            *syncml.Alert
	msgID, cmdID string
	acked        bool
	queued       bool // came from QueueAlert/Trigger (re-queue on failure)
}

// session is the state of one DM session (packages 1–4).
type session struct {
	c   *Client
	t   Trigger
	res *SessionResult
	enc syncml.Encoding

	id    string
	msgID int
	url   string

	// client credentials
	scheme      string
	name        string
	secret      string
	clientNonce []byte
	sendCred    bool
	authRetries int

	// server credentials
	srvName, srvSecret string
	srvScheme          string // the scheme we require of the server
	srvNonce           []byte
	srvNonceAlt        []byte // also accepted until the server authenticates
	srvAuthed          bool
	pendingSrvNonce    []byte // issued in the header Status not yet sent
	sentSrvNonce       []byte // sent, awaiting a server reply to confirm it
	srvChallenges      int

	srvMaxMsg, srvMaxObj int64

	pkg1      []syncml.Command
	out       []syncml.Command
	hdrStatus *syncml.Status
	cont      map[*syncml.Results]bool // continuation chunks (no Meta Size)
	// groups marks the first of several queued commands that must travel in
	// one message (the statuses of an Atomic) with their number.
	groups map[syncml.Command]int
	// macNoNonce is set when an HMAC session got a SyncHdr Status without
	// the NextNonce the next message must be signed with.
	macNoNonce bool

	inLO       *largeIn
	serverOpen bool // the server's package is not complete
	cancelled  bool // a UI alert was cancelled: the rest of the package is 215
	aborted    bool // Alert 1223 was sent
	// pendingResults is the bytes of Results data queued and not yet sent
	// (bounded by Config.MaxPendingResults).
	pendingResults int64
	received       int // server commands and statuses, nested ones included

	alerts []*sentAlert
}

func newSession(c *Client, t Trigger) *session {
	acct := c.Account()
	s := &session{
		c: c, t: t, enc: c.cfg.Encoding,
		url:         acct.ServerURL,
		scheme:      acct.AuthScheme,
		name:        acct.ClientName,
		secret:      acct.ClientSecret,
		clientNonce: acct.ClientNonce,
		srvName:     acct.ServerName,
		srvSecret:   acct.ServerSecret,
		srvScheme:   acct.ServerAuthScheme,
		srvNonce:    acct.ServerNonce,
		srvNonceAlt: acct.ServerNonceAlt,
		cont:        map[*syncml.Results]bool{},
	}
	if s.srvName == "" {
		s.srvName = acct.ServerID
	}
	if t.Initiator == ServerInitiated {
		s.id = strconv.FormatUint(uint64(t.SessionID), 16)
	} else {
		s.id = strconv.FormatUint(uint64(1+rand.IntN(0xFFFF)), 16)
	}
	s.id = upperHex(s.id)
	s.sendCred = s.scheme == syncml.AuthBasic || s.scheme == syncml.AuthMD5
	s.res = &SessionResult{SessionID: s.id, ServerID: acct.ServerID, Initiator: t.Initiator, Started: c.cfg.Clock.Now()}
	return s
}

func upperHex(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'a' && ch <= 'f' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

func (s *session) principal() string { return s.c.acct.ServerID }

func (s *session) queue(c syncml.Command) { s.out = append(s.out, c) }

// pkg1Commands builds package 1: Alert 1200/1201, Replace of ./DevInfo and
// the queued alerts.
func (s *session) pkg1Commands() ([]syncml.Command, error) {
	code := syncml.AlertClientInitiatedMgmt
	if s.t.Initiator == ServerInitiated {
		code = syncml.AlertServerInitiatedMgmt
	}
	cmds := []syncml.Command{&syncml.Alert{Data: code}}
	rep, err := s.devInfo()
	if err != nil {
		return nil, err
	}
	cmds = append(cmds, rep)
	for _, a := range append(s.c.takeQueued(), s.t.Alerts...) {
		s.alerts = append(s.alerts, &sentAlert{a: a, queued: true})
		cmds = append(cmds, a)
	}
	return cmds, nil
}

// devInfo reads every ./DevInfo leaf as the device itself.
func (s *session) devInfo() (*syncml.Replace, error) {
	tree := s.c.cfg.Tree
	root, err := tree.Get("", "./DevInfo")
	if err != nil {
		return nil, fmt.Errorf("client: reading ./DevInfo: %w", err)
	}
	rep := &syncml.Replace{}
	for _, r := range root {
		if r.Format != "node" {
			continue
		}
		for _, name := range splitChildren(string(r.Data)) {
			uri := "./DevInfo/" + name
			leaf, err := tree.Get("", uri)
			if err != nil || len(leaf) != 1 || leaf[0].Format == "node" {
				continue
			}
			it := s.resultItem(leaf[0])
			it.Source = &syncml.Location{LocURI: uri}
			if it.Meta == nil {
				it.Meta = &syncml.Meta{}
			}
			if it.Meta.Format == "" {
				it.Meta.Format = "chr"
			}
			if it.Meta.Type == "" {
				it.Meta.Type = "text/plain"
			}
			rep.Items = append(rep.Items, it)
		}
	}
	if len(rep.Items) == 0 {
		return nil, errors.New("client: ./DevInfo has no leaves")
	}
	return rep, nil
}

func splitChildren(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// errSessionTime is the cause of a session context ended by MaxSessionTime.
var errSessionTime = errors.New("client: MaxSessionTime expired")

func (s *session) run(ctx context.Context) error {
	if d := s.c.cfg.MaxSessionTime; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errSessionTime)
		defer cancel()
	}
	err := s.steps(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errSessionTime) {
		s.abort()
		return fmt.Errorf("%w: stopped after %s (%d messages sent)", ErrSessionTimeout, s.c.cfg.MaxSessionTime, s.res.MessagesSent)
	}
	return err
}

func (s *session) steps(ctx context.Context) error {
	var err error
	if s.pkg1, err = s.pkg1Commands(); err != nil {
		return err
	}
	s.out = append([]syncml.Command(nil), s.pkg1...)
	for {
		if ctx.Err() != nil {
			s.abort()
			return fmt.Errorf("%w: %v", ErrCancelled, ctx.Err())
		}
		if s.macNoNonce {
			// Nothing can be signed any more: end silently.
			return fmt.Errorf("%w: the server's SyncHdr Status carries no NextNonce for the next HMAC-signed message", ErrAuthFailed)
		}
		if s.res.MessagesSent >= s.c.cfg.MaxMessages {
			return fmt.Errorf("%w (%d)", ErrTooManyMessages, s.c.cfg.MaxMessages)
		}
		req, err := s.build()
		if err != nil {
			return err
		}
		resp, err := s.exchange(ctx, req)
		if err != nil {
			return err
		}
		done, err := s.receive(ctx, resp)
		if err != nil || done {
			return err
		}
	}
}

// abort tells the server we stop (Alert 1223 with the statuses of work done
// and Final), best effort with a short deadline; the answer is ignored.
func (s *session) abort() {
	if s.msgID == 0 || s.aborted {
		return
	}
	s.aborted = true
	s.serverOpen = false
	s.srvMaxMsg = 0
	s.queue(&syncml.Alert{Data: syncml.AlertSessionAbort})
	req, err := s.build()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.c.cfg.Transport.RoundTrip(ctx, req); err != nil {
		s.c.log.Debug("abort not delivered", "session", s.id, "err", err)
	}
}

// finish sets the outcome, re-queues undelivered alerts and logs one line.
func (s *session) finish(err error) {
	r := s.res
	r.Ended = s.c.cfg.Clock.Now()
	r.Err = err
	switch {
	case err == nil:
		r.State = StateCompleted
	case errors.Is(err, ErrAborted), errors.Is(err, ErrCancelled), errors.Is(err, ErrSessionTimeout), errors.Is(err, ErrTooManyCommands):
		r.State = StateAborted
	default:
		r.State = StateFailed
	}
	var back []*syncml.Alert
	for _, a := range s.alerts {
		if a.queued && !a.acked && err != nil {
			back = append(back, a.a)
		}
	}
	s.c.requeue(back)
	lvl := s.c.log.Info
	if err != nil {
		lvl = s.c.log.Warn
	}
	lvl("DM session "+string(r.State),
		"session", r.SessionID, "server", r.ServerID, "initiator", r.Initiator.String(),
		"sent", r.MessagesSent, "received", r.MessagesReceived, "commands", len(r.Commands),
		"duration", r.Ended.Sub(r.Started).Round(time.Millisecond), "reason", r.Reason())
}

// header builds the SyncHdr of our next message.
func (s *session) header() syncml.Header {
	h := syncml.Header{
		VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12,
		SessionID: s.id, MsgID: strconv.Itoa(s.msgID),
		Target: syncml.Location{LocURI: s.c.acct.ServerURL},
		Source: syncml.Location{LocURI: s.c.cfg.DeviceID},
		Meta:   &syncml.Meta{MaxMsgSize: int64(s.c.cfg.MaxMsgSize), MaxObjSize: int64(s.c.cfg.MaxObjSize)},
	}
	if s.scheme == syncml.AuthMD5 || s.scheme == syncml.AuthMAC {
		h.Source.LocName = s.name
	}
	if s.sendCred && s.secret != "" {
		h.Cred = auth.MakeCred(s.scheme, s.name, s.secret, s.clientNonce)
	}
	return h
}

func (s *session) encode(m *syncml.Message) ([]byte, error) {
	b, err := syncml.Encode(m, s.enc)
	if err != nil {
		return nil, fmt.Errorf("client: encoding message %s: %w", m.Header.MsgID, err)
	}
	return b, nil
}

// build assembles the next message from the header Status and the outgoing
// queue, splitting under the server's MaxMsgSize.
func (s *session) build() (*Request, error) {
	s.msgID++
	m := &syncml.Message{Header: s.header()}
	cmdID := 0
	next := func() string { cmdID++; return strconv.Itoa(cmdID) }
	if s.hdrStatus != nil {
		s.hdrStatus.CmdID = next()
		m.Body = append(m.Body, s.hdrStatus)
	}
	limit := int(s.srvMaxMsg)
	take := len(s.out)
	if limit > 0 {
		var err error
		take, err = s.fit(m, limit, next)
		if err != nil {
			return nil, err
		}
	} else {
		for _, c := range s.out {
			setCmdID(c, next())
		}
	}
	head := len(m.Body)
	var body []byte
	for {
		m.Body = append(m.Body[:head], s.out[:take]...)
		m.Final = false
		if take == len(s.out) {
			switch {
			case !s.serverOpen:
				m.Final = true
			case onlyStatuses(m.Body):
				// The server's package goes on: ask for its next message
				// unless other commands (Results, alerts) already answer
				// this one (OMA-TS-DM_Protocol-V1_2 §6.2; no Final before the server's).
				m.Body = append(m.Body, &syncml.Alert{CmdID: next(), Data: syncml.AlertNextMessage})
			}
		}
		for i, c := range m.Body {
			setCmdID(c, strconv.Itoa(i+1))
		}
		var err error
		if body, err = s.encode(m); err != nil {
			return nil, err
		}
		if limit == 0 || len(body) <= limit || take <= 1 {
			break
		}
		// The size estimate was short: keep the last command (or the last
		// group) for the next message.
		cut := s.cutBefore(take - 1)
		if cut == 0 {
			break
		}
		take = cut
	}
	for _, c := range s.out[:take] {
		delete(s.groups, c)
	}
	s.out = s.out[take:]
	s.pendingResults = 0
	for _, c := range s.out {
		if r, ok := c.(*syncml.Results); ok {
			for _, it := range r.Items {
				if it.Data != nil {
					s.pendingResults += int64(len(it.Data.Value))
				}
			}
		}
	}
	if s.hdrStatus != nil && s.pendingSrvNonce != nil {
		// Not current yet: only a server reply proves the server got it
		// (see confirmSrvNonce). Until then it is the alternate, so a
		// server that stored it before the reply was lost still gets in.
		s.sentSrvNonce = s.pendingSrvNonce
		s.c.setAltNonce(s.pendingSrvNonce)
	}
	s.pendingSrvNonce = nil
	s.hdrStatus = nil
	for _, c := range m.Body {
		if a, ok := c.(*syncml.Alert); ok {
			s.res.AlertsSent = append(s.res.AlertsSent, a.Data)
			for _, sa := range s.alerts {
				if sa.a == a {
					sa.msgID, sa.cmdID = m.Header.MsgID, a.CmdID
				}
			}
		}
	}
	req := &Request{URL: s.url, ContentType: s.enc.ContentType(), Body: body}
	if s.scheme == syncml.AuthMAC && s.secret != "" {
		req.HMAC = auth.NewHMACHeader(s.name, s.secret, s.clientNonce, body).String()
	}
	s.trace(Sent, m.Header.MsgID, req.ContentType, body, m)
	s.res.MessagesSent++
	return req, nil
}

// onlyStatuses reports whether body holds nothing but Status commands.
func onlyStatuses(body []syncml.Command) bool {
	for _, c := range body {
		if _, ok := c.(*syncml.Status); !ok {
			return false
		}
	}
	return true
}

// groupLen is how many queued commands from s.out[i] must travel together.
func (s *session) groupLen(i int) int {
	if n := s.groups[s.out[i]]; n > 1 && i+n <= len(s.out) {
		return n
	}
	return 1
}

// cutBefore returns the largest number of leading queued commands, at most
// t, that does not split a group.
func (s *session) cutBefore(t int) int {
	for j := 0; j < t; {
		n := s.groupLen(j)
		if j+n > t {
			return j
		}
		j += n
	}
	return t
}

// fitsOneMessage reports whether cmds fit, with our SyncHdr and its Status,
// in one message under the server's MaxMsgSize.
func (s *session) fitsOneMessage(cmds []*syncml.Status) bool {
	limit := int(s.srvMaxMsg)
	if limit <= 0 {
		return true
	}
	m := &syncml.Message{Header: s.header(), Final: true}
	if s.hdrStatus != nil {
		m.Body = append(m.Body, s.hdrStatus)
	}
	for i, c := range cmds {
		cp := *c
		cp.CmdID = strconv.Itoa(i + 2)
		m.Body = append(m.Body, &cp)
	}
	b, err := s.encode(m)
	return err == nil && len(b)+sizeMargin <= limit
}

func setCmdID(c syncml.Command, id string) {
	switch c := c.(type) {
	case *syncml.Status:
		c.CmdID = id
	case *syncml.Results:
		c.CmdID = id
	case *syncml.Alert:
		c.CmdID = id
	case *syncml.Replace:
		c.CmdID = id
	case *syncml.Add:
		c.CmdID = id
	}
}

// fit decides how many queued commands go into m under limit, splitting
// multi-item Results and chunking a single large item when needed.
func (s *session) fit(m *syncml.Message, limit int, next func() string) (int, error) {
	empty, err := s.encode(m)
	if err != nil {
		return 0, err
	}
	used := len(empty) + sizeMargin
	if used > limit {
		return 0, fmt.Errorf("%w: server MaxMsgSize %d is too small for a message header (%d bytes)", ErrProtocol, limit, used)
	}
	probe := &syncml.Message{Header: m.Header}
	bare, err := s.encode(probe)
	if err != nil {
		return 0, err
	}
	size := func(c syncml.Command) (int, error) {
		probe.Body = []syncml.Command{c}
		b, err := s.encode(probe)
		if err != nil {
			return 0, err
		}
		return len(b) - len(bare), nil
	}
	take := 0
	for guard := 0; take < len(s.out) && guard < 100000; guard++ {
		if n := s.groupLen(take); n > 1 {
			total := 0
			for _, c := range s.out[take : take+n] {
				setCmdID(c, next())
				sz, err := size(c)
				if err != nil {
					return 0, err
				}
				total += sz
			}
			if used+total <= limit || take == 0 {
				// A group was checked to fit a message of its own.
				used += total
				take += n
				continue
			}
			break
		}
		c := s.out[take]
		setCmdID(c, next())
		sz, err := size(c)
		if err != nil {
			return 0, err
		}
		if used+sz <= limit {
			used += sz
			take++
			continue
		}
		r, ok := c.(*syncml.Results)
		if ok && len(r.Items) > 1 {
			half := len(r.Items) / 2
			a, b := *r, *r
			a.Items, b.Items = r.Items[:half], r.Items[half:]
			s.out = append(s.out[:take], append([]syncml.Command{&a, &b}, s.out[take+1:]...)...)
			continue
		}
		if take == 0 && ok && len(r.Items) == 1 && r.Items[0].Data != nil {
			if err := s.chunk(r, limit-used, size); err != nil {
				return 0, err
			}
			take = 1
		}
		if take == 0 {
			s.c.log.Warn("command larger than the server's MaxMsgSize sent alone", "cmd", c.CommandName(), "size", sz, "limit", limit)
			take = 1
		}
		break
	}
	return take, nil
}

// chunk replaces s.out[0] (a one-item Results too large for the message) by
// its first chunk, followed by the rest as a continuation.
func (s *session) chunk(r *syncml.Results, room int, size func(syncml.Command) (int, error)) error {
	item := r.Items[0]
	total := len(item.Data.Value)
	first := !s.cont[r]
	mk := func(n int) (*syncml.Results, *syncml.Results) {
		head, tail := splitData(item.Data, n)
		h := *r
		hi := item
		hi.Data = &syncml.Data{Kind: item.Data.Kind, Value: head}
		hi.MoreData = len(tail) > 0
		if hi.Meta != nil {
			mc := *hi.Meta
			hi.Meta = &mc
		} else {
			hi.Meta = &syncml.Meta{}
		}
		hi.Meta.Size = 0
		if first {
			hi.Meta.Size = int64(total)
		}
		h.Items = []syncml.Item{hi}
		if len(tail) == 0 {
			return &h, nil
		}
		t := *r
		ti := item
		ti.Data = &syncml.Data{Kind: item.Data.Kind, Value: tail}
		t.Items = []syncml.Item{ti}
		return &h, &t
	}
	shell, _ := mk(0)
	shell.Items[0].Data = &syncml.Data{Kind: item.Data.Kind}
	base, err := size(shell)
	if err != nil {
		return err
	}
	n := room - base
	for tries := 0; tries < 8; tries++ {
		if n < 1 {
			return fmt.Errorf("%w: server MaxMsgSize leaves no room for a chunk of %s", ErrProtocol, r.CmdRef)
		}
		h, t := mk(n)
		h.CmdID = r.CmdID
		sz, err := size(h)
		if err != nil {
			return err
		}
		if sz > room {
			n -= sz - room
			continue
		}
		s.out[0] = h
		if t != nil {
			s.cont[t] = true
			s.out = append(s.out[:1], append([]syncml.Command{t}, s.out[1:]...)...)
		}
		return nil
	}
	return fmt.Errorf("%w: could not cut a chunk that fits the server's MaxMsgSize", ErrProtocol)
}

func (s *session) trace(d Direction, msgID, ct string, body []byte, m *syncml.Message) {
	if s.c.cfg.Trace == nil {
		return
	}
	s.c.cfg.Trace(TraceEvent{
		Time: s.c.cfg.Clock.Now(), Direction: d, SessionID: s.id, MsgID: msgID,
		ContentType: ct, Body: body, Message: m,
	})
}

// exchange sends req, retrying transport failures with backoff.
func (s *session) exchange(ctx context.Context, req *Request) (*Response, error) {
	p := s.c.cfg.Retry
	wait := p.Backoff
	var last error
	for attempt := 1; attempt <= p.Attempts; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, p.Timeout)
		resp, err := s.c.cfg.Transport.RoundTrip(rctx, req)
		cancel()
		if err == nil && resp != nil && len(resp.Body) > 0 {
			return resp, nil
		}
		if err == nil {
			err = errors.New("empty response")
		}
		last = err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", ErrCancelled, ctx.Err())
		}
		if attempt == p.Attempts {
			break
		}
		s.c.log.Warn("DM message not delivered, retrying", "session", s.id, "msg", s.msgID,
			"attempt", attempt, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrCancelled, ctx.Err())
		case <-s.c.cfg.Clock.After(wait):
		}
		wait *= 2
		if wait > p.MaxBackoff {
			wait = p.MaxBackoff
		}
	}
	// last stays in the chain so callers can classify it (errors.As).
	return nil, fmt.Errorf("%w: no answer from %s after %d attempts: %w", ErrTransport, req.URL, p.Attempts, last)
}

// receive decodes and processes one server message. done is true when the
// session ended normally.
func (s *session) receive(ctx context.Context, resp *Response) (done bool, err error) {
	lim := &syncml.Limits{MaxMessageSize: s.c.cfg.MaxMsgSize}
	if n := 2*s.c.cfg.MaxObjSize + 64<<10; n > lim.MaxStringLen {
		lim.MaxStringLen = n
	}
	m, _, derr := syncml.Decode(resp.Body, resp.ContentType, lim)
	s.res.MessagesReceived++
	if derr != nil {
		s.trace(Received, "", resp.ContentType, resp.Body, nil)
		return false, fmt.Errorf("%w: malformed server message: %v", ErrProtocol, derr)
	}
	s.trace(Received, m.Header.MsgID, resp.ContentType, resp.Body, m)
	if err := s.checkHeader(m); err != nil {
		return false, err
	}
	if s.received += countCommands(m.Body); s.received > s.c.cfg.MaxCommands {
		s.abort()
		return false, fmt.Errorf("%w: the server sent %d, more than %d", ErrTooManyCommands, s.received, s.c.cfg.MaxCommands)
	}
	s.confirmSrvNonce()
	if hm := m.Header.Meta; hm != nil {
		if hm.MaxMsgSize > 0 {
			s.srvMaxMsg = hm.MaxMsgSize
		}
		if hm.MaxObjSize > 0 {
			s.srvMaxObj = hm.MaxObjSize
		}
	}

	// 1. Authenticate the server. When it rejected our credentials its
	// reply carries only statuses: a missing or wrong server credential is
	// then challenged but does not end the session, whose outcome is our
	// own authentication (clientAuth bounds the retries).
	hs, srvOK, err := s.verifyServer(m, resp, s.ourCredsRejected(m))
	if err != nil {
		return false, err
	}
	s.hdrStatus = hs
	if m.Header.RespURI != "" && srvOK {
		// Only an authenticated server may move the session: a message
		// whose credentials failed could come from anyone on the path.
		if err := s.checkRespURI(s.url, m.Header.RespURI); err != nil {
			return false, err
		}
		s.url = m.Header.RespURI
	}

	// 2. Our own authentication outcome.
	retry, err := s.clientAuth(m)
	if err != nil {
		return false, err
	}
	if !srvOK {
		// Answer every command with 215: nothing runs for an unauthenticated server.
		for _, c := range m.Body {
			if _, ok := c.(*syncml.Status); !ok {
				s.reply(m.Header.MsgID, c, syncml.StatusNotExecuted)
			}
		}
		s.serverOpen = false
		if retry {
			s.out = append(s.out, s.pkg1...)
		}
		return false, nil
	}
	if retry {
		// An authentication failure carries only statuses; resend package 1.
		s.out = append(s.out, s.pkg1...)
		s.serverOpen = false
		return false, nil
	}

	// 3. A session abort ends the session at once: the statuses in the
	// message are recorded, its other commands are not run, and nothing is
	// answered (OMA-TS-DM_Protocol-V1_2 §8.1).
	for _, c := range m.Body {
		if a, ok := c.(*syncml.Alert); ok && a.Data == syncml.AlertSessionAbort {
			for _, c := range m.Body {
				if st, ok := c.(*syncml.Status); ok && st.CmdRef != "0" {
					s.serverStatus(st)
				}
			}
			s.out = nil
			return false, ErrAborted
		}
	}

	// 4. Commands.
	nextMsg := false
	for _, c := range m.Body {
		switch c := c.(type) {
		case *syncml.Status:
			if c.CmdRef != "0" {
				s.serverStatus(c)
			}
			continue
		case *syncml.Alert:
			if c.Data == syncml.AlertNextMessage {
				nextMsg = true
			}
		}
		if s.inLO != nil && !s.isContinuation(c) {
			s.abortLO()
		}
		if s.cancelled {
			s.reply(m.Header.MsgID, c, syncml.StatusNotExecuted)
			continue
		}
		if s.execOne(ctx, m.Header.MsgID, c) == outCancelled {
			s.cancelled = true
		}
	}
	if m.Final {
		if s.inLO != nil {
			s.abortLO()
		}
		s.cancelled = false
	}
	s.serverOpen = !m.Final && !nextMsg
	if m.Final {
		// A server package of statuses only ends the session: no reply
		// (a bare SyncHdr Status is never sent), and alerts queued
		// meanwhile wait for the next session. When we do answer, alerts
		// queued meanwhile (for example by an Exec that finished
		// asynchronously) ride along in that package.
		if len(s.out) == 0 {
			return true, nil
		}
		for _, a := range s.c.takeQueued() {
			s.alerts = append(s.alerts, &sentAlert{a: a, queued: true})
			s.queue(a)
		}
	}
	return false, nil
}

// checkRespURI asks the transport whether the session may move from cur to
// next (RespURIChecker); a transport without rules lets it.
func (s *session) checkRespURI(cur, next string) error {
	c, ok := s.c.cfg.Transport.(RespURIChecker)
	if !ok {
		return nil
	}
	if err := c.CheckRespURI(cur, next); err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return nil
}

// countCommands counts cmds and the members of Atomic and Sequence.
func countCommands(cmds []syncml.Command) int {
	n := len(cmds)
	for _, c := range cmds {
		switch c := c.(type) {
		case *syncml.Atomic:
			n += countCommands(c.Commands)
		case *syncml.Sequence:
			n += countCommands(c.Commands)
		}
	}
	return n
}

// checkHeader rejects messages that are not for this session.
func (s *session) checkHeader(m *syncml.Message) error {
	h := &m.Header
	// OMA-TS-DM_RepPro-V1_2, SyncHdr: VerDTD and VerProto name the SyncML
	// and DM versions of the message; this agent reads DM 1.2 and 1.1.
	switch {
	case h.VerDTD != syncml.VerDTD12 && h.VerDTD != syncml.VerDTD11:
		return fmt.Errorf("%w: server message in SyncML DTD version %q (VerDTD), not supported: this agent reads %s and %s",
			ErrProtocol, h.VerDTD, syncml.VerDTD12, syncml.VerDTD11)
	case h.VerProto != syncml.VerProto12 && h.VerProto != syncml.VerProto11:
		return fmt.Errorf("%w: server message in protocol version %q (VerProto), not supported: this agent speaks %s and %s",
			ErrProtocol, h.VerProto, syncml.VerProto12, syncml.VerProto11)
	case h.SessionID != s.id:
		return fmt.Errorf("%w: SessionID %q does not match ours %q", ErrProtocol, h.SessionID, s.id)
	case h.MsgID == "":
		return fmt.Errorf("%w: server message without MsgID", ErrProtocol)
	}
	return nil
}

// verifyServer checks the server's credentials and builds our SyncHdr Status.
// ok is false when the server is not authenticated (the status then carries
// 401/407 and a challenge).
//
// A credential that fails with the current nonce is tried with the alternate
// one (Account.ServerNonceAlt) while the server is not yet authenticated in
// this session; when that verifies, the server holds the alternate nonce and
// it becomes current. Otherwise the server is challenged with a fresh nonce
// (OMA-TS-DM_Security-V1_2 §5.3.3, stale nonces) and the session ends only after
// auth.MaxChallenges failures; rejectedUs turns that limit off because the
// server's reply is then an authentication failure of our own.
func (s *session) verifyServer(m *syncml.Message, resp *Response, rejectedUs bool) (*syncml.Status, bool, error) {
	h := &m.Header
	st := &syncml.Status{MsgRef: h.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusOK}
	if h.Target.LocURI != "" {
		st.TargetRefs = []string{h.Target.LocURI}
	}
	if h.Source.LocURI != "" {
		st.SourceRefs = []string{h.Source.LocURI}
	}
	expected := ""
	if s.srvSecret != "" {
		expected = s.srvScheme
		if expected == "" {
			expected = s.scheme
		}
		if expected == "" {
			expected = syncml.AuthMD5
		}
	}
	// OMA-TS-DM_Security-V1_2 §5.3: unless the transport authenticates the
	// session (TLS), every response is authenticated, not just the first.
	perMessage := !resp.SecureSession
	if expected == "" || (s.srvAuthed && expected != syncml.AuthMAC && !perMessage) {
		return st, true, nil
	}
	received := auth.CredScheme(h.Cred)
	var hh auth.HMACHeader
	hmacOK := false
	if resp.HMAC != "" {
		received = syncml.AuthMAC
		var err error
		hh, err = auth.ParseHMACHeader(resp.HMAC)
		hmacOK = err == nil && hh.Username == s.srvName
	}
	check := func(nonce []byte) bool {
		switch {
		case resp.HMAC != "":
			return hmacOK && auth.VerifyHMAC(hh, s.srvName, s.srvSecret, nonce, resp.Body)
		case received != "":
			return auth.CheckCred(h.Cred, received, s.srvName, s.srvSecret, nonce) == nil
		}
		return false
	}
	verified := check(s.srvNonce)
	if !verified && !s.srvAuthed && len(s.srvNonceAlt) > 0 && check(s.srvNonceAlt) {
		verified = true
		s.c.log.Info("server authenticated with the alternate nonce", "session", s.id)
		s.srvNonce = s.srvNonceAlt
		s.c.setNonce(LevelServer, s.srvNonceAlt)
	}
	if verified && !s.srvAuthed && s.srvNonceAlt != nil {
		// The server proved which nonce it holds: the other one is void.
		s.srvNonceAlt = nil
		s.c.setAltNonce(nil)
	}
	challenges := s.srvChallenges
	if rejectedUs {
		challenges = 0
	}
	d := auth.Decide(auth.Check{Received: received, Expected: expected, Verified: verified, Challenges: challenges, PerMessage: perMessage})
	if d.EndSession {
		return nil, false, fmt.Errorf("%w: %s credentials from the server (status %d)", ErrServerAuth, orNone(received), d.Status)
	}
	st.Data = d.Status
	if d.Challenge {
		var nonce []byte
		if expected != syncml.AuthBasic {
			// The new nonce takes effect when the Status carrying it is sent
			// (see build): a session that ends first keeps the old one.
			nonce = auth.NewNonce()
			s.pendingSrvNonce = nonce
		}
		st.Chal = auth.MakeChal(expected, nonce)
	}
	if !d.Status.Success() {
		if !rejectedUs {
			s.srvChallenges++
		}
		s.c.log.Warn("server credentials rejected", "session", s.id, "status", int(d.Status), "scheme", orNone(received))
		return st, false, nil
	}
	s.srvAuthed = true
	return st, true, nil
}

// confirmSrvNonce makes the server nonce we sent current once a server
// reply to the message carrying it arrived: the server demonstrably has it.
// The nonce it replaces stays acceptable as the alternate, in case the
// server crashes before storing the new one.
func (s *session) confirmSrvNonce() {
	if s.sentSrvNonce == nil {
		return
	}
	old := s.srvNonce
	s.srvNonce, s.sentSrvNonce = s.sentSrvNonce, nil
	s.c.setNonce(LevelServer, s.srvNonce)
	s.srvNonceAlt = old
	s.c.setAltNonce(old)
}

// ourHeaderStatus is the server's Status for the SyncHdr of our last message.
func (s *session) ourHeaderStatus(m *syncml.Message) *syncml.Status {
	want := strconv.Itoa(s.msgID)
	for _, c := range m.Body {
		if st, ok := c.(*syncml.Status); ok && st.CmdRef == "0" && (st.MsgRef == want || st.MsgRef == "") {
			return st
		}
	}
	return nil
}

// ourCredsRejected reports whether the server answered our SyncHdr with 401
// or 407.
func (s *session) ourCredsRejected(m *syncml.Message) bool {
	hs := s.ourHeaderStatus(m)
	return hs != nil && (hs.Data == syncml.StatusInvalidCredentials || hs.Data == syncml.StatusMissingCredentials)
}

func orNone(s string) string {
	if s == "" {
		return "no"
	}
	return s
}

// clientAuth applies the server's Status for our last SyncHdr. retry is true
// when package 1 must be sent again with new credentials.
func (s *session) clientAuth(m *syncml.Message) (retry bool, err error) {
	hs := s.ourHeaderStatus(m)
	if hs == nil {
		return false, fmt.Errorf("%w: the server did not answer our SyncHdr (no Status with CmdRef 0 for message %d)", ErrProtocol, s.msgID)
	}
	switch hs.Data {
	case syncml.StatusOK, syncml.StatusAuthAccepted, syncml.StatusInvalidCredentials, syncml.StatusMissingCredentials:
	default:
		return false, fmt.Errorf("%w: server answered our message with %s", ErrProtocol, hs.Data)
	}
	if s.scheme == "" && hs.Chal == nil && hs.Data.Success() {
		return false, nil
	}
	supported := func(sc string) bool {
		return s.secret != "" && (sc == syncml.AuthBasic || sc == syncml.AuthMD5 || sc == syncml.AuthMAC)
	}
	step, err := auth.Respond(hs.Data, hs.Chal, s.scheme, s.authRetries, supported)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrAuthFailed, err)
	}
	if step.Nonce != nil {
		s.clientNonce = step.Nonce
		// Persist only what an authenticated (or unauthenticated-by-design) peer gave.
		if s.srvSecret == "" || s.srvAuthed {
			s.c.setNonce(LevelClient, step.Nonce)
		}
	}
	s.scheme = step.Scheme
	// HMAC signs every message with the nonce of the previous answer, whose
	// SyncHdr Status must be 200 with a NextNonce (OMA-TS-DM_Security-V1_2 §5.4).
	s.macNoNonce = false
	if s.scheme == syncml.AuthMAC && s.secret != "" && step.Action != auth.ActionRetry {
		if hs.Data != syncml.StatusOK {
			return false, fmt.Errorf("%w: HMAC session answered with SyncHdr status %d instead of 200", ErrAuthFailed, int(hs.Data))
		}
		s.macNoNonce = step.Nonce == nil
	}
	switch step.Action {
	case auth.ActionAuthenticated:
		s.sendCred = false
	case auth.ActionSendAgain:
		s.sendCred = s.scheme != syncml.AuthMAC
	case auth.ActionRetry:
		s.authRetries++
		s.sendCred = s.scheme != syncml.AuthMAC
		s.c.log.Info("server challenged our credentials", "session", s.id, "status", int(hs.Data), "scheme", s.scheme)
		return true, nil
	}
	return false, nil
}

// serverStatus records the server's answer to one of our commands.
func (s *session) serverStatus(st *syncml.Status) {
	s.res.ServerStatuses = append(s.res.ServerStatuses, st)
	for _, a := range s.alerts {
		if a.msgID == st.MsgRef && a.cmdID == st.CmdRef && st.Data.Success() {
			a.acked = true
		}
	}
}
