package api

import (
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
)

// Limits on request fields. They keep one request from storing unbounded data
// and match what a DM device can take anyway.
const (
	MaxIDLen       = 256
	MaxURILen      = 1024
	MaxSecretLen   = 256
	MaxLabels      = 64
	MaxLabelKeyLen = 64
	MaxLabelValLen = 256
	MaxItems       = 256
	MaxChildren    = 64
	MaxDataLen     = 4 << 20 // one item's data (the server splits it into large-object chunks)
	MaxTypeLen     = 256
	MaxAlertText   = 4096
	MaxChoices     = 64
)

// ValidationError reports a request the API refuses (HTTP 400/422), naming
// the offending field so an operator can fix it without guessing.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ValidAuth reports whether s is an auth scheme the server implements.
func ValidAuth(s string) bool { return s == AuthBasic || s == AuthMD5 || s == AuthHMAC }

// ValidateDeviceID checks a device id: non-empty, bounded, printable.
func ValidateDeviceID(id string) error {
	switch {
	case id == "":
		return invalid("id", "must not be empty")
	case len(id) > MaxIDLen:
		return invalid("id", "longer than %d bytes", MaxIDLen)
	case !printable(id):
		return invalid("id", "must be printable UTF-8 without control characters")
	}
	return nil
}

// ValidateDeviceCreate checks a POST /devices body and fills defaults (auth
// md5, the scheme OMA DM 1.2 requires every device to support).
func ValidateDeviceCreate(d *DeviceCreate) error {
	if err := ValidateDeviceID(d.ID); err != nil {
		return err
	}
	if d.Auth == "" {
		d.Auth = AuthMD5
	}
	if !ValidAuth(d.Auth) {
		return invalid("auth", "unknown scheme %q (want basic, md5 or hmac)", d.Auth)
	}
	if err := validateSecret("username", d.Username, true); err != nil {
		return err
	}
	if err := validateSecret("password", d.Password, true); err != nil {
		return err
	}
	if err := validateSecret("server_password", d.ServerPassword, false); err != nil {
		return err
	}
	if err := ValidateNotifyAddr(d.NotifyAddr); err != nil {
		return err
	}
	return validateLabels(d.Labels)
}

// ValidateDeviceUpdate checks a PATCH /devices/{id} body.
func ValidateDeviceUpdate(u *DeviceUpdate) error {
	if u.Auth != nil && !ValidAuth(*u.Auth) {
		return invalid("auth", "unknown scheme %q (want basic, md5 or hmac)", *u.Auth)
	}
	if u.Username != nil {
		if err := validateSecret("username", *u.Username, true); err != nil {
			return err
		}
	}
	if u.Password != nil {
		if err := validateSecret("password", *u.Password, true); err != nil {
			return err
		}
	}
	if u.ServerPassword != nil {
		if err := validateSecret("server_password", *u.ServerPassword, true); err != nil {
			return err
		}
	}
	if u.NotifyAddr != nil {
		if err := ValidateNotifyAddr(*u.NotifyAddr); err != nil {
			return err
		}
	}
	return validateLabels(u.Labels)
}

// ApplyDeviceUpdate changes d as u asks. It must be called after
// ValidateDeviceUpdate.
func ApplyDeviceUpdate(d *storage.Device, u *DeviceUpdate) {
	if u.Username != nil {
		d.Username = *u.Username
	}
	if u.Password != nil {
		d.Password = *u.Password
	}
	if u.ServerPassword != nil {
		d.ServerPassword = *u.ServerPassword
	}
	if u.Auth != nil {
		d.AuthScheme = *u.Auth
	}
	if u.NotifyAddr != nil {
		d.NotifyAddr = *u.NotifyAddr
	}
	if u.Labels != nil {
		d.Labels = u.Labels
	}
}

func validateSecret(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return invalid(field, "must not be empty")
	case len(v) > MaxSecretLen:
		return invalid(field, "longer than %d bytes", MaxSecretLen)
	case !printable(v):
		return invalid(field, "must be printable UTF-8 without control characters")
	}
	return nil
}

func validateLabels(l map[string]string) error {
	if len(l) > MaxLabels {
		return invalid("labels", "more than %d labels", MaxLabels)
	}
	for k, v := range l {
		if k == "" || len(k) > MaxLabelKeyLen || !printable(k) {
			return invalid("labels", "key %q must be 1..%d printable bytes", k, MaxLabelKeyLen)
		}
		if len(v) > MaxLabelValLen || !printable(v) {
			return invalid("labels", "value of %q must be at most %d printable bytes", k, MaxLabelValLen)
		}
	}
	return nil
}

