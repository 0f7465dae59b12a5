package client

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/omadm/omadm/notification"
)

// Defaults of InboxOptions.
const (
	// DefaultMaxDatagram bounds a notification datagram. A package 0 is
	// under 300 bytes (24 fixed, a server identifier of at most 255, vendor
	// data rarely), a WSP push adds a few header bytes.
	DefaultMaxDatagram = 2048
	// DefaultReplayWindow is how long a served package 0 is refused again.
	DefaultReplayWindow = time.Hour
	// DefaultReplayEntries is how many served packages are remembered.
	DefaultReplayEntries = 1024
	// DefaultSummaryInterval is the least time between two log lines that
	// count dropped datagrams.
	DefaultSummaryInterval = time.Minute
	// maxCoalesced bounds the replay keys one pending session carries.
	maxCoalesced = 16
)

// InboxOptions tunes an Inbox; zero values take the defaults.
type InboxOptions struct {
	// MaxDatagram is the longest datagram decoded (DefaultMaxDatagram);
	// longer ones are dropped unread.
	MaxDatagram int
	// ReplayWindow is how long a package 0 whose session ran is refused if
	// it comes again (DefaultReplayWindow). Packages that verified with the
	// reset nonce are refused for as long as they are remembered.
	ReplayWindow time.Duration
	// ReplayEntries is how many served packages are remembered
	// (DefaultReplayEntries); the oldest is forgotten first.
	ReplayEntries int
	// SummaryInterval is the least time between two summary log lines of
	// dropped datagrams (DefaultSummaryInterval).
	SummaryInterval time.Duration
	// Now is the time source (default: Config.Clock).
	Now func() time.Time
	// Served restores the memory of served packages saved by an earlier
	// run (oldest first), so that a restart does not reopen the door to
	// replays; Save, when set, is called with the whole memory (oldest
	// first) each time it changes, at most once per session.
	Served []ServedPackage
	Save   func([]ServedPackage)
}

// ServedPackage is one package 0 an Inbox remembers as served.
type ServedPackage struct {
	SessionID uint16
	Digest    [notification.DigestSize]byte
	At        time.Time // when its session ended
	Reset     bool      // made with a reset nonce: refused while remembered
}

// Verdict is what an Inbox did with a datagram.
type Verdict int

// Verdicts. Only VerdictQueued starts a session.
const (
	VerdictQueued    Verdict = iota // authenticated; a session will run for it
	VerdictCoalesced                // authenticated; joins the session pending or running for our server
	VerdictReplayed                 // authenticated, but its session already ran (see InboxOptions.ReplayWindow)
	VerdictOversize                 // longer than InboxOptions.MaxDatagram
	VerdictMalformed                // not a package 0 (raw, WSP push or SM user data)
	VerdictForeign                  // for another server, or session id 0
	VerdictForged                   // the digest does not verify
	numVerdicts
)

var verdictNames = [numVerdicts]string{"queued", "coalesced", "replayed", "oversize", "malformed", "foreign", "forged"}

func (v Verdict) String() string {
	if v >= 0 && v < numVerdicts {
		return verdictNames[v]
	}
	return "verdict?"
}

// InboxStats counts the datagrams an Inbox was offered, by verdict.
type InboxStats [numVerdicts]uint64

// Count is the number of datagrams that got v.
func (s *InboxStats) Count(v Verdict) uint64 {
	if v < 0 || v >= numVerdicts {
		return 0
	}
	return s[v]
}

// replayKey identifies one package 0: its session id and digest. The digest
// covers the session id, the trigger and the nonce, so a server re-sending
// the same trigger with the same nonce produces the same key.
type replayKey struct {
	sid    uint16
	digest [notification.DigestSize]byte
}

type servedEntry struct {
	key   replayKey
	at    time.Time
	reset bool // made with a reset nonce: it never stops verifying
}

