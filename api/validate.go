package api

import (
	"fmt"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// Limits on request fields. They keep one request from storing unbounded data
// and match what a DM device can take anyway.
const (
	MaxIDLen       = 256
	MaxURILen      = storage.MaxURILen
	MaxSecretLen   = 256
	MaxLabels      = fleet.MaxLabels
	MaxLabelKeyLen = fleet.MaxLabelKeyLen
	MaxLabelValLen = fleet.MaxLabelValueLen
	MaxItems       = storage.MaxItems
	MaxChildren    = storage.MaxChildren
	MaxDataLen     = storage.MaxDataLen // one item's data (the server splits it into large-object chunks)
	MaxTypeLen     = storage.MaxTypeLen
	MaxAlertText   = storage.MaxAlertText
	MaxChoices     = storage.MaxChoices
)

// ValidationError reports a request the API refuses (HTTP 400/422), naming
// the offending field so an operator can fix it without guessing. It is the
// rule set's own error type (storage.SpecError), so a refusal by the shared
// job rules reaches the client as it is.
type ValidationError = storage.SpecError

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
	case !storage.ValidIdentifier(id):
		return invalid("id", "%q must be UTF-8 without control or format characters (bidi overrides, zero-width characters)", id)
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
	if err := validateUsername(d.Username); err != nil {
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
		if err := validateUsername(*u.Username); err != nil {
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
	case !storage.Printable(v):
		return invalid(field, "must be printable UTF-8 without control characters")
	}
	return nil
}

// validateUsername checks a device's username: an identifier an operator
// reads and types, so no control or format characters.
func validateUsername(v string) error {
	if err := validateSecret("username", v, true); err != nil {
		return err
	}
	if !storage.ValidIdentifier(v) {
		return invalid("username", "%q must be UTF-8 without control or format characters (bidi overrides, zero-width characters)", v)
	}
	return nil
}

func validateLabels(l map[string]string) error {
	if len(l) > MaxLabels {
		return invalid("labels", "more than %d labels", MaxLabels)
	}
	for k, v := range l {
		if err := fleet.ValidateLabelKey(k); err != nil {
			return invalid("labels", "%v", err)
		}
		if err := fleet.ValidateLabelValue(k, v); err != nil {
			return invalid("labels", "%v", err)
		}
	}
	return nil
}

// ValidateLabelChange checks a label change: keys and values by the label
// rules, no key both set and removed.
func ValidateLabelChange(c *LabelChange) error {
	if len(c.Set) == 0 && len(c.Remove) == 0 {
		return invalid("set", "nothing to change: give set and/or remove")
	}
	if err := validateLabels(c.Set); err != nil {
		return invalid("set", "%v", err.(*ValidationError).Msg)
	}
	if len(c.Remove) > MaxLabels {
		return invalid("remove", "more than %d keys", MaxLabels)
	}
	for _, k := range c.Remove {
		if err := fleet.ValidateLabelKey(k); err != nil {
			return invalid("remove", "%v", err)
		}
		if _, ok := c.Set[k]; ok {
			return invalid("remove", "label %q is both set and removed", k)
		}
	}
	return nil
}

// ValidateNotifyAddr checks where package 0 is sent: "" (none) or an
// address by notification.ParseAddr, the grammar every sender reads:
// "udp://host:port", "sms:+number", or through a WAP Push Proxy Gateway
// "wappush:+number" (SMS bearer) or "wappush-ip:address" (IP bearer), or
// "obex://host:port" (a device that is an OBEX server: the DM server
// connects to it, `omadm serve --obex-dial`).
func ValidateNotifyAddr(a string) error {
	if a == "" {
		return nil
	}
	if _, err := notification.ParseAddr(a); err != nil {
		return invalid("notify_addr", "%v", err)
	}
	return nil
}

// CanonicalCommand maps a case-insensitive command name ("replace") to its
// SyncML spelling ("Replace"); ok is false for unknown names.
func CanonicalCommand(name string) (string, bool) { return storage.CanonicalCommand(name) }

// ValidateJobRequest checks a job request and converts it to the spec the
// engine queues. Command names are accepted in any case. The rules are
// storage.ValidateJobSpec, the ones the engine checks before sending.
func ValidateJobRequest(r *JobRequest) (storage.JobSpec, error) {
	spec, err := requestSpec(r)
	if err != nil {
		return spec, err
	}
	if err := storage.ValidateJobSpec(spec); err != nil {
		return spec, err
	}
	return spec, nil
}

// requestSpec converts a request to a spec: canonical command names,
// HasData where a value is sent (an empty leaf value is still a value:
// <Data/>). Everything else is checked by storage.ValidateJobSpec.
func requestSpec(r *JobRequest) (storage.JobSpec, error) {
	cmd, ok := CanonicalCommand(r.Command)
	if !ok {
		return storage.JobSpec{}, invalid("command", "unknown command %q (want Get, Replace, Add, Delete, Exec, Copy, Atomic, Sequence or Alert)", r.Command)
	}
	spec := storage.JobSpec{Command: cmd, Set: r.Set, Correlator: r.Correlator}
	if len(r.Children) > MaxChildren {
		return spec, invalid("children", "more than %d children", MaxChildren)
	}
	for i := range r.Children {
		c, err := requestSpec(&r.Children[i])
		if err != nil {
			if ve, ok := err.(*ValidationError); ok {
				ve.Field = fmt.Sprintf("children[%d].%s", i, ve.Field)
			}
			return spec, err
		}
		spec.Children = append(spec.Children, c)
	}
	for _, it := range r.Items {
		si := storage.JobItem{URI: it.URI, Source: it.Source, Format: it.Format, Type: it.Type, Data: it.Data}
		switch cmd {
		case "Exec":
			si.HasData = it.Data != ""
		case "Add", "Replace":
			si.HasData = it.Format != "node"
		}
		spec.Items = append(spec.Items, si)
	}
	if r.Alert != nil {
		a := storage.UIAlert(*r.Alert)
		spec.Alert = &a
	}
	return spec, nil
}

// ValidateURI checks a device URI the server will send: "." or a relative URI
// ("./A/B" or "A/B") without empty, "." or ".." segments or a trailing "/"
// (OMA DM 1.2 TND §6). allowQuery permits one ?prop=<Name> or ?list=<Struct…>
// suffix (Get only).
func ValidateURI(uri string, allowQuery bool) error {
	return storage.ValidateURI(uri, allowQuery)
}
