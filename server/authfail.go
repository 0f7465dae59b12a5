package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/omadm/omadm/storage"
)

// AuthLimits bound what failed authentications cost the server and tell an
// attacker. A failure changes nothing stored (see Engine.Handle); these
// limits govern the answer, the log and the events.
//
// Failures are counted in token buckets per device id (the SyncHdr Source,
// whether or not the device exists) and per source address. A failure that
// finds either bucket empty is answered with a SyncHdr Status 503 (Service
// unavailable, no Chal) instead of 401/407 with a challenge. Credentials are
// always checked first: a message with valid credentials is never limited,
// so forged traffic for a device's id cannot lock the device out, and a
// device behind an address it shares (carrier NAT) with an attacker keeps
// working.
//
// Zero fields take the defaults (DefaultAuthFail…); a negative rate turns
// that bucket off.
type AuthLimits struct {
	// DeviceRate is the failures per second a device id may cause before
	// being limited, DeviceBurst the bucket size.
	DeviceRate  float64
	DeviceBurst int
	// AddrRate and AddrBurst are the same per source address (the host
	// part of Inbound.RemoteAddr).
	AddrRate  float64
	AddrBurst int
	// LogEvery is the least time between two log lines about failed
	// authentications: the first failure after a quiet spell is logged at
	// once, later ones are counted and summed up in the next line. It
	// bounds the lines about refused messages the same way, per kind
	// (malformed, too large, bad header, unknown session token, …; the
	// omadm_server_messages_rejected_total counter counts every one), and
	// those about a device's misbehaviour (large objects that overflow or
	// are interrupted, values over the caps, commands DM does not define).
	// Negative: every line is written.
	LogEvery time.Duration
	// EventEvery is the least time between two "auth-failure" events of one
	// device: the first failure writes one, the failures that follow within
	// EventEvery are counted in the next one (for enrolled devices only).
	EventEvery time.Duration
}

// Defaults of AuthLimits.
const (
	DefaultAuthFailDeviceRate  = 1.0
	DefaultAuthFailDeviceBurst = 10
	DefaultAuthFailAddrRate    = 20.0
	DefaultAuthFailAddrBurst   = 200
	DefaultAuthFailLogEvery    = 10 * time.Second
	DefaultAuthFailEventEvery  = time.Minute
)

func (l AuthLimits) withDefaults() AuthLimits {
	if l.DeviceRate == 0 {
		l.DeviceRate = DefaultAuthFailDeviceRate
	}
	if l.DeviceBurst <= 0 {
		l.DeviceBurst = DefaultAuthFailDeviceBurst
	}
	if l.AddrRate == 0 {
		l.AddrRate = DefaultAuthFailAddrRate
	}
	if l.AddrBurst <= 0 {
		l.AddrBurst = DefaultAuthFailAddrBurst
	}
	if l.LogEvery == 0 {
		l.LogEvery = DefaultAuthFailLogEvery
	}
	if l.EventEvery <= 0 {
		l.EventEvery = DefaultAuthFailEventEvery
	}
	return l
}

// maxTracked bounds the memory of each bucket set and of the event
// aggregation: beyond it, entries that carry no information (full buckets,
// closed event windows) are dropped, and then arbitrary ones.
const maxTracked = 100_000

// buckets is a set of token buckets keyed by string.
type buckets struct {
	rate, burst float64
	mu          sync.Mutex
	m           map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(rate float64, burst int) *buckets {
	if rate < 0 {
		return nil
	}
	return &buckets{rate: rate, burst: float64(burst), m: map[string]*bucket{}}
}

// take spends one token of key's bucket and reports whether there was one.
func (b *buckets) take(key string, now time.Time) bool { return b.takeN(key, 1, now) }

// takeN spends n tokens of key's bucket when it holds as many and reports
// whether it did (all or nothing).
func (b *buckets) takeN(key string, n int, now time.Time) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.m[key]
	if !ok {
		if len(b.m) >= maxTracked {
			b.evict(now)
		}
		k = &bucket{tokens: b.burst, at: now}
		b.m[key] = k
	}
	k.tokens = min(b.burst, k.tokens+now.Sub(k.at).Seconds()*b.rate)
	k.at = now
	if k.tokens < float64(n) {
		return false
	}
	k.tokens -= float64(n)
	return true
}

// evict drops the buckets that have refilled (they hold no state a new
// bucket would not), then, if that freed too little, arbitrary ones.
func (b *buckets) evict(now time.Time) {
	for key, k := range b.m {
		if k.tokens+now.Sub(k.at).Seconds()*b.rate >= b.burst {
			delete(b.m, key)
		}
	}
	for key := range b.m {
		if len(b.m) < maxTracked*9/10 {
			break
		}
		delete(b.m, key)
	}
}

// authFailures limits, logs and aggregates failed authentications.
type authFailures struct {
	lim        AuthLimits
	byDevice   *buckets
	byAddr     *buckets
	mu         sync.Mutex
	lastLog    time.Time
	suppressed int                 // failures since the last log line
	ids        map[string]struct{} // device ids among them (bounded)
	agg        map[string]*failAgg // per enrolled device: the event window
}

