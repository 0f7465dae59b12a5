package postgres

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// planCounts remembers, for countTTL, the counts that the device search
// probed to choose its plan, so that the pages of one search (and its
// repetitions) do not count the same index ranges again. A count only
// chooses the plan: a stale one can make a search slower, never its result
// different.
type planCounts struct {
	mu sync.Mutex
	m  map[string]countEntry
}

type countEntry struct {
	n, bound int // n < bound: the count; n == bound: at least bound
	at       time.Time
}

const (
	countTTL  = 30 * time.Second
	countKeys = 4096 // the map is emptied when it reaches this size
)

// countKey is the cache key of a probe: its query text and every argument
// (a string as it is, anything else as fmt prints it), NUL-separated.
func countKey(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		if s, ok := p.(string); ok {
			b.WriteString(s)
		} else {
			fmt.Fprint(&b, p)
		}
		b.WriteByte(0)
	}
	return b.String()
}

// get returns the count up to bound remembered under k.
func (c *planCounts) get(k string, bound int, now time.Time) (int, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) > countTTL || (e.n >= e.bound && bound > e.bound) {
		return 0, false
	}
	return min(e.n, bound), true
}

func (c *planCounts) put(k string, n, bound int, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= countKeys {
		c.m = map[string]countEntry{}
	}
	c.m[k] = countEntry{n, bound, now}
}
