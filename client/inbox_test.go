package client_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// dmPeer is a DM server for notification tests: it answers every package 1
// with 212 and the server credential under the device's current server
// nonce, and reports each session's id on started.
type dmPeer struct {
	c       atomic.Pointer[client.Client]
	started chan string
	mu      sync.Mutex
	count   map[string]int
}

func (d *dmPeer) RoundTrip(_ context.Context, req *client.Request) (*client.Response, error) {
	m, enc, err := syncml.Decode(req.Body, req.ContentType, nil)
	if err != nil {
		return nil, err
	}
	sid := m.Header.SessionID
	d.mu.Lock()
	d.count[sid]++
	d.mu.Unlock()
	d.started <- sid
	out := &syncml.Message{
		Header: syncml.Header{VerDTD: syncml.VerDTD12, VerProto: syncml.VerProto12, SessionID: sid, MsgID: "1",
			Target: syncml.Location{LocURI: m.Header.Source.LocURI}, Source: syncml.Location{LocURI: m.Header.Target.LocURI},
			Cred: auth.MakeCred(syncml.AuthMD5, testServerID, "srvpw", d.c.Load().Account().ServerNonce)},
		Body:  []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: m.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: syncml.StatusAuthAccepted}},
		Final: true,
	}
	b, err := syncml.Encode(out, enc)
	if err != nil {
		return nil, err
	}
	return &client.Response{ContentType: enc.ContentType(), Body: b}, nil
}

func (d *dmPeer) sessions() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.count))
	for k, v := range d.count {
		out[k] = v
	}
	return out
}

// records keeps every log record's message and attributes.
type records struct {
	mu  sync.Mutex
	all []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.all = append(r.all, rec.Clone())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) list() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slog.Record(nil), r.all...)
}

// fakeNow is a settable clock.
type fakeNow struct{ ns atomic.Int64 }

func (f *fakeNow) Now() time.Time          { return time.Unix(0, f.ns.Load()) }
func (f *fakeNow) Advance(d time.Duration) { f.ns.Add(int64(d)) }
func newFakeNow() *fakeNow {
	f := &fakeNow{}
	f.ns.Store(time.Unix(1700000000, 0).UnixNano())
	return f
}
func attrInt(rec slog.Record, key string) (n uint64) {
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			n = a.Value.Uint64()
		}
		return true
	})
	return n
}

// notifyRig is an agent with an Inbox fed by a real UDP listener on
// 127.0.0.1: send writes datagrams to it and waitSeen blocks until the
// listener has handed that many to the Inbox.
type notifyRig struct {
	t        *testing.T
	c        *client.Client
	in       *client.Inbox
	peer     *dmPeer
	logs     *records
	clock    *fakeNow
	conn     interface{ Write([]byte) (int, error) }
	sent     int64
	seen     atomic.Int64
	want     atomic.Int64
	caughtUp chan struct{}
}

func newNotifyRig(t *testing.T, nonce []byte, o client.InboxOptions) *notifyRig {
	t.Helper()
	r := &notifyRig{t: t, logs: &records{}, clock: newFakeNow(), caughtUp: make(chan struct{}, 1),
		peer: &dmPeer{started: make(chan string, 64), count: map[string]int{}}}
	r.c = newAgent(t, newTree(t), r.peer, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", nonce
		c.Logger = slog.New(r.logs)
	})
	r.peer.c.Store(r.c)
	o.Now = r.clock.Now
	r.in = r.c.NewInbox(o)
	l, err := notification.Listen("udp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- l.ServeRaw(ctx, func(b []byte) {
			r.in.Offer(b)
			if r.seen.Add(1) == r.want.Load() {
				select {
				case r.caughtUp <- struct{}{}:
				default:
				}
			}
		})
	}()
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r.conn = conn
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ServeRaw: %v", err)
		}
		l.Close()
		conn.Close()
	})
	return r
}

// sendBurst writes the datagrams and waits until the listener took them
// all. Bursts stay far below the socket buffer, so loopback drops none.
func (r *notifyRig) sendBurst(ds ...[]byte) {
	r.t.Helper()
	r.sent += int64(len(ds))
	r.want.Store(r.sent)
	for _, d := range ds {
		if _, err := r.conn.Write(d); err != nil {
			r.t.Fatal(err)
		}
	}
	deadline := time.After(time.Minute) // bounds a hang only
	for r.seen.Load() < r.sent {
		select {
		case <-r.caughtUp: // may be left from an earlier burst: check again
		case <-deadline:
			r.t.Fatalf("listener took %d of %d datagrams", r.seen.Load(), r.sent)
		}
	}
}

