// Package dlota is OMA Download over the air 1.0 (OMA-Download-OTA-V1_0)
// as DM management objects use it: the download descriptor
// (application/vnd.oma.dd+xml) parsed and validated on the device and
// generated on the server, and the status codes of the install-notify
// report. It has no I/O: the device's downloader and the server's package
// catalogue both use it.
package dlota

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
)

// DDContentType is the media type of an OMA download descriptor
// (OMA-Download-OTA-V1_0, "Download Descriptor": application/vnd.oma.dd+xml).
const DDContentType = "application/vnd.oma.dd+xml"

// DDNamespace is the descriptor's XML namespace.
const DDNamespace = "http://www.openmobilealliance.org/xmlns/dd"

// ExtNamespace holds the one extension element omadm's server adds to the
// descriptors it generates: <sha256> (hex) of the media object. OMA DL 1.0
// has no checksum attribute; a download agent ignores elements it does not
// know, so other agents are unaffected.
const ExtNamespace = "urn:omadm:dd-ext:1.0"

// MaxDescriptorSize bounds a download descriptor: a few attributes, never
// the media itself.
const MaxDescriptorSize = 64 << 10

// Status is an OMA DL 1.0 status report code, sent in the body of the POST to
// installNotifyURI (OMA-Download-OTA-V1_0, "Status Report": the code
// followed by its text, e.g. "900 Success").
type Status int

// Status codes (OMA-Download-OTA-V1_0, "Status Codes" table).
const (
	StatusSuccess              Status = 900
	StatusInsufficientMemory   Status = 901
	StatusUserCancelled        Status = 902
	StatusLossOfService        Status = 903
	StatusAttributeMismatch    Status = 905
	StatusInvalidDescriptor    Status = 906
	StatusInvalidDDVersion     Status = 951
	StatusDeviceAborted        Status = 952
	StatusNonAcceptableContent Status = 953
	StatusLoaderError          Status = 954
)

var statusText = map[Status]string{
	StatusSuccess: "Success", StatusInsufficientMemory: "Insufficient memory", StatusUserCancelled: "User Cancelled",
	StatusLossOfService: "Loss of Service", StatusAttributeMismatch: "Attribute mismatch",
	StatusInvalidDescriptor: "Invalid descriptor", StatusInvalidDDVersion: "Invalid DDVersion",
	StatusDeviceAborted: "Device Aborted", StatusNonAcceptableContent: "Non-Acceptable Content",
	StatusLoaderError: "Loader Error",
}

// String is the report line: the code and its text ("900 Success").
func (s Status) String() string {
	if t, ok := statusText[s]; ok {
		return strconv.Itoa(int(s)) + " " + t
	}
	return strconv.Itoa(int(s))
}

