package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DeviceQuery selects, sorts and pages devices: the fleet's search, the
// members of a group and the targets of a campaign all go through it. Every
// set field must match (AND); zero fields match everything.
type DeviceQuery struct {
	// IDs matches exactly these device IDs (an explicit target list).
	IDs []string
	// IDPrefix matches device IDs that start with it ("IMEI:35").
	IDPrefix string
	// Labels matches devices carrying every key=value given; a value of ""
	// matches any value of that key (the label is present).
	Labels map[string]string
	// DevInfo matches the devices' last reported ./DevInfo and ./DevDetail
	// values, by URI ("./DevInfo/Mod" → "X200"), exactly.
	DevInfo map[string]string
	// Group matches the members of a static group.
	Group string
	// SeenAfter and SeenBefore bound LastSeen, exclusive (zero: unbounded).
	// A device never seen has a zero LastSeen: SeenBefore matches it,
	// SeenAfter not. Bounds count in microseconds (the stored precision).
	SeenAfter, SeenBefore time.Time
	// Sort orders the result: "id" (default), "last_seen" or "created"; ties
	// are broken by ID. Desc reverses it.
	Sort string
	Desc bool
	// Cursor continues a previous query from where its page ended (the
	// cursor QueryDevices returned; "" = from the start). It is only valid
	// for the same query.
	Cursor string
	// Limit bounds the page (0 = 100, at most MaxQueryLimit).
	Limit int
}

// DeviceQuerier finds devices by a DeviceQuery.
type DeviceQuerier interface {
	// QueryDevices returns one page of the devices q selects, in q's order,
	// and the cursor of the next page ("" when this page is the last).
	QueryDevices(ctx context.Context, q DeviceQuery) (devices []*Device, next string, err error)
}

// Sort orders of a DeviceQuery.
const (
	SortID       = "id"
	SortLastSeen = "last_seen"
	SortCreated  = "created"
)

// ErrBadCursor reports a DeviceQuery.Cursor that is not one QueryDevices
// returned for the same query (garbled, or from another filter or order).
var ErrBadCursor = errors.New("storage: invalid cursor")

// ErrDynamicGroup reports a change of members asked of a dynamic group (its
// members are those its selector matches).
var ErrDynamicGroup = errors.New("storage: a dynamic group has no member list")

// Inventory is the fleet side of the device store: search, labels of many
// devices at once, and bulk import.
type Inventory interface {
	DeviceQuerier
	// UpdateLabels sets the labels in set and then removes the keys in
	// remove on every device of ids that exists (IDs of no device are
	// skipped), as one atomic unit. It returns how many devices it changed.
	// Keys and values are not validated here beyond what storage can hold.
	UpdateLabels(ctx context.Context, ids []string, set map[string]string, remove []string) (int, error)
	// ImportDevices creates devices as one atomic unit, like CreateDevice
	// each (password hashed, server password sealed, CreatedAt defaulted).
	// A device whose ID is taken (in the store or earlier in ds) or that
	// storage cannot hold is skipped: errs[i] says why ds[i] was not stored
	// (nil when it was; errors.Is(errs[i], ErrExists) for a taken ID). err is
	// a failure of the whole unit, in which case nothing is stored.
	ImportDevices(ctx context.Context, ds []*Device) (errs []error, err error)
}

// DeviceCursor is the decoded position a cursor stands for: the sort key
// (SortKey) and ID of the last device of a page.
type DeviceCursor struct {
	Key int64
	ID  string
}

