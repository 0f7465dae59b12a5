package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/storage"
)

// Label limits: a key is 1..MaxLabelKeyLen bytes of letters, digits and
// "._/-", starting with a letter or digit (so it can be written in a
// selector without quoting); a value is at most MaxLabelValueLen bytes of
// printable text (no control or format characters).
const (
	MaxLabelKeyLen   = 63
	MaxLabelValueLen = 256
	MaxLabels        = 64
)

// ValidateLabelKey checks a label key against the label rules.
func ValidateLabelKey(k string) error {
	if k == "" || len(k) > MaxLabelKeyLen {
		return fmt.Errorf("label key %q: want 1..%d characters", k, MaxLabelKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '/' || c == '-'):
		default:
			return fmt.Errorf("label key %q: want letters, digits and . _ / - (starting with a letter or digit)", k)
		}
	}
	return nil
}

// ValidateLabelValue checks a label value against the label rules.
func ValidateLabelValue(k, v string) error {
	if len(v) > MaxLabelValueLen || !storage.ValidIdentifier(v) {
		return fmt.Errorf("value of label %q: want at most %d bytes of printable text", k, MaxLabelValueLen)
	}
	return nil
}

// Selector shortcut names of DevInfo / DevDetail nodes. The server keeps
// the values the device reported for them (storage.Device.DevInfo).
// OMA-TS-DM_StdObj-V1_2 §5.2 (DevInfo: DevId, Man, Mod, DmV, Lang) and §5.3
// (DevDetail: DevTyp, OEM, FwV, SwV, HwV).
var devInfoKeys = map[string]string{
	"model":  "./DevInfo/Mod",
	"mod":    "./DevInfo/Mod",
	"man":    "./DevInfo/Man",
	"lang":   "./DevInfo/Lang",
	"dmv":    "./DevInfo/DmV",
	"fwv":    "./DevDetail/FwV",
	"swv":    "./DevDetail/SwV",
	"hwv":    "./DevDetail/HwV",
	"oem":    "./DevDetail/OEM",
	"devtyp": "./DevDetail/DevTyp",
}

// SelectorError is a selector that does not parse; Term is the offending
// term as written.
type SelectorError struct {
	Term string
	Msg  string
}

func (e *SelectorError) Error() string {
	if e.Term == "" {
		return "selector: " + e.Msg
	}
	return fmt.Sprintf("selector term %q: %s", e.Term, e.Msg)
}

// MaxSelectorLen bounds a selector's length.
const MaxSelectorLen = 4096

// ParseSelector turns a selector into the storage.DeviceQuery it means,
// relative windows (seen<24h) counted from now. See ParseSelectorAt.
func ParseSelector(s string) (storage.DeviceQuery, error) {
	return ParseSelectorAt(s, time.Now())
}

