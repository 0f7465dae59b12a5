package storage

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rules a job must follow to be sent. They are the one place both the
// API (before it queues a job) and the server engine (before it sends one)
// check a JobSpec, so that what the API accepts is exactly what the engine
// sends.

// Limits on a job spec's fields.
const (
	MaxCorrelatorLen = 256
	MaxURILen        = 1024
	MaxItems         = 256
	MaxChildren      = 64
	MaxDataLen       = 4 << 20 // one item's data (the server splits it into large-object chunks)
	MaxTypeLen       = 256
	MaxAlertText     = 4096
	MaxChoices       = 64
)

// SpecError is a job spec that breaks a rule. Field is the path of the
// offending field in the spec's JSON ("children[1].items[0].data").
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func specErr(field, format string, args ...any) *SpecError {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// under prefixes the field of a SpecError with parent.
func under(parent string, err error) error {
	if se, ok := err.(*SpecError); ok {
		se.Field = parent + "." + se.Field
	}
	return err
}

// Commands a job can carry, and which may appear inside a group.
// OMA-TS-DM_RepPro-V1_2 (DM usage of the RepPro commands): Atomic
// holds Add, Alert, Copy, Delete, Replace (no Get, no Exec, no nested
// Atomic); Sequence holds Add, Replace, Delete, Copy, Get, Exec, Alert. DM
// lists no group inside a group.
var (
	jobCommands = []string{"Get", "Replace", "Add", "Delete", "Exec", "Copy", "Atomic", "Sequence", "Alert"}
	inAtomic    = map[string]bool{"Add": true, "Alert": true, "Copy": true, "Delete": true, "Replace": true}
	inSequence  = map[string]bool{"Add": true, "Replace": true, "Delete": true, "Copy": true, "Get": true,
		"Exec": true, "Alert": true}
	formats = map[string]bool{"chr": true, "int": true, "bool": true, "b64": true, "bin": true, "node": true,
		"null": true, "xml": true, "date": true, "time": true, "float": true}
	properties = map[string]bool{"ACL": true, "Format": true, "Name": true, "Size": true, "Title": true,
		"TStamp": true, "Type": true, "VerNo": true}
)

// CanonicalCommand maps a case-insensitive command name ("replace") to its
// SyncML spelling ("Replace"); ok is false for names a job cannot carry.
func CanonicalCommand(name string) (string, bool) {
	for _, c := range jobCommands {
		if strings.EqualFold(c, name) {
			return c, true
		}
	}
	return "", false
}

// ValidateJobSpec checks every rule a job must follow to be sent. Command
// names must be spelled canonically (CanonicalCommand).
func ValidateJobSpec(s JobSpec) error {
	return validateSpec(s, "")
}

func validateSpec(s JobSpec, parent string) error {
	cmd := s.Command
	if c, ok := CanonicalCommand(cmd); !ok || c != cmd {
		return specErr("command", "unknown command %q (want Get, Replace, Add, Delete, Exec, Copy, Atomic, Sequence or Alert)", cmd)
	}
	switch parent {
	case "Atomic":
		if !inAtomic[cmd] {
			return specErr("command", "%s is not allowed inside Atomic (allowed: Add, Alert, Copy, Delete, Replace)", cmd)
		}
	case "Sequence":
		if !inSequence[cmd] {
			return specErr("command", "%s is not allowed inside Sequence (allowed: Add, Replace, Delete, Copy, Get, Exec, Alert)", cmd)
		}
	}
	if s.Set && cmd != "Add" && cmd != "Replace" {
		return specErr("set", "only applies to Add and Replace")
	}
	if len(s.Correlator) > MaxCorrelatorLen || !ValidIdentifier(s.Correlator) {
		return specErr("correlator", "must be at most %d bytes without control or format characters", MaxCorrelatorLen)
	}
	if s.Correlator != "" && cmd != "Exec" {
		return specErr("correlator", "only applies to Exec")
	}
	switch cmd {
	case "Atomic", "Sequence":
		if len(s.Items) > 0 || s.Alert != nil {
			return specErr("items", "%s takes children, not items or an alert", cmd)
		}
		if len(s.Children) == 0 {
			return specErr("children", "%s needs at least one child command", cmd)
		}
		if len(s.Children) > MaxChildren {
			return specErr("children", "more than %d children", MaxChildren)
		}
		for i, c := range s.Children {
			if err := validateSpec(c, cmd); err != nil {
				return under(fmt.Sprintf("children[%d]", i), err)
			}
		}
		return nil
	case "Alert":
		if len(s.Items) > 0 || len(s.Children) > 0 {
			return specErr("alert", "an Alert job takes only the alert object")
		}
		return validateAlert(s.Alert)
	}
	if len(s.Children) > 0 || s.Alert != nil {
		return specErr("items", "%s takes items, not children or an alert", cmd)
	}
	if len(s.Items) == 0 {
		return specErr("items", "%s needs at least one item", cmd)
	}
	if len(s.Items) > MaxItems {
		return specErr("items", "more than %d items", MaxItems)
	}
	if cmd == "Exec" && len(s.Items) != 1 {
		return specErr("items", "Exec takes exactly one item")
	}
	for i, it := range s.Items {
		if err := validateItem(cmd, it); err != nil {
			return under(fmt.Sprintf("items[%d]", i), err)
		}
	}
	return nil
}

func validateItem(cmd string, it JobItem) error {
	if err := ValidateURI(it.URI, cmd == "Get"); err != nil {
		return err
	}
	if cmd == "Copy" {
		if it.Source == "" {
			return specErr("source", "Copy needs a source URI")
		}
		if err := ValidateURI(it.Source, false); err != nil {
			err.(*SpecError).Field = "source"
			return err
		}
	} else if it.Source != "" {
		return specErr("source", "only applies to Copy")
	}
	if it.Format != "" && !formats[it.Format] {
		return specErr("format", "unknown format %q (want chr, int, bool, b64, bin, node, null, xml, date, time or float)", it.Format)
	}
	if len(it.Type) > MaxTypeLen || !Printable(it.Type) || strings.ContainsAny(it.Type, " \t") {
		return specErr("type", "must be a MIME type of at most %d bytes without spaces", MaxTypeLen)
	}
	if len(it.Data) > MaxDataLen {
		return specErr("data", "longer than %d bytes", MaxDataLen)
	}
	switch cmd {
	case "Get", "Delete", "Copy":
		if it.Data != "" || it.HasData || it.Format != "" || it.Type != "" {
			return specErr("data", "%s takes no data, format or type", cmd)
		}
		return nil
	case "Exec":
		return nil
	}
	// Add and Replace.
	if strings.Contains(it.URI, "?list=") {
		return specErr("uri", "?list= only applies to Get")
	}
	if strings.Contains(it.URI, "?prop=") && cmd == "Add" {
		return specErr("uri", "properties cannot be added (Add ?prop= is never allowed)")
	}
	if err := validateData(it.Format, it.Data); err != nil {
		return err
	}
	if it.Format == "node" && cmd == "Replace" {
		return specErr("format", "Replace cannot set an interior node (format node)")
	}
	return nil
}

// validateData checks a value matches its declared format, so a typo is
// reported to the operator now rather than as a 4xx status from the device
// later.
func validateData(format, data string) error {
	switch format {
	case "int":
		if _, err := strconv.ParseInt(data, 10, 32); err != nil {
			return specErr("data", "%q is not a 32-bit signed integer", data)
		}
	case "bool":
		if data != "true" && data != "false" {
			return specErr("data", "%q is not true or false", data)
		}
	case "b64", "bin":
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return specErr("data", "not valid base64: %v", err)
		}
	case "float":
		if _, err := strconv.ParseFloat(data, 32); err != nil {
			return specErr("data", "%q is not a float", data)
		}
	case "node", "null":
		if data != "" {
			return specErr("data", "format %s takes no data", format)
		}
	}
	return nil
}