// ValidateNotifyAddr checks where package 0 is sent: "" (none),
// "udp://host:port" or "sms:+number".
func ValidateNotifyAddr(a string) error {
	switch {
	case a == "":
		return nil
	case strings.HasPrefix(a, "udp://"):
		host, port, err := net.SplitHostPort(strings.TrimPrefix(a, "udp://"))
		if err != nil || host == "" {
			return invalid("notify_addr", "%q: want udp://host:port", a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return invalid("notify_addr", "%q: port must be 1..65535", a)
		}
		return nil
	case strings.HasPrefix(a, "sms:"):
		n := strings.TrimPrefix(a, "sms:")
		digits := strings.TrimPrefix(n, "+")
		if len(digits) < 3 || len(digits) > 20 || strings.TrimLeft(digits, "0123456789") != "" {
			return invalid("notify_addr", "%q: want sms:+<3..20 digits>", a)
		}
		return nil
	}
	return invalid("notify_addr", "%q: unsupported scheme (want udp://host:port or sms:+number)", a)
}

// Commands a job can carry, and which of them may appear inside a group
// (OMA DM 1.2 RepPro: Atomic holds Add, Alert, Copy, Delete, Replace;
// Sequence holds Add, Replace, Delete, Copy, Get, Exec, Alert).
var (
	commands = map[string]bool{"Get": true, "Replace": true, "Add": true, "Delete": true, "Exec": true,
		"Copy": true, "Atomic": true, "Sequence": true, "Alert": true}
	inAtomic   = map[string]bool{"Add": true, "Alert": true, "Copy": true, "Delete": true, "Replace": true}
	inSequence = map[string]bool{"Add": true, "Replace": true, "Delete": true, "Copy": true, "Get": true,
		"Exec": true, "Alert": true}
	formats = map[string]bool{"chr": true, "int": true, "bool": true, "b64": true, "bin": true, "node": true,
		"null": true, "xml": true, "date": true, "time": true, "float": true}
	properties = map[string]bool{"ACL": true, "Format": true, "Name": true, "Size": true, "Title": true,
		"TStamp": true, "Type": true, "VerNo": true}
)

// CanonicalCommand maps a case-insensitive command name ("replace") to its
// SyncML spelling ("Replace"); ok is false for unknown names.
func CanonicalCommand(name string) (string, bool) {
	for c := range commands {
		if strings.EqualFold(c, name) {
			return c, true
		}
	}
	return "", false
}

// ValidateJobRequest checks a job request and converts it to the spec the
// engine queues. Command names are accepted in any case.
func ValidateJobRequest(r *JobRequest) (storage.JobSpec, error) {
	return validateSpec(r, "", 0)
}

func validateSpec(r *JobRequest, parent string, depth int) (storage.JobSpec, error) {
	var spec storage.JobSpec
	cmd, ok := CanonicalCommand(r.Command)
	if !ok {
		return spec, invalid("command", "unknown command %q (want Get, Replace, Add, Delete, Exec, Copy, Atomic, Sequence or Alert)", r.Command)
	}
	switch parent {
	case "Atomic":
		if !inAtomic[cmd] {
			return spec, invalid("children", "%s is not allowed inside Atomic (allowed: Add, Alert, Copy, Delete, Replace)", cmd)
		}
	case "Sequence":
		if !inSequence[cmd] {
			return spec, invalid("children", "%s is not allowed inside Sequence (allowed: Add, Replace, Delete, Copy, Get, Exec, Alert)", cmd)
		}
	}
	spec.Command = cmd
	spec.Set = r.Set
	if r.Set && cmd != "Add" && cmd != "Replace" {
		return spec, invalid("set", "only applies to Add and Replace")
	}
	if len(r.Correlator) > MaxIDLen || !printable(r.Correlator) {
		return spec, invalid("correlator", "must be at most %d printable bytes", MaxIDLen)
	}
	if r.Correlator != "" && cmd != "Exec" {
		return spec, invalid("correlator", "only applies to Exec")
	}
	spec.Correlator = r.Correlator

	switch cmd {
	case "Atomic", "Sequence":
		if len(r.Items) > 0 || r.Alert != nil {
			return spec, invalid("items", "%s takes children, not items or an alert", cmd)
		}
		if len(r.Children) == 0 {
			return spec, invalid("children", "%s needs at least one child command", cmd)
		}
		if len(r.Children) > MaxChildren {
			return spec, invalid("children", "more than %d children", MaxChildren)
		}
		if depth > 0 && cmd == "Atomic" && parent == "Atomic" {
			return spec, invalid("children", "nested Atomic is not allowed")
		}
		for i := range r.Children {
			c, err := validateSpec(&r.Children[i], cmd, depth+1)
			if err != nil {
				if ve, ok := err.(*ValidationError); ok {
					ve.Field = fmt.Sprintf("children[%d].%s", i, ve.Field)
				}
				return spec, err
			}
			spec.Children = append(spec.Children, c)
		}
		return spec, nil
	case "Alert":
		if len(r.Items) > 0 || len(r.Children) > 0 {
			return spec, invalid("alert", "an Alert job takes only the alert object")
		}
		a, err := validateAlert(r.Alert)
		if err != nil {
			return spec, err
		}
		spec.Alert = a
		return spec, nil
	}
	if len(r.Children) > 0 || r.Alert != nil {
		return spec, invalid("items", "%s takes items, not children or an alert", cmd)
	}
	if len(r.Items) == 0 {
		return spec, invalid("items", "%s needs at least one item", cmd)
	}
	if len(r.Items) > MaxItems {
		return spec, invalid("items", "more than %d items", MaxItems)
	}
	if cmd == "Exec" && len(r.Items) != 1 {
		return spec, invalid("items", "Exec takes exactly one item")
	}
	for i, it := range r.Items {
		si, err := validateItem(cmd, it)
		if err != nil {
			if ve, ok := err.(*ValidationError); ok {
				ve.Field = fmt.Sprintf("items[%d].%s", i, ve.Field)
			}
			return spec, err
		}
		spec.Items = append(spec.Items, si)
	}
	return spec, nil
}

func validateItem(cmd string, it JobItem) (storage.JobItem, error) {
	out := storage.JobItem{URI: it.URI, Source: it.Source, Format: it.Format, Type: it.Type, Data: it.Data}
	if err := ValidateURI(it.URI, cmd == "Get"); err != nil {
		return out, err
	}
	if cmd == "Copy" {
		if it.Source == "" {
			return out, invalid("source", "Copy needs a source URI")
		}
		if err := ValidateURI(it.Source, false); err != nil {
			ve := err.(*ValidationError)
			ve.Field = "source"
			return out, ve
		}
	} else if it.Source != "" {
		return out, invalid("source", "only applies to Copy")
	}
	if it.Format != "" && !formats[it.Format] {
		return out, invalid("format", "unknown format %q (want chr, int, bool, b64, bin, node, null, xml, date, time or float)", it.Format)
	}
	if len(it.Type) > MaxTypeLen || !printable(it.Type) || strings.ContainsAny(it.Type, " \t") {
		return out, invalid("type", "must be a MIME type of at most %d bytes without spaces", MaxTypeLen)
	}
	if len(it.Data) > MaxDataLen {
		return out, invalid("data", "longer than %d bytes", MaxDataLen)
	}
	switch cmd {
	case "Get", "Delete", "Copy":
		if it.Data != "" || it.Format != "" || it.Type != "" {
			return out, invalid("data", "%s takes no data, format or type", cmd)
		}
		return out, nil
	case "Exec":
		out.HasData = it.Data != ""
		return out, nil
	}
	// Add and Replace.
	if strings.Contains(it.URI, "?list=") {
		return out, invalid("uri", "?list= only applies to Get")
	}
	if strings.Contains(it.URI, "?prop=") && cmd == "Add" {
		return out, invalid("uri", "properties cannot be added (Add ?prop= is never allowed)")
	}
	if err := validateData(it.Format, it.Data); err != nil {
		return out, err
	}
	if it.Format == "node" {
		if cmd == "Replace" {
			return out, invalid("format", "Replace cannot set an interior node (format node)")
		}
		return out, nil
	}
	out.HasData = true // an empty leaf value is still a value: send <Data/>
	return out, nil
}

// validateData checks a value matches its declared format, so a typo is
// reported to the operator now rather than as a 4xx status from the device
// later.
func validateData(format, data string) error {
	switch format {
	case "int":
		if _, err := strconv.ParseInt(data, 10, 32); err != nil {
			return invalid("data", "%q is not a 32-bit signed integer", data)
		}
	case "bool":
		if data != "true" && data != "false" {
			return invalid("data", "%q is not true or false", data)
		}
	case "b64", "bin":
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return invalid("data", "not valid base64: %v", err)
		}
	case "float":
		if _, err := strconv.ParseFloat(data, 32); err != nil {
			return invalid("data", "%q is not a float", data)
		}
	case "node", "null":
		if data != "" {
			return invalid("data", "format %s takes no data", format)
		}
	}
	return nil
}