// ParseSelectorAt parses a selector: terms separated by commas, all of
// which must match (AND); "" selects every device. Terms:
//
//	label.KEY=VALUE   the label KEY has VALUE
//	label.KEY         the device carries the label KEY (any value)
//	model=, man=, lang=, dmv=         ./DevInfo/Mod, Man, Lang, DmV
//	fwv=, swv=, hwv=, oem=, devtyp=   ./DevDetail/FwV, SwV, HwV, OEM, DevTyp
//	./URI=VALUE       any reported DevInfo/DevDetail node, by URI
//	id=ID             exactly this device
//	id^=PREFIX        device IDs starting with PREFIX
//	group=NAME        members of the group (see Resolve for dynamic groups)
//	seen<DURATION     seen within the last DURATION (24h, 30m, 7d, 2w)
//	seen>DURATION     not seen for more than DURATION (never seen included)
//	seen=never        never seen
//	seen_after=TIME, seen_before=TIME   RFC 3339 bounds of the last session
//
// A value may be double-quoted ("a,b" or "say \"hi\"") to hold commas,
// quotes or spaces; unquoted values are trimmed of surrounding spaces.
// Giving one field twice (two model= terms, label.env twice) is an error,
// as is any unknown term; the error (*SelectorError) names the term.
func ParseSelectorAt(s string, now time.Time) (storage.DeviceQuery, error) {
	var q storage.DeviceQuery
	if len(s) > MaxSelectorLen {
		return q, &SelectorError{Msg: fmt.Sprintf("longer than %d bytes", MaxSelectorLen)}
	}
	terms, err := splitTerms(s)
	if err != nil {
		return q, err
	}
	seen := map[string]bool{}
	once := func(term, field string) error {
		if seen[field] {
			return &SelectorError{Term: term, Msg: field + " is given more than once"}
		}
		seen[field] = true
		return nil
	}
	for _, t := range terms {
		key, op, val, quoted := t.key, t.op, t.val, t.quoted
		bad := func(format string, args ...any) error {
			return &SelectorError{Term: t.raw, Msg: fmt.Sprintf(format, args...)}
		}
		if err := once(t.raw, fieldOf(key, op)); err != nil {
			return q, err
		}
		switch {
		case strings.HasPrefix(key, "label."):
			k := strings.TrimPrefix(key, "label.")
			if err := ValidateLabelKey(k); err != nil {
				return q, bad("%v", err)
			}
			switch {
			case op == "" || (op == "=" && val == "*" && !quoted):
				val = ""
			case op != "=":
				return q, bad("want label.KEY=VALUE or label.KEY")
			case val == "":
				return q, bad("empty value (write label.%s to match any value)", k)
			default:
				if err := ValidateLabelValue(k, val); err != nil {
					return q, bad("%v", err)
				}
			}
			if q.Labels == nil {
				q.Labels = map[string]string{}
			}
			q.Labels[k] = val
		case devInfoKeys[key] != "" || strings.HasPrefix(key, "./"):
			uri := devInfoKeys[key]
			if uri == "" {
				uri = key
				if len(uri) > storage.MaxURILen || !storage.ValidIdentifier(uri) {
					return q, bad("not a node URI")
				}
			}
			if op != "=" {
				return q, bad("want %s=VALUE", key)
			}
			if len(val) > 1024 || !storage.ValidIdentifier(val) {
				return q, bad("value: want at most 1024 bytes of printable text")
			}
			if q.DevInfo == nil {
				q.DevInfo = map[string]string{}
			}
			q.DevInfo[uri] = val
		case key == "id":
			if val == "" || len(val) > 256 || !storage.ValidIdentifier(val) {
				return q, bad("want a device ID of 1..256 printable characters")
			}
			switch op {
			case "=":
				q.IDs = []string{val}
			case "^=":
				q.IDPrefix = val
			default:
				return q, bad("want id=ID or id^=PREFIX")
			}
		case key == "group":
			if op != "=" {
				return q, bad("want group=NAME")
			}
			if err := ValidateGroupName(val); err != nil {
				return q, bad("%v", err)
			}
			q.Group = val
		case key == "seen":
			switch {
			case op == "=" && val == "never":
				q.SeenBefore = time.UnixMicro(1).UTC()
			case op == "<" || op == ">":
				d, err := parseAge(val)
				if err != nil {
					return q, bad("%v", err)
				}
				if op == "<" {
					q.SeenAfter = now.Add(-d).UTC()
				} else {
					q.SeenBefore = now.Add(-d).UTC()
				}
			default:
				return q, bad("want seen<DURATION, seen>DURATION or seen=never")
			}
		case key == "seen_after" || key == "seen_before":
			if op != "=" {
				return q, bad("want %s=TIME (RFC 3339)", key)
			}
			at, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return q, bad("%q is not an RFC 3339 time (2026-01-02T15:04:05Z)", val)
			}
			if key == "seen_after" {
				q.SeenAfter = at.UTC()
			} else {
				q.SeenBefore = at.UTC()
			}
		default:
			return q, bad("unknown term (want label.KEY=VALUE, model=, man=, fwv=, swv=, hwv=, lang=, dmv=, oem=, devtyp=, ./URI=, id=, id^=, group=, seen<, seen>, seen=never, seen_after=, seen_before=)")
		}
	}
	return q, nil
}

// fieldOf names the DeviceQuery field a term sets, so a field set twice is
// found whatever spelling each term used.
func fieldOf(key, op string) string {
	switch {
	case devInfoKeys[key] != "":
		return devInfoKeys[key]
	case key == "seen" && op == "<", key == "seen_after":
		return "SeenAfter"
	case key == "seen", key == "seen_before":
		return "SeenBefore"
	case key == "id" && op == "^=":
		return "IDPrefix"
	}
	return key
}

