package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// Value rules shared with the other SQL backend (storage/internal/sqlcommon).
const (
	defaultLimit = sqlcommon.DefaultLimit
	maxLimit     = sqlcommon.MaxLimit
	sweepChunk   = sqlcommon.SweepChunk
)

var (
	limit       = sqlcommon.Limit
	norm        = sqlcommon.Norm
	checkText   = sqlcommon.CheckText
	validState  = sqlcommon.ValidState
	blob        = sqlcommon.Blob
	prefixRange = sqlcommon.PrefixRange
)

// jsonOrNull encodes v for a JSON column, storing nil maps and slices as NULL.
func jsonOrNull(v any) (any, error) {
	b, err := sqlcommon.NullableJSON(v)
	if b == nil || err != nil {
		return nil, err
	}
	return string(b), nil
}

// now is the current time at the stored precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// micros is the stored form of a time: NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func unjson(s sql.NullString, v any, what string) error {
	if !s.Valid || s.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return fmt.Errorf("sqlite: stored %s is not valid JSON: %w", what, err)
	}
	return nil
}

// boolInt is SQLite's boolean.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