// waitSession waits for the next session the peer sees and returns its id.
func (r *notifyRig) waitSession() string {
	r.t.Helper()
	select {
	case sid := <-r.peer.started:
		return sid
	case <-time.After(time.Minute): // bounds a hang only
		r.t.Fatalf("no session started; inbox stats %v", r.in.Stats())
	}
	return ""
}

// OMA-TS-DM_Notification-V1_2 §6.1: the digest exists to stop denial of
// service. 100,000 forged packages 0 (right server id, wrong digest) arrive
// over UDP while ten genuine ones are interleaved; every genuine one starts
// its session while the flood goes on, no forged one does, and the drops
// cost a summary log line per interval, not a line each.
func TestInbox_GenuineNotificationsAreServedDuringAFloodOfForgedOnes(t *testing.T) {
	const (
		forged  = 100_000
		burst   = 64
		genuine = 10
	)
	r := newNotifyRig(t, []byte("srvnonce"), client.InboxOptions{SummaryInterval: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { r.in.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	template := pkg0(t, testServerID, "not-the-password", []byte("srvnonce"), 1)
	forgedAt := func(i int) []byte {
		b := append([]byte(nil), template...)
		binary.BigEndian.PutUint32(b[0:4], uint32(i)) // a different bad digest each
		binary.BigEndian.PutUint16(b[21:23], uint16(i%0xFFFF+1))
		if i%10 == 0 { // some as WSP push PDUs
			return notification.EncodePush(byte(i), b)
		}
		return b
	}
	bursts := (forged + burst - 1) / burst
	step := bursts / (genuine + 1)
	var want []string
	next := 0
	for b := 0; b < bursts; b++ {
		var ds [][]byte
		for i := b * burst; i < min((b+1)*burst, forged); i++ {
			ds = append(ds, forgedAt(i))
		}
		if b%step == 0 && b/step <= genuine {
			k := b / step
			if k > 0 {
				// The previous genuine package's session starts while the
				// flood goes on.
				if sid := r.waitSession(); sid != want[k-1] {
					t.Fatalf("session %q started, want %q", sid, want[k-1])
				}
			}
			if k < genuine {
				sid := uint16(0xA001 + k)
				want = append(want, fmt.Sprintf("%X", sid))
				ds = append(ds[:len(ds)/2], append([][]byte{pkg0(t, testServerID, "srvpw", []byte("srvnonce"), sid)}, ds[len(ds)/2:]...)...)
				next++
			}
		}
		r.sendBurst(ds...)
		r.clock.Advance(time.Second)
	}
	if next != genuine {
		t.Fatalf("sent %d genuine packages, want %d", next, genuine)
	}
	st := r.in.Stats()
	if st.Count(client.VerdictForged) != forged || st.Count(client.VerdictQueued) != genuine ||
		st.Count(client.VerdictMalformed) != 0 || st.Count(client.VerdictCoalesced) != 0 {
		t.Fatalf("stats %v, want %d forged and %d queued", st, forged, genuine)
	}
	got := r.peer.sessions()
	for _, sid := range want {
		if got[sid] != 1 {
			t.Fatalf("sessions %v: %s ran %d times", got, sid, got[sid])
		}
	}
	if len(got) != genuine {
		t.Fatalf("sessions %v, want exactly the %d genuine ones", got, genuine)
	}
	cancel()
	<-ran // Run summarises what is left
	var summaries, other int
	var counted uint64
	for _, rec := range r.logs.list() {
		if rec.Message == "package 0 datagrams dropped" {
			summaries++
			counted += attrInt(rec, "forged")
		} else {
			other++
		}
	}
	// One summary per simulated minute (the clock moved a second a burst),
	// plus the first and the final one.
	if maxSummaries := bursts/60 + 3; summaries == 0 || summaries > maxSummaries {
		t.Fatalf("%d summary lines, want 1..%d", summaries, maxSummaries)
	}
	if counted != forged {
		t.Fatalf("summaries count %d forged datagrams, want %d", counted, forged)
	}
	// The rest are the genuine sessions' own lines (a handful each).
	if other > genuine*10 {
		t.Fatalf("%d other log lines for %d sessions", other, genuine)
	}
	t.Logf("%d forged datagrams, %d genuine sessions, %d summary lines, %d other lines", forged, genuine, summaries, other)
}

// OMA-TS-DM_Notification-V1_2 §6.2.2.10: a client that receives the same
// session id several times need start only one session; and §6.1 (nonce
// resynchronisation): a reset-nonce package verifies for ever, so its
// replays must be refused too. Ten copies of one package 0 over UDP, the first served before the
// others arrive, start one session.
func TestInbox_TenReplaysOfOnePackage0StartOneSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nonce []byte // the package's
		wsp   bool
	}{
		{"stored nonce", []byte("srvnonce"), false},
		{"stored nonce, WSP push", []byte("srvnonce"), true},
		{"reset nonce 0x00000000 (text)", notification.ResetNonce, false},
		{"reset nonce 0x00000000 (bytes)", notification.ResetNonceZeros, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newNotifyRig(t, []byte("srvnonce"), client.InboxOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{})
			go func() { r.in.Run(ctx); close(ran) }()
			defer func() { cancel(); <-ran }()
			raw := pkg0(t, testServerID, "srvpw", tc.nonce, 0x0B0B)
			if tc.wsp {
				raw = notification.EncodePush(1, raw)
			}
			r.sendBurst(raw)
			if sid := r.waitSession(); sid != "B0B" {
				t.Fatalf("session %q", sid)
			}
			// Four copies while the session may still be running, then five
			// after it was recorded as served (the clock has moved on by
			// less than the window).
			r.sendBurst(raw, raw, raw, raw)
			cancel()
			<-ran
			r.clock.Advance(client.DefaultReplayWindow / 2)
			r.sendBurst(raw, raw, raw, raw, raw)
			st := r.in.Stats()
			if st.Count(client.VerdictQueued) != 1 || st.Count(client.VerdictReplayed)+st.Count(client.VerdictCoalesced) != 9 {
				t.Fatalf("stats %v, want 1 queued and 9 replayed or coalesced", st)
			}
			if st.Count(client.VerdictReplayed) < 5 {
				t.Fatalf("stats %v: the copies after the session must count as replays", st)
			}
			if got := r.peer.sessions(); len(got) != 1 || got["B0B"] != 1 {
				t.Fatalf("sessions %v, want one", got)
			}
		})
	}
}

