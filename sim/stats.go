package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Histogram records durations in log-linear buckets (about 3 % relative
// precision from 1 µs to over an hour) with atomic counters, so thousands of
// goroutines can record into one histogram without a lock and percentiles
// cost a fixed, small amount of memory however many samples arrive.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // µs
	max    atomic.Uint64 // µs
}

const (
	histLinear  = 64 // values below this (µs) have their own bucket
	histSub     = 32 // sub-buckets per power of two above histLinear
	histBuckets = histLinear + 58*histSub
)

// bucketOf maps a value in µs to its bucket.
func bucketOf(us uint64) int {
	if us < histLinear {
		return int(us)
	}
	e := bits.Len64(us) - 6 // us>>e is in [32, 64)
	m := int(us >> uint(e))
	i := histLinear + (e-1)*histSub + (m - histSub)
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketValue is the middle of bucket i, in µs.
func bucketValue(i int) float64 {
	if i < histLinear {
		return float64(i)
	}
	e := (i-histLinear)/histSub + 1
	m := (i-histLinear)%histSub + histSub
	lo := float64(uint64(m) << uint(e))
	return lo + float64(uint64(1)<<uint(e))/2
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sum.Add(us)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Mean is the average observation (0 when empty).
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load()/n) * time.Microsecond
}

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the q-quantile (0 < q ≤ 1) within the bucket precision; 0
// when empty. It never reports more than the largest observation.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	q = math.Min(math.Max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := time.Duration(bucketValue(i) * float64(time.Microsecond))
			return min(v, h.Max())
		}
	}
	return h.Max()
}

// Stats are the fleet's live counters. All methods are safe for concurrent use.
type Stats struct {
	start    time.Time
	Latency  Histogram // whole-session latency (first request to last answer)
	ok       atomic.Uint64
	failed   atomic.Uint64
	inFlight atomic.Int64
	msgs     atomic.Uint64 // round trips (messages sent)
	cmds     atomic.Uint64 // server commands executed
	notified atomic.Uint64 // package 0 received and matched to a device

	mu     sync.Mutex
	errors map[string]uint64
}

// NewStats starts counting now.
func NewStats() *Stats { return &Stats{start: time.Now(), errors: map[string]uint64{}} }

// begin marks a session in flight.
func (s *Stats) begin() { s.inFlight.Add(1) }

// end records a finished session: reason "" means success.
func (s *Stats) end(d time.Duration, msgs, cmds int, reason string) {
	s.inFlight.Add(-1)
	s.msgs.Add(uint64(msgs))
	s.cmds.Add(uint64(cmds))
	if reason == "" {
		s.ok.Add(1)
		s.Latency.Record(d)
		return
	}
	s.failed.Add(1)
	s.mu.Lock()
	s.errors[reason]++
	s.mu.Unlock()
}

// Snapshot is a point-in-time copy of the counters, ready for printing or JSON.
type Snapshot struct {
	Elapsed     time.Duration     `json:"-"`
	ElapsedSec  float64           `json:"elapsed_s"`
	Sessions    uint64            `json:"sessions"`
	OK          uint64            `json:"ok"`
	Failed      uint64            `json:"failed"`
	InFlight    int64             `json:"in_flight"`
	RoundTrips  uint64            `json:"round_trips"`
	Commands    uint64            `json:"commands"`
	Notified    uint64            `json:"notifications"`
	SessionsPS  float64           `json:"sessions_per_s"`
	RoundTripPS float64           `json:"round_trips_per_s"`
	P50         time.Duration     `json:"-"`
	P95         time.Duration     `json:"-"`
	P99         time.Duration     `json:"-"`
	Max         time.Duration     `json:"-"`
	P50ms       float64           `json:"p50_ms"`
	P95ms       float64           `json:"p95_ms"`
	P99ms       float64           `json:"p99_ms"`
	MaxMs       float64           `json:"max_ms"`
	Errors      map[string]uint64 `json:"errors"`
}

// Snapshot copies the counters; rates are over the whole run so far.
func (s *Stats) Snapshot() Snapshot {
	el := time.Since(s.start)
	sn := Snapshot{
		Elapsed: el, OK: s.ok.Load(), Failed: s.failed.Load(), InFlight: s.inFlight.Load(),
		RoundTrips: s.msgs.Load(), Commands: s.cmds.Load(), Notified: s.notified.Load(),
		P50: s.Latency.Quantile(0.50), P95: s.Latency.Quantile(0.95), P99: s.Latency.Quantile(0.99), Max: s.Latency.Max(),
		Errors: map[string]uint64{},
	}
	sn.Sessions = sn.OK + sn.Failed
	s.mu.Lock()
	for k, v := range s.errors {
		sn.Errors[k] = v
	}
	s.mu.Unlock()
	sn.fill()
	return sn
}

func (sn *Snapshot) fill() {
	sn.ElapsedSec = round3(sn.Elapsed.Seconds())
	if sec := sn.Elapsed.Seconds(); sec > 0 {
		sn.SessionsPS = round3(float64(sn.Sessions) / sec)
		sn.RoundTripPS = round3(float64(sn.RoundTrips) / sec)
	}
	ms := func(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }
	sn.P50ms, sn.P95ms, sn.P99ms, sn.MaxMs = ms(sn.P50), ms(sn.P95), ms(sn.P99), ms(sn.Max)
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// ProgressLine is the one-line live view: totals, the rate since prev (the
// previous snapshot; zero value for the first line) and latency percentiles.
func (sn Snapshot) ProgressLine(prev Snapshot) string {
	rate := sn.SessionsPS
	if dt := (sn.Elapsed - prev.Elapsed).Seconds(); prev.Elapsed > 0 && dt > 0 {
		rate = float64(sn.Sessions-prev.Sessions) / dt
	}
	return fmt.Sprintf("[%6.1fs] sessions %d ok %d failed %d in-flight %d | %.0f sessions/s | p50 %s p95 %s p99 %s%s",
		sn.Elapsed.Seconds(), sn.Sessions, sn.OK, sn.Failed, sn.InFlight, rate,
		fmtDur(sn.P50), fmtDur(sn.P95), fmtDur(sn.P99), sn.errorText())
}

func (sn Snapshot) errorText() string {
	if len(sn.Errors) == 0 {
		return ""
	}
	keys := make([]string, 0, len(sn.Errors))
	for k := range sn.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" | errors:")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, sn.Errors[k])
	}
	return b.String()
}

// fmtDur prints a latency with a sensible unit for a progress line.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// WriteText writes a human-readable summary.
func (sn Snapshot) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, `sessions:    %d (%d ok, %d failed) in %.1fs
rate:        %.1f sessions/s, %.1f round trips/s
latency:     p50 %s  p95 %s  p99 %s  max %s
commands:    %d executed on devices; %d notifications answered
`, sn.Sessions, sn.OK, sn.Failed, sn.Elapsed.Seconds(), sn.SessionsPS, sn.RoundTripPS,
		fmtDur(sn.P50), fmtDur(sn.P95), fmtDur(sn.P99), fmtDur(sn.Max), sn.Commands, sn.Notified)
	if err != nil {
		return err
	}
	if len(sn.Errors) > 0 {
		_, err = fmt.Fprintf(w, "errors:     %s\n", strings.TrimPrefix(sn.errorText(), " | errors:"))
	}
	return err
}

// WriteJSON writes the snapshot as one JSON object.
func (sn Snapshot) WriteJSON(w io.Writer) error {
	sn.fill()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sn)
}
