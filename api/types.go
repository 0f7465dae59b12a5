// Package api defines the operator REST API of omadm (/api/v1): the JSON
// request and response types shared by the HTTP handlers (api/handler), the Go
// client (api/client) and `omadm ctl`, the validation every request goes
// through before it reaches storage, and the OpenAPI 3 document that
// describes all of it (served at /api/v1/openapi.json).
//
// The types are deliberately separate from the storage records: the wire
// shape of the API is a promise to operators and must not move when a storage
// column does, and secrets (device passwords, nonces) never appear in output.
package api

import (
	"time"

	"github.com/omadm/omadm/storage"
)

// Prefix is the path every versioned API route starts with.
const Prefix = "/api/v1"

// Error is the body of every non-2xx answer, so clients can always show the
// server's reason instead of a bare HTTP status.
type Error struct {
	Error string `json:"error"`
}

// Auth schemes a device can be enrolled with (storage.Device.AuthScheme).
const (
	AuthBasic = "basic"
	AuthMD5   = "md5"
	AuthHMAC  = "hmac"
)

// DeviceCreate is the body of POST /devices. ServerPassword may be omitted:
// the server then generates one with crypto/rand and returns it once, in
// DeviceCreated.ServerPassword, because the device needs it to verify the
// server and the API never shows it again.
type DeviceCreate struct {
	ID             string            `json:"id"`
	Username       string            `json:"username"`
	Password       string            `json:"password"`
	ServerPassword string            `json:"server_password,omitempty"`
	Auth           string            `json:"auth,omitempty"` // basic, md5 (default) or hmac
	NotifyAddr     string            `json:"notify_addr,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	AccountFields
}

// AccountFields are the device account settings beyond the credentials:
// the scheme of each direction and the TLS client certificate bound to the
// device (see storage.Device). They appear in create, update and the
// device view alike.
type AccountFields struct {
	// ServerAuth is the scheme of the server's own credentials toward the
	// device: basic, md5 or hmac; "" = the same as Auth.
	ServerAuth string `json:"server_auth,omitempty"`
	// CertSHA256 is the SHA-256 of the DER TLS client certificate bound to
	// the device: 64 hex digits (colons allowed on input), "" = none.
	CertSHA256 string `json:"cert_sha256,omitempty"`
	// TransportAuth is "" (DM credentials always required), "cert" (a
	// message over TLS with the bound certificate needs none) or "cert+dm"
	// (both required).
	TransportAuth string `json:"transport_auth,omitempty"`
}

// DeviceUpdate is the body of PATCH /devices/{id}. Only the fields present in
// the JSON change; pointers (and a nil Labels map) tell "absent" from "set to
// empty", which a PATCH needs and no other request does.
type DeviceUpdate struct {
	Username       *string           `json:"username,omitempty"`
	Password       *string           `json:"password,omitempty"`
	ServerPassword *string           `json:"server_password,omitempty"`
	Auth           *string           `json:"auth,omitempty"`
	NotifyAddr     *string           `json:"notify_addr,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"` // replaces all labels when present
	ServerAuth     *string           `json:"server_auth,omitempty"`
	CertSHA256     *string           `json:"cert_sha256,omitempty"`
	TransportAuth  *string           `json:"transport_auth,omitempty"`
}

// Device is a device as the API shows it: everything an operator needs to
// recognise it and nothing that would let someone impersonate either side.
type Device struct {
	ID         string            `json:"id"`
	Auth       string            `json:"auth"`
	Username   string            `json:"username"`
	NotifyAddr string            `json:"notify_addr,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	DevInfo    map[string]string `json:"devinfo,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	LastSeen   *time.Time        `json:"last_seen"` // null until the first session
	AccountFields
}

// DeviceCreated answers POST /devices. ServerPassword is set only when the
// server generated it: this is the one time it is shown.
type DeviceCreated struct {
	Device
	ServerPassword string `json:"server_password,omitempty"`
}