// The replay window: a stored-nonce package is served again once the
// window has passed (a server that reuses a session id without a nonce
// change), a reset-nonce one is not (it is remembered while it fits in
// ReplayEntries).
func TestInbox_ReplayWindowExpiresForStoredNonceOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nonce []byte
		again client.Verdict
	}{
		{"stored nonce", []byte("srvnonce"), client.VerdictQueued},
		{"reset nonce", notification.ResetNonce, client.VerdictReplayed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeNow()
			peer := &dmPeer{started: make(chan string, 4), count: map[string]int{}}
			c := newAgent(t, newTree(t), peer, func(c *client.Config) {
				c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
			})
			peer.c.Store(c)
			in := c.NewInbox(client.InboxOptions{ReplayWindow: time.Minute, Now: clock.Now})
			raw := pkg0(t, testServerID, "srvpw", tc.nonce, 9)
			if v := in.Offer(raw); v != client.VerdictQueued {
				t.Fatalf("first offer: %s", v)
			}
			n := in.Take()
			_, err := c.RunNotification(context.Background(), n)
			in.Done(n, err)
			if err != nil {
				t.Fatal(err)
			}
			if v := in.Offer(raw); v != client.VerdictReplayed {
				t.Fatalf("within the window: %s", v)
			}
			clock.Advance(time.Minute)
			if v := in.Offer(raw); v != tc.again {
				t.Fatalf("after the window: %s, want %s", v, tc.again)
			}
		})
	}
}

// Several authenticated triggers while a session is pending start one
// session, with the newest trigger's session id; the older trigger is then
// a replay too.
func TestInbox_CoalescesTriggersWhileASessionIsPending(t *testing.T) {
	peer := &dmPeer{started: make(chan string, 4), count: map[string]int{}}
	c := newAgent(t, newTree(t), peer, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
	})
	peer.c.Store(c)
	in := c.NewInbox(client.InboxOptions{})
	first, second := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 1), pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 2)
	for i, tc := range []struct {
		b    []byte
		want client.Verdict
	}{{first, client.VerdictQueued}, {second, client.VerdictCoalesced}, {first, client.VerdictCoalesced}, {second, client.VerdictCoalesced}} {
		if v := in.Offer(tc.b); v != tc.want {
			t.Fatalf("offer %d: %s, want %s", i, v, tc.want)
		}
	}
	n := in.Take()
	if n == nil || n.Package.SessionID != 2 || in.Take() != nil {
		t.Fatalf("took %+v; want one notification for session 2", n)
	}
	_, err := c.RunNotification(context.Background(), n)
	in.Done(n, err)
	if got := peer.sessions(); len(got) != 1 || got["2"] != 1 || err != nil {
		t.Fatalf("sessions %v, err %v", got, err)
	}
	for _, b := range [][]byte{first, second} {
		if v := in.Offer(b); v != client.VerdictReplayed {
			t.Fatalf("after the session: %s", v)
		}
	}
}