// ValidateURI checks a device URI the server will send: "." or a relative URI
// ("./A/B" or "A/B") without empty, "." or ".." segments or a trailing "/"
// (OMA DM 1.2 TND §6). allowQuery permits one ?prop=<Name> or ?list=<Struct…>
// suffix (Get only).
func ValidateURI(uri string, allowQuery bool) error {
	if uri == "" {
		return invalid("uri", "must not be empty")
	}
	if len(uri) > MaxURILen {
		return invalid("uri", "longer than %d bytes", MaxURILen)
	}
	if !printable(uri) {
		return invalid("uri", "%q must be printable UTF-8 without control characters", uri)
	}
	path, query, hasQuery := strings.Cut(uri, "?")
	if hasQuery {
		if !allowQuery && !strings.HasPrefix(query, "prop=") {
			return invalid("uri", "%q: query suffix not allowed here", uri)
		}
		if err := validateQuery(uri, query); err != nil {
			return err
		}
	}
	if path == "." {
		return nil
	}
	if strings.HasPrefix(path, "/") {
		return invalid("uri", "%q must be relative (./A/B or A/B), not absolute", uri)
	}
	path = strings.TrimPrefix(path, "./")
	if path == "" {
		return invalid("uri", "%q: the root is \".\", never \"./\"", uri)
	}
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "":
			return invalid("uri", "%q has an empty segment or a trailing /", uri)
		case ".", "..":
			return invalid("uri", "%q: %q segments are not allowed", uri, seg)
		case "*":
			return invalid("uri", "%q: a bare * is not a node name", uri)
		}
	}
	return nil
}