// failAgg is one device's failures since its last auth-failure event.
type failAgg struct {
	since time.Time // when the last event was written
	count int
	addrs []string
	codes map[int]int
}

func newAuthFailures(l AuthLimits) *authFailures {
	l = l.withDefaults()
	return &authFailures{lim: l, byDevice: newBuckets(l.DeviceRate, l.DeviceBurst),
		byAddr: newBuckets(l.AddrRate, l.AddrBurst), ids: map[string]struct{}{}, agg: map[string]*failAgg{}}
}

// hostOf is the address part of a RemoteAddr ("ip:port").
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// limited spends a token of the device's and of the address's bucket and
// names the one that was empty ("" when neither was).
func (f *authFailures) limited(devID, remote string, now time.Time) string {
	dev := f.byDevice.take(devID, now)
	addr := true
	if h := hostOf(remote); h != "" {
		// A transport that names no peer shares no bucket between them.
		addr = f.byAddr.take(h, now)
	}
	switch {
	case !dev:
		return "device"
	case !addr:
		return "address"
	}
	return ""
}

// log writes one line for the first failure after LogEvery of quiet, with
// the number of failures (and distinct device ids) it sums up; the others
// are only counted.
func (f *authFailures) log(l *slog.Logger, devID, remote, sessionID string, code int, limitedBy string, now time.Time) {
	f.mu.Lock()
	f.suppressed++
	if len(f.ids) < 1000 {
		f.ids[devID] = struct{}{}
	}
	if !f.lastLog.IsZero() && now.Sub(f.lastLog) < f.lim.LogEvery {
		f.mu.Unlock()
		return
	}
	n, ids := f.suppressed, len(f.ids)
	f.suppressed, f.ids = 0, map[string]struct{}{}
	f.lastLog = now
	f.mu.Unlock()
	attrs := []any{"device", devID, "session", sessionID, "remote", remote, "status", code,
		"failures", n, "device_ids", ids, "every", f.lim.LogEvery}
	if limitedBy != "" {
		attrs = append(attrs, "rate_limited_by", limitedBy)
	}
	l.Warn("dm authentication failed", attrs...)
}

// event returns the auth-failure event to store for an enrolled device, or
// nil while its window is open (the failure is then counted for the next).
func (f *authFailures) event(devID, remote string, code int, now time.Time) *storage.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agg[devID]
	if a != nil && now.Sub(a.since) < f.lim.EventEvery {
		a.count++
		a.codes[code]++
		if h := hostOf(remote); len(a.addrs) < 8 && !contains(a.addrs, h) {
			a.addrs = append(a.addrs, h)
		}
		return nil
	}
	var more string
	if a != nil && a.count > 0 {
		more = fmt.Sprintf("; %d more since %s (%s) from %s", a.count, a.since.Format(time.RFC3339),
			codeSummary(a.codes), strings.Join(a.addrs, ", "))
	}
	if len(f.agg) >= maxTracked {
		for k, v := range f.agg {
			if now.Sub(v.since) >= f.lim.EventEvery || len(f.agg) >= maxTracked*9/10 {
				delete(f.agg, k)
			}
		}
	}
	f.agg[devID] = &failAgg{since: now, codes: map[int]int{}}
	return &storage.Event{Kind: "auth-failure", DeviceID: devID, CreatedAt: now,
		Data: fmt.Sprintf("authentication failed (%d) from %s%s", code, hostOf(remote), more)}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func codeSummary(m map[int]int) string {
	var parts []string
	for _, c := range []int{401, 407, 503} {
		if n := m[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, c))
		}
	}
	return strings.Join(parts, ", ")
}

// storeEvent writes an auth-failure event behind the sessions (or at once
// when traces are written with each message); a failure to store it is
// logged, never the message's concern.
func (e *Engine) storeEvent(ev *storage.Event) {
	if e.behind != nil {
		e.behind.add(nil, []*storage.Event{ev})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.store.AddEvent(ctx, ev); err != nil {
		e.log.Warn("storing auth-failure event failed", "device", ev.DeviceID, "err", err)
		return
	}
	e.emit(Update{Kind: "event", DeviceID: ev.DeviceID, EventID: ev.ID, EventKind: ev.Kind})
}

// drain returns the auth-failure events still owed (failures counted in
// open windows) and logs the failures not yet summed up; Engine.Close
// calls it so that the counts are not lost.
func (f *authFailures) drain(l *slog.Logger, now time.Time) []*storage.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.suppressed > 0 {
		l.Warn("dm authentication failed", "failures", f.suppressed, "device_ids", len(f.ids), "summary", "at shutdown")
	}
	f.suppressed, f.ids = 0, map[string]struct{}{}
	var evs []*storage.Event
	for id, a := range f.agg {
		if a.count > 0 {
			evs = append(evs, &storage.Event{Kind: "auth-failure", DeviceID: id, CreatedAt: now,
				Data: fmt.Sprintf("%d more failed authentications since %s (%s) from %s", a.count,
					a.since.Format(time.RFC3339), codeSummary(a.codes), strings.Join(a.addrs, ", "))})
		}
		delete(f.agg, id)
	}
	return evs
}
