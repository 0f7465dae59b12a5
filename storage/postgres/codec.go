package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/omadm/omadm/storage"
)

// Limits on list sizes: 0 (or less) asks for defaultLimit, more than maxLimit
// is cut to maxLimit so one call cannot pull a whole table into memory.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

func limit(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return min(n, maxLimit)
}

// norm returns t as it will come back from the database.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ts is the stored form of a time: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// checkText rejects strings the PostgreSQL backend cannot store (NUL bytes,
// invalid UTF-8), so that both backends accept exactly the same data.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		v := fields[i+1]
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("storage: %s: text must be valid UTF-8 without NUL bytes", fields[i])
		}
	}
	return nil
}

// jsonOrNull encodes v, storing nil maps and slices as NULL.
func jsonOrNull(v any) (any, error) {
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
	return json.RawMessage(b), nil
}

func validState(s storage.JobState) bool {
	switch s {
	case storage.JobQueued, storage.JobSent, storage.JobDone, storage.JobFailed, storage.JobCancelled:
		return true
	}
	return false
}

// blob makes a nil byte slice an empty one for NOT NULL BLOB columns.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// prefixRange returns the bounds matching prefix itself and everything below
// it: uri = p OR (uri >= p+"/" AND uri < p+"0"), '0' being the byte after '/'.
// A trailing '/' in prefix is ignored, so "./A/" and "./A" mean the same.
func prefixRange(prefix string) (p, lo, hi string) {
	p = strings.TrimSuffix(prefix, "/")
	return p, p + "/", p + "0"
}