// Inbox is a device's notification intake for one Client. Offer takes every
// datagram the listener reads; Run starts the sessions.
//
// Each datagram is bounded (MaxDatagram), decoded, and authenticated before
// anything is queued or logged: one MD5 of the trigger and one short MD5 per
// nonce tried, no allocation beyond the bounded decode. Datagrams that fail
// are only counted; one summary line per SummaryInterval reports the counts,
// so a flood of forged datagrams costs no log line each.
//
// The queue holds at most one pending session per Client (one server
// account): an authenticated package for the server while a session is
// pending joins it (OMA-TS-DM_Notification-V1_2 §6.2.2.10: a client that
// receives the same session id several times need start only one session;
// for a new session id the newest trigger's id is used).
//
// Replays: the digest of a package 0 depends only on the credentials, the
// nonce and the trigger, and the nonce changes only when a session hands
// the server a new one; the reset-nonce digest (§6.1 "Nonce
// Resynchronisation", nonce 0x00000000) never changes. So a captured
// package verifies again until the nonce moves on (after a rotation the old
// nonce stays acceptable as the alternate), and a reset-nonce one verifies
// forever. The Inbox remembers the (session id,
// digest) of every package whose session ran to its end or was declined by
// the user: it refuses the same package for ReplayWindow, and a reset-nonce
// one for as long as it is remembered (ReplayEntries, oldest forgotten
// first). Servers re-send the same package 0 while a device does not answer;
// those copies join the pending or running session, and a session that
// failed is not remembered, so a re-send after a failure is served. Session
// ids must differ between sessions (§6.2.2.10), so a new session is never
// mistaken for a replay unless a server reuses a session id without any
// nonce change within the window. InboxOptions.Served and Save keep the
// memory across restarts.
type Inbox struct {
	c *Client
	o InboxOptions

	saveMu  sync.Mutex // orders calls of o.Save
	mu      sync.Mutex
	ver     *notification.Verifier
	pending *Notification
	running *Notification
	ready   chan struct{}
	served  []servedEntry // ring of ReplayEntries
	next    int
	index   map[replayKey]int
	total   InboxStats
	since   InboxStats // dropped since the last summary
	last    time.Time  // of the last summary
}

// NewInbox returns an Inbox that queues sessions on c.
func (c *Client) NewInbox(o InboxOptions) *Inbox {
	if o.MaxDatagram <= 0 {
		o.MaxDatagram = DefaultMaxDatagram
	}
	if o.ReplayWindow <= 0 {
		o.ReplayWindow = DefaultReplayWindow
	}
	if o.ReplayEntries <= 0 {
		o.ReplayEntries = DefaultReplayEntries
	}
	if o.SummaryInterval <= 0 {
		o.SummaryInterval = DefaultSummaryInterval
	}
	if o.Now == nil {
		o.Now = c.cfg.Clock.Now
	}
	in := &Inbox{c: c, o: o, ready: make(chan struct{}, 1), index: make(map[replayKey]int)}
	for _, sp := range o.Served {
		in.remember(replayKey{sid: sp.SessionID, digest: sp.Digest}, sp.At, sp.Reset)
	}
	in.o.Served = nil
	return in
}

// Offer takes one datagram (raw package 0, WSP push PDU or SM user data)
// and says what became of it. It never blocks on a session and may be
// called from any goroutine; it does not keep b.
func (in *Inbox) Offer(b []byte) Verdict {
	if len(b) > in.o.MaxDatagram {
		return in.drop(VerdictOversize)
	}
	p, err := notification.DecodeAny(b)
	if err != nil {
		return in.drop(VerdictMalformed)
	}
	in.mu.Lock()
	n, v := in.c.checkPackage0(p, &in.ver)
	if n == nil {
		in.mu.Unlock()
		return in.drop(v)
	}
	v = in.admit(n)
	in.mu.Unlock()
	if v != VerdictQueued {
		return in.drop(v)
	}
	in.count(VerdictQueued)
	in.c.log.Info("package 0 verified; session queued", "server", p.ServerID, "session", p.SessionIDString(),
		"reset_nonce", n.Reset())
	return v
}

// admit queues an authenticated notification, coalesces it or refuses it
// as a replay; in.mu is held.
func (in *Inbox) admit(n *Notification) Verdict {
	k := n.keys[0]
	if i, ok := in.index[k]; ok {
		e := in.served[i]
		if e.reset || in.o.Now().Sub(e.at) < in.o.ReplayWindow {
			return VerdictReplayed
		}
	}
	if in.running != nil && in.running.has(k) {
		return VerdictCoalesced
	}
	if in.pending != nil {
		if in.pending.has(k) {
			return VerdictCoalesced
		}
		// Another trigger while one waits: one session, with the newest
		// trigger's session id; the older keys are remembered with it.
		old := in.pending.keys[:min(len(in.pending.keys), maxCoalesced-1)]
		n.keys = append(n.keys, old...)
		n.resets |= in.pending.resets << 1
		in.pending = n
		return VerdictCoalesced
	}
	in.pending = n
	select {
	case in.ready <- struct{}{}:
	default:
	}
	return VerdictQueued
}

func (n *Notification) has(k replayKey) bool {
	for _, x := range n.keys {
		if x.sid == k.sid && x.digest == k.digest {
			return true
		}
	}
	return false
}