// ValidateURI checks a device URI the server will send: "." or a relative URI
// ("./A/B" or "A/B") without empty, "." or ".." segments or a trailing "/"
// (OMA-TS-DM_TND-V1_2 §6). allowQuery permits one ?prop=<Name> or
// ?list=<Struct…> suffix (Get only). The error's Field is "uri".
func ValidateURI(uri string, allowQuery bool) error {
	if uri == "" {
		return specErr("uri", "must not be empty")
	}
	if len(uri) > MaxURILen {
		return specErr("uri", "longer than %d bytes", MaxURILen)
	}
	if !Printable(uri) {
		return specErr("uri", "%q must be printable UTF-8 without control characters", uri)
	}
	path, query, hasQuery := strings.Cut(uri, "?")
	if hasQuery {
		if !allowQuery && !strings.HasPrefix(query, "prop=") {
			return specErr("uri", "%q: query suffix not allowed here", uri)
		}
		if err := validateQuery(uri, query); err != nil {
			return err
		}
	}
	if path == "." {
		return nil
	}
	if strings.HasPrefix(path, "/") {
		return specErr("uri", "%q must be relative (./A/B or A/B), not absolute", uri)
	}
	path = strings.TrimPrefix(path, "./")
	if path == "" {
		return specErr("uri", "%q: the root is \".\", never \"./\"", uri)
	}
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "":
			return specErr("uri", "%q has an empty segment or a trailing /", uri)
		case ".", "..":
			return specErr("uri", "%q: %q segments are not allowed", uri, seg)
		case "*":
			return specErr("uri", "%q: a bare * is not a node name", uri)
		}
	}
	return nil
}