func validateQuery(uri, q string) error {
	name, val, _ := strings.Cut(q, "=")
	switch name {
	case "prop":
		if !properties[val] {
			return invalid("uri", "%q: unknown property %q", uri, val)
		}
	case "list":
		if val == "" || strings.Trim(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+") != "" {
			return invalid("uri", "%q: bad ?list= value", uri)
		}
	default:
		return invalid("uri", "%q: unknown query %q (want ?prop= or ?list=)", uri, name)
	}
	return nil
}

func validateAlert(a *UIAlert) (*storage.UIAlert, error) {
	if a == nil {
		return nil, invalid("alert", "an Alert job needs an alert object")
	}
	if a.Code < 1100 || a.Code > 1104 {
		return nil, invalid("alert.code", "%d is not a UI alert code (1100 display, 1101 confirm, 1102 text input, 1103 single choice, 1104 multiple choice)", a.Code)
	}
	if a.Text == "" || len(a.Text) > MaxAlertText {
		return nil, invalid("alert.text", "must be 1..%d bytes", MaxAlertText)
	}
	if a.MinDT < 0 || a.MaxDT < 0 || a.MaxLen < 0 {
		return nil, invalid("alert", "mindt, maxdt and maxlen must not be negative")
	}
	if a.MaxDT > 0 && a.MinDT > a.MaxDT {
		return nil, invalid("alert.mindt", "greater than maxdt")
	}
	switch a.InputType {
	case "", "A", "N", "D", "T", "P", "I":
	default:
		return nil, invalid("alert.input_type", "%q (want A, N, D, T, P or I)", a.InputType)
	}
	switch a.EchoType {
	case "", "T", "P":
	default:
		return nil, invalid("alert.echo_type", "%q (want T or P)", a.EchoType)
	}
	if (a.InputType != "" || a.EchoType != "" || a.MaxLen != 0) && a.Code != 1102 {
		return nil, invalid("alert", "input_type, echo_type and maxlen only apply to text input (1102)")
	}
	choice := a.Code == 1103 || a.Code == 1104
	if choice && len(a.Choices) == 0 {
		return nil, invalid("alert.choices", "a choice alert needs at least one choice")
	}
	if !choice && len(a.Choices) > 0 {
		return nil, invalid("alert.choices", "only apply to choice alerts (1103, 1104)")
	}
	if len(a.Choices) > MaxChoices {
		return nil, invalid("alert.choices", "more than %d choices", MaxChoices)
	}
	for i, c := range a.Choices {
		if c == "" || len(c) > MaxAlertText {
			return nil, invalid(fmt.Sprintf("alert.choices[%d]", i), "must be 1..%d bytes", MaxAlertText)
		}
	}
	if a.Code == 1101 && a.Default != "" && a.Default != "0" && a.Default != "1" {
		return nil, invalid("alert.default", "a confirm default is 0 (reject) or 1 (accept)")
	}
	s := storage.UIAlert(*a)
	return &s, nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
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