// SortKey is the value a device sorts by under sort (SortLastSeen,
// SortCreated): the time in Unix microseconds, 0 for a zero time (a device
// never seen sorts first). SortID has no key (0); the ID decides.
func SortKey(sort string, d *Device) int64 {
	var t time.Time
	switch sort {
	case SortLastSeen:
		t = d.LastSeen
	case SortCreated:
		t = d.CreatedAt
	default:
		return 0
	}
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Prepare checks q and fills its defaults for a backend: Sort "" becomes
// SortID, Limit is bounded to [1, MaxQueryLimit] (0 = 100), and the cursor
// is decoded (nil for the first page). An unknown sort, or a cursor not made
// for this query's filter and order, is an error (ErrBadCursor for the
// latter).
func (q *DeviceQuery) Prepare() (*DeviceCursor, error) {
	switch q.Sort {
	case "":
		q.Sort = SortID
	case SortID, SortLastSeen, SortCreated:
	default:
		return nil, fmt.Errorf("storage: unknown sort %q (want %s, %s or %s)", q.Sort, SortID, SortLastSeen, SortCreated)
	}
	switch {
	case q.Limit <= 0:
		q.Limit = 100
	case q.Limit > MaxQueryLimit:
		q.Limit = MaxQueryLimit
	}
	if q.Cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil {
		return nil, fmt.Errorf("%w: not a cursor this server made", ErrBadCursor)
	}
	var c cursorJSON
	if err := json.Unmarshal(raw, &c); err != nil || c.V != 1 {
		return nil, fmt.Errorf("%w: not a cursor this server made", ErrBadCursor)
	}
	if c.S != q.Sort || c.D != q.Desc || c.F != q.fingerprint() {
		return nil, fmt.Errorf("%w: it belongs to a query with another filter or order", ErrBadCursor)
	}
	return &DeviceCursor{Key: c.K, ID: c.I}, nil
}

// MaxQueryLimit bounds one page of QueryDevices.
const MaxQueryLimit = 10000

// NextCursor is the cursor of the page after one that ended with last.
// q must have been prepared (Prepare).
func (q *DeviceQuery) NextCursor(last *Device) string {
	b, _ := json.Marshal(cursorJSON{V: 1, S: q.Sort, D: q.Desc, K: SortKey(q.Sort, last), I: last.ID, F: q.fingerprint()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// cursorJSON is a cursor's content before base64url: version, sort, desc,
// key, ID, and a fingerprint of the filter it belongs to.
type cursorJSON struct {
	V int    `json:"v"`
	S string `json:"s"`
	D bool   `json:"d,omitempty"`
	K int64  `json:"k,omitempty"`
	I string `json:"i"`
	F string `json:"f"`
}

// fingerprint is a short hash of the filter fields (not the order, cursor,
// limit or LastSeen bounds), so a cursor used with another filter is refused
// instead of silently paging through a different result. The LastSeen
// bounds are left out because a relative window ("seen in the last 24 h")
// moves between the pages of one listing.
func (q *DeviceQuery) fingerprint() string {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	ids := slices.Clone(q.IDs)
	slices.Sort(ids)
	for _, id := range ids {
		w(id)
	}
	w("\x01" + q.IDPrefix)
	for _, m := range []map[string]string{q.Labels, q.DevInfo} {
		w("\x02")
		for _, k := range slices.Sorted(maps.Keys(m)) {
			w(k)
			w(m[k])
		}
	}
	w("\x03" + q.Group)
	return strconv.FormatUint(h.Sum64(), 36)
}

func timeKey(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Match reports whether d passes every filter of q (IDs, IDPrefix, Labels,
// DevInfo, the LastSeen bounds); Group is not checked (membership is not
// part of the device). Backends without an index (memstore) and callers
// checking one device use it.
func (q *DeviceQuery) Match(d *Device) bool {
	if len(q.IDs) > 0 && !slices.Contains(q.IDs, d.ID) {
		return false
	}
	if !strings.HasPrefix(d.ID, q.IDPrefix) {
		return false
	}
	for k, v := range q.Labels {
		got, ok := d.Labels[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	for k, v := range q.DevInfo {
		if got, ok := d.DevInfo[k]; !ok || got != v {
			return false
		}
	}
	seen := timeKey(d.LastSeen)
	if !q.SeenAfter.IsZero() && seen <= timeKey(q.SeenAfter) {
		return false
	}
	if !q.SeenBefore.IsZero() && seen >= timeKey(q.SeenBefore) {
		return false
	}
	return true
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, in bytewise (code point) order, and false when there
// is none. Backends bound an ID prefix search with [prefix, end).
func PrefixEnd(prefix string) (string, bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		if r == utf8.RuneError && size <= 1 {
			continue
		}
		switch {
		case r == 0xD7FF:
			return prefix + string(rune(0xE000)), true
		case r < utf8.MaxRune:
			return prefix + string(r+1), true
		}
	}
	return "", false
}