func validateQuery(uri, q string) error {
	name, val, _ := strings.Cut(q, "=")
	switch name {
	case "prop":
		if !properties[val] {
			return specErr("uri", "%q: unknown property %q", uri, val)
		}
	case "list":
		if val == "" || strings.Trim(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+") != "" {
			return specErr("uri", "%q: bad ?list= value", uri)
		}
	default:
		return specErr("uri", "%q: unknown query %q (want ?prop= or ?list=)", uri, name)
	}
	return nil
}

func validateAlert(a *UIAlert) error {
	if a == nil {
		return specErr("alert", "an Alert job needs an alert object")
	}
	// OMA-TS-DM_Protocol-V1_2 §10 (user interaction): 1100 display, 1101
	// confirm, 1102 text input, 1103 single choice, 1104 multiple choice.
	if a.Code < 1100 || a.Code > 1104 {
		return specErr("alert.code", "%d is not a UI alert code (1100 display, 1101 confirm, 1102 text input, 1103 single choice, 1104 multiple choice)", a.Code)
	}
	if a.Text == "" || len(a.Text) > MaxAlertText {
		return specErr("alert.text", "must be 1..%d bytes", MaxAlertText)
	}
	if a.MinDT < 0 || a.MaxDT < 0 || a.MaxLen < 0 {
		return specErr("alert", "mindt, maxdt and maxlen must not be negative")
	}
	if a.MaxDT > 0 && a.MinDT > a.MaxDT {
		return specErr("alert.mindt", "greater than maxdt")
	}
	switch a.InputType {
	case "", "A", "N", "D", "T", "P", "I":
	default:
		return specErr("alert.input_type", "%q (want A, N, D, T, P or I)", a.InputType)
	}
	switch a.EchoType {
	case "", "T", "P":
	default:
		return specErr("alert.echo_type", "%q (want T or P)", a.EchoType)
	}
	if (a.InputType != "" || a.EchoType != "" || a.MaxLen != 0) && a.Code != 1102 {
		return specErr("alert", "input_type, echo_type and maxlen only apply to text input (1102)")
	}
	choice := a.Code == 1103 || a.Code == 1104
	if choice && len(a.Choices) == 0 {
		return specErr("alert.choices", "a choice alert needs at least one choice")
	}
	if !choice && len(a.Choices) > 0 {
		return specErr("alert.choices", "only apply to choice alerts (1103, 1104)")
	}
	if len(a.Choices) > MaxChoices {
		return specErr("alert.choices", "more than %d choices", MaxChoices)
	}
	for i, c := range a.Choices {
		if c == "" || len(c) > MaxAlertText {
			return specErr(fmt.Sprintf("alert.choices[%d]", i), "must be 1..%d bytes", MaxAlertText)
		}
	}
	if a.Code == 1101 && a.Default != "" && a.Default != "0" && a.Default != "1" {
		return specErr("alert.default", "a confirm default is 0 (reject) or 1 (accept)")
	}
	return nil
}

// Printable reports whether s is valid UTF-8 without control characters.
func Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ValidIdentifier reports whether s may name something an operator reads
// and types: a device id, a username, a label key or value, a correlator.
// Valid UTF-8 without control (Cc) or format (Cf) characters — the latter
// include the bidi embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069) and the zero-width characters (U+200B–U+200D, U+2060,
// U+FEFF) that make two different ids look the same or reorder what a
// console shows — nor line or paragraph separators.
func ValidIdentifier(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return false
		}
	}
	return true
}