// parseAge reads a duration with the units of time.ParseDuration plus d
// (24 h) and w (7 d), e.g. 7d, 36h, 2w.
func parseAge(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 30m, 24h, 7d, 2w)", s)
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30m, 24h, 7d, 2w)", s)
	}
	return d, nil
}

type term struct {
	raw, key, op, val string
	quoted            bool
}

// splitTerms cuts a selector at commas outside double quotes and splits
// each term into key, operator (=, ^=, <, > or none) and value.
func splitTerms(s string) ([]term, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []term
	for rest := s; ; {
		raw, tail, err := cutTerm(rest)
		if err != nil {
			return nil, err
		}
		t := strings.TrimSpace(raw)
		if t == "" {
			return nil, &SelectorError{Term: s, Msg: "empty term (a comma too many?)"}
		}
		tm, err := parseTerm(t)
		if err != nil {
			return nil, err
		}
		out = append(out, tm)
		if tail == "" {
			return out, nil
		}
		rest = tail[1:] // drop the comma
	}
}

// cutTerm returns the text up to the first comma outside quotes and the
// rest starting at that comma ("" when none).
func cutTerm(s string) (string, string, error) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return s[:i], s[i:], nil
		}
	}
	if inQuote {
		return "", "", &SelectorError{Term: strings.TrimSpace(s), Msg: "unterminated quote"}
	}
	return s, "", nil
}

func parseTerm(t string) (term, error) {
	tm := term{raw: t}
	i := strings.IndexAny(t, "=<>^")
	if i < 0 {
		tm.key = t
		return tm, nil
	}
	tm.key = strings.TrimSpace(t[:i])
	switch {
	case strings.HasPrefix(t[i:], "^="):
		tm.op = "^="
	case t[i] == '^':
		return tm, &SelectorError{Term: t, Msg: "want ^= (prefix match)"}
	default:
		tm.op = t[i : i+1]
	}
	v := strings.TrimSpace(t[i+len(tm.op):])
	if strings.HasPrefix(v, `"`) {
		u, err := strconv.Unquote(v)
		if err != nil {
			return tm, &SelectorError{Term: t, Msg: "bad quoted value (want \"...\" with \\\" for a quote)"}
		}
		v, tm.quoted = u, true
	}
	tm.val = v
	if tm.key == "" {
		return tm, &SelectorError{Term: t, Msg: "missing name before " + tm.op}
	}
	return tm, nil
}

// Group name rules: 1..MaxGroupNameLen letters, digits and "._-", starting
// with a letter or digit.
const MaxGroupNameLen = 63

// ValidateGroupName checks a group name.
func ValidateGroupName(n string) error {
	if n == "" || len(n) > MaxGroupNameLen {
		return fmt.Errorf("group name %q: want 1..%d characters", n, MaxGroupNameLen)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return fmt.Errorf("group name %q: want letters, digits and . _ - (starting with a letter or digit)", n)
		}
	}
	return nil
}

// ErrUnknownGroup is a selector naming a group that does not exist.
var ErrUnknownGroup = errors.New("unknown group")

// maxGroupDepth bounds how deep dynamic groups may refer to each other.
const maxGroupDepth = 8

// Resolve makes q ready for storage: a Group that names a dynamic group is
// replaced by that group's selector (parsed now, merged into q; a selector
// may itself name a group, up to 8 levels), and a static group stays as the
// storage filter. A group that does not exist is an error wrapping
// ErrUnknownGroup and storage.ErrNotFound. A cycle of dynamic groups, a
// saved selector that no longer parses, or two conditions on one field (q
// says label.env=prod, the group's selector label.env=dev) is a
// *SelectorError naming the group term.
func Resolve(ctx context.Context, s storage.GroupStore, q storage.DeviceQuery) (storage.DeviceQuery, error) {
	return resolve(ctx, s, q, time.Now(), nil)
}

