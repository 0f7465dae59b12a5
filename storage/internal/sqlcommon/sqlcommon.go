// Package sqlcommon holds the value rules both SQL backends share, so SQLite
// and PostgreSQL accept, bound and return exactly the same data.
package sqlcommon

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
)

// Limits on list sizes: 0 (or less) asks for DefaultLimit, more than MaxLimit
// is cut to MaxLimit so one call cannot pull a whole table into memory.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// SweepChunk bounds one DELETE of a retention sweep (jobs, sessions,
// events): a backlog goes in many short writes, so none holds SQLite's
// single writer (or a PostgreSQL transaction) for long.
const SweepChunk = 2000

// Limit applies DefaultLimit and MaxLimit to a requested page size.
func Limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// Norm returns t as it will come back from the database (UTC, microseconds).
func Norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// CheckText rejects strings PostgreSQL cannot store (NUL bytes, invalid
// UTF-8). fields alternate name, value.
func CheckText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		v := fields[i+1]
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("storage: %s: text must be valid UTF-8 without NUL bytes", fields[i])
		}
	}
	return nil
}

// NullableJSON encodes v, returning nil for nil maps and slices so they are
// stored as NULL.
func NullableJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case map[string]string:
		if x == nil {
			return nil, nil
		}
	case []storage.ResultItem:
		if x == nil {
			return nil, nil
		}
	case []int:
		if x == nil {
			return nil, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("storage: encode: %w", err)
	}
	return b, nil
}

// ValidState reports whether s is one of the job states.
func ValidState(s storage.JobState) bool {
	switch s {
	case storage.JobQueued, storage.JobSent, storage.JobDone, storage.JobFailed, storage.JobCancelled:
		return true
	}
	return false
}

// Blob makes a nil byte slice an empty one for NOT NULL binary columns.
func Blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PrefixRange returns the bounds matching prefix itself and everything below
// it: uri = p OR (uri >= p+"/" AND uri < p+"0"), '0' being the byte after '/'.
// A trailing '/' in prefix is ignored, so "./A/" and "./A" mean the same.
func PrefixRange(prefix string) (p, lo, hi string) {
	p = strings.TrimSuffix(prefix, "/")
	return p, p + "/", p + "0"
}