// Bounded work per datagram: what is too long, malformed, for another
// server or forged is counted and dropped before any session or log line.
func TestInbox_DropsWhatDoesNotAuthenticate(t *testing.T) {
	good := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 5)
	tampered := append([]byte(nil), good...)
	tampered[22] ^= 1
	zeroSID := pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 0)
	for _, tc := range []struct {
		name string
		b    []byte
		want client.Verdict
	}{
		{"oversize", make([]byte, 100), client.VerdictOversize},
		{"garbage", []byte{1, 2, 3}, client.VerdictMalformed},
		{"other server", pkg0(t, "other.server", "srvpw", []byte("srvnonce"), 5), client.VerdictForeign},
		{"session id 0", zeroSID, client.VerdictForeign},
		{"wrong secret", pkg0(t, testServerID, "guess", []byte("srvnonce"), 5), client.VerdictForged},
		{"tampered session id", tampered, client.VerdictForged},
		{"old nonce", pkg0(t, testServerID, "srvpw", []byte("old"), 5), client.VerdictForged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &records{}
			c := newAgent(t, newTree(t), client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
				t.Fatal("no session may start")
				return nil, nil
			}), func(c *client.Config) {
				c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
				c.Logger = slog.New(logs)
			})
			in := c.NewInbox(client.InboxOptions{MaxDatagram: 99, SummaryInterval: time.Hour, Now: newFakeNow().Now})
			for range 3 {
				if v := in.Offer(tc.b); v != tc.want {
					t.Fatalf("verdict %s, want %s", v, tc.want)
				}
			}
			if st := in.Stats(); st.Count(tc.want) != 3 || in.Take() != nil {
				t.Fatalf("stats %v", st)
			}
			// The first drop is summarised at once, the next two wait for
			// the interval.
			if n := len(logs.list()); n != 1 {
				t.Fatalf("%d log lines for 3 drops, want 1", n)
			}
		})
	}
}

// The memory of served packages survives a restart through Save and
// Served: a reset-nonce package replayed to the restarted agent is still
// refused (it would otherwise verify for ever).
func TestInbox_ServedPackagesSurviveARestart(t *testing.T) {
	peer := &dmPeer{started: make(chan string, 4), count: map[string]int{}}
	c := newAgent(t, newTree(t), peer, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
	})
	peer.c.Store(c)
	var saved []client.ServedPackage
	in := c.NewInbox(client.InboxOptions{ReplayEntries: 2, Save: func(s []client.ServedPackage) { saved = s }})
	reset := pkg0(t, testServerID, "srvpw", notification.ResetNonce, 0x51)
	for _, raw := range [][]byte{pkg0(t, testServerID, "srvpw", []byte("srvnonce"), 0x50), reset} {
		if v := in.Offer(raw); v != client.VerdictQueued {
			t.Fatalf("offer: %s", v)
		}
		n := in.Take()
		_, err := c.RunNotification(context.Background(), n)
		in.Done(n, err)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(saved) != 2 || saved[0].SessionID != 0x50 || saved[1].SessionID != 0x51 || saved[0].Reset || !saved[1].Reset {
		t.Fatalf("saved %+v, want 0x50 then the reset-nonce 0x51", saved)
	}
	restarted := c.NewInbox(client.InboxOptions{ReplayEntries: 2, Served: saved})
	if v := restarted.Offer(reset); v != client.VerdictReplayed {
		t.Fatalf("replay after the restart: %s", v)
	}
	if got := restarted.Served(); len(got) != 2 || got[1] != saved[1] {
		t.Fatalf("restored %+v", got)
	}
}

// ReplayEntries bounds the memory: the oldest served package is forgotten
// first.
func TestInbox_ForgetsTheOldestServedPackageFirst(t *testing.T) {
	peer := &dmPeer{started: make(chan string, 8), count: map[string]int{}}
	c := newAgent(t, newTree(t), peer, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("srvnonce")
	})
	peer.c.Store(c)
	in := c.NewInbox(client.InboxOptions{ReplayEntries: 2})
	var raws [][]byte
	for sid := uint16(1); sid <= 3; sid++ {
		raw := pkg0(t, testServerID, "srvpw", notification.ResetNonce, sid)
		raws = append(raws, raw)
		if v := in.Offer(raw); v != client.VerdictQueued {
			t.Fatalf("offer %d: %s", sid, v)
		}
		n := in.Take()
		_, err := c.RunNotification(context.Background(), n)
		in.Done(n, err)
	}
	if got := in.Served(); len(got) != 2 || got[0].SessionID != 2 || got[1].SessionID != 3 {
		t.Fatalf("served %+v, want sessions 2 and 3", got)
	}
	for i, want := range []client.Verdict{client.VerdictQueued, client.VerdictReplayed, client.VerdictReplayed} {
		if v := in.Offer(raws[i]); v != want {
			t.Fatalf("session %d again: %s, want %s", i+1, v, want)
		}
	}
}