// ParseStatus reads a status report body: a known code, optionally
// followed by text.
func ParseStatus(body string) (Status, error) {
	f := strings.Fields(body)
	if len(f) == 0 {
		return 0, errors.New("empty status report")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || statusText[Status(n)] == "" {
		return 0, fmt.Errorf("status report %q: want an OMA DL status code (900-906, 951-954)", truncate(body, 40))
	}
	return Status(n), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Descriptor is a parsed, validated OMA DL 1.0 download descriptor
// (OMA-Download-OTA-V1_0, "Download Descriptor" and its attribute table).
// URLs are absolute: relative ones are resolved against the descriptor's
// own URL.
type Descriptor struct {
	Types            []string `json:"types"`                        // type: one or more media types, mandatory
	Size             int64    `json:"size"`                         // size: bytes, mandatory
	ObjectURI        string   `json:"object_uri"`                   // objectURI: where the media is, mandatory
	InstallNotifyURI string   `json:"install_notify_uri,omitempty"` // where the status report goes
	NextURL          string   `json:"next_url,omitempty"`           // where a browser goes next
	DDVersion        string   `json:"dd_version,omitempty"`         // "1.0"
	Name             string   `json:"name,omitempty"`
	Vendor           string   `json:"vendor,omitempty"`
	Description      string   `json:"description,omitempty"`
	InstallParam     string   `json:"install_param,omitempty"`
	// SHA256 is the hex SHA-256 of the media from the omadm extension
	// element ("" when absent).
	SHA256 string `json:"sha256,omitempty"`
}

// DDError is a descriptor that cannot be used: Status is the report code
// (906 invalid, 951 DDVersion), and InstallNotifyURI is where the report
// goes when the descriptor named one ("" otherwise).
type DDError struct {
	Status           Status
	InstallNotifyURI string
	Err              error
}

func (e *DDError) Error() string { return fmt.Sprintf("download descriptor: %s: %v", e.Status, e.Err) }
func (e *DDError) Unwrap() error { return e.Err }

// IsDescriptor reports whether a response's media type (or, when the server
// says nothing useful, its URL) marks a download descriptor.
func IsDescriptor(contentType, rawURL string) bool {
	if ct, _, err := mime.ParseMediaType(contentType); err == nil && strings.EqualFold(ct, DDContentType) {
		return true
	}
	if u, err := url.Parse(rawURL); err == nil && (contentType == "" || contentType == "application/octet-stream") {
		return strings.HasSuffix(strings.ToLower(u.Path), ".dd")
	}
	return false
}

// ParseDescriptor parses and validates a descriptor fetched from base
// (its URL). Every error is a *DDError.
func ParseDescriptor(b []byte, base string) (*Descriptor, error) {
	if len(b) > MaxDescriptorSize {
		return nil, &DDError{Status: StatusInvalidDescriptor, Err: fmt.Errorf("%d bytes, more than %d", len(b), MaxDescriptorSize)}
	}
	var raw struct {
		XMLName xml.Name
		Fields  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&raw); err != nil {
		return nil, &DDError{Status: StatusInvalidDescriptor, Err: fmt.Errorf("not XML: %v", err)}
	}
	if raw.XMLName.Local != "media" || (raw.XMLName.Space != "" && raw.XMLName.Space != DDNamespace) {
		return nil, &DDError{Status: StatusInvalidDescriptor, Err: fmt.Errorf("root element <%s>, want <media xmlns=%q>", raw.XMLName.Local, DDNamespace)}
	}
	d := &Descriptor{}
	var size string
	seen := map[string]bool{}
	for _, f := range raw.Fields {
		v := strings.TrimSpace(f.Value)
		if f.XMLName.Space == ExtNamespace {
			if f.XMLName.Local == "sha256" {
				d.SHA256 = strings.ToLower(v)
			}
			continue
		}
		name := f.XMLName.Local
		if name != "type" && seen[name] {
			return nil, &DDError{Status: StatusInvalidDescriptor, Err: fmt.Errorf("<%s> given twice", name)}
		}
		seen[name] = true
		switch name {
		case "type":
			d.Types = append(d.Types, v)
		case "size":
			size = v
		case "objectURI":
			d.ObjectURI = v
		case "installNotifyURI":
			d.InstallNotifyURI = v
		case "nextURL":
			d.NextURL = v
		case "DDVersion":
			d.DDVersion = v
		case "name":
			d.Name = v
		case "vendor":
			d.Vendor = v
		case "description":
			d.Description = v
		case "installParam":
			d.InstallParam = v
		}
		// Other attributes (infoURL, iconURI, vendor extensions) do not
		// matter to a device without a browser.
	}
	bad := func(st Status, format string, args ...any) (*Descriptor, error) {
		return nil, &DDError{Status: st, InstallNotifyURI: d.InstallNotifyURI, Err: fmt.Errorf(format, args...)}
	}
	// The notify URI first, so that every later error can be reported there.
	var err error
	if d.InstallNotifyURI != "" {
		if d.InstallNotifyURI, err = absURL(base, d.InstallNotifyURI); err != nil {
			d.InstallNotifyURI = ""
			return bad(StatusInvalidDescriptor, "installNotifyURI: %v", err)
		}
	}
	// DDVersion: a major version other than 1 is not understood
	// (OMA-Download-OTA-V1_0, 951 "Invalid DDVersion").
	if d.DDVersion != "" {
		major, _, _ := strings.Cut(d.DDVersion, ".")
		if major != "1" {
			return bad(StatusInvalidDDVersion, "DDVersion %q, want 1.x", d.DDVersion)
		}
	}
	if len(d.Types) == 0 {
		return bad(StatusInvalidDescriptor, "no <type>")
	}
	for _, t := range d.Types {
		if _, _, err := mime.ParseMediaType(t); err != nil {
			return bad(StatusInvalidDescriptor, "type %q is not a media type", t)
		}
	}
	if size == "" {
		return bad(StatusInvalidDescriptor, "no <size>")
	}
	if d.Size, err = strconv.ParseInt(size, 10, 64); err != nil || d.Size <= 0 {
		return bad(StatusInvalidDescriptor, "size %q, want a positive number of bytes", size)
	}
	if d.ObjectURI == "" {
		return bad(StatusInvalidDescriptor, "no <objectURI>")
	}
	if d.ObjectURI, err = absURL(base, d.ObjectURI); err != nil {
		return bad(StatusInvalidDescriptor, "objectURI: %v", err)
	}
	if d.NextURL != "" {
		if d.NextURL, err = absURL(base, d.NextURL); err != nil {
			return bad(StatusInvalidDescriptor, "nextURL: %v", err)
		}
	}
	if d.SHA256 != "" {
		if h, err := hex.DecodeString(d.SHA256); err != nil || len(h) != 32 {
			return bad(StatusInvalidDescriptor, "sha256 %q, want 64 hex digits", d.SHA256)
		}
	}
	return d, nil
}

// absURL resolves ref against base and wants http or https.
func absURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", ref)
	}
	if b, err := url.Parse(base); err == nil && !r.IsAbs() {
		r = b.ResolveReference(r)
	}
	if r.Scheme != "http" && r.Scheme != "https" || r.Host == "" {
		return "", fmt.Errorf("%q: want an http or https URL", ref)
	}
	return r.String(), nil
}