// DeviceList is one page of GET /devices. NextCursor continues the same
// query (pass it as ?cursor=); Next is the older ?after= cursor, set only
// for the default order (by ID, ascending). Both are empty on the last page.
type DeviceList struct {
	Devices    []Device `json:"devices"`
	Next       string   `json:"next,omitempty"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// JobItem is one target of a command in a job request.
type JobItem struct {
	URI    string `json:"uri"`              // Target LocURI (Copy: destination)
	Source string `json:"source,omitempty"` // Copy: origin
	Format string `json:"format,omitempty"` // Meta Format: chr, int, bool, b64, bin, node, null, xml, date, time, float
	Type   string `json:"type,omitempty"`   // Meta Type (MIME)
	Data   string `json:"data,omitempty"`   // value; base64 text for b64/bin
}

// UIAlert is a user-interaction alert (codes 1100–1104) sent to the device.
type UIAlert struct {
	Code      int      `json:"code"`
	Text      string   `json:"text"`
	MinDT     int      `json:"mindt,omitempty"`
	MaxDT     int      `json:"maxdt,omitempty"`
	Default   string   `json:"default,omitempty"`
	MaxLen    int      `json:"maxlen,omitempty"`
	InputType string   `json:"input_type,omitempty"`
	EchoType  string   `json:"echo_type,omitempty"`
	Choices   []string `json:"choices,omitempty"`
}

// JobRequest is the body of POST /devices/{id}/jobs: one management command
// (or an Atomic/Sequence group of them) to queue for the device. Notify asks
// the server to send package 0 right away so the device connects now rather
// than at its next scheduled session.
type JobRequest struct {
	Command    string       `json:"command"`
	Items      []JobItem    `json:"items,omitempty"`
	Set        bool         `json:"set,omitempty"`
	Children   []JobRequest `json:"children,omitempty"`
	Alert      *UIAlert     `json:"alert,omitempty"`
	Correlator string       `json:"correlator,omitempty"`
	Notify     bool         `json:"notify,omitempty"`
}

// ResultItem is one value the device returned (Results of a Get, or the
// answer to a UI alert).
type ResultItem struct {
	URI    string `json:"uri"`
	Format string `json:"format"`
	Type   string `json:"type"`
	Data   string `json:"data"`
	// Status is the item's own SyncML status when the device answered the
	// items of one command differently and this one failed (a Get's absent
	// URI: 404); omitted otherwise.
	Status int `json:"status,omitempty"`
}

// Job is a queued command and everything known about its outcome. Status is
// the SyncML status code as a number (0 until the device answered).
type Job struct {
	ID            int64        `json:"id"`
	Device        string       `json:"device"`
	Command       string       `json:"command"`
	URI           string       `json:"uri"` // first item's target, for quick reading
	State         string       `json:"state"`
	Status        int          `json:"status"`
	Results       []ResultItem `json:"results"`
	ChildStatuses []int        `json:"child_statuses"`
	Error         string       `json:"error,omitempty"`
	Session       string       `json:"session,omitempty"`
	Attempts      int          `json:"attempts"`
	CreatedAt     time.Time    `json:"created_at"`
	SentAt        *time.Time   `json:"sent_at"`
	DoneAt        *time.Time   `json:"done_at"`
	Spec          JobRequest   `json:"spec"`
	// Operation is the operation the job carries (POST
	// /devices/{id}/operations, /fumo, /lawmo), with the device's report
	// once it came; shown on single jobs and on the answers of /fumo and
	// /lawmo.
	Operation *JobOperation `json:"operation,omitempty"`
	// Warning reports a non-fatal problem with the request, such as a
	// requested notification that could not be sent (the job is still queued).
	Warning string `json:"warning,omitempty"`
}

// JobList is one page of GET /devices/{id}/jobs; Next is the ?after= cursor.
type JobList struct {
	Jobs []Job  `json:"jobs"`
	Next string `json:"next,omitempty"`
}

// Event is something a device reported (generic alert, client event) or a
// session milestone the server recorded.
type Event struct {
	ID         int64     `json:"id"`
	Device     string    `json:"device"`
	Session    string    `json:"session,omitempty"`
	Kind       string    `json:"kind"`
	Type       string    `json:"type,omitempty"`
	Source     string    `json:"source,omitempty"`
	Target     string    `json:"target,omitempty"`
	Format     string    `json:"format,omitempty"`
	Mark       string    `json:"mark,omitempty"`
	Data       string    `json:"data,omitempty"`
	Correlator string    `json:"correlator,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// EventList is one page of events; Next is the ?after= cursor.
type EventList struct {
	Events []Event `json:"events"`
	Next   string  `json:"next,omitempty"`
}

// Trace is one DM message as it crossed the wire: the exact bytes (base64 in
// JSON) and a decoded XML view, also for WBXML.
type Trace struct {
	ID          int64     `json:"id"`
	Device      string    `json:"device"`
	Session     string    `json:"session"`
	Direction   string    `json:"direction"` // "in" (device → server) or "out"
	MsgID       string    `json:"msg_id"`
	ContentType string    `json:"content_type"`
	Body        []byte    `json:"body"`
	Decoded     string    `json:"decoded"`
	CreatedAt   time.Time `json:"created_at"`
}

// TraceList answers GET /devices/{id}/traces, oldest first.
type TraceList struct {
	Traces []Trace `json:"traces"`
}

// TreeNode is the server's last known value of one device node.
type TreeNode struct {
	URI       string    `json:"uri"`
	Format    string    `json:"format,omitempty"`
	Type      string    `json:"type,omitempty"`
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Tree answers GET /devices/{id}/tree, ordered by URI.
type Tree struct {
	Device string     `json:"device"`
	Nodes  []TreeNode `json:"nodes"`
}

// NotifyResult answers POST /devices/{id}/notify.
type NotifyResult struct {
	Device string `json:"device"`
	Addr   string `json:"addr"`
	Sent   bool   `json:"sent"`
}

// Health answers GET /healthz (liveness) and GET /readyz (readiness; Error
// says why it is not ready).
type Health struct {
	Status  string `json:"status"` // "ok" or "unavailable"
	Error   string `json:"error,omitempty"`
	Version string `json:"version,omitempty"`
}

// Kinds of live updates carried by the event stream.
const (
	UpdateJob     = "job"
	UpdateEvent   = "event"
	UpdateSession = "session"
	UpdateTrace   = "trace"
	// UpdateOperation: an operation changed state (Update.Operation).
	UpdateOperation = "operation"
	// UpdateCampaign: a campaign's state or progress changed (Update.Campaign).
	UpdateCampaign = "campaign"
)

// Session is a session milestone in the live stream.
type Session struct {
	ID    string `json:"id"`
	State string `json:"state"` // e.g. "started", "ended", "aborted"
}

// Update is one message of GET /events/stream (server-sent events). Exactly
// one of Job, Event, Session and Trace is set, matching Kind; the SSE "event:"
// field carries Kind too so browsers can subscribe per kind.
//
// EventID is set on updates that report a stored event (Kind event, and Kind
// session: session milestones are stored events). Their SSE messages carry
// an "id:", the highest event ID the stream has sent, so a client
// reconnecting with Last-Event-ID gets the stored events after it replayed.
// Job and trace updates carry no SSE id and are not replayed: a reconnecting
// client re-reads jobs and traces through the REST API. Seq numbers the live
// messages of one server process (0 on replayed ones).
type Update struct {
	Seq     uint64    `json:"seq"`
	EventID int64     `json:"event_id,omitempty"`
	Kind    string    `json:"kind"`
	Device  string    `json:"device,omitempty"`
	Time    time.Time `json:"time"`
	Job     *Job      `json:"job,omitempty"`
	Event   *Event    `json:"event,omitempty"`
	Session *Session  `json:"session,omitempty"`
	Trace   *Trace    `json:"trace,omitempty"`
	// Operation is set for kind "operation": an operation's new state.
	Operation *Operation `json:"operation,omitempty"`
	// Campaign is set for kind "campaign": the campaign with its counts.
	Campaign *Campaign `json:"campaign,omitempty"`
}

// DeviceFrom converts a storage record to its API view, leaving out every
// secret (passwords, nonces).
func DeviceFrom(d *storage.Device) Device {
	out := Device{
		ID:         d.ID,
		Auth:       d.AuthScheme,
		Username:   d.Username,
		NotifyAddr: d.NotifyAddr,
		Labels:     d.Labels,
		DevInfo:    d.DevInfo,
		CreatedAt:  d.CreatedAt,
		AccountFields: AccountFields{ServerAuth: d.ServerAuthScheme, CertSHA256: d.CertSHA256,
			TransportAuth: d.TransportAuth},
	}
	if !d.LastSeen.IsZero() {
		t := d.LastSeen
		out.LastSeen = &t
	}
	return out
}

// JobFrom converts a storage job to its API view.
func JobFrom(j *storage.Job) Job {
	out := Job{
		ID:            j.ID,
		Device:        j.DeviceID,
		Command:       j.Spec.Command,
		State:         string(j.State),
		Status:        j.Status,
		Results:       make([]ResultItem, 0, len(j.Results)),
		ChildStatuses: j.ChildStatus,
		Error:         j.Error,
		Session:       j.SessionID,
		Attempts:      j.Attempts,
		CreatedAt:     j.CreatedAt,
		Spec:          specToRequest(j.Spec),
	}
	if out.ChildStatuses == nil {
		out.ChildStatuses = []int{}
	}
	out.URI = firstURI(j.Spec)
	for _, r := range j.Results {
		out.Results = append(out.Results, ResultItem(r))
	}
	if !j.SentAt.IsZero() {
		t := j.SentAt
		out.SentAt = &t
	}
	if !j.DoneAt.IsZero() {
		t := j.DoneAt
		out.DoneAt = &t
	}
	return out
}

// firstURI is the target of the first item, looking into groups, so a list of
// jobs reads well without expanding every spec.
func firstURI(s storage.JobSpec) string {
	if len(s.Items) > 0 {
		return s.Items[0].URI
	}
	for _, c := range s.Children {
		if u := firstURI(c); u != "" {
			return u
		}
	}
	return ""
}

func specToRequest(s storage.JobSpec) JobRequest {
	r := JobRequest{Command: s.Command, Set: s.Set, Correlator: s.Correlator}
	for _, it := range s.Items {
		r.Items = append(r.Items, JobItem{URI: it.URI, Source: it.Source, Format: it.Format, Type: it.Type, Data: it.Data})
	}
	for _, c := range s.Children {
		r.Children = append(r.Children, specToRequest(c))
	}
	if s.Alert != nil {
		a := UIAlert(*s.Alert)
		r.Alert = &a
	}
	return r
}

// EventFrom converts a storage event to its API view.
func EventFrom(e *storage.Event) Event {
	return Event{
		ID: e.ID, Device: e.DeviceID, Session: e.SessionID, Kind: e.Kind, Type: e.Type,
		Source: e.Source, Target: e.Target, Format: e.Format, Mark: e.Mark, Data: e.Data,
		Correlator: e.Correlator, CreatedAt: e.CreatedAt,
	}
}

// TraceFrom converts a storage trace entry to its API view. The decoded XML
// view is made here from the raw body (DecodeTrace) unless the entry already
// carries one.
func TraceFrom(t *storage.TraceEntry) Trace {
	decoded := t.Decoded
	if decoded == "" {
		decoded = DecodeTrace(t.Body, t.ContentType)
	}
	return Trace{
		ID: t.ID, Device: t.DeviceID, Session: t.SessionID, Direction: t.Direction, MsgID: t.MsgID,
		ContentType: t.ContentType, Body: t.Body, Decoded: decoded, CreatedAt: t.CreatedAt,
	}
}

// TreeNodeFrom converts a cached node to its API view.
func TreeNodeFrom(n storage.TreeNode) TreeNode {
	return TreeNode{URI: n.URI, Format: n.Format, Type: n.Type, Value: n.Value, UpdatedAt: n.UpdatedAt}
}
