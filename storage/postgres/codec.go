package postgres

import (
	"encoding/json"
	"time"

	"github.com/omadm/omadm/storage/internal/sqlcommon"

	"github.com/jackc/pgx/v5/pgtype"
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
	return json.RawMessage(b), nil
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