func resolve(ctx context.Context, s storage.GroupStore, q storage.DeviceQuery, now time.Time, path []string) (storage.DeviceQuery, error) {
	if q.Group == "" {
		return q, nil
	}
	bad := func(format string, args ...any) error {
		return &SelectorError{Term: "group=" + q.Group, Msg: fmt.Sprintf(format, args...)}
	}
	for _, p := range path {
		if p == q.Group {
			return q, bad("the group's selector refers back to itself (%s)", strings.Join(append(path, q.Group), " → "))
		}
	}
	if len(path) >= maxGroupDepth {
		return q, bad("dynamic groups nested more than %d deep", maxGroupDepth)
	}
	g, err := s.GetGroup(ctx, q.Group)
	if errors.Is(err, storage.ErrNotFound) {
		return q, fmt.Errorf("%w %q: %w", ErrUnknownGroup, q.Group, storage.ErrNotFound)
	}
	if err != nil {
		return q, err
	}
	if !g.Dynamic() {
		return q, nil
	}
	inner, err := ParseSelectorAt(g.Selector, now)
	if err != nil {
		return q, bad("its saved %v", err)
	}
	if inner, err = resolve(ctx, s, inner, now, append(path, g.Name)); err != nil {
		return q, err
	}
	q.Group = ""
	merged, err := Merge(q, inner)
	if err != nil {
		return q, bad("%v", err)
	}
	return merged, nil
}

// Merge returns the query matching what both a and b match (AND), with a's
// order, cursor and limit. Two conditions on one field are an error unless
// they are equal; LastSeen bounds combine to the narrower window.
func Merge(a, b storage.DeviceQuery) (storage.DeviceQuery, error) {
	out := a
	switch {
	case len(b.IDs) == 0:
	case len(a.IDs) == 0:
		out.IDs = b.IDs
	default:
		var both []string
		for _, id := range a.IDs {
			for _, x := range b.IDs {
				if id == x {
					both = append(both, id)
					break
				}
			}
		}
		if len(both) == 0 {
			return out, errors.New("the two ID lists have no device in common")
		}
		out.IDs = both
	}
	switch {
	case b.IDPrefix == "" || strings.HasPrefix(a.IDPrefix, b.IDPrefix):
	case strings.HasPrefix(b.IDPrefix, a.IDPrefix):
		out.IDPrefix = b.IDPrefix
	default:
		return out, fmt.Errorf("id^=%s and id^=%s exclude each other", a.IDPrefix, b.IDPrefix)
	}
	var err error
	if out.Labels, err = mergeMap("label.", a.Labels, b.Labels); err != nil {
		return out, err
	}
	if out.DevInfo, err = mergeMap("", a.DevInfo, b.DevInfo); err != nil {
		return out, err
	}
	switch {
	case b.Group == "" || b.Group == a.Group:
	case a.Group == "":
		out.Group = b.Group
	default:
		return out, fmt.Errorf("a selector can name one static group (group=%s and group=%s)", a.Group, b.Group)
	}
	if b.SeenAfter.After(out.SeenAfter) {
		out.SeenAfter = b.SeenAfter
	}
	if !b.SeenBefore.IsZero() && (out.SeenBefore.IsZero() || b.SeenBefore.Before(out.SeenBefore)) {
		out.SeenBefore = b.SeenBefore
	}
	return out, nil
}

func mergeMap(prefix string, a, b map[string]string) (map[string]string, error) {
	if len(b) == 0 {
		return a, nil
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if old, ok := out[k]; ok && old != v {
			switch {
			case old == "":
			case v == "":
				continue
			default:
				return nil, fmt.Errorf("%s%s=%s and %s%s=%s exclude each other", prefix, k, old, prefix, k, v)
			}
		}
		out[k] = v
	}
	return out, nil
}

// Select parses a selector and resolves its group (ParseSelector, then
// Resolve).
func Select(ctx context.Context, s storage.GroupStore, selector string) (storage.DeviceQuery, error) {
	q, err := ParseSelector(selector)
	if err != nil {
		return q, err
	}
	return Resolve(ctx, s, q)
}

// EachPage calls fn with every page of the devices q selects (after
// Resolve), following cursors until the last page or until fn returns an
// error (returned as is). q.Limit is the page size (0 = 100). Devices
// created while it runs are seen when they sort after the current page.
func EachPage(ctx context.Context, s storage.Store, q storage.DeviceQuery, fn func([]*storage.Device) error) error {
	q, err := Resolve(ctx, s, q)
	if err != nil {
		return err
	}
	for {
		ds, next, err := s.QueryDevices(ctx, q)
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			if err := fn(ds); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}