// Accepts reports whether one of the descriptor's types is in accept
// (media types, "type/*" wildcards, "*/*"); an empty accept takes any.
func (d *Descriptor) Accepts(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, t := range d.Types {
		mt, _, _ := mime.ParseMediaType(t)
		for _, a := range accept {
			a = strings.ToLower(strings.TrimSpace(a))
			if a == "*/*" || a == mt || strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*")) {
				return true
			}
		}
	}
	return false
}

// Generate writes d as a descriptor document: DDVersion (1.0 when empty),
// the attributes that are set, and the omadm <sha256> extension when set.
func Generate(d *Descriptor) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<media xmlns="` + DDNamespace + `">` + "\n")
	el := func(name, v string) {
		if v == "" {
			return
		}
		b.WriteString("  <" + name + ">")
		xml.EscapeText(&b, []byte(v))
		b.WriteString("</" + name + ">\n")
	}
	v := d.DDVersion
	if v == "" {
		v = "1.0"
	}
	el("DDVersion", v)
	el("name", d.Name)
	for _, t := range d.Types {
		el("type", t)
	}
	el("size", strconv.FormatInt(d.Size, 10))
	el("objectURI", d.ObjectURI)
	el("installNotifyURI", d.InstallNotifyURI)
	el("nextURL", d.NextURL)
	el("vendor", d.Vendor)
	el("description", d.Description)
	el("installParam", d.InstallParam)
	if d.SHA256 != "" {
		b.WriteString(`  <sha256 xmlns="` + ExtNamespace + `">`)
		xml.EscapeText(&b, []byte(d.SHA256))
		b.WriteString("</sha256>\n")
	}
	b.WriteString("</media>\n")
	return b.Bytes()
}