// Ready is signalled when a session is pending (see Take).
func (in *Inbox) Ready() <-chan struct{} { return in.ready }

// Take returns the pending notification, now running, or nil. The caller
// runs it (Client.RunNotification) and then calls Done.
func (in *Inbox) Take() *Notification {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := in.pending
	in.pending = nil
	if n != nil {
		in.running = n
	}
	return n
}

// Done records how the session of n ended: when it completed or the user
// declined it, its packages (coalesced ones included) are remembered as
// served.
func (in *Inbox) Done(n *Notification, err error) {
	in.saveMu.Lock()
	defer in.saveMu.Unlock()
	in.mu.Lock()
	if in.running == n {
		in.running = nil
	}
	if err != nil && !errors.Is(err, ErrDeclined) {
		in.mu.Unlock()
		return
	}
	now := in.o.Now()
	for i, k := range n.keys {
		in.remember(k, now, n.resets&(1<<i) != 0)
	}
	var snap []ServedPackage
	if in.o.Save != nil {
		snap = in.servedLocked()
	}
	in.mu.Unlock()
	if snap != nil {
		in.o.Save(snap)
	}
}

// Served returns the memory of served packages, oldest first.
func (in *Inbox) Served() []ServedPackage {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.servedLocked()
}

func (in *Inbox) servedLocked() []ServedPackage {
	out := make([]ServedPackage, 0, len(in.served))
	for i := range in.served {
		// Once the ring is full, in.next is its oldest entry.
		e := in.served[(in.next+i)%len(in.served)]
		out = append(out, ServedPackage{SessionID: e.key.sid, Digest: e.key.digest, At: e.at, Reset: e.reset})
	}
	return out
}

// remember adds k to the ring of served packages; in.mu is held.
func (in *Inbox) remember(k replayKey, now time.Time, reset bool) {
	if i, ok := in.index[k]; ok {
		in.served[i].at = now
		in.served[i].reset = in.served[i].reset || reset
		return
	}
	e := servedEntry{key: k, at: now, reset: reset}
	if len(in.served) < in.o.ReplayEntries {
		in.index[k] = len(in.served)
		in.served = append(in.served, e)
		return
	}
	delete(in.index, in.served[in.next].key)
	in.served[in.next] = e
	in.index[k] = in.next
	in.next = (in.next + 1) % len(in.served)
}

// Run starts a session for each queued notification, one at a time, until
// ctx ends; it then logs the counts not yet summarised.
func (in *Inbox) Run(ctx context.Context) {
	defer in.Summarize()
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.ready:
		}
		for n := in.Take(); n != nil; n = in.Take() {
			_, err := in.c.RunNotification(ctx, n)
			in.Done(n, err)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// Stats returns the counts of every datagram offered so far, by verdict.
func (in *Inbox) Stats() InboxStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.total
}

func (in *Inbox) count(v Verdict) {
	in.mu.Lock()
	in.total[v]++
	in.mu.Unlock()
}

// drop counts a datagram that starts no session and logs the summary when
// SummaryInterval has passed since the last one.
func (in *Inbox) drop(v Verdict) Verdict {
	in.mu.Lock()
	in.total[v]++
	in.since[v]++
	var s InboxStats
	now := in.o.Now()
	due := now.Sub(in.last) >= in.o.SummaryInterval
	if due {
		s, in.since, in.last = in.since, InboxStats{}, now
	}
	in.mu.Unlock()
	if due {
		in.log(s)
	}
	return v
}

// Summarize logs the drops not yet summarised, if any.
func (in *Inbox) Summarize() {
	in.mu.Lock()
	s := in.since
	in.since, in.last = InboxStats{}, in.o.Now()
	in.mu.Unlock()
	in.log(s)
}

func (in *Inbox) log(s InboxStats) {
	if s == (InboxStats{}) {
		return
	}
	lvl := slog.LevelInfo
	if s[VerdictForged]+s[VerdictMalformed]+s[VerdictOversize]+s[VerdictForeign]+s[VerdictReplayed] > 0 {
		lvl = slog.LevelWarn
	}
	in.c.log.Log(context.Background(), lvl, "package 0 datagrams dropped",
		"forged", s[VerdictForged], "malformed", s[VerdictMalformed], "oversize", s[VerdictOversize],
		"foreign", s[VerdictForeign], "replayed", s[VerdictReplayed], "coalesced", s[VerdictCoalesced],
		"interval", in.o.SummaryInterval.String())
}
